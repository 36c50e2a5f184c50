package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// weightBudget is what a whole booking may cost a citizen on a metered phone: every
// response from the home page to the confirmation, compressed, headers included.
const weightBudget = 100_000

// response is one answer the browser received, as the Network domain reports it.
type response struct {
	id       network.RequestID
	method   string
	url      string
	status   int64
	encoding string  // Content-Encoding
	bytes    float64 // encodedDataLength: on the wire, headers included
	cached   bool
	done     bool
	failed   string
}

// wireLog collects the tab's responses from the Network events, in order.
type wireLog struct {
	mu    sync.Mutex
	order []*response
	byID  map[network.RequestID]*response
}

// handle runs in the tab's event loop: it only records, and never fails the test.
func (w *wireLog) handle(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if r := w.byID[ev.RequestID]; r != nil && ev.RedirectResponse != nil {
			// The same request id goes on after a redirect: the redirect was a
			// response of its own.
			r.status, r.bytes, r.done = ev.RedirectResponse.Status, ev.RedirectResponse.EncodedDataLength, true
			r.encoding = header(ev.RedirectResponse.Headers, "Content-Encoding")
		}
		r := &response{id: ev.RequestID, method: ev.Request.Method, url: ev.Request.URL}
		w.order = append(w.order, r)
		w.byID[ev.RequestID] = r
	case *network.EventResponseReceived:
		if r := w.byID[ev.RequestID]; r != nil {
			r.status = ev.Response.Status
			r.encoding = header(ev.Response.Headers, "Content-Encoding")
			r.cached = r.cached || ev.Response.FromDiskCache
		}
	case *network.EventRequestServedFromCache:
		if r := w.byID[ev.RequestID]; r != nil {
			r.cached = true
		}
	case *network.EventLoadingFinished:
		if r := w.byID[ev.RequestID]; r != nil {
			r.bytes, r.done = ev.EncodedDataLength, true
		}
	case *network.EventLoadingFailed:
		if r := w.byID[ev.RequestID]; r != nil {
			r.failed, r.done = ev.ErrorText, true
		}
	}
}

func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// settled waits until every request seen has finished, and returns a copy of them.
func (w *wireLog) settled(ctx context.Context) ([]response, error) {
	for {
		w.mu.Lock()
		pending := 0
		out := make([]response, 0, len(w.order))
		for _, r := range w.order {
			if !r.done && strings.Contains(r.url, "favicon") {
				// Chromium does not always report the end of a favicon's load; the icon
				// is no part of what a page needs, so an unfinished one is left out.
				continue
			}
			if !r.done {
				pending++
			}
			out = append(out, *r)
		}
		w.mu.Unlock()
		if pending == 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%d requests never finished: %w", pending, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestBookingPageWeight books an appointment with a cold cache and adds up the
// compressed bytes of every response, from the home page to the confirmation.
func TestBookingPageWeight(t *testing.T) {
	needBrowser(t)
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 30*time.Second) // a new browser context: empty cache and cookies
	b.do("start cold", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{})
		return err
	}))
	w := &wireLog{byID: map[network.RequestID]*response{}}
	if err := chromedp.Listen(b.ctx, w.handle); err != nil {
		t.Fatalf("listen to the network: %v", err)
	}

	b.navigate("/")
	b.tap("ul.cards a.card")
	b.tap("ul.cards a.card")
	b.tap("ul.days a")
	b.tap("ul.slots a")
	b.do("fill in the details",
		chromedp.SendKeys(byID("f-citizen.name"), "Ana Conceição"),
		chromedp.SendKeys(byID("f-citizen.email"), "ana.conceicao@example.com"),
		chromedp.SendKeys(byID("f-citizen.phone"), "912 345 678"))
	b.tap("main form button[type=submit]")
	if p := b.path(); !strings.HasSuffix(p, "?booked=1") {
		b.fatalf("booking led to %s, want the confirmation", p)
	}
	rs, err := w.settled(b.ctx)
	if err != nil {
		t.Fatal(err)
	}

	var total float64
	var lines []string
	fetched, cached := 0, 0
	for _, r := range rs {
		u, _ := url.Parse(r.url)
		what := u.Path
		if u.RawQuery != "" {
			what += "?" + u.RawQuery
		}
		note := r.encoding
		switch {
		case r.failed != "":
			note = "failed: " + r.failed
		case r.cached:
			note = "from cache"
		}
		lines = append(lines, fmt.Sprintf("  %6.0f B  %3d %-4s %s %s", r.bytes, r.status, r.method, what, note))
		total += r.bytes
		if r.cached {
			cached++
		} else {
			fetched++
		}
		if r.failed != "" {
			t.Errorf("%s %s failed: %s", r.method, what, r.failed)
		}
	}
	t.Logf("per request (compressed bytes on the wire, headers included):\n%s", strings.Join(lines, "\n"))
	t.Logf("booking flow: %d requests, %.0f bytes compressed (%.1f KB; budget %d bytes); %d more answered from the browser's cache",
		fetched, total, total/1000, weightBudget, cached)
	if total >= weightBudget {
		t.Errorf("a booking costs %.0f bytes on the wire, over the budget of %d", total, weightBudget)
	}
}

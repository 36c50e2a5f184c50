package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"balcao/internal/booking"
	"balcao/internal/queue"
)

// TestWalkInTicketIsLive takes a ticket on the queue page of a phone, then watches the
// page follow the queue without reloading: a priority ticket taken elsewhere pushes it to
// position 2, an agent's call of that ticket brings it back to 1, and its own call shows
// "being called". Both pages pass axe-core, in Portuguese and English.
func TestWalkInTicketIsLive(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 40*time.Second)
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: "pt-PT"}
	msg := catalogue(t, "pt-PT")

	b.navigate("/")
	b.tap("a[href='/queue']")
	a.audit("queue")
	b.do("fill in the ticket form", chromedp.SendKeys("#f-informacoes-name", "Rui Costa"),
		chromedp.SendKeys("#f-informacoes-email", "rui@example.pt"))
	b.tap("section[aria-labelledby=q-informacoes] button[type=submit]")
	if !strings.HasPrefix(b.path(), "/ticket/") {
		b.fatalf("taking a ticket led to %s", b.path())
	}
	if code := b.text("h1 .code"); code != "A001" {
		b.fatalf("ticket number %q, want A001", code)
	}
	waitText(b, "#position", "1")
	a.audit("ticket")

	ctx := context.Background()
	prio, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "informacoes", Priority: true,
		Citizen: booking.Citizen{Name: "Ana", Phone: "912345678"}})
	if err != nil {
		t.Fatal(err)
	}
	waitText(b, "#position", "2") // pushed back by a priority ticket, without a reload
	agent := queue.Agent{ID: "ana-martins", Services: []string{"informacoes"}}
	if tk, err := s.app.Queue.CallNext(ctx, agent); err != nil || tk.ID != prio.ID {
		t.Fatalf("call next: %+v %v", tk, err)
	}
	waitText(b, "#position", "1")
	if _, err := s.app.Queue.CallNext(ctx, agent); err != nil {
		t.Fatal(err)
	}
	waitText(b, "#status", msg["ticket.status.called"])
	if eval[bool](b, `document.getElementById("near").hidden`) {
		b.fatalf("no alert when called")
	}
	a.audit("ticket being called")

	// English: the queue page with a closed queue's notice, and a form with errors.
	b.navigate("/lang?to=en&next=/queue")
	a.lang = "en"
	a.audit("queue (en)")
	b.do("type a bad e-mail", chromedp.SendKeys("#f-informacoes-name", "X"), chromedp.SendKeys("#f-informacoes-email", "x@"))
	b.tap("section[aria-labelledby=q-informacoes] button[type=submit]")
	if b.text("[role=alert]") == "" {
		b.fatalf("a bad e-mail shows no error summary")
	}
	a.audit("queue with errors (en)")
	if a.failed > 0 {
		t.Fatalf("%d axe-core violations on %v", a.failed, a.pages)
	}
}

// waitText waits until the element's text is want.
func waitText(b *tab, sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := b.text(sel); got == want {
			return
		} else if time.Now().After(deadline) {
			b.fatalf("%s shows %q, want %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

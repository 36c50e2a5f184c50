// Command call measures balcao's video calls end to end in headless Chromium on
// loopback, and prints figures:
//
//   - call set-up: from the agent's click on Admit to the first decoded frame in each
//     direction (the citizen sees the agent, the agent sees the citizen), median and
//     95th percentile (nearest rank) of -calls calls; first with the citizen's camera
//     and microphone turned on while waiting in the lobby (the page offers it, and
//     does it by itself when the browser already has the permission), then with the
//     camera turned on only once admitted;
//   - screen share: from the citizen's click on Share to the first decoded frame of
//     the screen on the agent's side;
//   - the citizen's call page with all its scripts and styles, compressed, as a
//     browser with a cold cache fetches it.
//
// Run from the repository root (about a minute and a half):
//
//	go run ./bench/call
//	go run ./bench/call -calls 5
//
// The server is the call pages and the SFU of package calltest (as the end-to-end
// tests use them) on loopback. Two browsers (Chromium with a fake camera,
// microphone and screen, one profile each) are started once and reused for every
// call; each call is a new appointment and a new room. Times are taken inside the
// pages on the machine's clock (performance.timeOrigin + performance.now()): the click
// when it is dispatched, and a frame when requestVideoFrameCallback says it was
// presented, which follows its decoding by a few milliseconds.
package main

import (
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"balcao/internal/call/calltest"
)

func main() {
	calls := flag.Int("calls", 10, "calls per measurement")
	flag.Parse()
	if err := run(*calls); err != nil {
		fmt.Fprintln(os.Stderr, "bench/call:", err)
		os.Exit(1)
	}
}

func run(calls int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	path, err := calltest.FindBrowser()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-call-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	site, err := calltest.New(ctx, dir, calltest.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer site.Close()
	citizen, stopCitizen, err := calltest.NewBrowser(ctx, path)
	if err != nil {
		return err
	}
	defer stopCitizen()
	agent, stopAgent, err := calltest.NewBrowser(ctx, path)
	if err != nil {
		return err
	}
	defer stopAgent()

	fmt.Printf("balcao call benchmark: %d calls per figure, headless %s, loopback, fake camera 640x480\n\n", calls, path)
	for _, lobbyMedia := range []bool{true, false} {
		if !lobbyMedia {
			// The browser has the permission (a fake prompt accepts everything): make
			// the page believe it must still ask, so that it waits for Admit.
			err := chromedp.Do(citizen, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
					Source: `navigator.permissions.query = async () => ({ state: 'prompt' });`})
				return err
			}))
			if err != nil {
				return err
			}
		}
		var seesAgent, seesCitizen, share []time.Duration
		for i := range calls {
			m, err := oneCall(ctx, site, citizen, agent, lobbyMedia)
			if err != nil {
				return fmt.Errorf("call %d: %w", i+1, err)
			}
			seesAgent = append(seesAgent, m.seesAgent)
			seesCitizen = append(seesCitizen, m.seesCitizen)
			if m.share > 0 {
				share = append(share, m.share)
			}
		}
		how := "camera and microphone turned on in the lobby, before Admit"
		if !lobbyMedia {
			how = "camera and microphone turned on only after Admit"
		}
		fmt.Printf("call set-up, Admit → first decoded frame (%s):\n", how)
		fmt.Printf("  citizen sees the agent   %s\n", summary(seesAgent, 500, 800))
		fmt.Printf("  agent sees the citizen   %s\n", summary(seesCitizen, 500, 800))
		if len(share) > 0 {
			fmt.Printf("share click → first decoded screen frame on the agent's side:\n")
			fmt.Printf("                           %s\n", summary(share, 500, 0))
		}
		fmt.Println()
	}
	return pageWeight(ctx, site)
}

// measures are one call's figures.
type measures struct {
	seesAgent, seesCitizen, share time.Duration
}

// oneCall books an appointment, brings the citizen to the lobby, has the agent admit
// them, and times the first frames; it then shares the citizen's screen, times its
// first frame, and ends the call.
func oneCall(ctx context.Context, site *calltest.Site, citizen, agent context.Context, lobbyMedia bool) (measures, error) {
	var m measures
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	b, err := site.Book(ctx)
	if err != nil {
		return m, err
	}
	// The join link sets the citizen's cookie and leads to the join page; then the call.
	if _, err := chromedp.Run(citizen, chromedp.Navigate(site.URL+calltest.JoinPath(b))); err != nil {
		return m, err
	}
	if _, err := chromedp.Run(citizen, chromedp.Navigate(site.URL+"/join/"+b.ID+"/call")); err != nil {
		return m, err
	}
	if err := until(citizen, `!!(window.balcaoCall && window.balcaoCall.ws && window.balcaoCall.ws.readyState === 1)`); err != nil {
		return m, fmt.Errorf("citizen's page: %w", err)
	}
	if err := until(citizen, `window.balcaoCall.members.length > 0`); err != nil { // welcomed to the lobby
		return m, err
	}
	if lobbyMedia {
		if err := eval(citizen, `document.getElementById('prepare').click(), true`, nil); err != nil {
			return m, err
		}
		if err := until(citizen, `'media-ready' in window.balcaoCall.marks`); err != nil {
			return m, fmt.Errorf("citizen's camera in the lobby: %w", err)
		}
	} else {
		var early bool
		if err := eval(citizen, `'media-start' in window.balcaoCall.marks`, &early); err != nil || early {
			return m, fmt.Errorf("the citizen's camera started in the lobby unasked (%v)", err)
		}
	}
	if _, err := chromedp.Run(agent, chromedp.Navigate(site.URL+calltest.AgentPath(b))); err != nil {
		return m, err
	}
	if err := until(agent, `!!document.querySelector('button.admit') && 'media-ready' in window.balcaoCall.marks`); err != nil {
		return m, fmt.Errorf("agent's page: %w", err)
	}
	// The agent's own camera must be up (it is, long before a citizen is admitted in
	// real life); give its encoder a moment, as a real agent's page would have had.
	time.Sleep(300 * time.Millisecond)
	for _, page := range []context.Context{citizen, agent} {
		if err := eval(page, watchFrames, nil); err != nil {
			return m, err
		}
	}
	var admitAt float64
	if err := eval(agent, `(() => { const t = performance.timeOrigin + performance.now(); document.querySelector('button.admit').click(); return t; })()`, &admitAt); err != nil {
		return m, err
	}
	citizenFirst, err := firstFrame(citizen, "agent", "camera")
	if err != nil {
		return m, fmt.Errorf("citizen never saw the agent: %w", err)
	}
	agentFirst, err := firstFrame(agent, "citizen", "camera")
	if err != nil {
		return m, fmt.Errorf("agent never saw the citizen: %w", err)
	}
	m.seesAgent, m.seesCitizen = ms(citizenFirst-admitAt), ms(agentFirst-admitAt)

	time.Sleep(500 * time.Millisecond) // the call settles, as before anyone shares
	var shareAt float64
	if err := eval(citizen, `(() => { const t = performance.timeOrigin + performance.now(); document.getElementById('share').click(); return t; })()`, &shareAt); err != nil {
		return m, err
	}
	screenFirst, err := firstFrame(agent, "citizen", "screen")
	if err != nil {
		return m, fmt.Errorf("agent never saw the shared screen: %w", err)
	}
	m.share = ms(screenFirst - shareAt)

	if err := eval(agent, `document.getElementById('end').click(), true`, nil); err != nil {
		return m, err
	}
	if err := until(citizen, `document.getElementById('stage').hidden && !window.balcaoCall.admitted`); err != nil {
		return m, fmt.Errorf("the call did not end: %w", err)
	}
	return m, nil
}

// watchFrames records, in a page, when the first frame of each remote video is
// presented: window.__firstFrame[mid] = epoch milliseconds.
const watchFrames = `(() => {
	const ff = window.__firstFrame = {};
	const watch = (v) => {
		if (v.__watched) return;
		v.__watched = true;
		const fig = v.closest('figure');
		v.requestVideoFrameCallback((now) => {
			if (!(fig.dataset.mid in ff)) ff[fig.dataset.mid] = performance.timeOrigin + now;
		});
	};
	const remote = document.getElementById('remote');
	new MutationObserver(() => remote.querySelectorAll('video').forEach(watch)).observe(remote, { childList: true, subtree: true });
	remote.querySelectorAll('video').forEach(watch);
	return true;
})()`

// firstFrame waits until a page has presented a frame from participant's source and
// returns when (epoch milliseconds).
func firstFrame(page context.Context, participant, source string) (float64, error) {
	js := fmt.Sprintf(`(() => {
		const t = (window.balcaoCall.tracks || []).find((x) => x.participantId.startsWith(%q) && x.source === %q);
		return t && window.__firstFrame && window.__firstFrame[t.mid] || 0;
	})()`, participant, source)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var at float64
		if err := eval(page, js, &at); err != nil {
			return 0, err
		}
		if at > 0 {
			return at, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("no frame in 20 s")
}

// until polls a condition in a page for up to 20 s.
func until(page context.Context, cond string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := eval(page, `(() => { try { return !!(`+cond+`); } catch { return false; } })()`, &ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s: still false after 20 s", cond)
}

func eval(page context.Context, js string, out any) error {
	v, err := chromedp.Run(page, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	switch o := out.(type) {
	case nil:
	case *float64:
		f, _ := v.(float64)
		*o = f
	case *bool:
		b, _ := v.(bool)
		*o = b
	}
	return nil
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// summary is the median and the 95th percentile (nearest rank) of ds, with the
// targets in milliseconds (0: none).
func summary(ds []time.Duration, medianTarget, p95Target int) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	out := fmt.Sprintf("median %4d ms, p95 %4d ms  (min %d, max %d)", med.Milliseconds(), rank(0.95).Milliseconds(),
		s[0].Milliseconds(), s[len(s)-1].Milliseconds())
	if medianTarget > 0 {
		out += fmt.Sprintf("  target median < %d", medianTarget)
		if p95Target > 0 {
			out += fmt.Sprintf(", p95 < %d", p95Target)
		}
		ok := med < time.Duration(medianTarget)*time.Millisecond &&
			(p95Target == 0 || rank(0.95) < time.Duration(p95Target)*time.Millisecond)
		out += map[bool]string{true: ": met", false: ": MISSED"}[ok]
	}
	return out
}

// assetRef finds the scripts, styles and icons a page refers to.
var assetRef = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// pageWeight fetches the citizen's call page and everything it loads, as a browser
// with a cold cache does (gzip accepted), and prints the compressed sizes.
func pageWeight(ctx context.Context, site *calltest.Site) error {
	b, err := site.Book(ctx)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{DisableCompression: true}}
	get := func(path string) (int, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", site.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode != 200 {
			return 0, nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		body := raw
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(strings.NewReader(string(raw)))
			if err != nil {
				return 0, nil, err
			}
			body, _ = io.ReadAll(zr)
		}
		return len(raw), body, nil
	}
	if _, _, err := get(calltest.JoinPath(b)); err != nil {
		return err
	}
	path := "/join/" + b.ID + "/call"
	n, page, err := get(path)
	if err != nil {
		return err
	}
	total := n
	lines := []string{fmt.Sprintf("  %6d B  %s (the page)", n, path)}
	seen := map[string]bool{}
	for _, m := range assetRef.FindAllStringSubmatch(string(page), -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		n, _, err := get(m[1])
		if err != nil {
			return err
		}
		total += n
		lines = append(lines, fmt.Sprintf("  %6d B  %s", n, m[1]))
	}
	fmt.Printf("the citizen's call page, cold cache, compressed bodies (headers not counted):\n%s\n", strings.Join(lines, "\n"))
	fmt.Printf("  %6d B  in all, %d requests (target < 60 KB: %s)\n", total, len(lines), map[bool]string{true: "met", false: "MISSED"}[total < 60_000])
	return nil
}

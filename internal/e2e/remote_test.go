package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// remotePage is a page in a browser that chromedp cannot drive: a Firefox tab over
// WebDriver BiDi (*firefox.Tab) or a WebKit window over WebDriver classic
// (*webdriver.WebKit). What the tests do in such a page is written once on top of it,
// in remoteTab.
type remotePage interface {
	// Eval evaluates the JavaScript expression js, awaits it if it is a promise, and
	// decodes its value into out.
	Eval(ctx context.Context, js string, out any) error
	// Click clicks the first element that the CSS selector matches, with real pointer
	// events.
	Click(ctx context.Context, selector string) error
}

// remoteTab is a page in Firefox or WebKit for one participant: the same few steps as
// tab. foxTab and wkTab hold one, with what only their browser can do.
type remoteTab struct {
	t    *testing.T
	page remotePage
	ctx  context.Context
	base string
	// reported is what the browser or the page said, for failure messages, beyond
	// what the page shows: each browser has its own way to hear it.
	reported func() string
}

// needRemoteBrowser skips the test when err says the named browser is missing, or
// fails it in CI, where every browser is installed.
func needRemoteBrowser(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if inCI() {
		t.Fatalf("%s tests cannot run in CI: %v", name, err)
	}
	t.Skipf("skipping %s test: %v", name, err)
}

// remote is how remoteEval reaches the remoteTab of a foxTab or a wkTab.
func (r *remoteTab) remote() *remoteTab { return r }

// fatalf stops the test with what the page shows and what the browser reported.
func (r *remoteTab) fatalf(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if r.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(r.ctx, 3*time.Second)
		var page struct{ URL, Text string }
		r.page.Eval(ctx, `({ url: location.href, text: (document.querySelector('main') || document.body).innerText.slice(0, 1500) })`, &page)
		cancel()
		msg += fmt.Sprintf("\n  page: %s\n  shows: %s", page.URL, strings.ReplaceAll(page.Text, "\n", "\n         "))
	}
	if r.reported != nil {
		msg += r.reported()
	}
	r.t.Fatal(msg)
}

// remoteEval evaluates the JavaScript expression js in the page of a foxTab or a wkTab
// and returns its value.
func remoteEval[T any](on interface{ remote() *remoteTab }, js string) T {
	r := on.remote()
	r.t.Helper()
	var v T
	if err := r.page.Eval(r.ctx, js, &v); err != nil {
		r.fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// poll evaluates js until it gives want, accepting failures on the way (the page may
// be between two documents).
func (r *remoteTab) poll(what, js string, want func(json.RawMessage) bool, limit time.Duration) json.RawMessage {
	r.t.Helper()
	deadline := time.Now().Add(limit)
	var got json.RawMessage
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
		err = r.page.Eval(ctx, js, &got)
		cancel()
		if err == nil && want(got) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.fatalf("%s: after %s the page gives %s (%v)", what, limit, got, err)
	return nil
}

func (r *remoteTab) text(sel string) string {
	r.t.Helper()
	q, _ := json.Marshal(sel)
	return remoteEval[string](r, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText.trim() : "" })()`, q))
}

func (r *remoteTab) waitText(sel, want string, limit time.Duration) {
	r.t.Helper()
	q, _ := json.Marshal(sel)
	r.poll(sel+" says "+want, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : "" })()`, q),
		func(m json.RawMessage) bool {
			var s string
			return json.Unmarshal(m, &s) == nil && strings.Contains(s, want)
		}, limit)
}

func (r *remoteTab) mustContain(what string, wants ...string) {
	r.t.Helper()
	body := r.text("main")
	for _, w := range wants {
		if !strings.Contains(body, w) {
			r.fatalf("%s: the page does not say %q", what, w)
		}
	}
}

func (r *remoteTab) click(sel string) {
	r.t.Helper()
	if err := r.page.Click(r.ctx, sel); err != nil {
		r.fatalf("%v", err)
	}
}

// prepareInLobby checks the waiting room the citizen is in: its texts, no
// PeerConnection before the agent admits the citizen, and the camera preview playing
// once the citizen prepares the devices. pt is the pt-PT catalogue with the call's
// messages.
func (r *remoteTab) prepareInLobby(pt map[string]string) {
	r.t.Helper()
	r.mustContain("lobby", pt["call.lobby.wait"], pt["call.not_recorded"], pt["call.lobby.check"])
	if remoteEval[bool](r, `window.balcaoCall.pc !== null`) {
		r.fatalf("the citizen has a PeerConnection while in the lobby")
	}
	r.click("#prepare")
	r.waitText("#lobby-media", pt["call.lobby.ready"], 10*time.Second)
	r.poll("the camera preview plays", `document.getElementById('preview').videoWidth`,
		func(m json.RawMessage) bool { return string(m) != "0" }, 5*time.Second)
}

// testDevices runs the device check's tests of the camera and microphone, of the
// speaker and of the connection, and waits for each to pass. text is the call's pt-PT
// catalogue.
func (r *remoteTab) testDevices(text map[string]string) {
	r.t.Helper()
	r.click("#test-camera")
	r.waitText("#camera-result", text["check.camera.ok"], 10*time.Second)
	r.waitText("#mic-result", text["check.mic.ok"], 10*time.Second)
	r.poll("the camera preview plays", `document.getElementById('camera-preview').videoWidth`,
		func(m json.RawMessage) bool { return string(m) != "0" }, 5*time.Second)
	r.click("#test-speaker")
	r.waitText("#speaker-result", text["check.speaker.done"], 10*time.Second)
	r.click("#test-net")
	r.waitText("#net-verdict", text["check.net.good"], 20*time.Second)
	r.t.Logf("%s; microphone peak %.2f", r.text("#net-result"), remoteEval[float64](r, `window.balcaoCheck.micPeak`))
}

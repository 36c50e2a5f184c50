package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"balcao/internal/call"
	"balcao/internal/call/calltest"
	"balcao/internal/e2e/webdriver"
)

// The citizen's call pages in WebKit, Safari's engine, as Debian ships it: WebKitGTK's
// MiniBrowser driven over WebDriver classic (package webdriver), with WebKit's mock
// camera, microphone and screen.
//
// Debian's WebKitGTK (2.50) is built without WebRTC: upstream leaves ENABLE_WEB_RTC to
// its experimental features, which distributions do not turn on, so RTCPeerConnection
// does not exist there whatever the settings say. A call cannot be made in it; what can
// be tested is everything before the call: the device check (which must then say that
// this browser cannot make video calls), the join link, the waiting room with its
// camera preview, and the signalling WebSocket that tells the citizen the agent is there.

// wkTab is a WebKit window for one participant: the same few steps as tab.
type wkTab struct {
	t    *testing.T
	w    *webdriver.WebKit
	ctx  context.Context
	base string
}

// newWkTab starts a WebKit of its own (its own Xvfb, driver and data folder). Without
// WebKitGTK the test skips, or fails in CI.
func newWkTab(t *testing.T, base string, limit time.Duration) *wkTab {
	t.Helper()
	paths, err := webdriver.FindWebKit()
	if err != nil {
		if inCI() {
			t.Fatalf("WebKit tests cannot run in CI: %v", err)
		}
		t.Skipf("skipping WebKit test: %v", err)
	}
	startCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	started := time.Now()
	w, err := webdriver.StartWebKit(startCtx, paths, webdriver.Options{})
	if err != nil {
		t.Fatalf("start WebKit: %v", err)
	}
	t.Cleanup(w.Close)
	t.Logf("WebKitGTK %s (%s) started in %s", w.Version, w.Browser, time.Since(started).Round(time.Millisecond))
	ctx, cancelLimit := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancelLimit)
	return &wkTab{t: t, w: w, ctx: ctx, base: base}
}

// watchErrors is run in each new document: it keeps the page's uncaught errors,
// rejected promises and console warnings (call.js and check.js say "call: …" or
// "check: …" there when a step fails). WebDriver classic has no console log to read.
const watchErrors = `if (!window.balcaoErrors) {
	const kept = (window.balcaoErrors = []);
	const keep = (s) => { if (kept.length < 50) kept.push(String(s).slice(0, 300)); };
	addEventListener('error', (e) => keep('uncaught: ' + e.message));
	addEventListener('unhandledrejection', (e) => keep('unhandled rejection: ' + ((e.reason && e.reason.message) || e.reason)));
	for (const level of ['warn', 'error']) {
		const orig = console[level].bind(console);
		console[level] = (...args) => { keep(level + ': ' + args.map(String).join(' ')); orig(...args); };
	}
}`

func (w *wkTab) watch() {
	w.t.Helper()
	if err := w.w.Execute(w.ctx, watchErrors, nil); err != nil {
		w.fatalf("watch the page's errors: %v", err)
	}
}

// errors returns what the page reported since watch.
func (w *wkTab) errors() []string {
	w.t.Helper()
	return wkEval[[]string](w, `window.balcaoErrors || []`)
}

// fatalf stops the test with what the page shows and what it reported.
func (w *wkTab) fatalf(format string, args ...any) {
	w.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if w.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(w.ctx, 3*time.Second)
		var page struct {
			URL, Text string
			Errors    []string
		}
		w.w.Execute(ctx, `return { url: location.href, text: (document.querySelector('main') || document.body).innerText.slice(0, 1500), errors: window.balcaoErrors || [] }`, &page)
		cancel()
		msg += fmt.Sprintf("\n  page: %s\n  shows: %s", page.URL, strings.ReplaceAll(page.Text, "\n", "\n         "))
		if len(page.Errors) > 0 {
			msg += "\n  reported: " + strings.Join(page.Errors, "\n            ")
		}
	}
	w.t.Fatal(msg)
}

func (w *wkTab) navigate(path string) {
	w.t.Helper()
	if err := w.w.Navigate(w.ctx, w.base+path); err != nil {
		w.fatalf("open %s: %v", path, err)
	}
	w.watch()
}

// wkEval evaluates the JavaScript expression js in the page and returns its value.
func wkEval[T any](w *wkTab, js string) T {
	w.t.Helper()
	var v T
	if err := w.w.Execute(w.ctx, "return ("+js+")", &v); err != nil {
		w.fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// poll evaluates js until it gives want, accepting failures on the way (the page may
// be between two documents).
func (w *wkTab) poll(what, js string, want func(json.RawMessage) bool, limit time.Duration) json.RawMessage {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	var got json.RawMessage
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(w.ctx, 2*time.Second)
		err = w.w.Execute(ctx, "return ("+js+")", &got)
		cancel()
		if err == nil && want(got) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.fatalf("%s: after %s the page gives %s (%v)", what, limit, got, err)
	return nil
}

func (w *wkTab) text(sel string) string {
	w.t.Helper()
	q, _ := json.Marshal(sel)
	return wkEval[string](w, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText.trim() : "" })()`, q))
}

func (w *wkTab) waitText(sel, want string, limit time.Duration) {
	w.t.Helper()
	q, _ := json.Marshal(sel)
	w.poll(sel+" says "+want, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : "" })()`, q),
		func(m json.RawMessage) bool {
			var s string
			return json.Unmarshal(m, &s) == nil && strings.Contains(s, want)
		}, limit)
}

func (w *wkTab) mustContain(what string, wants ...string) {
	w.t.Helper()
	body := w.text("main")
	for _, want := range wants {
		if !strings.Contains(body, want) {
			w.fatalf("%s: the page does not say %q", what, want)
		}
	}
}

func (w *wkTab) click(sel string) {
	w.t.Helper()
	if err := w.w.Click(w.ctx, sel); err != nil {
		w.fatalf("%v", err)
	}
}

// noErrors fails the test if the page reported an error or a warning.
func (w *wkTab) noErrors(page string) {
	w.t.Helper()
	for _, e := range w.errors() {
		w.t.Errorf("WebKit, %s: %s", page, e)
	}
}

// TestDeviceCheckWebKit runs the device check in WebKit: browser support reported as
// the engine has it (this WebKitGTK has no RTCPeerConnection, so the page must say that
// the browser cannot make video calls), the camera preview and the microphone's level
// from WebKit's mock devices, the test tone made with WebKit's WebAudio, and the
// connection test, each result as text.
func TestDeviceCheckWebKit(t *testing.T) {
	s := newCallSite(t)
	text := catalogue(t, "call.pt-PT")
	b := newWkTab(t, s.URL, 40*time.Second)
	b.navigate("/call/check?back=/join/x/call")

	var engine struct{ RTC, Media, Share bool }
	if err := b.w.Execute(b.ctx, `return {
		rtc: typeof RTCPeerConnection === 'function',
		media: !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia),
		share: !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia),
	}`, &engine); err != nil {
		b.fatalf("read what WebKit has: %v", err)
	}
	t.Logf("this WebKit has getUserMedia %v, getDisplayMedia %v, RTCPeerConnection %v", engine.Media, engine.Share, engine.RTC)
	yesNo := func(v bool) string {
		if v {
			return text["check.yes"]
		}
		return text["check.no"]
	}
	for key, has := range map[string]bool{"media": engine.Media, "rtc": engine.RTC, "share": engine.Share} {
		sel := fmt.Sprintf(`[data-support="%s"]`, key)
		b.waitText(sel, yesNo(has), 5*time.Second)
	}
	switch {
	case !engine.Media || !engine.RTC:
		b.waitText("#support-result", text["check.support.missing"], 5*time.Second)
	case engine.Share:
		b.waitText("#support-result", text["check.support.all"], 5*time.Second)
	default:
		b.waitText("#support-result", text["check.support.share_missing"], 5*time.Second)
	}
	t.Logf("the page says: %q", b.text("#support-result"))

	b.click("#test-camera")
	b.waitText("#camera-result", text["check.camera.ok"], 10*time.Second)
	b.waitText("#mic-result", text["check.mic.ok"], 10*time.Second)
	b.poll("the camera preview plays", `document.getElementById('camera-preview').videoWidth`,
		func(m json.RawMessage) bool { return string(m) != "0" }, 5*time.Second)
	b.click("#test-speaker")
	b.waitText("#speaker-result", text["check.speaker.done"], 10*time.Second)
	b.click("#test-net")
	b.waitText("#net-verdict", text["check.net.good"], 20*time.Second)
	t.Logf("%s; microphone peak %.2f", b.text("#net-result"), wkEval[float64](b, `window.balcaoCheck.micPeak`))
	b.noErrors("device check")
}

// TestCallLobbyWebKit takes a citizen in WebKit from the join link into the waiting
// room: the lobby's texts, no PeerConnection yet, the camera preview from WebKit's mock
// camera, a page that fits a narrow window, and the signalling WebSocket both ways (the
// citizen's presence reaches the agent in Chromium, the agent's arrival reaches the
// citizen), with no script error on the way. Being admitted needs RTCPeerConnection,
// which Debian's WebKitGTK lacks: the call itself is tested in Chromium and Firefox.
func TestCallLobbyWebKit(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := book(t, s)
	pt := callText(t)
	citizen := newWkTab(t, s.URL, 40*time.Second)
	// MiniBrowser's toolbar keeps its window wider than a phone (about 450 px): the
	// narrowest it allows stands in for one.
	width, height, err := citizen.w.SetWindowSize(citizen.ctx, 360, 740)
	if err != nil {
		citizen.fatalf("%v", err)
	}
	t.Logf("WebKit's window: %dx%d", width, height)

	citizen.navigate(calltest.JoinPath(b))
	citizen.click("#enter-call")
	citizen.poll("the waiting room opens", `location.pathname`, func(m json.RawMessage) bool {
		return string(m) == `"/join/`+b.ID+`/call"`
	}, 10*time.Second)
	citizen.watch()
	if !wkEval[bool](citizen, `typeof RTCPeerConnection === 'function'`) {
		// A browser that cannot make the call says so at once, and never joins the
		// lobby: the agent sees nobody waiting, rather than a citizen admitted into an
		// empty call.
		citizen.waitText("#call-status", pt["call.status.unsupported"], 10*time.Second)
		citizen.mustContain("waiting room", pt["call.not_recorded"], pt["call.lobby.check"])
		agent := newCallTab(t, s.URL, 40*time.Second)
		agent.navigate(calltest.AgentPath(b))
		agent.waitText("#call-status", pt["call.status.nobody_waiting"], 10*time.Second)
		time.Sleep(time.Second)
		agent.waitText("#call-status", pt["call.status.nobody_waiting"], time.Second)
		if wkEval[bool](citizen, `window.balcaoCall.ws !== null`) {
			citizen.fatalf("a browser without WebRTC opened the call's WebSocket")
		}
		t.Log("this WebKit has no RTCPeerConnection: the page says so and does not join the lobby")
		citizen.noErrors("waiting room")
		return
	}
	// "Connecting" gives way to the lobby's status only when call.js has run to its
	// end and its WebSocket is open.
	citizen.waitText("#call-status", pt["call.status.lobby_alone"], 10*time.Second)
	citizen.mustContain("lobby", pt["call.lobby.wait"], pt["call.not_recorded"], pt["call.lobby.check"])
	if wkEval[bool](citizen, `window.balcaoCall.pc !== null`) {
		citizen.fatalf("the citizen has a PeerConnection while in the lobby")
	}
	citizen.click("#prepare")
	citizen.waitText("#lobby-media", pt["call.lobby.ready"], 10*time.Second)
	citizen.poll("the camera preview plays", `document.getElementById('preview').videoWidth`,
		func(m json.RawMessage) bool { return string(m) != "0" }, 5*time.Second)
	if w := wkEval[[]int](citizen, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		citizen.fatalf("the waiting room is %d px wide in a %d px window", w[0], w[1])
	}

	// The agent arrives in Chromium: each sees the other through the WebSocket.
	agent := newCallTab(t, s.URL, 40*time.Second)
	agent.navigate(calltest.AgentPath(b))
	agent.waitText("#call-status", fmt.Sprintf(pt["call.status.waiting"], call.FirstName(b.Citizen.Name)), 10*time.Second)
	citizen.waitText("#call-status", pt["call.status.lobby_staff"], 10*time.Second)

	t.Log("this WebKit has RTCPeerConnection: the call itself can now be tested in WebKit too")
	citizen.noErrors("waiting room")
}

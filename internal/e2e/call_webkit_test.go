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
	*remoteTab
	w *webdriver.WebKit
}

// newWkTab starts a WebKit of its own (its own Xvfb, driver and data folder). Without
// WebKitGTK the test skips, or fails in CI.
func newWkTab(t *testing.T, base string, limit time.Duration) *wkTab {
	t.Helper()
	paths, err := webdriver.FindWebKit()
	needRemoteBrowser(t, "WebKit", err)
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
	// WebDriver classic has no console log to read: a failure shows what the page
	// kept (watchErrors).
	kept := func() string {
		if ctx.Err() != nil {
			return ""
		}
		readCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		var errs []string
		w.Eval(readCtx, `window.balcaoErrors || []`, &errs)
		if len(errs) == 0 {
			return ""
		}
		return "\n  reported: " + strings.Join(errs, "\n            ")
	}
	return &wkTab{remoteTab: &remoteTab{t: t, page: w, ctx: ctx, base: base, reported: kept}, w: w}
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
	return remoteEval[[]string](w, `window.balcaoErrors || []`)
}

func (w *wkTab) navigate(path string) {
	w.t.Helper()
	if err := w.w.Navigate(w.ctx, w.base+path); err != nil {
		w.fatalf("open %s: %v", path, err)
	}
	w.watch()
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

	b.testDevices(text)
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
	if !remoteEval[bool](citizen, `typeof RTCPeerConnection === 'function'`) {
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
		if remoteEval[bool](citizen, `window.balcaoCall.ws !== null`) {
			citizen.fatalf("a browser without WebRTC opened the call's WebSocket")
		}
		t.Log("this WebKit has no RTCPeerConnection: the page says so and does not join the lobby")
		citizen.noErrors("waiting room")
		return
	}
	// "Connecting" gives way to the lobby's status only when call.js has run to its
	// end and its WebSocket is open.
	citizen.waitText("#call-status", pt["call.status.lobby_alone"], 10*time.Second)
	citizen.prepareInLobby(pt)
	if w := remoteEval[[]int](citizen, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
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

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/call"
	"balcao/internal/call/calltest"
	"balcao/internal/e2e/firefox"
)

// The citizen's call pages must work in Firefox as well as in Chromium. These tests
// drive Debian's Firefox ESR over WebDriver BiDi (package firefox) for the citizen,
// with a fake camera and microphone, while the agent stays in Chromium.

// foxTab is a Firefox tab for one participant: the same few steps as tab, over BiDi.
type foxTab struct {
	*remoteTab
	b   *firefox.Browser
	tab *firefox.Tab
}

// newFoxTab starts a Firefox of its own (a new profile) with a phone-sized viewport.
// Without Firefox the test skips, or fails in CI.
func newFoxTab(t *testing.T, base string, limit time.Duration, opts firefox.Options) *foxTab {
	t.Helper()
	path, err := firefox.Find()
	needRemoteBrowser(t, "Firefox", err)
	startCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	started := time.Now()
	b, err := firefox.Start(startCtx, path, opts)
	if err != nil {
		t.Fatalf("start Firefox: %v", err)
	}
	t.Cleanup(b.Close)
	t.Logf("Firefox %s started in %s (on a screen of its own: %v)", b.Version, time.Since(started).Round(time.Millisecond), opts.Screen)
	tb, err := b.Tab(startCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.SetViewport(startCtx, 360, 740, 2); err != nil {
		t.Fatalf("phone viewport: %v", err)
	}
	ctx, cancelLimit := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancelLimit)
	// Firefox keeps the page's console: a failure shows what the page said there.
	console := func() string {
		if c := b.Console(); len(c) > 0 {
			return "\n  console: " + strings.Join(c, "\n           ")
		}
		return ""
	}
	return &foxTab{remoteTab: &remoteTab{t: t, page: tb, ctx: ctx, base: base, reported: console}, b: b, tab: tb}
}

func (f *foxTab) navigate(path string) {
	f.t.Helper()
	if err := f.tab.Navigate(f.ctx, f.base+path); err != nil {
		f.fatalf("open %s: %v", path, err)
	}
}

func (f *foxTab) typeText(text string) {
	f.t.Helper()
	if err := f.tab.Type(f.ctx, text); err != nil {
		f.fatalf("type %q: %v", text, err)
	}
}

// waitMedia polls the call page's stats (the same reading as in Chromium) until want
// holds.
func (f *foxTab) waitMedia(what string, limit time.Duration, want func([]trackStats) bool) []trackStats {
	f.t.Helper()
	deadline := time.Now().Add(limit)
	var last []trackStats
	for time.Now().Before(deadline) {
		last = remoteEval[[]trackStats](f, calltest.ReadStats)
		if want(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.fatalf("%s: no media after %s; stats %+v", what, limit, last)
	return nil
}

// TestCallFirefoxCitizen is a call with the citizen in Firefox on a phone-sized screen
// and the agent in Chromium: the join link, the lobby with the camera preview, the
// agent's admission, audio and video both ways through the SFU (the agent's video
// decoded in Firefox with the identification card in it), the citizen's call quality
// measured in Firefox and shown to the agent, chat both ways, the screen shared from
// Firefox (where Xvfb gives it a screen), a reload mid-call, and the end of the call.
func TestCallFirefoxCitizen(t *testing.T) {
	needBrowser(t)
	began := time.Now()
	s := newCallSite(t)
	b := book(t, s)
	pt := callText(t)
	// Firefox shares a screen only where it has one: on a virtual X screen, which CI
	// installs (scripts/test.sh); elsewhere without Xvfb it runs headless and the
	// screen share is left out.
	screen := firefox.HaveScreen() || inCI()
	citizen := newFoxTab(t, s.URL, 60*time.Second, firefox.Options{Screen: screen})
	agent := newCallTab(t, s.URL, 60*time.Second)

	// The join link, then the waiting room, by tapping its link.
	citizen.navigate(calltest.JoinPath(b))
	citizen.click("#enter-call")
	citizen.waitText("#call-status", pt["call.status.lobby_alone"], 10*time.Second)
	if p := remoteEval[string](citizen, `location.pathname`); p != "/join/"+b.ID+"/call" {
		citizen.fatalf("the waiting room is at %s", p)
	}
	citizen.prepareInLobby(pt)

	// The agent arrives and admits the citizen.
	agent.navigate(calltest.AgentPath(b))
	// The others in a call see the citizen's first name only.
	agent.waitText("#call-status", fmt.Sprintf(pt["call.status.waiting"], call.FirstName(b.Citizen.Name)), 10*time.Second)
	citizen.waitText("#call-status", pt["call.status.lobby_staff"], 10*time.Second)
	admitted := time.Now()
	agent.click("button.admit")
	agent.waitMedia("agent (Chromium) receives the citizen (Firefox)", 20*time.Second, flowing("citizen", "camera"))
	t.Logf("agent: first decoded frame of the citizen %s after Admit", time.Since(admitted).Round(time.Millisecond))
	got := citizen.waitMedia("citizen (Firefox) receives the agent (Chromium)", 20*time.Second, flowing("agent", "camera"))
	t.Logf("citizen: media of the agent %s after Admit: %+v", time.Since(admitted).Round(time.Millisecond), got)
	citizen.mustContain("in the call", pt["call.not_recorded"])
	if w := remoteEval[[]int](citizen, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		citizen.fatalf("the call page is %d px wide on a %d px phone screen", w[0], w[1])
	}

	// Firefox decodes the card the agent's Chromium draws into its video.
	citizen.poll("the agent's video carries the identification card's badge, about [11 92 173]", cardColour,
		func(m json.RawMessage) bool {
			var rgb []int
			return json.Unmarshal(m, &rgb) == nil && len(rgb) == 3 && abs(rgb[0]-11) < 45 && abs(rgb[1]-92) < 45 && abs(rgb[2]-173) < 45
		}, 10*time.Second)

	// Firefox plays the agent's voice under its default autoplay policy: no "turn the
	// sound on" button is needed (the citizen has used the page, which also captures
	// the microphone).
	citizen.poll("the agent's audio plays", `(() => {
		const a = document.querySelector('#remote audio');
		return !!a && !a.paused && document.getElementById('audio-blocked').hidden;
	})()`, func(m json.RawMessage) bool { return string(m) == "true" }, 5*time.Second)

	// Firefox measures the call's quality and the agent sees it.
	agent.waitText("#quality-rows tr[data-participant=citizen]", " ms", 10*time.Second)
	t.Logf("agent's quality panel: %q", agent.text("#quality-rows"))

	// Chat both ways.
	citizen.click("#chat-text")
	citizen.typeText("Bom dia, tenho uma dúvida." + firefox.Enter)
	agent.waitText("#chat-log", "Bom dia, tenho uma dúvida.", 10*time.Second)
	citizen.waitText("#chat-log", pt["call.chat.you"], 10*time.Second)
	agent.do("answer", chromedp.SendKeys(chromedp.CSS("#chat-text"), "Diga, por favor."+kb.Enter))
	citizen.waitText("#chat-log", "Diga, por favor.", 10*time.Second)

	// Screen share: a real click (getDisplayMedia needs the user's gesture in Firefox),
	// then the agent decodes a second video track from the citizen.
	if screen {
		shared := time.Now()
		citizen.click("#share")
		agent.waitMedia("agent receives the citizen's screen from Firefox", 20*time.Second, flowing("citizen", "camera", "screen"))
		t.Logf("agent: first frame of the shared screen %s after Share", time.Since(shared).Round(time.Millisecond))
		if got := remoteEval[string](citizen, `document.getElementById('share').getAttribute('aria-pressed')`); got != "true" {
			citizen.fatalf("the share button is aria-pressed=%q while sharing", got)
		}
	} else {
		t.Log("no Xvfb: the screen share from Firefox is not tried (apt-get install xvfb)")
	}

	// The citizen's page reloads mid-call: straight back into the call, media again.
	reloadMidCall(t, agent, citizen, func() {
		if err := citizen.tab.Reload(citizen.ctx); err != nil {
			citizen.fatalf("reload: %v", err)
		}
	})
	citizen.waitText("#chat-log", "Diga, por favor.", 5*time.Second)

	agent.click("#end")
	citizen.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
	t.Logf("the whole call took %s", time.Since(began).Round(time.Millisecond))
	// call.js says "call: …" in the console when a step fails (a description refused,
	// a device missing): in Firefox, none may.
	for _, line := range citizen.b.Console() {
		if strings.Contains(line, "call:") {
			t.Errorf("Firefox's console: %s", line)
		}
	}
}

// TestDeviceCheckFirefox runs the device check in Firefox: browser support, the camera
// preview and the microphone's level from Firefox's fake devices, the test tone made
// with Firefox's WebAudio, and the connection test, each result as text.
func TestDeviceCheckFirefox(t *testing.T) {
	s := newCallSite(t)
	text := catalogue(t, "call.pt-PT")
	b := newFoxTab(t, s.URL, 40*time.Second, firefox.Options{Prefs: firefox.MockAudio})
	b.navigate("/call/check?back=/join/x/call")
	b.waitText("#support-result", text["check.support.all"], 5*time.Second)
	b.testDevices(text)
}

// progress reads how far the page's media from participant has come.
func (f *foxTab) progress(participant string) progress {
	f.t.Helper()
	return progressIn(remoteEval[[]trackStats](f, calltest.ReadStats), participant)
}

// TestCallFirefoxSurvivesNetworkCut cuts the network of a citizen in Firefox (media
// through a relay behind an emulated link, pages and WebSocket through a proxy, as in
// TestCallSurvivesNetworkCut) until Firefox reports ICE "disconnected" and the page has
// offered an ICE restart; when the network returns, media must flow again both ways
// within 3 seconds, in the same page.
func TestCallFirefoxSurvivesNetworkCut(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := book(t, s)
	link := &calltest.Link{}
	proxy, err := calltest.NewProxy(strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	relay, err := calltest.NewTURN(link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	citizen := newFoxTab(t, proxy.URL, 60*time.Second, firefox.Options{})
	if err := citizen.b.AddPreloadScript(citizen.ctx, relay.ForceRelay()); err != nil {
		t.Fatalf("relay every connection: %v", err)
	}
	agent := newCallTab(t, s.URL, 60*time.Second)

	citizen.navigate(calltest.JoinPath(b))
	citizen.click("#enter-call")
	agent.navigate(calltest.AgentPath(b))
	agent.waitText("#waiting", call.FirstName(b.Citizen.Name), 15*time.Second)
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen", 20*time.Second, flowing("citizen", "camera"))
	citizen.waitMedia("citizen receives the agent", 20*time.Second, flowing("agent", "camera"))
	if typ := remoteEval[string](citizen, selectedCandidate); typ != "relay" {
		citizen.fatalf("the citizen's media goes through a %q candidate, want the relay", typ)
	}
	remoteEval[bool](citizen, `window.balcaoCutMarker = true`)

	// The cut lasts until the page has noticed and offered an ICE restart (the offer
	// waits in the proxy): Firefox takes longer than Chromium to call a silent path
	// "disconnected".
	link.Cut(true)
	proxy.Cut(true)
	cutAt := time.Now()
	citizen.poll("Firefox reports ICE disconnected and the page restarts ICE", `window.balcaoCall.log.some((l) => l.endsWith('offer (ICE restart)'))`,
		func(m json.RawMessage) bool { return string(m) == "true" }, 20*time.Second)
	agentCut, citizenCut := agent.progress("citizen"), citizen.progress("agent")
	link.Cut(false)
	proxy.Cut(false)
	back := time.Now()
	t.Logf("the cut lasted %s before the page restarted ICE", back.Sub(cutAt).Round(time.Millisecond))

	var agentBack, citizenBack time.Duration
	for agentBack == 0 || citizenBack == 0 {
		since := time.Since(back)
		if since > 10*time.Second {
			citizen.fatalf("no media 10 s after the network came back (agent after %s, citizen after %s); the page noted %v",
				agentBack, citizenBack, remoteEval[[]string](citizen, `window.balcaoCall.log`))
		}
		a, c := agent.progress("citizen"), citizen.progress("agent")
		if agentBack == 0 && a.frames >= agentCut.frames+5 && a.packets >= agentCut.packets+10 {
			agentBack = since
		}
		if citizenBack == 0 && c.frames >= citizenCut.frames+5 && c.packets >= citizenCut.packets+10 {
			citizenBack = since
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after the network's return, media flows again: agent sees the citizen after %s, citizen sees the agent after %s",
		agentBack.Round(time.Millisecond), citizenBack.Round(time.Millisecond))
	if worst := max(agentBack, citizenBack); worst > 3*time.Second {
		t.Errorf("media flowed again %s after the network came back, want within 3 s; the page noted %v",
			worst.Round(time.Millisecond), remoteEval[[]string](citizen, `window.balcaoCall.log`))
	}
	if !remoteEval[bool](citizen, `window.balcaoCutMarker === true`) {
		citizen.fatalf("the citizen's page was reloaded")
	}
}

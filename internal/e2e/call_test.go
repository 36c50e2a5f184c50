package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/booking"
	"balcao/internal/call/calltest"
)

// Browser call tests start a browser per participant (each uses a third of a core in a
// call): they never run in parallel with each other.

// newCallSite serves the portal and the call pages, with the SFU on loopback and a
// clock the test moves to the appointment's time (package calltest).
func newCallSite(t *testing.T) *calltest.Site {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	s, err := calltest.New(t.Context(), t.TempDir(), calltest.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func book(t *testing.T, s *calltest.Site) booking.Booked {
	t.Helper()
	b, err := s.Book(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newCallTab starts a browser of its own (its own profile) for one participant.
func newCallTab(t *testing.T, base string, limit time.Duration, extra ...chromedp.ExecAllocatorOption) *tab {
	t.Helper()
	ctx, cancel, err := calltest.NewBrowser(context.Background(), browserPath, extra...)
	if err != nil {
		t.Fatalf("start a browser: %v", err)
	}
	t.Cleanup(cancel)
	err = chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: userAgent, AcceptLanguage: "pt-PT,pt;q=0.9,en;q=0.5"})
			return err
		}))
	if err != nil {
		t.Fatalf("set up the tab: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelTimeout)
	return &tab{t: t, ctx: tctx, base: base}
}

type trackStats = calltest.TrackStats

// waitMedia polls the page's stats until want holds, and returns the stats that
// satisfied it.
func (b *tab) waitMedia(what string, limit time.Duration, want func([]trackStats) bool) []trackStats {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	var last []trackStats
	for time.Now().Before(deadline) {
		last = eval[[]trackStats](b, calltest.ReadStats)
		if want(last) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fatalf("%s: no media after %s; stats %+v", what, limit, last)
	return nil
}

// stats reads the page's remote tracks now.
func (b *tab) stats() []trackStats {
	b.t.Helper()
	return eval[[]trackStats](b, calltest.ReadStats)
}

// flowing is the condition that a participant's audio and given video sources arrive.
func flowing(participant string, video ...string) func([]trackStats) bool {
	return func(ts []trackStats) bool {
		need := map[string]bool{"audio": true}
		for _, v := range video {
			need[v] = true
		}
		for _, s := range ts {
			if !strings.HasPrefix(s.Participant, participant) {
				continue
			}
			if (s.Kind == "audio" && s.Packets > 0) || (s.Kind == "video" && s.Frames > 0) {
				delete(need, s.Source)
			}
		}
		return len(need) == 0
	}
}

// all is the condition that every one of conds holds.
func all(conds ...func([]trackStats) bool) func([]trackStats) bool {
	return func(ts []trackStats) bool {
		for _, c := range conds {
			if !c(ts) {
				return false
			}
		}
		return true
	}
}

func (b *tab) waitText(sel, want string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := b.text(sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.fatalf("%s says %q, want %q", sel, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// callText is the pt-PT catalogue with the call's messages.
func callText(t *testing.T) map[string]string {
	pt := catalogue(t, "pt-PT")
	for k, v := range catalogue(t, "call.pt-PT") {
		pt[k] = v
	}
	return pt
}

// axeAuditor returns a function that runs axe-core on a tab's page, or does nothing
// when axe-core is not installed (outside CI).
func axeAuditor(t *testing.T) func(b *tab, name string) {
	axe := ""
	if js, err := os.ReadFile(filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js")); err == nil {
		axe = string(js)
	} else if inCI() {
		t.Fatalf("axe-core is missing in CI: %v", err)
	}
	return func(b *tab, name string) {
		if axe == "" {
			return
		}
		b.t.Helper()
		if eval[bool](b, `typeof axe === "undefined"`) {
			eval[any](b, axe+";0")
		}
		for _, v := range eval[[]axeViolation](b, runAxe) {
			b.t.Errorf("%s: %s [%s] %s\n    first: %s\n    %s", name, v.ID, v.Impact, v.Help, v.HTML, v.Why)
		}
	}
}

// cardColour reads, in a page, the colour of the identification card's badge in the
// video it receives from the agent: the card is drawn into the agent's outgoing video
// (call-card.js), so the citizen's decoded frames carry it. The geometry is call-card.js's.
const cardColour = `(() => {
	const fig = [...document.querySelectorAll('#remote figure')].find((f) =>
		(f.dataset.participant || '').startsWith('agent') && f.dataset.source === 'camera');
	const v = fig && fig.querySelector('video');
	if (!v || !v.videoWidth) return [];
	const w = v.videoWidth, h = v.videoHeight;
	const c = document.createElement('canvas');
	c.width = w; c.height = h;
	const ctx = c.getContext('2d');
	ctx.drawImage(v, 0, 0, w, h);
	const ch = Math.round(h * 0.2), pad = Math.round(ch * 0.12), badge = ch - 2 * pad;
	const x = Math.round(w * 0.025) + pad + Math.round(badge * 0.2), y = h - ch - Math.round(h * 0.035) + pad + Math.round(badge * 0.2);
	const d = ctx.getImageData(x, y, 4, 4).data;
	const avg = [0, 0, 0];
	for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) avg[k] += d[i + k] / 16;
	return avg.map(Math.round);
})()`

// TestCallLobbyAdmitMediaScreenChatReload is a whole call in two browsers: the citizen
// opens the join link and waits in the lobby; the agent admits them; audio and video
// flow both ways through the SFU, the agent's video carrying the identification card
// and the agent's page showing both sides' call quality as text; the citizen shares
// the screen and chats; the citizen's page reloads mid-call and media flows again.
func TestCallLobbyAdmitMediaScreenChatReload(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := book(t, s)
	pt := callText(t)
	audit := axeAuditor(t)
	citizen := newCallTab(t, s.URL, 90*time.Second)
	agent := newCallTab(t, s.URL, 90*time.Second)

	// The citizen opens the join link and enters the waiting room.
	if st := citizen.navigate(calltest.JoinPath(b)); st != 200 {
		citizen.fatalf("the join link answered %d", st)
	}
	if pp := citizen.attr("#enter-call", "href"); pp != "/join/"+b.ID+"/call" {
		citizen.fatalf("the join page links to %q, want the call", pp)
	}
	if pp := citizen.attr("#device-check", "href"); !strings.HasPrefix(pp, "/call/check?back=") {
		citizen.fatalf("the join page links to the device check at %q", pp)
	}
	resp := citizen.tap("#enter-call")
	if pol, _ := resp.Headers["Permissions-Policy"].(string); !strings.Contains(pol, "camera=(self)") ||
		!strings.Contains(pol, "microphone=(self)") || !strings.Contains(pol, "display-capture=(self)") {
		citizen.fatalf("the call page's Permissions-Policy is %q: it must grant camera, microphone, display-capture", pol)
	}
	citizen.waitText("#call-status", pt["call.status.lobby_alone"], 10*time.Second)
	citizen.mustContain("lobby", pt["call.lobby.wait"], pt["call.not_recorded"], pt["call.lobby.check"])
	if eval[bool](citizen, `window.balcaoCall.pc !== null`) {
		citizen.fatalf("the citizen has a PeerConnection while in the lobby")
	}
	// The camera may be turned on while waiting: only the citizen sees it.
	citizen.click("#prepare")
	citizen.waitText("#lobby-media", pt["call.lobby.ready"], 10*time.Second)
	audit(citizen, "citizen lobby")

	// The agent arrives and sees the citizen waiting; the citizen sees the agent is here.
	agent.navigate(calltest.AgentPath(b))
	agent.waitText("#call-status", fmt.Sprintf(pt["call.status.waiting"], "Ana"), 10*time.Second)
	citizen.waitText("#call-status", pt["call.status.lobby_staff"], 10*time.Second)
	audit(agent, "agent with a citizen waiting")

	admitted := time.Now()
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen", 20*time.Second, flowing("citizen", "camera"))
	t.Logf("agent: first decoded frame of the citizen %s after Admit", time.Since(admitted).Round(time.Millisecond))
	citizen.waitMedia("citizen receives the agent", 20*time.Second, flowing("agent", "camera"))
	t.Logf("citizen: media of the agent %s after Admit", time.Since(admitted).Round(time.Millisecond))
	citizen.mustContain("in the call", pt["call.not_recorded"])

	// The agent's video carries the card: its badge is in the frames the citizen decodes.
	deadline := time.Now().Add(10 * time.Second)
	var rgb []int
	for {
		rgb = eval[[]int](citizen, cardColour)
		if len(rgb) == 3 && abs(rgb[0]-11) < 45 && abs(rgb[1]-92) < 45 && abs(rgb[2]-173) < 45 {
			break
		}
		if time.Now().After(deadline) {
			citizen.fatalf("the agent's video has no identification card: the badge's place is %v, want about [11 92 173]", rgb)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Call quality for both sides, as text, on the agent's page.
	agent.waitText("#quality-rows tr[data-participant=citizen]", " ms", 10*time.Second)
	agent.waitText("#quality-rows tr[data-participant=self]", " ms", 10*time.Second)
	t.Logf("agent's quality panel: %q", agent.text("#quality-rows"))
	audit(citizen, "citizen in the call")
	audit(agent, "agent in the call")

	// Screen share: the agent decodes a second video track from the citizen.
	shared := time.Now()
	citizen.click("#share")
	agent.waitMedia("agent receives the citizen's screen", 20*time.Second, flowing("citizen", "camera", "screen"))
	t.Logf("agent: first frame of the shared screen %s after Share", time.Since(shared).Round(time.Millisecond))
	if got := citizen.attr("#share", "aria-pressed"); got != "true" {
		citizen.fatalf("the share button is aria-pressed=%q while sharing", got)
	}

	// Chat: from the citizen to the agent, through a labelled input.
	citizen.do("type a message and press Enter", chromedp.SendKeys(chromedp.CSS("#chat-text"), "Bom dia, tenho uma dúvida."+kb.Enter))
	agent.waitText("#chat-log", "Bom dia, tenho uma dúvida.", 10*time.Second)
	citizen.waitText("#chat-log", pt["call.chat.you"], 10*time.Second)

	// The citizen's page reloads mid-call: back in the call (no lobby), media again.
	reloadMidCall(t, agent, citizen, func() { citizen.do("reload", chromedp.Reload()) })
	citizen.waitText("#chat-log", "Bom dia, tenho uma dúvida.", 5*time.Second)

	// The agent ends the call for everyone.
	agent.click("#end")
	citizen.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
	agent.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
}

// mediaWaiter is a page in a call, in Chromium (tab) or in Firefox (foxTab).
type mediaWaiter interface {
	waitMedia(what string, limit time.Duration, want func([]trackStats) bool) []trackStats
}

// reloadMidCall reloads the citizen's page mid-call with reload and waits until media
// flows again both ways. The agent's media from the citizen must come on new tracks:
// the old ones' counts would pass for media while nothing flows.
func reloadMidCall(t *testing.T, agent *tab, citizen mediaWaiter, reload func()) {
	t.Helper()
	before := agent.waitMedia("agent before the reload", time.Second, flowing("citizen", "camera"))
	oldMids := map[string]bool{}
	for _, s := range before {
		oldMids[s.Mid] = true
	}
	reloaded := time.Now()
	reload()
	citizen.waitMedia("citizen after the reload", 20*time.Second, flowing("agent", "camera"))
	agent.waitMedia("agent after the citizen's reload", 20*time.Second, func(ts []trackStats) bool {
		for _, s := range ts {
			if oldMids[s.Mid] {
				return false
			}
		}
		return flowing("citizen", "camera")(ts)
	})
	t.Logf("media flows again both ways %s after the reload", time.Since(reloaded).Round(time.Millisecond))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestCallInterpreter: the agent makes an invitation link on the call page; an
// interpreter opens it in a third browser, waits in the lobby, is admitted, and
// receives decoded video from both the citizen and the agent, who both receive the
// interpreter; each page lays out the three videos.
func TestCallInterpreter(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := book(t, s)
	pt := callText(t)
	audit := axeAuditor(t)
	citizen := newCallTab(t, s.URL, 90*time.Second)
	agent := newCallTab(t, s.URL, 90*time.Second)
	interpreter := newCallTab(t, s.URL, 90*time.Second)

	citizen.navigate(calltest.JoinPath(b))
	citizen.tap("#enter-call")
	agent.navigate(calltest.AgentPath(b))
	agent.waitText("#call-status", fmt.Sprintf(pt["call.status.waiting"], "Ana"), 10*time.Second)
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen", 20*time.Second, flowing("citizen", "camera"))

	// The agent makes a link for the interpreter.
	agent.do("name the interpreter", chromedp.SendKeys(chromedp.CSS("#invite-name"), "Marta Sousa"+kb.Enter))
	agent.waitText("#invite-expires", strings.SplitN(pt["call.invite.made"], "%s", 2)[0], 10*time.Second)
	link := eval[string](agent, `document.getElementById('invite-link').value`)
	if !strings.HasPrefix(link, s.URL+"/call/guest#") {
		agent.fatalf("the invitation link is %q", link)
	}
	if f := agent.focused(); f != "invite-link" {
		agent.fatalf("after making the link the focus is on %q, want the link to copy", f)
	}
	audit(agent, "agent with an invitation link")

	// The interpreter opens it and waits in the lobby until the agent admits them.
	interpreter.navigate(strings.TrimPrefix(link, s.URL))
	interpreter.waitText("#call-status", pt["call.status.lobby_staff"], 10*time.Second)
	audit(interpreter, "interpreter lobby")
	agent.waitText("#waiting", "Marta Sousa", 10*time.Second)
	agent.click("button.admit")

	guest := func(ts []trackStats) bool { return flowing("guest-", "camera")(ts) }
	got := interpreter.waitMedia("interpreter receives both", 20*time.Second,
		all(flowing("citizen", "camera"), flowing("agent", "camera")))
	videos := 0
	for _, s := range got {
		if s.Kind == "video" {
			videos++
			if s.Frames == 0 {
				interpreter.fatalf("the interpreter decodes nothing from %s's %s", s.Participant, s.Source)
			}
		}
	}
	if videos != 2 {
		interpreter.fatalf("the interpreter receives %d videos, want 2: %+v", videos, got)
	}
	citizen.waitMedia("citizen receives agent and interpreter", 20*time.Second, all(flowing("agent", "camera"), guest))
	agent.waitMedia("agent receives citizen and interpreter", 20*time.Second, all(flowing("citizen", "camera"), guest))
	for _, p := range []*tab{citizen, agent, interpreter} {
		if n := eval[int](p, `document.querySelectorAll('#remote figure video').length + document.querySelectorAll('#local-video').length`); n != 3 {
			p.fatalf("the page shows %d videos, want 3", n)
		}
	}
	interpreter.waitText("#remote", "Ana", 5*time.Second)
	citizen.waitText("#remote", "Marta Sousa", 5*time.Second)
	audit(interpreter, "interpreter in the call")

	// The interpreter has no staff powers, and the call's end sends them away too.
	if eval[bool](interpreter, `!!document.getElementById('end')`) {
		interpreter.fatalf("the interpreter's page can end the call")
	}
	agent.click("#end")
	interpreter.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
	citizen.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
}

// TestDeviceCheck runs the device check with the keyboard alone, in Portuguese and in
// English: browser support, camera preview and microphone level, the test tone (made
// in the page), and the round trip and throughput to the server, each result as text;
// axe-core finds nothing before or after.
func TestDeviceCheck(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	audit := axeAuditor(t)
	b := newCallTab(t, s.URL, 60*time.Second)
	for _, lang := range []string{"pt-PT", "en"} {
		text := catalogue(t, "call."+lang)
		b.navigate("/lang?to=" + lang + "&next=" + "/call/check%3Fback%3D/join/x/call")
		if p := b.path(); p != "/call/check?back=/join/x/call" {
			b.fatalf("the language switch led to %s", p)
		}
		if got := eval[string](b, `document.documentElement.lang`); got != lang {
			b.fatalf("the page's lang is %q, want %q", got, lang)
		}
		b.mustContain("advice", text["check.need.phone_browser"], text["check.noise.headset"], text["check.how.install"])
		b.waitText("#support-result", text["check.support.all"], 5*time.Second)
		audit(b, "device check ("+lang+")")

		b.tabTo("test-camera", 12)
		b.press(kb.Enter)
		b.waitText("#camera-result", text["check.camera.ok"], 10*time.Second)
		b.waitText("#mic-result", text["check.mic.ok"], 10*time.Second)
		if w := eval[int](b, `document.getElementById('camera-preview').videoWidth`); w == 0 {
			b.fatalf("the camera preview shows nothing")
		}
		b.tabTo("test-speaker", 5)
		b.press(kb.Enter)
		b.waitText("#speaker-result", text["check.speaker.done"], 10*time.Second)
		b.tabTo("test-net", 5)
		b.press(kb.Enter)
		b.waitText("#net-verdict", text["check.net.good"], 20*time.Second)
		t.Logf("%s: %s", lang, b.text("#net-result"))
		audit(b, "device check with results ("+lang+")")
	}
}

// callPageBudget is what the citizen's call page may cost on a metered phone: the page
// and every script, style and icon it loads, compressed, headers included.
const callPageBudget = 60_000

// TestCallPageWeight loads the citizen's call page (the lobby) with a cold cache and
// adds up the compressed bytes of every response.
func TestCallPageWeight(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := book(t, s)
	c := newCallTab(t, s.URL, 30*time.Second)
	c.navigate(calltest.JoinPath(b)) // sets the join cookie
	// Cleared, and then not used at all: the join page's own loads must not serve the call
	// page. (Its icon Chromium keeps apart, and does not ask for again; bench/call, which
	// opens the call page first, counts it: 177 bytes.)
	c.do("start cold", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	w := &wireLog{byID: map[network.RequestID]*response{}}
	if err := chromedp.Listen(c.ctx, w.handle); err != nil {
		t.Fatalf("listen to the network: %v", err)
	}
	c.navigate("/join/" + b.ID + "/call")
	c.waitText("#call-status", callText(t)["call.status.lobby_alone"], 10*time.Second)
	settleCtx, cancelSettle := context.WithTimeout(c.ctx, 10*time.Second)
	rs, err := w.settled(settleCtx)
	cancelSettle()
	if err != nil {
		// What the budget counts is the page and its scripts and styles; a request of the
		// page's own making (a measurement, a keep-alive) still open under a loaded
		// machine is left out, and said so.
		var open []response
		for _, r := range rs {
			if !r.done {
				open = append(open, r)
			}
		}
		for _, r := range open {
			// Chromium does not always report the end of the favicon's load; the icon is
			// not one of the page's scripts or styles.
			if u := strings.TrimPrefix(r.url, s.URL); (strings.HasPrefix(u, "/static/") && !strings.Contains(u, "favicon")) || strings.HasSuffix(u, "/call") {
				t.Fatalf("the page or one of its assets never finished loading: %s (%v)", u, err)
			}
			t.Logf("left out, still open after 10 s: %s %s", r.method, strings.TrimPrefix(r.url, s.URL))
		}
		rs = slices.DeleteFunc(rs, func(r response) bool { return !r.done })
	}
	var total float64
	var lines []string
	for _, r := range rs {
		if r.cached {
			t.Errorf("%s came from the cache: the test is not cold", r.url)
		}
		if r.failed != "" {
			t.Errorf("%s failed: %s", r.url, r.failed)
		}
		total += r.bytes
		lines = append(lines, fmt.Sprintf("  %6.0f B  %3d %s %s", r.bytes, r.status, strings.TrimPrefix(r.url, s.URL), r.encoding))
	}
	t.Logf("the citizen's call page, cold cache (compressed bytes on the wire, headers included):\n%s\n  %6.0f B  in all, %d requests",
		strings.Join(lines, "\n"), total, len(rs))
	if total >= callPageBudget {
		t.Errorf("the call page costs %.0f bytes, over the budget of %d", total, callPageBudget)
	}
}

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/call"
	"balcao/internal/demo"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/portal"
	"balcao/internal/sfu"
	"balcao/internal/store"
	"balcao/internal/view"
	"balcao/web"
)

// callSite is the portal and the call pages on one mux, with the SFU on loopback and a
// clock the test moves to the appointment's time. Staff are identified by a test-only
// cookie until the staff login is wired in.
type callSite struct {
	URL string
	db  *store.DB
	svc *booking.Service

	mu     sync.Mutex
	offset time.Duration
}

const staffCookie = "test-staff"

func (s *callSite) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// setNow moves the site's clock to at.
func (s *callSite) setNow(at time.Time) {
	s.mu.Lock()
	s.offset = time.Until(at)
	s.mu.Unlock()
}

func newCallSite(t *testing.T) *callSite {
	t.Helper()
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "balcao.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadIfEmpty(ctx, db); err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := view.New(web.FS, catalog)
	if err != nil {
		t.Fatal(err)
	}
	s := &callSite{db: db}
	s.svc = booking.NewService(db, s.now)
	media, err := sfu.New(sfu.Config{Loopback: true}, logger)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := call.LoadSecret(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := call.New(call.Config{DB: db, Booking: s.svc, SFU: media, View: rd, Logger: logger, Secret: secret,
		Staff: func(r *http.Request) (string, string, bool) {
			c, err := r.Cookie(staffCookie)
			if err != nil || c.Value == "" {
				return "", "", false
			}
			return c.Value, "Rui Agente", true
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	portal.New(db, s.svc, rd, logger, false).Routes(mux)
	calls.Routes(mux)
	mux.Handle("GET /static/", rd.Assets())
	mux.HandleFunc("GET /test/staff-login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: staffCookie, Value: r.URL.Query().Get("id"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
	})
	csrf := http.NewCrossOriginProtection()
	srv := httptest.NewServer(httpx.Chain(mux, httpx.Observe(logger), httpx.SecureHeaders(false), httpx.Compress, csrf.Handler))
	t.Cleanup(func() {
		calls.Close()
		srv.Close()
		if err := media.Close(); err != nil {
			t.Errorf("close SFU: %v", err)
		}
	})
	s.URL = srv.URL
	return s
}

// book books the first free time of the first theme and moves the clock to five
// minutes before it, when the waiting room is open.
func (s *callSite) book(t *testing.T) booking.Booked {
	t.Helper()
	ctx := t.Context()
	var themeID string
	if err := s.db.QueryRow(ctx, "SELECT id FROM themes WHERE active ORDER BY service_id, position LIMIT 1").Scan(&themeID); err != nil {
		t.Fatal(err)
	}
	today := calendar.DateOf(s.now().In(s.svc.Location()))
	slots, err := s.svc.Availability(ctx, themeID, today, today.AddDays(booking.MaxRangeDays-1), false)
	if err != nil || len(slots) == 0 {
		t.Fatalf("no free time for theme %s: %v", themeID, err)
	}
	b, err := s.svc.Book(ctx, booking.Request{ThemeID: themeID, Start: slots[0].Start,
		Citizen: booking.Citizen{Name: "Ana Conceição", Email: "ana@example.com", Language: "pt-PT"}})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	s.setNow(b.Start.Add(-5 * time.Minute))
	return b
}

// mediaFlags are what TESTING.md found a WebRTC call needs in headless Chromium: a
// fake camera, microphone and screen, no permission prompts, loopback ICE candidates.
var mediaFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
}

// newCallTab starts a browser of its own (its own profile) for one participant.
func newCallTab(t *testing.T, base string, limit time.Duration) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browserPath))
	opts = append(append(opts, browserFlags...), mediaFlags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start a browser: %v", err)
	}
	err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768),
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

// trackStats is one remote track in a page: the call's "tracks" event joined with
// RTCPeerConnection.getStats() by mid.
type trackStats struct {
	Mid         string `json:"mid"`
	Participant string `json:"participant"`
	Source      string `json:"source"`
	Kind        string `json:"kind"`
	Frames      int64  `json:"frames"`
	Packets     int64  `json:"packets"`
}

const readStats = `(async () => {
	const c = window.balcaoCall;
	if (!c || !c.pc) return [];
	const byMid = {};
	(await c.pc.getStats()).forEach((s) => {
		if (s.type === 'inbound-rtp') byMid[s.mid] = { frames: s.framesDecoded || 0, packets: s.packetsReceived || 0 };
	});
	return c.tracks.map((t) => ({ mid: t.mid, participant: t.participantId, source: t.source, kind: t.kind,
		frames: (byMid[t.mid] || {}).frames || 0, packets: (byMid[t.mid] || {}).packets || 0 }));
})()`

// waitMedia polls the page's stats until every source in want has media: decoded
// frames for video, packets for audio. It returns the stats that satisfied it.
func (b *tab) waitMedia(what string, limit time.Duration, want func([]trackStats) bool) []trackStats {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	var last []trackStats
	for time.Now().Before(deadline) {
		last = eval[[]trackStats](b, readStats)
		if want(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fatalf("%s: no media after %s; stats %+v", what, limit, last)
	return nil
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

// TestCallLobbyAdmitMediaScreenChatReload is a whole call in two browsers: the citizen
// opens the join link and waits in the lobby; the agent admits them; audio and video
// flow both ways through the SFU; the citizen shares the screen and chats; the
// citizen's page reloads mid-call and media flows again.
func TestCallLobbyAdmitMediaScreenChatReload(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	b := s.book(t)
	pt := catalogue(t, "pt-PT")
	callText := catalogue(t, "call.pt-PT")
	for k, v := range callText {
		pt[k] = v
	}
	axe := ""
	if js, err := os.ReadFile(filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js")); err == nil {
		axe = string(js)
	} else if inCI() {
		t.Fatalf("axe-core is missing in CI: %v", err)
	}
	citizen := newCallTab(t, s.URL, 90*time.Second)
	agent := newCallTab(t, s.URL, 90*time.Second)
	audit := func(b *tab, name string) {
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

	// The citizen opens the join link and enters the waiting room.
	if st := citizen.navigate("/join/" + b.ID + "?t=" + url.QueryEscape(b.JoinToken)); st != 200 {
		citizen.fatalf("the join link answered %d", st)
	}
	if pp := citizen.attr("#enter-call", "href"); pp != "/join/"+b.ID+"/call" {
		citizen.fatalf("the join page links to %q, want the call", pp)
	}
	resp := citizen.tap("#enter-call")
	if pol, _ := resp.Headers["Permissions-Policy"].(string); !strings.Contains(pol, "camera=(self)") ||
		!strings.Contains(pol, "microphone=(self)") || !strings.Contains(pol, "display-capture=(self)") {
		citizen.fatalf("the call page's Permissions-Policy is %q: it must grant camera, microphone, display-capture", pol)
	}
	citizen.waitText("#call-status", pt["call.status.lobby_alone"], 10*time.Second)
	citizen.mustContain("lobby", pt["call.lobby.wait"], pt["call.not_recorded"])
	if eval[bool](citizen, `window.balcaoCall.pc !== null`) {
		citizen.fatalf("the citizen has a PeerConnection while in the lobby")
	}
	audit(citizen, "citizen lobby")

	// The agent arrives and sees the citizen waiting; the citizen sees the agent is here.
	agent.navigate("/test/staff-login?id=" + url.QueryEscape(b.AgentID) + "&next=" + url.QueryEscape("/staff/call/"+b.ID))
	agent.waitText("#call-status", fmt.Sprintf(pt["call.status.waiting"], "Ana Conceição"), 10*time.Second)
	citizen.waitText("#call-status", pt["call.status.lobby_staff"], 10*time.Second)
	audit(agent, "agent with a citizen waiting")

	admitted := time.Now()
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen", 20*time.Second, flowing("citizen", "camera"))
	t.Logf("agent: first decoded frame of the citizen %s after Admit", time.Since(admitted).Round(time.Millisecond))
	citizen.waitMedia("citizen receives the agent", 20*time.Second, flowing("agent", "camera"))
	t.Logf("citizen: media of the agent %s after Admit", time.Since(admitted).Round(time.Millisecond))
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
	before := agent.waitMedia("agent before the reload", time.Second, flowing("citizen", "camera"))
	oldMids := map[string]bool{}
	for _, s := range before {
		oldMids[s.Mid] = true
	}
	reloaded := time.Now()
	citizen.do("reload", chromedp.Reload())
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
	citizen.waitText("#chat-log", "Bom dia, tenho uma dúvida.", 5*time.Second)

	// The agent ends the call for everyone.
	agent.click("#end")
	citizen.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
	agent.waitText("#call-status", pt["call.status.ended"], 10*time.Second)
}

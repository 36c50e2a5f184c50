package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"balcao/internal/app"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/call/calltest"
	"balcao/internal/config"
)

// relayOnly is a script to run in a page before its own: every RTCPeerConnection it
// makes keeps the ICE servers the page gives it (the call's, from its welcome message)
// but may use only relayed candidates, as a browser on a network that lets no UDP
// through to the media server ends up doing; with sessionStorage's balcaoRelayOver set
// to "tcp", only TURN servers reached over TCP, as on a network that lets no UDP out
// at all. It notes the ICE servers for the test.
const relayOnly = `(() => {
	const Native = window.RTCPeerConnection;
	const RelayOnly = function (config) {
		let servers = (config && config.iceServers) || [];
		const over = sessionStorage.getItem('balcaoRelayOver');
		if (over) {
			servers = servers.map((s) => Object.assign({}, s, { urls: [].concat(s.urls).filter((u) => u.endsWith('?transport=' + over)) }))
				.filter((s) => s.urls.length > 0);
		}
		window.balcaoICE = servers;
		return new Native(Object.assign({}, config, { iceServers: servers, iceTransportPolicy: 'relay' }));
	};
	RelayOnly.prototype = Native.prototype;
	Object.setPrototypeOf(RelayOnly, Native);
	window.RTCPeerConnection = RelayOnly;
})();`

// selectedRelay describes the local candidate of the page's selected pair: its type,
// and for a relayed one the TURN server it came from.
const selectedRelay = `(async () => {
	const r = await window.balcaoCall.pc.getStats();
	let pair = '', local = '';
	r.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = s.selectedCandidatePairId; });
	r.forEach((s) => { if (s.id === pair) local = s.localCandidateId; });
	let c = {};
	r.forEach((s) => { if (s.id === local) c = s; });
	return { type: c.candidateType || '', url: c.url || '', protocol: c.relayProtocol || '' };
})()`

type candidate struct {
	Type     string `json:"type"`
	URL      string `json:"url"`
	Protocol string `json:"protocol"`
}

type iceServer struct {
	URLs       any    `json:"urls"` // a string or a list, as the page got it
	Username   string `json:"username"`
	Credential string `json:"credential"`
}

// freePort is a port free on 127.0.0.1 for both UDP and TCP just now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

// TestCallThroughEmbeddedTURN: balcao started with a TURN port serves its own relay. The
// citizen's browser may use only relayed candidates, from the ICE servers the call hands
// it: its media goes through the embedded relay, with credentials of its own that
// expire with its join token, and the agent and the citizen decode each other's video.
// Then the citizen's page reloads with TURN over TCP only, and media flows again.
func TestCallThroughEmbeddedTURN(t *testing.T) {
	needBrowser(t)
	s := &consoleSite{}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "info"}
	cfg.Media.Loopback = true
	cfg.Media.TURNPort = freePort(t)
	a, err := app.New(t.Context(), cfg, logger, app.Options{Now: s.now})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	s.app, s.URL = a, srv.URL
	if a.Relay() == nil || a.Relay().Port() != cfg.Media.TURNPort {
		t.Fatalf("the app started no relay on port %d", cfg.Media.TURNPort)
	}
	b := bookForCall(t, s)
	var email string
	if err := a.DB.QueryRow(t.Context(), "SELECT email FROM staff WHERE id = ?", b.AgentID).Scan(&email); err != nil {
		t.Fatal(err)
	}

	citizen := newCallTab(t, s.URL, 60*time.Second)
	citizen.do("relay every connection", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: relayOnly})
		return err
	}))
	agent := newCallTab(t, s.URL, 60*time.Second)

	citizen.navigate(calltest.JoinPath(b))
	citizen.tap("#enter-call")
	agent.navigate("/staff/login?next=" + url.QueryEscape("/staff/call/"+b.ID))
	agent.do("fill in the sign-in form", chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), app.DemoPassword))
	agent.follow("sign in", chromedp.Click(chromedp.CSS("#login")))
	if p := agent.path(); p != "/staff/call/"+b.ID {
		agent.fatalf("signing in led to %s, want the call", p)
	}
	agent.waitText("#waiting", "Ana", 15*time.Second)
	admitted := time.Now()
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen through the relay", 20*time.Second, flowing("citizen", "camera"))
	citizen.waitMedia("citizen receives the agent through the relay", 20*time.Second, flowing("agent", "camera"))
	t.Logf("media both ways %s after Admit, the citizen relayed", time.Since(admitted).Round(time.Millisecond))

	// The citizen's connection is relayed, by the embedded server.
	port := ":" + strconv.Itoa(cfg.Media.TURNPort)
	c := eval[candidate](citizen, selectedRelay)
	if c.Type != "relay" || (c.URL != "" && !strings.Contains(c.URL, port)) {
		citizen.fatalf("the citizen's media goes through %+v, want a relayed candidate of the embedded server (port %d)", c, cfg.Media.TURNPort)
	}
	if n := a.Relay().Allocations(); n == 0 {
		t.Fatal("the embedded relay holds no allocation")
	}
	t.Logf("the citizen's selected candidate: %+v; the relay holds %d allocations", c, a.Relay().Allocations())

	// With credentials of the citizen's own, expiring with the join token.
	var relayed *iceServer
	for _, is := range eval[[]iceServer](citizen, `window.balcaoICE`) {
		if strings.Contains(fmt.Sprint(is.URLs), "turn:127.0.0.1"+port) {
			relayed = &is
		}
	}
	if relayed == nil {
		citizen.fatalf("the call handed the citizen no ICE server for the embedded relay: %s", eval[string](citizen, `JSON.stringify(window.balcaoICE)`))
	}
	for _, u := range []string{"turn:127.0.0.1" + port + "?transport=udp", "turn:127.0.0.1" + port + "?transport=tcp"} {
		if !strings.Contains(fmt.Sprint(relayed.URLs), u) {
			t.Errorf("the relay's URLs %v lack %s", relayed.URLs, u)
		}
	}
	m := regexp.MustCompile(`^(\d+):` + regexp.QuoteMeta(b.ID) + `/citizen$`).FindStringSubmatch(relayed.Username)
	if m == nil || relayed.Credential == "" {
		t.Fatalf("the citizen's TURN username is %q, want <expiry>:%s/citizen with a password", relayed.Username, b.ID)
	}
	exp, _ := strconv.ParseInt(m[1], 10, 64)
	if left := time.Unix(exp, 0).Sub(s.now()); left < 3*time.Hour || left > 4*time.Hour+time.Minute {
		t.Errorf("the citizen's TURN credentials expire in %s, want with the join token (4 h)", left)
	}

	// No UDP at all: the citizen reaches the relay over TCP.
	oldMids := map[string]bool{}
	for _, s := range agent.stats() {
		oldMids[s.Mid] = true
	}
	eval[any](citizen, `sessionStorage.setItem('balcaoRelayOver', 'tcp')`)
	reloaded := time.Now()
	citizen.do("reload", chromedp.Reload())
	citizen.waitMedia("citizen receives the agent over TURN/TCP", 20*time.Second, flowing("agent", "camera"))
	agent.waitMedia("agent receives the citizen over TURN/TCP", 20*time.Second, func(ts []trackStats) bool {
		for _, s := range ts {
			if oldMids[s.Mid] {
				return false
			}
		}
		return flowing("citizen", "camera")(ts)
	})
	if c := eval[candidate](citizen, selectedRelay); c.Type != "relay" || c.Protocol != "tcp" || (c.URL != "" && !strings.Contains(c.URL, port)) {
		citizen.fatalf("after the reload the citizen's media goes through %+v, want the embedded relay over TCP", c)
	}
	t.Logf("over TURN/TCP, media both ways %s after the reload", time.Since(reloaded).Round(time.Millisecond))
}

// bookForCall books the first free time of the first theme and moves the site's clock to
// five minutes before it, when the waiting room is open.
func bookForCall(t *testing.T, s *consoleSite) booking.Booked {
	t.Helper()
	ctx := t.Context()
	var themeID string
	if err := s.app.DB.QueryRow(ctx, "SELECT id FROM themes WHERE active ORDER BY service_id, position LIMIT 1").Scan(&themeID); err != nil {
		t.Fatal(err)
	}
	svc := s.app.Booking
	today := calendar.DateOf(s.now().In(svc.Location()))
	slots, err := svc.Availability(ctx, themeID, today, today.AddDays(booking.MaxRangeDays-1), false)
	if err != nil || len(slots) == 0 {
		t.Fatalf("no free time for theme %s: %v", themeID, err)
	}
	b, err := svc.Book(ctx, booking.Request{ThemeID: themeID, Start: slots[0].Start,
		Citizen: booking.Citizen{Name: "Ana Conceição", Email: "ana@example.com", Language: "pt-PT"}})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	s.setNow(b.Start.Add(-5 * time.Minute))
	return b
}

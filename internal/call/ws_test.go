package call_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"balcao/internal/audit"
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

// server is the call pages and WebSocket on a real database with one booked
// appointment, its clock five minutes before the appointment.
type server struct {
	url    string
	booked booking.Booked
	tokens *call.Tokens
	calls  *call.Server
}

func newServer(t *testing.T) *server {
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
	offset := time.Duration(0)
	clock := func() time.Time { return time.Now().Add(offset) }
	svc := booking.NewService(db, clock)
	var themeID string
	if err := db.QueryRow(ctx, "SELECT id FROM themes WHERE active ORDER BY service_id, position LIMIT 1").Scan(&themeID); err != nil {
		t.Fatal(err)
	}
	today := calendar.DateOf(time.Now().In(svc.Location()))
	slots, err := svc.Availability(ctx, themeID, today, today.AddDays(30), false)
	if err != nil || len(slots) == 0 {
		t.Fatalf("no free time: %v", err)
	}
	b, err := svc.Book(ctx, booking.Request{ThemeID: themeID, Start: slots[0].Start,
		Citizen: booking.Citizen{Name: "Ana", Email: "ana@example.com", Language: "pt-PT"}})
	if err != nil {
		t.Fatal(err)
	}
	offset = time.Until(b.Start.Add(-5 * time.Minute))
	media, err := sfu.New(sfu.Config{Loopback: true}, logger)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := call.LoadSecret(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	again, err := call.LoadSecret(ctx, db)
	if err != nil || string(again) != string(secret) {
		t.Fatalf("LoadSecret a second time = %x, %v; want the first secret", again, err)
	}
	calls, err := call.New(call.Config{DB: db, Booking: svc, SFU: media, View: rd, Logger: logger, Secret: secret,
		Staff: func(r *http.Request) (string, string, bool) {
			id := r.Header.Get("X-Test-Staff")
			return id, "Rui", id != ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	portal.New(db, svc, rd, logger, false).Routes(mux)
	calls.Routes(mux)
	srv := httptest.NewServer(httpx.Chain(mux, httpx.Observe(logger), httpx.SecureHeaders(false), httpx.Compress,
		audit.New(db, nil, logger).Middleware(nil)))
	t.Cleanup(func() {
		calls.Close()
		srv.Close()
		media.Close()
	})
	tokens, _ := call.NewTokens(secret, clock)
	return &server{url: srv.URL, booked: b, tokens: tokens, calls: calls}
}

// client is a signalling client without media.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

type msg struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Self    *call.Member
	Members []call.Member
	Message *call.ChatMessage
	From    string
	Quality *call.Quality
	Count   int
}

func (s *server) dial(t *testing.T, claims call.Claims) *client {
	t.Helper()
	tok, err := s.tokens.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(t.Context(), "ws"+s.url[4:]+"/call/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	c := &client{t: t, ws: ws}
	c.send(map[string]any{"type": "hello", "token": tok})
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(c.t.Context(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// expect reads messages until one of type typ, skipping presence and events.
func (c *client) expect(typ string) msg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", typ, err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatal(err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func TestSignalling(t *testing.T) {
	s := newServer(t)
	room := s.booked.ID
	citizenClaims := call.Claims{Room: room, Participant: "citizen", Role: call.RoleCitizen, Name: "Ana"}
	agentClaims := call.Claims{Room: room, Participant: "agent-" + s.booked.AgentID, Role: call.RoleAgent, Name: "Rui"}

	citizen := s.dial(t, citizenClaims)
	if w := citizen.expect("welcome"); w.Self.State != call.StateLobby {
		t.Fatalf("citizen welcomed in state %q, want lobby", w.Self.State)
	}
	// No media before admission, no chat either.
	citizen.send(map[string]any{"type": "offer", "sdp": "v=0"})
	if e := citizen.expect("error"); e.Code != "not_admitted" {
		t.Errorf("offer from the lobby: error %q, want not_admitted", e.Code)
	}
	citizen.send(map[string]any{"type": "chat", "text": "olá"})
	if e := citizen.expect("error"); e.Code != "chat_refused" {
		t.Errorf("chat from the lobby: error %q, want chat_refused", e.Code)
	}
	citizen.send(map[string]any{"type": "admit", "participant": "citizen"})
	if e := citizen.expect("error"); e.Code != "admit_refused" {
		t.Errorf("a citizen admitting: error %q, want admit_refused", e.Code)
	}

	agent := s.dial(t, agentClaims)
	w := agent.expect("welcome")
	if w.Self.State != call.StateAdmitted || len(w.Members) != 2 || w.Members[0].State != call.StateLobby {
		t.Fatalf("agent's welcome %+v", w)
	}
	citizen.expect("presence")
	agent.send(map[string]any{"type": "admit", "participant": "citizen"})
	citizen.expect("admitted")

	citizen.send(map[string]any{"type": "chat", "text": "  bom dia  "})
	if m := agent.expect("chat"); m.Message.Text != "bom dia" || m.Message.From != "citizen" {
		t.Errorf("agent got chat %+v", m.Message)
	}

	// A second connection of the same participant (a reload) replaces the first and
	// keeps the place in the call.
	again := s.dial(t, citizenClaims)
	citizen.expect("replaced")
	if w := again.expect("welcome"); w.Self.State != call.StateAdmitted {
		t.Errorf("reconnected citizen in state %q, want admitted", w.Self.State)
	}

	agent.send(map[string]any{"type": "end"})
	again.expect("ended")
	agent.expect("ended")
	// After the end the citizen cannot come back.
	late := s.dial(t, citizenClaims)
	late.expect("ended")
}

func TestSignallingRefusals(t *testing.T) {
	s := newServer(t)
	wsURL := "ws" + s.url[4:] + "/call/ws"

	// Another site's page cannot open the WebSocket.
	_, resp, err := websocket.Dial(t.Context(), wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin handshake: %v, %v; want 403", resp, err)
	}

	// A forged token is refused with a policy violation.
	for _, tok := range []string{"", "forged.token"} {
		ws, _, err := websocket.Dial(t.Context(), wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]string{"type": "hello", "token": tok})
		ws.Write(t.Context(), websocket.MessageText, b)
		_, _, err = ws.Read(t.Context())
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("token %q: read %v, want a policy-violation close", tok, err)
		}
		ws.CloseNow()
	}

	// Pages: the citizen's needs the join cookie, the agent's the booked staff; call
	// pages grant the camera, others keep denying it.
	get := func(path string, h http.Header, cookie *http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	id := s.booked.ID
	join := &http.Cookie{Name: portal.JoinCookie, Value: s.booked.JoinToken}
	for _, tc := range []struct {
		name, path string
		header     http.Header
		cookie     *http.Cookie
		status     int
		media      bool
	}{
		{name: "citizen without the cookie", path: "/join/" + id + "/call", status: 404},
		{name: "citizen with a wrong cookie", path: "/join/" + id + "/call", cookie: &http.Cookie{Name: portal.JoinCookie, Value: "x"}, status: 404},
		{name: "citizen", path: "/join/" + id + "/call", cookie: join, status: 200, media: true},
		{name: "join page", path: "/join/" + id, cookie: join, status: 200},
		{name: "agent not signed in", path: "/staff/call/" + id, status: 401},
		{name: "another member of staff", path: "/staff/call/" + id, header: http.Header{"X-Test-Staff": {"someone-else"}}, status: 404},
		{name: "agent", path: "/staff/call/" + id, header: http.Header{"X-Test-Staff": {s.booked.AgentID}}, status: 200, media: true},
	} {
		resp := get(tc.path, tc.header, tc.cookie)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		pol := resp.Header.Get("Permissions-Policy")
		granted := pol == "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"
		denied := strings.Contains(pol, "camera=()") && strings.Contains(pol, "microphone=()") && strings.Contains(pol, "display-capture=()")
		if granted != tc.media || denied == tc.media {
			t.Errorf("%s: Permissions-Policy %q; media granted should be %v", tc.name, pol, tc.media)
		}
	}
}

// TestKeepChat: the chat stays in the room's memory until the agent asks to keep it;
// then the keeper gets a copy of the chat so far, for the agent's appointment, and the
// agent hears how many messages were kept. Nobody else may ask, and a keeper's failure
// is told to the agent.
func TestKeepChat(t *testing.T) {
	s := newServer(t)
	room := s.booked.ID
	type kept struct {
		room, staff string
		chat        []call.ChatMessage
	}
	keeps := make(chan kept, 4)
	fail := make(chan bool, 4)
	s.calls.OnKeepChat(func(_ context.Context, room, staffID string, chat []call.ChatMessage) error {
		keeps <- kept{room, staffID, chat}
		if <-fail {
			return errors.New("database unavailable")
		}
		return nil
	})
	citizen := s.dial(t, call.Claims{Room: room, Participant: "citizen", Role: call.RoleCitizen, Name: "Ana"})
	citizen.expect("welcome")
	agent := s.dial(t, call.Claims{Room: room, Participant: "agent-" + s.booked.AgentID, Role: call.RoleAgent, Name: "Rui"})
	agent.expect("welcome")
	agent.send(map[string]any{"type": "admit", "participant": "citizen"})
	citizen.expect("admitted")
	citizen.send(map[string]any{"type": "chat", "text": "o meu NIF é 123456789"})
	agent.expect("chat")
	agent.send(map[string]any{"type": "chat", "text": "obrigado"})
	citizen.expect("chat")

	citizen.send(map[string]any{"type": "keep_chat"})
	if e := citizen.expect("error"); e.Code != "keep_refused" {
		t.Errorf("a citizen keeping the chat: error %q, want keep_refused", e.Code)
	}
	fail <- false
	agent.send(map[string]any{"type": "keep_chat"})
	k := <-keeps
	if k.room != room || k.staff != s.booked.AgentID || len(k.chat) != 2 || k.chat[0].Text != "o meu NIF é 123456789" || k.chat[1].From != "agent-"+s.booked.AgentID {
		t.Fatalf("kept %+v", k)
	}
	if m := agent.expect("chat_kept"); m.Count != 2 {
		t.Errorf("chat_kept count %d, want 2", m.Count)
	}
	fail <- true
	agent.send(map[string]any{"type": "keep_chat"})
	<-keeps
	if e := agent.expect("error"); e.Code != "keep_failed" {
		t.Errorf("a keeper that fails: error %q, want keep_failed", e.Code)
	}
}

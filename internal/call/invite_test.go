package call_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"balcao/internal/call"
)

// post sends a form as a member of staff (the test's staff header) and returns the
// answer and its body.
func (s *server) post(t *testing.T, path, staffID string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if staffID != "" {
		req.Header.Set("X-Test-Staff", staffID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestInviteInterpreter: the agent makes an invitation link; its token (in the
// fragment) lets a guest interpreter into the lobby of that call only, until the agent
// admits them; the guest then receives chat but never another's quality reports, and
// has no staff powers.
func TestInviteInterpreter(t *testing.T) {
	s := newServer(t)
	id := s.booked.ID
	path := "/staff/call/" + id + "/invite"

	for _, tc := range []struct {
		name, staff string
		status      int
	}{
		{name: "not signed in", status: 401},
		{name: "another member of staff", staff: "someone-else", status: 404},
	} {
		if resp, _ := s.post(t, path, tc.staff, nil); resp.StatusCode != tc.status {
			t.Errorf("%s: invite answered %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}

	resp, body := s.post(t, path, s.booked.AgentID, url.Values{"name": {"  Marta   Sousa  "}})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("invite answered %d (Cache-Control %q): %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	var inv struct {
		Path    string    `json:"path"`
		Expires time.Time `json:"expires"`
	}
	if err := json.Unmarshal(body, &inv); err != nil {
		t.Fatal(err)
	}
	page, token, ok := strings.Cut(inv.Path, "#")
	if !ok || page != call.GuestPath || token == "" {
		t.Fatalf("invitation path %q, want %s#TOKEN", inv.Path, call.GuestPath)
	}
	if limit := s.booked.End.Add(call.ClosesAfter); !inv.Expires.Equal(limit) {
		t.Errorf("invitation expires %v, want when the lobby closes, %v", inv.Expires, limit)
	}
	claims, err := s.tokens.Verify(token)
	if err != nil || claims.Room != id || claims.Role != call.RoleInterpreter || !claims.Guest ||
		!strings.HasPrefix(claims.Participant, "guest-") || claims.Name != "Marta Sousa" {
		t.Fatalf("invitation claims %+v, %v", claims, err)
	}
	// Two invitations are two different guests.
	_, body2 := s.post(t, path, s.booked.AgentID, nil)
	if strings.Contains(string(body2), claims.Participant) {
		t.Error("a second invitation names the same guest")
	}

	// The guest's page is the same for everyone: the token is not in it.
	gp, err := http.Get(s.url + call.GuestPath)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := io.ReadAll(gp.Body)
	gp.Body.Close()
	if gp.StatusCode != 200 || !strings.Contains(gp.Header.Get("Permissions-Policy"), "camera=(self)") ||
		!strings.Contains(string(gb), `"token":""`) {
		t.Errorf("guest page: %d, Permissions-Policy %q", gp.StatusCode, gp.Header.Get("Permissions-Policy"))
	}

	// The guest waits in the lobby; the agent admits them.
	agent := s.dial(t, call.Claims{Room: id, Participant: "agent-" + s.booked.AgentID, Role: call.RoleAgent, Name: "Rui"})
	agent.expect("welcome")
	guest := s.dialToken(t, token)
	if w := guest.expect("welcome"); w.Self.State != call.StateLobby || w.Self.Staff {
		t.Fatalf("guest welcomed as %+v, want waiting and not staff", w.Self)
	}
	guest.send(map[string]any{"type": "end"})
	if e := guest.expect("error"); e.Code != "end_refused" {
		t.Errorf("a guest ending the call: error %q, want end_refused", e.Code)
	}
	agent.send(map[string]any{"type": "admit", "participant": claims.Participant})
	guest.expect("admitted")

	// Quality reports go to the staff only, bounded and at most one a second.
	citizen := s.dial(t, call.Claims{Room: id, Participant: "citizen", Role: call.RoleCitizen, Name: "Ana"})
	citizen.expect("welcome")
	citizen.send(map[string]any{"type": "quality", "quality": map[string]any{"rtt": 40}}) // from the lobby: dropped
	citizen.send(map[string]any{"type": "chat", "text": "olá"})                           // refused, after the report
	citizen.expect("error")
	agent.send(map[string]any{"type": "admit", "participant": "citizen"})
	citizen.expect("admitted")
	time.Sleep(1100 * time.Millisecond) // past the lobby report's rate limit
	citizen.send(map[string]any{"type": "quality", "quality": map[string]any{"rtt": 123.456, "lossIn": 250, "kbpsIn": -5, "fps": 24}})
	citizen.send(map[string]any{"type": "quality", "quality": map[string]any{"rtt": 999}}) // too soon: dropped
	q := agent.expect("quality")
	if q.From != "citizen" || *q.Quality != (call.Quality{RTT: 123.5, LossIn: 100, FPS: 24}) {
		t.Errorf("agent got quality %+v from %q", q.Quality, q.From)
	}
	guest.send(map[string]any{"type": "chat", "text": "pronto"})
	if m := citizen.expect("chat"); m.Message.From != claims.Participant || m.Message.Name != "Marta Sousa" {
		t.Errorf("chat from the guest: %+v", m.Message)
	}
	agent.send(map[string]any{"type": "chat", "text": "fim"})
	for {
		m := guest.expect("chat")
		if m.Message.Text == "fim" {
			break
		}
	}
	if got := guest.drain(300 * time.Millisecond); strings.Contains(got, `"quality"`) {
		t.Errorf("the guest received quality reports: %s", got)
	}
	if got := agent.drain(300 * time.Millisecond); strings.Contains(got, `"rtt":999`) || strings.Contains(got, `"rtt":40`) {
		t.Errorf("a report from the lobby or sent too soon was passed on: %s", got)
	}
}

// dialToken connects with a token as it is, as a guest's page does.
func (s *server) dialToken(t *testing.T, token string) *client {
	t.Helper()
	ws, _, err := websocket.Dial(t.Context(), "ws"+s.url[4:]+"/call/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	c := &client{t: t, ws: ws}
	c.send(map[string]any{"type": "hello", "token": token})
	return c
}

// drain returns every message that arrives within d, joined.
func (c *client) drain(d time.Duration) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), d)
	defer cancel()
	var out []string
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return strings.Join(out, "\n")
		}
		out = append(out, string(b))
	}
}

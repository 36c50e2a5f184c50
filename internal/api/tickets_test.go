package api_test

import (
	"strings"
	"testing"
)

func TestTickets(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		body := `{"theme":"informacao-geral","citizen":{"name":"Rui Costa","email":"rui@example.pt","language":"en"},"priority":false}`
		first := s.do(t, "POST", "/api/v1/tickets", body)
		if first.status != 201 || first.str("number") != "A001" || first.str("status") != "waiting" || first.body["position"] != 1.0 {
			t.Fatalf("take: %d %s", first.status, first.raw)
		}
		if first.body["estimated_wait_seconds"].(float64) <= 0 || !strings.Contains(first.str("ticket_url"), "/ticket/"+first.str("id")+"?t=") || len(first.str("token")) < 22 {
			t.Fatalf("take: %s", first.raw)
		}
		prio := s.do(t, "POST", "/api/v1/tickets", strings.Replace(body, `"priority":false`, `"priority":true`, 1))
		if prio.status != 201 || prio.str("number") != "A002" || prio.body["position"] != 1.0 {
			t.Fatalf("priority ticket: %d %s", prio.status, prio.raw)
		}
		id, token := first.str("id"), first.str("token")
		got := s.do(t, "GET", "/api/v1/tickets/"+id, "", "Authorization", "Bearer "+token)
		if got.status != 200 || got.str("number") != "A001" || got.body["position"] != 2.0 || got.str("token") != "" {
			t.Fatalf("get: %d %s", got.status, got.raw)
		}
		if a := s.do(t, "GET", "/api/v1/tickets/"+id, "", "Authorization", "Bearer "+prio.str("token")); a.status != 404 {
			t.Errorf("another ticket's token: %d", a.status)
		}
		if a := s.do(t, "GET", "/api/v1/tickets/"+id, ""); a.status != 401 {
			t.Errorf("no token: %d", a.status)
		}
		left := s.do(t, "DELETE", "/api/v1/tickets/"+id, "", "Authorization", "Bearer "+token)
		if left.status != 200 || left.str("status") != "abandoned" {
			t.Fatalf("abandon: %d %s", left.status, left.raw)
		}
		if again := s.do(t, "DELETE", "/api/v1/tickets/"+id, "", "Authorization", "Bearer "+token); again.status != 409 {
			t.Errorf("abandon twice: %d %s", again.status, again.raw)
		}
		// The family queue opens on weekdays at 09:00; the clock says Monday 07:00.
		closed := s.do(t, "POST", "/api/v1/tickets", `{"service":"familia","citizen":{"name":"Ana","phone":"912345678"}}`, "Accept-Language", "en")
		if closed.status != 409 || closed.str("error", "code") != "queue_closed" || closed.str("error", "opens_at") != "2026-11-30T09:00:00Z" ||
			!strings.Contains(closed.str("error", "message"), "closed") {
			t.Fatalf("closed queue: %d %s", closed.status, closed.raw)
		}
		for _, c := range []struct{ name, body, field string }{
			{"no service", `{"citizen":{"name":"Ana"}}`, "theme"},
			{"bad e-mail", `{"theme":"informacao-geral","citizen":{"name":"Ana","email":"ana@"}}`, "citizen.email"},
			{"no walk-in", `{"service":"pensoes","citizen":{"name":"Ana"}}`, "service"},
			{"unknown theme", `{"theme":"nope","citizen":{"name":"Ana"}}`, "theme"},
		} {
			if a := s.do(t, "POST", "/api/v1/tickets", c.body); a.status != 422 || a.str("error", "fields", c.field) == "" {
				t.Errorf("%s: %d %s", c.name, a.status, a.raw)
			}
		}
	})
}

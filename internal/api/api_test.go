package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/app"
	"balcao/internal/calendar"
	"balcao/internal/config"
	"balcao/internal/store/storetest"
)

// The demo agency, with the clock at Monday 30 November 2026, 07:00 in Lisbon. On
// Wednesday 2 December at 09:00 three agents serve "pensao-velhice".
var now = time.Date(2026, 11, 30, 7, 0, 0, 0, calendar.Lisbon())

const (
	theme     = "pensao-velhice"
	wednesday = "2026-12-02T09:00:00Z"
)

type site struct {
	*httptest.Server
	app *app.App
}

func engines(t *testing.T, fn func(t *testing.T, s site)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, newSite(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newSite(t, storetest.NewPostgresDatabase(t))) })
}

func newSite(t testing.TB, pg string) site {
	t.Helper()
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: pg, LogLevel: "error"}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, logger, app.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return site{Server: srv, app: a}
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

func (s site) do(t testing.TB, method, path, body string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (a answer) str(path ...string) string {
	var v any = a.body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func bookBody(start, name string) string {
	return fmt.Sprintf(`{"theme":%q,"start":%q,"citizen":{"name":%q,"email":"maria@example.pt","phone":"+351 912 345 678","niss":"12345678902","nif":"123456789","language":"pt"},"needs":{"sign_language":false,"notes":"prefiro chat"}}`, theme, start, name)
}

func TestBookingLifecycle(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		services := s.do(t, "GET", "/api/v1/services", "", "Accept-Language", "en")
		if services.status != 200 || !strings.Contains(services.raw, `"name":"Old-age pension"`) || !strings.Contains(services.raw, `"auth_level":"weak"`) {
			t.Fatalf("services: %d %s", services.status, services.raw)
		}
		avail := s.do(t, "GET", "/api/v1/availability?theme="+theme+"&from=2026-12-02&to=2026-12-02", "")
		if avail.status != 200 || !strings.Contains(avail.raw, `{"start":"2026-12-02T09:00:00Z","end":"2026-12-02T09:30:00Z","free":3}`) {
			t.Fatalf("availability: %d %s", avail.status, avail.raw)
		}

		booked := s.do(t, "POST", "/api/v1/appointments", bookBody(wednesday, "Maria da Silva"))
		if booked.status != 201 || booked.str("status") != "booked" || booked.str("start") != wednesday || booked.str("end") != "2026-12-02T09:30:00Z" {
			t.Fatalf("book: %d %s", booked.status, booked.raw)
		}
		id, token := booked.str("id"), booked.str("manage_token")
		if len(token) < 22 || !strings.Contains(booked.str("join_url"), "/join/"+id+"?t=") || !strings.Contains(booked.str("ics_url"), "/a/"+id+"/ics") {
			t.Fatalf("book links: %s", booked.raw)
		}
		var stored int
		if err := s.app.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM appointments WHERE manage_token_hash = ?", token).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the manage token is stored in clear (%d rows, %v)", stored, err)
		}

		got := s.do(t, "GET", "/api/v1/appointments/"+id, "", "Authorization", "Bearer "+token)
		if got.status != 200 || got.str("status") != "booked" || got.str("citizen", "name") != "Maria da Silva" || got.str("manage_token") != "" {
			t.Fatalf("get: %d %s", got.status, got.raw)
		}
		for _, c := range []struct {
			name, auth string
			status     int
		}{{"no token", "", 401}, {"wrong token", "Bearer " + strings.Repeat("x", 32), 404}, {"basic auth", "Basic abc", 401}} {
			a := s.do(t, "GET", "/api/v1/appointments/"+id, "", "Authorization", c.auth)
			if a.status != c.status || strings.Contains(a.raw, "Maria") {
				t.Errorf("%s: %d %s, want %d without the citizen's data", c.name, a.status, a.raw, c.status)
			}
		}
		if a := s.do(t, "GET", "/api/v1/appointments/nosuchid", "", "Authorization", "Bearer "+token); a.status != 404 {
			t.Errorf("another id with a valid token: %d", a.status)
		}

		// Fill 10:00, then try to move there.
		for i := range 3 {
			if a := s.do(t, "POST", "/api/v1/appointments", bookBody("2026-12-02T10:00:00Z", fmt.Sprint("Pessoa ", i))); a.status != 201 {
				t.Fatalf("fill 10:00: %d %s", a.status, a.raw)
			}
		}
		taken := s.do(t, "POST", "/api/v1/appointments/"+id+"/reschedule", `{"start":"2026-12-02T10:00:00Z"}`, "Authorization", "Bearer "+token)
		if taken.status != 409 || taken.str("error", "code") != "slot_taken" {
			t.Fatalf("reschedule to a full slot: %d %s", taken.status, taken.raw)
		}
		moved := s.do(t, "POST", "/api/v1/appointments/"+id+"/reschedule", `{"start":"2026-12-02T11:00:00Z"}`, "Authorization", "Bearer "+token)
		if moved.status != 200 || moved.str("start") != "2026-12-02T11:00:00Z" || moved.str("end") != "2026-12-02T11:30:00Z" {
			t.Fatalf("reschedule: %d %s", moved.status, moved.raw)
		}
		cancelled := s.do(t, "POST", "/api/v1/appointments/"+id+"/cancel", "", "Authorization", "Bearer "+token)
		if cancelled.status != 200 || cancelled.str("status") != "cancelled" {
			t.Fatalf("cancel: %d %s", cancelled.status, cancelled.raw)
		}
		var changes int
		if err := s.app.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = 'change_personal_data' AND actor = 'citizen' AND object = ?", "appointment:"+id).Scan(&changes); err != nil || changes != 2 {
			t.Errorf("audit entries for the citizen's reschedule and cancel: %d (%v), want 2", changes, err)
		}
		again := s.do(t, "POST", "/api/v1/appointments/"+id+"/cancel", "", "Authorization", "Bearer "+token)
		if again.status != 409 || again.str("error", "code") != "not_cancellable" {
			t.Fatalf("cancel twice: %d %s", again.status, again.raw)
		}
		contact := s.do(t, "POST", "/api/v1/contact-requests", `{"theme":"abono-familia","citizen":{"name":"Rui","phone":"+33 6 12 34 56 78"},"subject":"Abono","preferred_times":"manhãs"}`)
		if contact.status != 201 || contact.str("id") == "" || contact.str("status") != "received" {
			t.Fatalf("contact request: %d %s", contact.status, contact.raw)
		}
	})
}

// TestBadInput walks malformed and invalid requests: each gets a 4xx with a message in
// the request's language, and none leaves a row behind.
func TestBadInput(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		huge := `{"theme":"` + strings.Repeat("a", 70<<10) + `"}`
		cases := []struct {
			name, method, path, body, contentType, lang string
			status                                      int
			code, field, message                        string
		}{
			{"malformed JSON", "POST", "/api/v1/appointments", `{"theme":`, "", "", 400, "bad_json", "", "JSON válido"},
			{"two values", "POST", "/api/v1/appointments", `{} {}`, "", "", 400, "bad_json", "", ""},
			{"empty body", "POST", "/api/v1/appointments", ``, "application/json", "en", 400, "bad_json", "", "not valid JSON"},
			{"wrong type", "POST", "/api/v1/appointments", `{"theme":5}`, "", "", 422, "invalid", "theme", ""},
			{"wrong nested type", "POST", "/api/v1/appointments", `{"theme":"x","citizen":{"name":["a"]}}`, "", "", 422, "invalid", "citizen.name", ""},
			{"form content type", "POST", "/api/v1/appointments", `theme=x`, "application/x-www-form-urlencoded", "en", 415, "unsupported_media_type", "", "application/json"},
			{"oversized body", "POST", "/api/v1/appointments", huge, "", "", 413, "too_large", "", ""},
			{"bad start format", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), wednesday, "amanhã às 9", 1), "", "", 422, "invalid", "start", ""},
			{"unaligned start", "POST", "/api/v1/appointments", bookBody("2026-12-02T09:10:00Z", "Ana"), "", "en", 422, "invalid", "start", ""},
			{"past start", "POST", "/api/v1/appointments", bookBody("2026-11-02T09:00:00Z", "Ana"), "", "", 422, "invalid", "start", ""},
			{"nobody works then", "POST", "/api/v1/appointments", bookBody("2026-12-02T20:00:00Z", "Ana"), "", "", 422, "invalid", "start", ""},
			{"unknown theme", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), theme, "nope", 1), "", "", 404, "not_found", "", ""},
			{"bidi override", "POST", "/api/v1/appointments", bookBody(wednesday, "Ana\u202e"), "", "", 422, "invalid", "citizen.name", ""},
			{"zero-width space", "POST", "/api/v1/appointments", bookBody(wednesday, "Ana\u200bSilva"), "", "", 422, "invalid", "citizen.name", ""},
			{"NUL in name", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), `"Ana"`, `"Ana\u0000"`, 1), "", "", 422, "invalid", "citizen.name", ""},
			{"invalid UTF-8", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), `"Ana"`, "\"Ana \xff\"", 1), "", "", 422, "invalid", "citizen.name", ""},
			{"name too long", "POST", "/api/v1/appointments", bookBody(wednesday, strings.Repeat("é", 201)), "", "", 422, "invalid", "citizen.name", ""},
			{"bad NIF", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), `"nif":"123456789"`, `"nif":"123456780"`, 1), "", "en", 422, "invalid", "citizen.nif", "NIF"},
			{"bad NISS", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), `"niss":"12345678902"`, `"niss":"12345678903"`, 1), "", "", 422, "invalid", "citizen.niss", "NISS"},
			{"bad e-mail", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), "maria@example.pt", "maria@", 1), "", "", 422, "invalid", "citizen.email", ""},
			{"bad phone", "POST", "/api/v1/appointments", strings.Replace(bookBody(wednesday, "Ana"), "+351 912 345 678", "12", 1), "", "", 422, "invalid", "citizen.phone", ""},
			{"availability without dates", "GET", "/api/v1/availability?theme=" + theme, "", "", "", 422, "invalid", "from", ""},
			{"availability over 31 days", "GET", "/api/v1/availability?theme=" + theme + "&from=2026-12-01&to=2027-01-05", "", "", "en", 422, "invalid", "to", "31 days"},
			{"availability bad boolean", "GET", "/api/v1/availability?theme=" + theme + "&from=2026-12-01&to=2026-12-02&sign_language=maybe", "", "", "", 422, "invalid", "sign_language", ""},
			{"availability of no theme", "GET", "/api/v1/availability?theme=nope&from=2026-12-01&to=2026-12-02", "", "", "", 404, "not_found", "", ""},
			{"contact request without a way back", "POST", "/api/v1/contact-requests", `{"citizen":{"name":"Rui"},"subject":"x"}`, "", "en", 422, "invalid", "citizen.email", ""},
			{"contact request of no theme", "POST", "/api/v1/contact-requests", `{"theme":"nope","citizen":{"name":"Rui","email":"r@x.pt"},"subject":"x"}`, "", "", 422, "invalid", "theme", ""},
			{"reschedule without token", "POST", "/api/v1/appointments/x/reschedule", `{"start":"2026-12-02T09:00:00Z"}`, "", "", 401, "unauthorized", "", ""},
			{"unknown route", "GET", "/api/v1/nothing", "", "", "", 404, "not_found", "", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				headers := []string{}
				if c.contentType != "" {
					headers = append(headers, "Content-Type", c.contentType)
				}
				if c.lang != "" {
					headers = append(headers, "Accept-Language", c.lang)
				}
				a := s.do(t, c.method, c.path, c.body, headers...)
				if a.status != c.status || a.str("error", "code") != c.code {
					t.Fatalf("got %d %s, want %d %s", a.status, a.raw, c.status, c.code)
				}
				if c.field != "" && a.str("error", "fields", c.field) == "" {
					t.Errorf("no message for field %s: %s", c.field, a.raw)
				}
				if a.str("error", "message") == "" || (c.message != "" && !strings.Contains(a.raw, c.message)) {
					t.Errorf("message: %s, want one containing %q", a.raw, c.message)
				}
			})
		}
		var n int
		if err := s.app.DB.QueryRow(context.Background(), "SELECT (SELECT COUNT(*) FROM appointments) + (SELECT COUNT(*) FROM staff_bookings) + (SELECT COUNT(*) FROM contact_requests)").Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused requests left %d rows (%v)", n, err)
		}
	})
}

// TestLastSeatsUnderConcurrentRequests fires 120 requests at once at a slot with two
// seats left: exactly two are booked, the rest told the slot is taken.
func TestLastSeatsUnderConcurrentRequests(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		if a := s.do(t, "POST", "/api/v1/appointments", bookBody(wednesday, "Primeira")); a.status != 201 {
			t.Fatalf("first booking: %d %s", a.status, a.raw)
		}
		const requests = 120
		statuses := make(chan int, requests)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i := range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				res, err := s.Client().Post(s.URL+"/api/v1/appointments", "application/json", bytes.NewBufferString(bookBody(wednesday, fmt.Sprint("Pessoa ", i))))
				if err != nil {
					statuses <- -1
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		close(gate)
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		if count[201] != 2 || count[409] != requests-2 {
			t.Fatalf("answers %v, want 2×201 and %d×409", count, requests-2)
		}
		var n int
		start, _ := time.Parse(time.RFC3339, wednesday)
		if err := s.app.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM appointments WHERE starts_at = ? AND status = 'booked'", start.Unix()).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d appointments at the slot (%v), want 3", n, err)
		}
	})
}

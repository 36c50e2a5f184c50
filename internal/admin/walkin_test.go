package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// messages reads a language's admin and common catalogues, to look for their texts in
// pages.
func messages(t *testing.T, lang string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"admin." + lang + ".json", lang + ".json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "web", "i18n", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

// walkInForm is a good walk-in form for Pensões, with changes.
func walkInForm(changes ...string) []string {
	fields := map[string]string{"action": "save", "walk_in": "on", "letter": "p", "opening": "hours",
		"hours_mon": "09:00-12:30, 14:00-17:00", "hours_tue": "09:00-12:30", "hours_wed": "", "hours_thu": "", "hours_fri": "09h00-13h00",
		"hours_sat": "", "hours_sun": "", "max_waiting": "2", "max_priority_run": "1", "answer_seconds": "90", "recall_minutes": "3",
		"near_position": "2"}
	for i := 0; i+1 < len(changes); i += 2 {
		fields[changes[i]] = changes[i+1]
	}
	var out []string
	for k, v := range fields {
		out = append(out, k, v)
	}
	return out
}

// configChanges lists the details of the configuration changes audited on object.
func configChanges(t *testing.T, s *site, object string) []string {
	t.Helper()
	entries, err := s.app.Audit.Search(context.Background(), audit.Filter{Action: audit.ConfigChange, Object: object})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Actor != "graca-pinto" || e.IP != "127.0.0.1" {
			t.Errorf("audit entry %+v", e)
		}
		out = append(out, e.Details)
	}
	return out
}

// TestWalkInSettingsThroughThePages has a supervisor turn on the walk-in tickets of a
// service that had none, change them, try to turn them off while a citizen waits, close
// the queue to new tickets instead, and turn them off once it is empty. Every change
// reaches the queue at once and is audited; bad input is refused field by field and
// changes nothing.
func TestWalkInSettingsThroughThePages(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		pt, en := messages(t, "pt-PT"), messages(t, "en")
		sup := s.signIn(t, supervisorEmail)
		const page = "/staff/admin/services/pensoes/walk-in"
		citizen := booking.Citizen{Name: "Rui Sá", Email: "rui@example.pt", Language: "pt-PT"}

		// The service page says there are none and links to the form, which proposes a free letter.
		a := sup.get("/staff/admin/services/pensoes")
		if !strings.Contains(a.body, html.EscapeString(pt["admin.walk_in.summary_off"])) || !strings.Contains(a.body, `href="`+page+`"`) {
			t.Fatalf("the service page does not show its walk-in tickets:\n%s", a.body)
		}
		a = sup.get(page)
		for _, want := range []string{`id="f-walk_in-off" name="walk_in" value="off" checked`, `id="f-letter" name="letter" type="text" value="P"`,
			html.EscapeString("A (Informações gerais), B (Família e parentalidade)"), `<label for="f-max_priority_run">`} {
			if a.status != http.StatusOK || !strings.Contains(a.body, want) {
				t.Fatalf("the form (%d) lacks %s:\n%s", a.status, want, a.body)
			}
		}

		// Bad input, one field at a time.
		for _, tc := range []struct {
			name    string
			changes []string
			key     string
		}{
			{"no letter", []string{"letter", " "}, "error.required"},
			{"two letters", []string{"letter", "PQ"}, "admin.error.letter"},
			{"a digit", []string{"letter", "7"}, "admin.error.letter"},
			{"another service's letter", []string{"letter", "b"}, "admin.error.letter_taken"},
			{"no hours", []string{"hours_mon", "", "hours_tue", "", "hours_fri", ""}, "admin.error.walk_in_no_hours"},
			{"hours not as HH:MM", []string{"hours_tue", "9-17"}, "admin.error.hours"},
			{"overlapping hours", []string{"hours_wed", "09:00-12:00, 11:00-13:00"}, "admin.error.hours_overlap"},
			{"room for nobody", []string{"max_waiting", "0"}, "admin.error.number"},
			{"not a number", []string{"max_priority_run", "dois"}, "admin.error.number"},
			{"no answer time", []string{"answer_seconds", ""}, "error.required"},
			{"answer in 5 seconds", []string{"answer_seconds", "5"}, "admin.error.number"},
			{"negative recall", []string{"recall_minutes", "-1"}, "admin.error.number"},
			{"alert too far back", []string{"near_position", "100"}, "admin.error.number"},
			{"unknown opening", []string{"opening", "sometimes"}, "admin.error.choice"},
			{"neither on nor off", []string{"walk_in", "maybe"}, "admin.error.choice"},
		} {
			a := sup.post(page, walkInForm(tc.changes...)...)
			summary := html.UnescapeString(errorSummary(a.body))
			if a.status != http.StatusUnprocessableEntity || !strings.Contains(summary, pt[tc.key]) {
				t.Errorf("%s: %d, want 422 saying %q\n%s", tc.name, a.status, pt[tc.key], summary)
			}
			if !strings.Contains(a.body, `aria-invalid="true"`) && !strings.Contains(a.body, `class="field invalid"`) {
				t.Errorf("%s: no field is marked invalid", tc.name)
			}
		}
		sup.lang = "en"
		if a := sup.post(page, walkInForm("letter", "PQ")...); !strings.Contains(html.UnescapeString(a.alert()), en["admin.error.letter"]) {
			t.Errorf("the English form's error: %s", a.alert())
		}
		sup.lang = "pt-PT"
		if _, err := directory.WalkInOf(ctx, s.app.DB, "pensoes"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refused forms turned walk-in on: %v", err)
		}
		if got := configChanges(t, s, "service:pensoes"); len(got) != 0 {
			t.Fatalf("refused forms were audited: %v", got)
		}

		// Turned on: the queue gives tickets at once, with the letter.
		a = sup.post(page, walkInForm()...)
		mustRedirect(t, "turn walk-in on", a)
		if a.location != page+"?done=saved" {
			t.Fatalf("redirect to %s", a.location)
		}
		w, err := directory.WalkInOf(ctx, s.app.DB, "pensoes")
		if err != nil || w.Letter != "P" || w.AlwaysOpen || w.MaxWaiting != 2 || w.MaxPriorityRun != 1 || w.AnswerSeconds != 90 ||
			w.RecallMinutes != 3 || w.NearPosition != 2 || directory.FormatWeekly(w.Hours, 1) != "09:00-12:30, 14:00-17:00" ||
			directory.FormatWeekly(w.Hours, 5) != "09:00-13:00" {
			t.Fatalf("saved: %+v %v", w, err)
		}
		tk, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "pensoes", Citizen: citizen})
		if err != nil || tk.Code != "P001" {
			t.Fatalf("a ticket once walk-in is on: %+v %v", tk.Ticket, err)
		}
		if a := sup.get("/staff/admin/services/pensoes"); !strings.Contains(a.body, html.EscapeString("Dá senhas com a letra P; seg.")) {
			t.Errorf("the service page's summary:\n%s", a.body)
		}

		// Changed: always open, room for one; the second ticket finds the queue full.
		mustRedirect(t, "change the rules", sup.post(page, walkInForm("opening", "always", "max_waiting", "1")...))
		var full *queue.FullError
		if _, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "pensoes", Citizen: citizen}); !errors.As(err, &full) {
			t.Fatalf("a second ticket with room for one: %v", err)
		}

		// Turning walk-in off while the citizen waits is refused, with the way out.
		a = sup.post(page, "action", "save", "walk_in", "off")
		if a.status != http.StatusConflict || !strings.Contains(html.UnescapeString(a.alert()), strings.Replace(pt["admin.walk_in.busy_alert"], "%d", "1", 1)) ||
			!strings.Contains(a.body, `name="action" value="close"`) || !strings.Contains(a.body, `id="close-queue"`) {
			t.Fatalf("walk-in off with a ticket waiting: %d\n%s", a.status, a.body)
		}
		if _, err := directory.WalkInOf(ctx, s.app.DB, "pensoes"); err != nil {
			t.Fatalf("the refused change ended the queue: %v", err)
		}

		// Closed to new tickets: nobody else gets one, the citizen waiting is still called.
		a = sup.post(page, "action", "close")
		mustRedirect(t, "close the queue to new tickets", a)
		if got := sup.get(a.location); !strings.Contains(got.body, pt["admin.notice.walk_in_closed"]) ||
			!strings.Contains(got.body, `id="f-opening-closed" name="opening" value="closed" checked`) {
			t.Fatalf("the page after closing:\n%s", got.body)
		}
		var closed *queue.ClosedError
		if _, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "pensoes", Citizen: citizen}); !errors.As(err, &closed) {
			t.Fatalf("a ticket from a closed queue: %v", err)
		}
		called, err := s.app.Queue.CallNext(ctx, queue.Agent{ID: "ana-martins", Services: []string{"pensoes"}})
		if err != nil || called.ID != tk.ID {
			t.Fatalf("the waiting citizen is not called: %+v %v", called, err)
		}
		if err := s.app.Queue.Answered(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}

		// Empty: walk-in goes off.
		mustRedirect(t, "turn walk-in off", sup.post(page, "action", "save", "walk_in", "off", "letter", "not looked at"))
		if _, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "pensoes", Citizen: citizen}); !errors.Is(err, queue.ErrNotWalkIn) {
			t.Fatalf("a ticket once walk-in is off: %v", err)
		}
		if a := sup.get("/staff/admin/services/pensoes"); !strings.Contains(a.body, html.EscapeString(pt["admin.walk_in.summary_off"])) {
			t.Errorf("the service page after turning walk-in off:\n%s", a.body)
		}
		want := []string{"op=walk_in_off", "op=walk_in_close", "op=walk_in_update fields=max_waiting,opening", "op=walk_in_on"}
		if got := configChanges(t, s, "service:pensoes"); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("audited changes, newest first:\n%v\nwant\n%v", got, want)
		}
		if a := sup.post(page, "walk_in", "off"); a.status != http.StatusBadRequest {
			t.Errorf("a form without its button's action: %d", a.status)
		}
		if a := sup.get("/staff/admin/services/nowhere/walk-in"); a.status != http.StatusNotFound {
			t.Errorf("an unknown service's walk-in page: %d", a.status)
		}
	})
}

// TestWithdrawingAServiceWithTicketsWaitingIsRefused: withdrawing a service ends its
// queue, so it is refused as turning walk-in off is, with the same way out.
func TestWithdrawingAServiceWithTicketsWaitingIsRefused(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		sup := s.signIn(t, supervisorEmail)
		mustRedirect(t, "create a service", sup.post("/staff/admin/services", "id", "balcao-rapido", "name_pt", "Balcão rápido"))
		mustRedirect(t, "its walk-in", sup.post("/staff/admin/services/balcao-rapido/walk-in", walkInForm("letter", "R", "opening", "always")...))
		if _, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "balcao-rapido", Citizen: booking.Citizen{Name: "Rui Sá", Language: "pt-PT"}}); err != nil {
			t.Fatal(err)
		}
		a := sup.post("/staff/admin/services/balcao-rapido", "action", "withdraw")
		if a.status != http.StatusConflict || !strings.Contains(a.body, `id="close-queue"`) {
			t.Fatalf("withdraw a service with a ticket waiting: %d\n%s", a.status, a.body)
		}
		if _, err := directory.ServiceByID(ctx, s.app.DB, "balcao-rapido"); err != nil {
			t.Fatalf("the refused withdrawal withdrew the service: %v", err)
		}
	})
}

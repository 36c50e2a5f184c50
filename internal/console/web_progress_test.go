package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/store/storetest"
)

// onEngines runs fn on a site on SQLite and on one on PostgreSQL.
func onEngines(t *testing.T, fn func(t *testing.T, s *site)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			pg := ""
			if engine == "postgres" {
				pg = storetest.NewPostgresDatabase(t)
			}
			fn(t, newSite(t, pg))
		})
	}
}

// postJSON posts a form as console.js does, asking for a JSON answer.
func (b *browser) postJSON(path string, form url.Values) (int, map[string]any) {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			b.t.Fatalf("answer %d is not JSON: %s", res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

func (p page) lacks(t *testing.T, what string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(p.body, u) {
			t.Fatalf("%s: the page (%d) contains %q\n%s", what, p.status, u, p.body)
		}
	}
}

// TestProgressOverHTTP: the agent serves a ticket taken for a whole service; the
// preparation shows the instructions of each of the service's themes, folded; the
// script's ticks, the current step, the identity answers and the outcome form are saved
// (the no-JS form post and console.js's JSON post) and come back on a reload, with the
// picked theme's instructions; saves for another contact or with values the form does
// not offer are refused; finishing clears the progress.
func TestProgressOverHTTP(t *testing.T) {
	onEngines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		if _, err := s.app.DB.Exec(ctx, `UPDATE themes SET instructions = ? WHERE id = 'informacao-geral'`,
			`{"pt-PT": "Confirme o prazo no portal.", "en": "Check the deadline on the portal."}`); err != nil {
			t.Fatal(err)
		}
		agent := s.browser(t)
		token := agent.signIn(agentEmail, "/staff/console").csrf(t)
		tk := s.take(t, "Rui Costa")
		if p := agent.post("/staff/console/next", "csrf", token); p.status != http.StatusSeeOther {
			t.Fatalf("call next: %d", p.status)
		}
		subject := "ticket:" + tk.ID
		serving := agent.get("/staff/console")
		serving.has(t, "a ticket for the whole service", `name="subject" value="`+subject+`"`, `id="done-1"`,
			"Temáticas do serviço Informações gerais", `<details data-theme="informacao-geral"><summary>Informação geral</summary>`,
			"Confirme o prazo no portal.", "escolha a temática no registo do atendimento", `id="save-progress"`)

		if p := agent.post("/staff/console/progress", "subject", subject, "done", "1"); p.status != http.StatusForbidden {
			t.Fatalf("a save without the CSRF token: %d", p.status)
		}
		form := url.Values{"csrf": {token}, "subject": {subject}, "done": {"2", "1"}, "current": {"3"}, "auth_level": {"weak"},
			"person": {"third_party"}, "representative": {"Joana Costa"}, "reason": {"Prazo da pensão"},
			"theme": {"informacao-geral"}, "outcome": {"follow_up"}, "follow_up": {"Ligar amanhã"}, "notes": {"A meio"}, "stage": {"1"}}
		if p := agent.do("POST", "/staff/console/progress", form); p.status != http.StatusSeeOther || p.location != "/staff/console?notice=progress_saved" {
			t.Fatalf("save without JavaScript: %d to %q\n%s", p.status, p.location, p.body)
		}
		back := agent.get("/staff/console?notice=progress_saved")
		back.has(t, "the console reloaded", "Progresso guardado.", `id="done-1" checked`, `id="done-2" checked`,
			`id="step-3" data-step="3" aria-current="step"`, `value="weak" id="f-auth_level-weak" checked`,
			`value="third_party" id="f-person-third_party" checked`, `value="Joana Costa"`, `value="Prazo da pensão"`,
			`<option value="informacao-geral" selected>`, `<option value="follow_up" selected>`, "Ligar amanhã",
			`<option value="2" selected>`, "Temática: Informação geral", `<details data-theme="informacao-geral" open>`)
		back.lacks(t, "the console reloaded", `id="done-3" checked`, `id="step-1" data-step="1" aria-current`)

		// console.js's saves: 204, and the reasons for a refusal.
		form.Set("current", "4")
		form["done"] = []string{"1", "2", "3"}
		if status, _ := agent.postJSON("/staff/console/progress", form); status != http.StatusNoContent {
			t.Fatalf("a save from the script: %d", status)
		}
		agent.get("/staff/console").has(t, "after the script's save", `id="done-3" checked`, `id="step-4" data-step="4" aria-current="step"`)
		bad := url.Values{"csrf": {token}, "subject": {subject}, "outcome": {"no_show"}}
		if status, ans := agent.postJSON("/staff/console/progress", bad); status != http.StatusUnprocessableEntity ||
			ans["fields"].(map[string]any)["outcome"] != "Escolha um resultado." {
			t.Fatalf("a save with an unknown outcome: %d %v", status, ans)
		}
		if p := agent.do("POST", "/staff/console/progress", bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `href="#f-outcome"`) {
			t.Fatalf("the same without JavaScript: %d", p.status)
		}
		stale := url.Values{"csrf": {token}, "subject": {"ticket:earlier"}, "done": {"1"}}
		if status, ans := agent.postJSON("/staff/console/progress", stale); status != http.StatusConflict || ans["message"] == "" {
			t.Fatalf("a save for another contact: %d %v", status, ans)
		}
		if p := agent.do("POST", "/staff/console/progress", stale); p.location != "/staff/console?notice=stale" {
			t.Fatalf("the same without JavaScript: %d to %q", p.status, p.location)
		}
		// A finish from a tab left on an earlier contact finishes nothing.
		stale.Set("reason", "x")
		stale.Set("outcome", "resolved")
		stale.Set("stage", "8")
		if p := agent.do("POST", "/staff/console/finish", stale); p.location != "/staff/console?notice=stale" {
			t.Fatalf("a finish for another contact: %d to %q", p.status, p.location)
		}

		// The citizen answers; the agent finishes; the progress is gone.
		if err := s.app.Queue.Answered(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		form.Set("stage", "8")
		if p := agent.do("POST", "/staff/console/finish", form); p.location != "/staff/console?notice=finished" {
			t.Fatalf("finish: %d to %q\n%s", p.status, p.location, p.body)
		}
		var n int
		if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM contacts WHERE ticket_id = ? AND theme_id = 'informacao-geral' AND representative = 'Joana Costa'",
			tk.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the contact record: %d %v", n, err)
		}
		if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM console_progress").Scan(&n); err != nil || n != 0 {
			t.Fatalf("progress rows after finishing: %d %v", n, err)
		}
	})
}

// reads lists the reads of personal data by a member of staff that a page recorded.
func reads(t *testing.T, s *site, actor, page string) []audit.Entry {
	t.Helper()
	all, err := s.app.Audit.Search(context.Background(), audit.Filter{Actor: actor, Action: audit.ReadPersonalData})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if strings.HasSuffix(e.Details, " page="+page) {
			out = append(out, e)
		}
	}
	return out
}

// TestAgendaReadsAuditedOnce: the day agenda shows citizens' names. Its first view
// records one read per appointment shown; live refreshes record nothing; an appointment
// that appears on it is recorded when first shown. The panel of the citizen being
// served is recorded once too, however often the console refreshes.
func TestAgendaReadsAuditedOnce(t *testing.T) {
	onEngines(t, func(t *testing.T, s *site) {
		maria := booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Language: "pt-PT"}
		first := s.book(t, 10, 40, maria)
		second := s.book(t, 11, 40, maria)
		agent := s.browser(t)
		agent.signIn(agentEmail, "/staff/console").has(t, "agenda", "Maria Lopes")
		got := reads(t, s, "ana-martins", "agenda")
		if len(got) != 2 {
			t.Fatalf("%d agenda reads after the first view, want 2: %+v", len(got), got)
		}
		objects := map[string]bool{got[0].Object: true, got[1].Object: true}
		if !objects["appointment:"+first.ID] || !objects["appointment:"+second.ID] || got[0].Contact != got[0].Object ||
			got[0].Details != "path=/staff/console page=agenda" {
			t.Fatalf("agenda reads: %+v", got)
		}
		for range 3 {
			agent.get("/staff/console") // what console.js fetches at each live change
		}
		if got := reads(t, s, "ana-martins", "agenda"); len(got) != 2 {
			t.Fatalf("%d agenda reads after refreshes, want still 2", len(got))
		}
		third := s.book(t, 12, 0, maria)
		agent.get("/staff/console").has(t, "the new appointment", "12:00")
		got = reads(t, s, "ana-martins", "agenda")
		if len(got) != 3 || got[0].Object != "appointment:"+third.ID {
			t.Fatalf("after a new appointment: %+v", got)
		}

		// The citizen being served: one read, however many refreshes.
		token := agent.get("/staff/console").csrf(t)
		tk := s.take(t, "Rui Costa")
		agent.post("/staff/console/next", "csrf", token)
		for range 3 {
			agent.get("/staff/console").has(t, "serving", "Rui Costa")
		}
		if got := reads(t, s, "ana-martins", "serving"); len(got) != 1 || got[0].Object != "ticket:"+tk.ID {
			t.Fatalf("serving reads: %+v", got)
		}
		if rep, err := s.app.Audit.Verify(context.Background()); err != nil || rep.Broken != nil {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// bookInterpreted books a sign-language appointment of informacao-geral today at the
// given time whose interpreter is Filipe Lopes, the demo's staff interpreter.
func (s *site) bookInterpreted(t *testing.T, hour, minute int, citizen booking.Citizen) booking.Booked {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 12, 2, hour, minute, 0, 0, calendar.Lisbon())
	var others []booking.Booked
	defer func() {
		for _, o := range others {
			if _, err := s.app.Booking.Cancel(ctx, o.ID, o.ManageToken); err != nil {
				t.Fatal(err)
			}
		}
	}()
	for range 4 {
		b, err := s.app.Booking.Book(ctx, booking.Request{ThemeID: "informacao-geral", Start: start, Citizen: citizen, SignLanguage: true})
		if err != nil {
			t.Fatalf("book at %s: %v", start, err)
		}
		if b.InterpreterID == "filipe-lopes" {
			return b
		}
		others = append(others, b)
	}
	t.Fatalf("no appointment with filipe-lopes at %s", start)
	return booking.Booked{}
}

// TestInterpreterPageOverHTTP: the staff interpreter's page lists the calls they are
// booked for with the citizen's first name only, offers Join once the call opens (the
// call page then lets them in as interpreter), is refused to other roles, and records
// its reads once.
func TestInterpreterPageOverHTTP(t *testing.T) {
	onEngines(t, func(t *testing.T, s *site) {
		citizen := booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Phone: "+351912000111", Language: "pt-PT"}
		appt := s.bookInterpreted(t, 10, 40, citizen)
		interp := s.browser(t)
		p := interp.signIn("filipe.lopes@demo.balcao.example", "/staff/interpreter")
		// Live: the page hears the citizen arrive in the lobby of the interpreter's call.
		changed := listen(t, s, interp, "/staff/interpreter/live")
		s.app.Console.Presence(appt.ID, "citizen", false)
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Fatal("no live update on the interpreter's page when the citizen arrived")
		}
		p.has(t, "the interpreter's page", "Videochamadas a interpretar", `id="booking-`+appt.ID+`"`, "<td>Maria</td>",
			"Informações gerais · Informação geral", "Abre às 10:25")
		p.lacks(t, "the interpreter's page", "Lopes</td>", "maria@example.pt", "912000111", `href="/staff/call/`)
		s.clock.set(time.Date(2026, 12, 2, 10, 26, 0, 0, calendar.Lisbon()))
		p = interp.get("/staff/interpreter")
		p.has(t, "the call is open", `href="/staff/call/`+appt.ID+`"`, "Entrar na videochamada das 10:40 (Maria)")
		call := interp.get("/staff/call/" + appt.ID)
		if call.status != http.StatusOK || !strings.Contains(call.body, `"role":"interpreter"`) {
			t.Fatalf("the interpreter's call page: %d\n%s", call.status, call.body)
		}
		call.has(t, "the interpreter's call page", "Maria")
		call.lacks(t, "the interpreter's call page", "Maria Lopes", "maria@example.pt", "912000111")
		interp.get("/staff/").has(t, "the interpreter's home", `href="/staff/interpreter"`)
		if got := reads(t, s, "filipe-lopes", "interpreter"); len(got) != 1 || got[0].Object != "appointment:"+appt.ID {
			t.Fatalf("the interpreter's reads: %+v", got)
		}
		interp.get("/lang?to=en&next=/staff/interpreter")
		interp.get("/staff/interpreter").has(t, "in English", "Calls to interpret", "Join the call at 10:40 (Maria)")

		agent := s.browser(t)
		if p := agent.signIn(agentEmail, "/staff/console"); p.status != http.StatusOK {
			t.Fatal(p.status)
		}
		if p := agent.get("/staff/interpreter"); p.status != http.StatusForbidden {
			t.Fatalf("an agent opens the interpreter's page: %d", p.status)
		}
	})
}

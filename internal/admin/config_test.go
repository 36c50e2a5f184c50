package admin_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/store/storetest"
)

// anaForm is Ana Martins's staff form as the page has it, with changes.
func anaForm(changes ...string) []string {
	v := url.Values{"action": {"save"}, "name": {"Ana Martins"}, "email": {"ana.martins@demo.balcao.example"}, "role": {"agent"},
		"location": {"lisboa"}, "languages": {"pt", "en"}, "themes": {"pensao-velhice", "pensao-sobrevivencia", "informacao-geral"}}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		v.Set("hours_"+d, "09:00-12:30, 14:00-17:30")
	}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i] == "+themes" {
			v.Add("themes", changes[i+1])
			continue
		}
		v.Set(changes[i], changes[i+1])
	}
	var out []string
	for k, vs := range v {
		for _, x := range vs {
			out = append(out, k, x)
		}
	}
	return out
}

// slotsOn lists the free times of a theme on a day, as HH:MM in Lisbon.
func slotsOn(t *testing.T, s *site, theme, day string) []string {
	t.Helper()
	d, err := calendar.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	slots, err := s.app.Booking.Availability(context.Background(), theme, d, d, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sl := range slots {
		out = append(out, sl.Start.In(calendar.Lisbon()).Format("15:04"))
	}
	return out
}

func mustRedirect(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status != http.StatusSeeOther {
		t.Fatalf("%s: %d, want 303\n%s%s", what, a.status, a.alert(), errorSummary(a.body))
	}
}

func errorSummary(body string) string {
	i := strings.Index(body, `id="errors"`)
	if i < 0 {
		return ""
	}
	end := min(len(body), i+800)
	return body[i:end]
}

// TestChangesTakeEffectOnAvailability changes the configuration through the pages, as a
// supervisor, and reads availability after each change: a new topic has no times until an
// agent serves it; then the agent's hours, a closure, an absence and the location's
// opening hours each change the times offered at once.
func TestChangesTakeEffectOnAvailability(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		sup := s.signIn(t, supervisorEmail)
		mustRedirect(t, "create a topic", sup.post("/staff/admin/services/pensoes/themes", "id", "prova-vida", "name_pt", "Prova de vida",
			"name_en", "Proof of life", "duration", "30", "buffer", "0", "auth_level", "weak", "min_notice", "0", "horizon", "30"))
		const wed, thu, fri = "2026-12-02", "2026-12-03", "2026-12-04"
		if got := slotsOn(t, s, "prova-vida", wed); len(got) != 0 {
			t.Fatalf("a topic nobody serves offers %v", got)
		}
		mustRedirect(t, "Ana serves the topic", sup.post("/staff/admin/staff/ana-martins", anaForm("+themes", "prova-vida")...))
		if got := strings.Join(slotsOn(t, s, "prova-vida", wed), " "); !strings.HasPrefix(got, "09:00 09:30") || !strings.Contains(got, "17:00") {
			t.Fatalf("Wednesday once Ana serves it: %s", got)
		}
		mustRedirect(t, "shorter Wednesday", sup.post("/staff/admin/staff/ana-martins", anaForm("+themes", "prova-vida", "hours_wed", "10:00-11:00")...))
		if got := strings.Join(slotsOn(t, s, "prova-vida", wed), " "); got != "10:00 10:30" {
			t.Fatalf("Wednesday with hours 10:00-11:00: %q", got)
		}
		mustRedirect(t, "close Lisbon on Wednesday", sup.post("/staff/admin/closures", "action", "add", "day", wed, "location", "lisboa", "name_pt", "Feriado municipal"))
		if got := slotsOn(t, s, "prova-vida", wed); len(got) != 0 {
			t.Fatalf("Wednesday closed still offers %v", got)
		}
		mustRedirect(t, "Ana away on Thursday", sup.post("/staff/admin/staff/ana-martins/absences", "action", "add", "from_day", thu, "to_day", thu, "reason", "formação"))
		if got := slotsOn(t, s, "prova-vida", thu); len(got) != 0 {
			t.Fatalf("Thursday with Ana away offers %v", got)
		}
		if got := slotsOn(t, s, "prova-vida", fri); len(got) == 0 {
			t.Fatal("Friday offers nothing before the location's hours change")
		}
		mustRedirect(t, "Lisbon opens at 16:00 on Fridays", sup.post("/staff/admin/locations/lisboa", "action", "save", "name_pt", "Centro Distrital de Lisboa",
			"name_en", "Lisbon District Centre", "region", "Lisboa", "hours_mon", "09:00-17:30", "hours_tue", "09:00-17:30",
			"hours_wed", "09:00-17:30", "hours_thu", "09:00-17:30", "hours_fri", "16:00-17:30"))
		if got := strings.Join(slotsOn(t, s, "prova-vida", fri), " "); got != "16:00 16:30 17:00" {
			t.Fatalf("Friday with Lisbon open 16:00-17:30: %q", got)
		}
		changes, err := s.app.Audit.Search(context.Background(), audit.Filter{Action: audit.ConfigChange})
		if err != nil || len(changes) != 6 {
			t.Fatalf("%d configuration changes audited, want 6: %v", len(changes), err)
		}
		for _, e := range changes {
			if e.Actor != "graca-pinto" || e.IP != "127.0.0.1" || strings.Contains(e.Details, "Ana") || strings.Contains(e.Details, "@") {
				t.Errorf("audit entry %+v", e)
			}
		}
		if changes[4].Object != "staff:ana-martins" || !strings.Contains(changes[4].Details, "fields=themes ") {
			t.Errorf("the topics change is audited as %+v", changes[4])
		}
		if changes[3].Object != "staff:ana-martins" || !strings.Contains(changes[3].Details, "fields=hours_wed ") {
			t.Errorf("the hours change is audited as %+v", changes[3])
		}
	})
}

// adminPOSTs are the configuration forms, with fields that would change something.
var adminPOSTs = []struct{ path, fields string }{
	{"/staff/admin/services", "id=nova&name_pt=Nova"},
	{"/staff/admin/services/pensoes", "action=save&name_pt=Pensões+alteradas"},
	{"/staff/admin/services/pensoes/themes", "id=novo&name_pt=Novo&duration=30&buffer=0&auth_level=none&min_notice=0&horizon=30"},
	{"/staff/admin/themes/pensao-velhice", "action=withdraw"},
	{"/staff/admin/services/familia/walk-in", "action=save&walk_in=off"},
	{"/staff/admin/services/familia/walk-in", "action=close"},
	{"/staff/admin/locations", "id=porto&name_pt=Porto"},
	{"/staff/admin/locations/lisboa", "action=save&name_pt=Lisboa"},
	{"/staff/admin/locations/braganca/delete", "action=delete"},
	{"/staff/admin/closures", "action=add&day=2026-12-10&location=lisboa"},
	{"/staff/admin/staff", "name=Rui&email=rui@example.pt&password=Sol+e+mar+em+Agosto&role=agent&location=lisboa"},
	{"/staff/admin/staff/ana-martins", "action=disable"},
	{"/staff/admin/staff/ana-martins", "action=enable"},
	{"/staff/admin/staff/ana-martins/absences", "action=add&from_day=2026-12-10&to_day=2026-12-10"},
	{"/staff/admin/branding", "agency_pt=Outro&colour=%23000000"},
	{"/staff/admin/settings", "appointments_days=1&tickets_days=1&contact_requests_days=1"},
}

// TestAdminFormsRefuseAMissingOrWrongCSRFToken posts every configuration form as an
// administrator without the session's token, and with another session's: each is
// refused with 403 and changes nothing.
func TestAdminFormsRefuseAMissingOrWrongCSRFToken(t *testing.T) {
	s := newSite(t, "")
	u := s.signIn(t, adminEmail)
	other := s.signIn(t, supervisorEmail)
	for _, p := range adminPOSTs {
		for _, token := range []string{"", "not-the-token", u.token, otherToken(other)} {
			body := p.fields
			if token != "" {
				body += "&csrf=" + url.QueryEscape(token)
			}
			a := u.do("POST", p.path, strings.NewReader(body), "application/x-www-form-urlencoded")
			if a.status != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: %d, want 403", p.path, token, a.status)
			}
		}
	}
	entries, err := s.app.Audit.Search(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action != audit.Login && e.Action != audit.SecondFactorOn {
			t.Errorf("a refused form left %+v in the audit log", e)
		}
	}
	// The same forms with the token are accepted (or answer their own validation).
	a := u.post("/staff/admin/settings", "appointments_days", "400", "tickets_days", "30", "contact_requests_days", "200")
	mustRedirect(t, "settings with the token", a)
}

func otherToken(u *user) string { return csrfOf(u) }

// TestOrphanedAppointmentsAreRefusedThenCancelledOnRequest books an appointment with Ana
// and tries each change that would leave it without her: withdrawing its topic, her
// hours, an absence, a closure, the location's hours, disabling her. Each is refused with
// 409 and the number of appointments, changes nothing, and offers to cancel them; the
// last one is then confirmed, which cancels the appointment (the citizen is told) and
// saves the change.
func TestOrphanedAppointmentsAreRefusedThenCancelledOnRequest(t *testing.T) {
	engines(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		adm := s.signIn(t, adminEmail)
		// Only Ana serves this topic, so the booking is hers.
		mustRedirect(t, "create a topic", adm.post("/staff/admin/services/pensoes/themes", "id", "prova-vida", "name_pt", "Prova de vida",
			"duration", "30", "buffer", "0", "auth_level", "weak", "min_notice", "0", "horizon", "30"))
		mustRedirect(t, "Ana serves it", adm.post("/staff/admin/staff/ana-martins", anaForm("+themes", "prova-vida")...))
		start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // Wednesday 10:00 in Lisbon
		b, err := s.app.Booking.Book(ctx, booking.Request{ThemeID: "prova-vida", Start: start,
			Citizen: booking.Citizen{Name: "Rita Matos", Email: "rita@example.pt", Language: "pt-PT"}})
		if err != nil || b.AgentID != "ana-martins" {
			t.Fatalf("book: %+v %v", b.Appointment, err)
		}
		refusals := []struct {
			name, path string
			fields     []string
		}{
			{"withdraw the topic", "/staff/admin/themes/prova-vida", []string{"action", "withdraw"}},
			{"Ana's Wednesday", "/staff/admin/staff/ana-martins", anaForm("+themes", "prova-vida", "hours_wed", "14:00-17:30")},
			{"the topic off Ana", "/staff/admin/staff/ana-martins", anaForm()},
			{"Ana a supervisor", "/staff/admin/staff/ana-martins", anaForm("+themes", "prova-vida", "role", "supervisor")},
			{"an absence", "/staff/admin/staff/ana-martins/absences", []string{"action", "add", "from_day", "2026-12-02", "from_time", "09:00",
				"to_day", "2026-12-02", "to_time", "12:00"}},
			{"a closure", "/staff/admin/closures", []string{"action", "add", "day", "2026-12-02", "location", "lisboa"}},
			{"an agency-wide closure", "/staff/admin/closures", []string{"action", "add", "day", "2026-12-02", "location", ""}},
			{"Lisbon's Wednesday", "/staff/admin/locations/lisboa", []string{"action", "save", "name_pt", "Lisboa", "hours_wed", "12:00-17:00"}},
			{"disable Ana", "/staff/admin/staff/ana-martins", []string{"action", "disable"}},
		}
		before, _ := s.app.Audit.Last(ctx)
		for _, r := range refusals {
			a := adm.post(r.path, r.fields...)
			if a.status != http.StatusConflict || !strings.Contains(a.alert(), "1") {
				t.Fatalf("%s: %d, want 409 naming 1 appointment\n%s", r.name, a.status, a.body)
			}
			if !strings.Contains(a.body, `name="resolve" value="cancel"`) || !strings.Contains(a.body, `id="cancel-and-save"`) {
				t.Fatalf("%s: the refusal offers no way to cancel the appointments", r.name)
			}
			if got, _ := s.app.Booking.ByID(ctx, b.ID); got.Status != booking.StatusBooked {
				t.Fatalf("%s: the appointment is %s", r.name, got.Status)
			}
		}
		if after, _ := s.app.Audit.Last(ctx); after.Seq != before.Seq {
			t.Fatalf("refused changes were audited: %+v", after)
		}
		if got := slotsOn(t, s, "prova-vida", "2026-12-02"); len(got) == 0 {
			t.Fatal("a refused change changed availability")
		}

		// Confirm the absence: the appointment is cancelled, the citizen told, the absence saved.
		a := adm.post("/staff/admin/staff/ana-martins/absences", "action", "add", "from_day", "2026-12-02", "from_time", "09:00",
			"to_day", "2026-12-02", "to_time", "12:00", "resolve", "cancel")
		mustRedirect(t, "cancel and add the absence", a)
		if !strings.Contains(a.location, "cancelled=1") {
			t.Fatalf("redirect to %s", a.location)
		}
		notice := adm.get(a.location)
		if !strings.Contains(notice.body, html.EscapeString(fmt.Sprintf("Foram canceladas %d marcações", 1))) {
			t.Fatalf("the page does not say that 1 appointment was cancelled:\n%s", notice.body)
		}
		got, _ := s.app.Booking.ByID(ctx, b.ID)
		if got.Status != booking.StatusCancelled || got.ChangedBy != "helder-alves" {
			t.Fatalf("the appointment after confirming: %s by %q", got.Status, got.ChangedBy)
		}
		var messages int
		if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE subject_ref = ? AND idempotency_key LIKE ?",
			"appointment:"+b.ID, "%cancelled%").Scan(&messages); err != nil || messages == 0 {
			t.Fatalf("no cancellation message for the citizen: %d %v", messages, err)
		}
		entries, _ := s.app.Audit.Search(ctx, audit.Filter{Object: "appointment:" + b.ID})
		if len(entries) != 1 || entries[0].Action != audit.ChangePersonalData || entries[0].Actor != "helder-alves" {
			t.Fatalf("the cancellation's audit: %+v", entries)
		}
		if got := strings.Join(slotsOn(t, s, "prova-vida", "2026-12-02"), " "); strings.Contains(got, "10:00") || !strings.Contains(got, "14:00") {
			t.Fatalf("Wednesday after the absence: %s", got)
		}
		// Nothing is booked any more: the topic can go.
		mustRedirect(t, "withdraw the topic", adm.post("/staff/admin/themes/prova-vida", "action", "withdraw"))
	})
}

// TestAdminFormsTakeNoNUL posts every configuration form on PostgreSQL (which refuses a
// NUL in a text column) with a NUL, or a byte that is not UTF-8, in each field in turn:
// each is refused with 400 and a message in the user's language, never a server error.
func TestAdminFormsTakeNoNUL(t *testing.T) {
	s := newSite(t, storetest.NewPostgresDatabase(t))
	u := s.signIn(t, adminEmail)
	for _, p := range adminPOSTs {
		fields, err := url.ParseQuery(p.fields)
		if err != nil {
			t.Fatal(err)
		}
		for name := range fields {
			for _, bad := range []string{"\x00", "\xff"} {
				form := url.Values{}
				for k, v := range fields {
					form[k] = slices.Clone(v)
				}
				form.Set(name, form.Get(name)+bad)
				form.Set("csrf", csrfOf(u))
				a := u.do("POST", p.path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
				if a.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(a.body), "caracteres que não podem ser guardados") {
					t.Errorf("POST %s with %q in %s: %d, want 400 and the message", p.path, bad, name, a.status)
				}
			}
		}
	}
}

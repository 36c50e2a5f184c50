package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"balcao/internal/audit"
)

// postLogo posts the branding form with a file.
func (u *user) postLogo(fields map[string]string, filename string, data []byte) answer {
	u.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", csrfOf(u))
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if filename != "" {
		f, _ := w.CreateFormFile("logo", filename)
		f.Write(data)
	}
	w.Close()
	return u.do("POST", "/staff/admin/branding", &buf, w.FormDataContentType())
}

var logoTag = regexp.MustCompile(`<img class="logo" src="(/branding/logo\?v=[0-9a-f]+)" alt="">`)
var styleTag = regexp.MustCompile(`<link rel="stylesheet" href="(/branding\.css\?v=[0-9a-f]+)">`)

// TestBranding uploads a logo and a colour: every page's header then shows them; an SVG
// with a script, a too-light colour and a wrong file are refused with their messages.
func TestBranding(t *testing.T) {
	s := newSite(t, "")
	adm := s.signIn(t, adminEmail)
	visitor := &user{t: t, s: s, lang: "pt-PT"}
	base := map[string]string{"agency_pt": "Instituto Exemplo", "agency_en": "Example Institute", "colour": "#1d4e89"}

	a := adm.postLogo(map[string]string{"agency_pt": "Instituto Exemplo", "colour": "#ffcc00"}, "logo.svg",
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, `href="#f-colour"`) || !strings.Contains(a.body, `href="#f-logo"`) {
		t.Fatalf("a light colour and an SVG with a script: %d\n%s", a.status, errorSummary(a.body))
	}
	if logoTag.MatchString(visitor.get("/").body) {
		t.Fatal("a refused logo is shown")
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onfocus="x"><rect width="10" height="10" fill="#1d4e89"/></svg>`
	if a := adm.postLogo(base, "logo.svg", []byte(svg)); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("an SVG with an event handler: %d", a.status)
	}
	svg = strings.Replace(svg, ` onfocus="x"`, "", 1)
	mustRedirect(t, "save the branding", adm.postLogo(base, "logo.svg", []byte(svg)))

	home := visitor.get("/")
	m, st := logoTag.FindStringSubmatch(home.body), styleTag.FindStringSubmatch(home.body)
	if m == nil || st == nil || !strings.Contains(home.body, "Instituto Exemplo") {
		t.Fatalf("the portal's header does not show the branding:\n%s", home.body[:min(len(home.body), 1500)])
	}
	logo := visitor.get(html.UnescapeString(m[1]))
	if logo.status != 200 || logo.header.Get("Content-Type") != "image/svg+xml" || logo.header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" ||
		!strings.Contains(logo.header.Get("Cache-Control"), "immutable") || !strings.Contains(logo.body, `fill="#1d4e89"`) {
		t.Fatalf("the logo: %d %v\n%s", logo.status, logo.header, logo.body)
	}
	css := visitor.get(html.UnescapeString(st[1]))
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || css.body != ":root{--brand:#1d4e89}\n" {
		t.Fatalf("the stylesheet: %d %q", css.status, css.body)
	}
	if staff := adm.get("/staff/admin/branding"); !logoTag.MatchString(staff.body) || !strings.Contains(staff.body, `class="logo-preview"`) {
		t.Fatal("the staff pages do not show the logo")
	}
	mustRedirect(t, "remove the logo", adm.postLogo(map[string]string{"agency_pt": "Instituto Exemplo", "colour": "#1d4e89", "remove_logo": "yes"}, "", nil))
	if logoTag.MatchString(visitor.get("/").body) || visitor.get("/branding/logo").status != 404 {
		t.Fatal("a removed logo is still shown")
	}
	entries, _ := s.app.Audit.Search(context.Background(), audit.Filter{Object: "branding"})
	if len(entries) != 2 || !strings.Contains(entries[1].Details, "logo=image/svg+xml") || !strings.Contains(entries[0].Details, "logo=removed") {
		t.Fatalf("branding changes audited as %+v", entries)
	}
}

// TestAuditSearchAndExport searches the log as an administrator and exports it; the
// export itself is recorded. A supervisor may do neither.
func TestAuditSearchAndExport(t *testing.T) {
	s := newSite(t, "")
	adm := s.signIn(t, adminEmail)
	adm.signInFails(t, "ana.martins@demo.balcao.example")
	page := adm.get("/staff/admin/audit?action=login_failed")
	if page.status != 200 || !strings.Contains(page.body, "staff:ana-martins") || !strings.Contains(page.body, "reason=wrong_password") ||
		strings.Contains(page.body, "helder-alves</td>") {
		t.Fatalf("search for failed sign-ins: %d\n%s", page.status, page.body)
	}
	if bad := adm.get("/staff/admin/audit?from=yesterday"); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `href="#f-from"`) {
		t.Fatalf("a bad date: %d", bad.status)
	}
	exp := adm.get("/staff/admin/audit.csv?actor=ana-martins")
	if exp.status != 200 || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") || !strings.Contains(exp.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", exp.status, exp.header)
	}
	rows, err := csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	if err != nil || len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(audit.CSVHeader, ",") || rows[1][2] != "ana-martins" || rows[1][3] != "login_failed" {
		t.Fatalf("the CSV: %v\n%s", err, exp.body)
	}
	last, _ := s.app.Audit.Last(context.Background())
	if last.Action != audit.ExportLog || last.Actor != "helder-alves" || last.Details != "actor=ana-martins" {
		t.Fatalf("the export is recorded as %+v", last)
	}
	sup := s.signIn(t, supervisorEmail)
	if sup.get("/staff/admin/audit").status != 403 || sup.get("/staff/admin/audit.csv").status != 403 {
		t.Fatal("a supervisor reads the audit log")
	}
}

// signInFails makes a failed sign-in for email.
func (u *user) signInFails(t *testing.T, email string) {
	t.Helper()
	if _, err := u.s.app.Auth.Login(context.Background(), email, "not the password", authClient); err == nil {
		t.Fatal("a wrong password signed in")
	}
}

// TestFormsSayWhatIsWrong posts forms with mistakes: each comes back with 422, an error
// summary (role=alert) linking to each wrong field, and what was typed.
func TestFormsSayWhatIsWrong(t *testing.T) {
	s := newSite(t, "")
	adm := s.signIn(t, adminEmail)
	for _, tc := range []struct {
		path   string
		fields []string
		wrong  []string
	}{
		{"/staff/admin/services/pensoes/themes", []string{"id", "Bad Id", "name_pt", "", "duration", "7", "buffer", "0", "auth_level", "x",
			"min_notice", "-5", "horizon", "400"}, []string{"id", "name_pt", "duration", "auth_level", "min_notice", "horizon"}},
		{"/staff/admin/staff", []string{"name", "Rui Sá", "email", "not an e-mail", "password", "short", "role", "agent", "location", "lisboa",
			"hours_mon", "9-17"}, []string{"email", "password", "hours_mon"}},
		{"/staff/admin/staff", []string{"name", "Rui Sá", "email", "ana.martins@demo.balcao.example", "password", "Sol e mar em Agosto",
			"role", "agent", "location", "lisboa"}, []string{"email"}},
		{"/staff/admin/locations/lisboa", []string{"action", "save", "name_pt", "Lisboa", "hours_mon", "09:00-12:00, 11:00-13:00"}, []string{"hours_mon"}},
		{"/staff/admin/staff/ana-martins/absences", []string{"action", "add", "from_day", "2026-12-10", "to_day", "2026-12-09"}, []string{"to_day"}},
		{"/staff/admin/closures", []string{"action", "add", "day", "2026-11-01", "location", "lisboa"}, []string{"day"}},
		{"/staff/admin/settings", []string{"appointments_days", "0", "tickets_days", "x", "contact_requests_days", "30"}, []string{"appointments_days", "tickets_days"}},
	} {
		a := adm.post(tc.path, tc.fields...)
		if a.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422\n%s", tc.path, a.status, a.body)
			continue
		}
		summary := errorSummary(a.body)
		if !strings.Contains(a.body, `<div class="alert" role="alert" id="errors"`) {
			t.Errorf("%s: no error summary", tc.path)
		}
		for _, f := range tc.wrong {
			if !strings.Contains(summary, `href="#f-`+f+`"`) || !strings.Contains(a.body, `id="f-`+f+`"`) {
				t.Errorf("%s: the summary does not link to %s:\n%s", tc.path, f, summary)
			}
		}
		if strings.Contains(a.body, "Sol e mar") || strings.Contains(a.body, `value="short"`) {
			t.Errorf("%s: the page shows the password back", tc.path)
		}
	}
}

// TestSupervisorsStayInTheirLocation: a supervisor cannot make anyone a supervisor or
// administrator, nor move staff to another location, nor close the whole agency.
func TestSupervisorsStayInTheirLocation(t *testing.T) {
	s := newSite(t, "")
	sup := s.signIn(t, supervisorEmail)
	if a := sup.post("/staff/admin/staff/ana-martins", anaForm("role", "administrator")...); a.status != 422 || !strings.Contains(errorSummary(a.body), `href="#f-role"`) {
		t.Fatalf("a supervisor makes an administrator: %d", a.status)
	}
	if a := sup.post("/staff/admin/staff/ana-martins", anaForm("location", "braganca")...); a.status != 422 {
		t.Fatalf("a supervisor moves an agent to another location: %d", a.status)
	}
	if a := sup.post("/staff/admin/closures", "action", "add", "day", "2026-12-10", "location", ""); a.status != 422 {
		t.Fatalf("a supervisor closes the whole agency: %d", a.status)
	}
	if a := sup.post("/staff/admin/staff/graca-pinto", anaForm()...); a.status != 404 {
		t.Fatalf("a supervisor edits herself (a supervisor): %d", a.status)
	}
	if page := sup.get("/staff/admin/staff"); strings.Contains(page.body, "Diogo Ferreira") || !strings.Contains(page.body, "Ana Martins") {
		t.Fatal("the staff list shows staff the supervisor cannot manage")
	}
}

package app_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"balcao/internal/app"
	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/config"
	"balcao/internal/queue"
	"balcao/internal/store/storetest"
	"balcao/web"
)

// The role × route matrix: every route the app registers, asked by a visitor who is not
// signed in and by a member of staff of each role, with the answer each must get.
//
// Answers: a status code, or "login" for a redirect to the sign-in page. Allowed answers
// are 200 (or, for a form posted empty, its validation answer: 400, 422; a redirect
// elsewhere: 303); refused ones "login", 401, 403 and 404 (an object the staff member
// may not see answers as one that does not exist).
//
// TestEveryRouteIsInTheMatrix reads the route patterns from the source of every package
// (each Routes function lists its routes with literal or constant patterns) and fails
// until this table has a row for each. Paths use these placeholders, filled in by the
// test: {appt} an appointment booked with the agent (Ana Martins, Lisbon) and the
// interpreter (Filipe Lopes); {other} one booked with another agent of Lisbon (Bruno
// Costa) for a service Ana does not serve, and {spare} another, for a request that
// cancels it; {ticket} a walk-in ticket waiting.
type routeRow struct {
	pattern string // as registered
	path    string // a request for it
	// The expected answer for: no session, agent, interpreter, supervisor, administrator.
	none, agent, interpreter, supervisor, admin string
	fresh                                       bool // the request ends the session: use a new one
}

var routeMatrix = []routeRow{
	// Citizens' pages: the same for everyone, signed in or not.
	{"GET /{$}", "/", "200", "200", "200", "200", "200", false},
	{"/", "/no/such/page", "404", "404", "404", "404", "404", false},
	{"GET /lang", "/lang?to=en&next=/", "303", "303", "303", "303", "303", false},
	{"GET /book/{service}", "/book/pensoes", "200", "200", "200", "200", "200", false},
	{"GET /book/{service}/{theme}", "/book/pensoes/pensao-velhice", "200", "200", "200", "200", "200", false},
	{"GET /book/{service}/{theme}/{day}", "/book/pensoes/pensao-velhice/2026-12-02", "200", "200", "200", "200", "200", false},
	{"GET /book/{service}/{theme}/details", "/book/pensoes/pensao-velhice/details", "404", "404", "404", "404", "404", false},
	{"POST /book/{service}/{theme}/details", "/book/pensoes/pensao-velhice/details", "400", "400", "400", "400", "400", false},
	{"GET /a/{id}", "/a/{appt}", "404", "404", "404", "404", "404", false},
	{"GET /a/{id}/ics", "/a/{appt}/ics", "404", "404", "404", "404", "404", false},
	{"GET /a/{id}/cancel", "/a/{appt}/cancel", "404", "404", "404", "404", "404", false},
	{"POST /a/{id}/cancel", "/a/{appt}/cancel", "404", "404", "404", "404", "404", false},
	{"GET /a/{id}/reschedule", "/a/{appt}/reschedule", "404", "404", "404", "404", "404", false},
	{"GET /a/{id}/reschedule/{day}", "/a/{appt}/reschedule/2026-12-02", "404", "404", "404", "404", "404", false},
	{"GET /a/{id}/reschedule/confirm", "/a/{appt}/reschedule/confirm", "404", "404", "404", "404", "404", false},
	{"POST /a/{id}/reschedule", "/a/{appt}/reschedule", "404", "404", "404", "404", "404", false},
	{"GET /join/{id}", "/join/{appt}", "404", "404", "404", "404", "404", false},
	{"GET /join/{id}/call", "/join/{appt}/call", "404", "404", "404", "404", "404", false},
	{"GET /contact", "/contact", "200", "200", "200", "200", "200", false},
	{"POST /contact", "/contact", "422", "422", "422", "422", "422", false},
	{"GET /queue", "/queue", "200", "200", "200", "200", "200", false},
	{"POST /queue/{service}", "/queue/informacoes", "422", "422", "422", "422", "422", false},
	{"GET /ticket/{id}", "/ticket/{ticket}", "404", "404", "404", "404", "404", false},
	{"GET /ticket/{id}/status", "/ticket/{ticket}/status", "404", "404", "404", "404", "404", false},
	{"GET /ticket/{id}/live", "/ticket/{ticket}/live", "404", "404", "404", "404", "404", false},
	{"POST /ticket/{id}/leave", "/ticket/{ticket}/leave", "404", "404", "404", "404", "404", false},
	{"GET /ticket/{id}/call", "/ticket/{ticket}/call", "404", "404", "404", "404", "404", false},
	{"GET /call/guest", "/call/guest", "200", "200", "200", "200", "200", false},
	{"GET /call/ws", "/call/ws", "426", "426", "426", "426", "426", false},
	{"GET /call/check", "/call/check", "200", "200", "200", "200", "200", false},
	{"GET /call/check/ping", "/call/check/ping", "204", "204", "204", "204", "204", false},
	{"GET /call/check/download", "/call/check/download", "200", "200", "200", "200", "200", false},
	{"POST /call/check/upload", "/call/check/upload", "200", "200", "200", "200", "200", false},
	{"GET /static/", "/static/nothing.css", "404", "404", "404", "404", "404", false},
	{"GET /healthz", "/healthz", "200", "200", "200", "200", "200", false},
	{"GET /readyz", "/readyz", "200", "200", "200", "200", "200", false},
	{"GET /branding/logo", "/branding/logo", "404", "404", "404", "404", "404", false},
	{"GET /branding.css", "/branding.css", "200", "200", "200", "200", "200", false},

	// The public API: tokens, never cookies.
	{"GET /api/v1/openapi.json", "/api/v1/openapi.json", "200", "200", "200", "200", "200", false},
	{"GET /api/v1/services", "/api/v1/services", "200", "200", "200", "200", "200", false},
	{"GET /api/v1/availability", "/api/v1/availability", "422", "422", "422", "422", "422", false},
	{"POST /api/v1/appointments", "/api/v1/appointments", "415", "415", "415", "415", "415", false},
	{"GET /api/v1/appointments/{id}", "/api/v1/appointments/{appt}", "401", "401", "401", "401", "401", false},
	{"POST /api/v1/appointments/{id}/cancel", "/api/v1/appointments/{appt}/cancel", "401", "401", "401", "401", "401", false},
	{"POST /api/v1/appointments/{id}/reschedule", "/api/v1/appointments/{appt}/reschedule", "401", "401", "401", "401", "401", false},
	{"POST /api/v1/contact-requests", "/api/v1/contact-requests", "415", "415", "415", "415", "415", false},
	{"POST /api/v1/tickets", "/api/v1/tickets", "415", "415", "415", "415", "415", false},
	{"GET /api/v1/tickets/{id}", "/api/v1/tickets/{ticket}", "401", "401", "401", "401", "401", false},
	{"DELETE /api/v1/tickets/{id}", "/api/v1/tickets/{ticket}", "401", "401", "401", "401", "401", false},
	{"/api/", "/api/v2/nothing", "404", "404", "404", "404", "404", false},

	// Sign-in.
	{"GET /staff", "/staff", "301", "301", "301", "301", "301", false},
	{"GET /staff/{$}", "/staff/", "login", "200", "200", "200", "200", false},
	{"GET /staff/login", "/staff/login", "200", "303", "303", "303", "303", false},
	{"POST /staff/login", "/staff/login", "403", "403", "403", "403", "403", false},
	{"GET /staff/login/totp", "/staff/login/totp", "login", "login", "login", "login", "login", false},
	{"POST /staff/login/totp", "/staff/login/totp", "login", "login", "login", "login", "login", false},
	{"POST /staff/logout", "/staff/logout", "login", "303", "303", "303", "303", true},
	{"POST /staff/logout-everywhere", "/staff/logout-everywhere", "login", "303", "303", "303", "303", true},
	{"GET /staff/account/totp", "/staff/account/totp", "login", "200", "200", "200", "200", false},
	{"POST /staff/account/totp", "/staff/account/totp", "login", "400", "400", "400", "400", false},

	// Calls: only the appointment's agent and interpreter (and staff they invite).
	{"GET /staff/call/{id}", "/staff/call/{appt}", "401", "200", "200", "404", "404", false},
	{"GET /staff/call/{id}", "/staff/call/{other}", "401", "404", "404", "404", "404", false},
	{"POST /staff/call/{id}/invite", "/staff/call/{appt}/invite", "401", "200", "403", "404", "404", false},

	// The agent console and the supervisors' board.
	{"GET /staff/console", "/staff/console", "login", "200", "403", "200", "403", false},
	{"GET /staff/console/live", "/staff/console/live", "login", "426", "403", "426", "403", false},
	{"POST /staff/console/status", "/staff/console/status", "login", "422", "403", "422", "403", false},
	{"POST /staff/console/next", "/staff/console/next", "login", "303", "403", "303", "403", false},
	{"POST /staff/console/finish", "/staff/console/finish", "login", "422", "403", "422", "403", false},
	{"POST /staff/console/progress", "/staff/console/progress", "login", "303", "403", "303", "403", false},
	{"POST /staff/console/release", "/staff/console/release", "login", "303", "403", "303", "403", false},
	{"POST /staff/console/attempts", "/staff/console/attempts", "login", "422", "403", "422", "403", false},
	{"POST /staff/console/join-link", "/staff/console/join-link", "login", "404", "403", "404", "403", false},
	{"POST /staff/console/appointments/{id}/cancel", "/staff/console/appointments/{spare}/cancel", "login", "404", "403", "303", "403", false},
	{"GET /staff/console/appointments/{id}/reschedule", "/staff/console/appointments/{appt}/reschedule", "login", "200", "403", "200", "403", false},
	{"GET /staff/console/appointments/{id}/reschedule", "/staff/console/appointments/{other}/reschedule", "login", "404", "403", "200", "403", false},
	{"POST /staff/console/appointments/{id}/reschedule", "/staff/console/appointments/{appt}/reschedule", "login", "422", "403", "422", "403", false},
	{"GET /staff/console/tickets/{id}/call", "/staff/console/tickets/{ticket}/call", "login", "200", "403", "404", "403", false},
	{"GET /staff/interpreter", "/staff/interpreter", "login", "403", "200", "403", "403", false},
	{"GET /staff/interpreter/live", "/staff/interpreter/live", "login", "403", "426", "403", "403", false},
	{"GET /staff/board", "/staff/board", "login", "403", "403", "200", "200", false},
	{"GET /staff/board/live", "/staff/board/live", "login", "403", "403", "426", "426", false},
	{"POST /staff/board/move", "/staff/board/move", "login", "403", "403", "404", "404", false},

	// Configuration: supervisors (their location's staff, hours and closures; the
	// services) and administrators (everything).
	{"GET /staff/admin", "/staff/admin", "301", "301", "301", "301", "301", false},
	{"GET /staff/admin/{$}", "/staff/admin/", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/services", "/staff/admin/services", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/services/new", "/staff/admin/services/new", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/services", "/staff/admin/services", "login", "403", "403", "422", "422", false},
	{"GET /staff/admin/services/{id}", "/staff/admin/services/pensoes", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/services/{id}", "/staff/admin/services/pensoes", "login", "403", "403", "400", "400", false},
	{"GET /staff/admin/services/{id}/themes/new", "/staff/admin/services/pensoes/themes/new", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/services/{id}/themes", "/staff/admin/services/pensoes/themes", "login", "403", "403", "422", "422", false},
	{"GET /staff/admin/services/{id}/walk-in", "/staff/admin/services/familia/walk-in", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/services/{id}/walk-in", "/staff/admin/services/familia/walk-in", "login", "403", "403", "400", "400", false},
	{"GET /staff/admin/themes/{id}", "/staff/admin/themes/pensao-velhice", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/themes/{id}", "/staff/admin/themes/pensao-velhice", "login", "403", "403", "400", "400", false},
	{"GET /staff/admin/locations", "/staff/admin/locations", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/locations/new", "/staff/admin/locations/new", "login", "403", "403", "403", "200", false},
	{"POST /staff/admin/locations", "/staff/admin/locations", "login", "403", "403", "403", "422", false},
	{"GET /staff/admin/locations/{id}", "/staff/admin/locations/lisboa", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/locations/{id}", "/staff/admin/locations/braganca", "login", "403", "403", "404", "200", false},
	{"POST /staff/admin/locations/{id}", "/staff/admin/locations/lisboa", "login", "403", "403", "400", "400", false},
	{"POST /staff/admin/locations/{id}", "/staff/admin/locations/braganca", "login", "403", "403", "404", "400", false},
	{"POST /staff/admin/locations/{id}/delete", "/staff/admin/locations/braganca/delete", "login", "403", "403", "403", "400", false},
	{"GET /staff/admin/closures", "/staff/admin/closures", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/closures", "/staff/admin/closures", "login", "403", "403", "400", "400", false},
	{"GET /staff/admin/staff", "/staff/admin/staff", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/staff/new", "/staff/admin/staff/new", "login", "403", "403", "200", "200", false},
	{"POST /staff/admin/staff", "/staff/admin/staff", "login", "403", "403", "422", "422", false},
	{"GET /staff/admin/staff/{id}", "/staff/admin/staff/ana-martins", "login", "403", "403", "200", "200", false},
	{"GET /staff/admin/staff/{id}", "/staff/admin/staff/diogo-ferreira", "login", "403", "403", "404", "200", false},
	{"GET /staff/admin/staff/{id}", "/staff/admin/staff/helder-alves", "login", "403", "403", "404", "200", false},
	{"POST /staff/admin/staff/{id}", "/staff/admin/staff/ana-martins", "login", "403", "403", "400", "400", false},
	{"POST /staff/admin/staff/{id}", "/staff/admin/staff/diogo-ferreira", "login", "403", "403", "404", "400", false},
	{"POST /staff/admin/staff/{id}/absences", "/staff/admin/staff/ana-martins/absences", "login", "403", "403", "400", "400", false},
	{"POST /staff/admin/staff/{id}/absences", "/staff/admin/staff/diogo-ferreira/absences", "login", "403", "403", "404", "400", false},
	{"GET /staff/admin/branding", "/staff/admin/branding", "login", "403", "403", "403", "200", false},
	{"POST /staff/admin/branding", "/staff/admin/branding", "login", "403", "403", "403", "422", false},
	{"GET /staff/admin/settings", "/staff/admin/settings", "login", "403", "403", "403", "200", false},
	{"POST /staff/admin/settings", "/staff/admin/settings", "login", "403", "403", "403", "422", false},
	{"GET /staff/admin/audit", "/staff/admin/audit", "login", "403", "403", "403", "200", false},
	{"GET /staff/admin/audit.csv", "/staff/admin/audit.csv", "login", "403", "403", "403", "200", false},
}

// roleEmails are the demo agency's staff who play each role.
var roleEmails = []struct{ role, email string }{
	{"agent", "ana.martins@demo.balcao.example"},
	{"interpreter", "filipe.lopes@demo.balcao.example"},
	{"supervisor", "graca.pinto@demo.balcao.example"},
	{"administrator", "helder.alves@demo.balcao.example"},
}

func TestEveryRouteIsInTheMatrix(t *testing.T) {
	registered := scanRoutes(t)
	listed := map[string]bool{}
	for _, r := range routeMatrix {
		listed[r.pattern] = true
	}
	var missing, stale []string
	for p := range registered {
		if !listed[p] {
			missing = append(missing, fmt.Sprintf("%q (%s)", p, registered[p]))
		}
	}
	for p := range listed {
		if _, ok := registered[p]; !ok {
			stale = append(stale, strconv.Quote(p))
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes registered but not in routeMatrix (add a row with the answer each role must get):\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("routes in routeMatrix that no Routes function registers any more:\n  %s", strings.Join(stale, "\n  "))
	}
}

// TestRoleRouteMatrix asks every row of the matrix as each role and compares the answers.
func TestRoleRouteMatrix(t *testing.T) {
	m := newMatrixSite(t)
	failed := 0
	var table strings.Builder
	fmt.Fprintf(&table, "| %-48s | %-42s | none | agent | interp. | superv. | admin |\n", "route", "request")
	fmt.Fprintf(&table, "|%s|%s|------|-------|---------|---------|-------|\n", strings.Repeat("-", 50), strings.Repeat("-", 44))
	for _, row := range routeMatrix {
		method, _, ok := strings.Cut(row.pattern, " ")
		if !ok || strings.HasPrefix(row.pattern, "/") {
			method = "GET"
		}
		path := m.fill(row.path)
		req := httptest.NewRequest(method, path, nil)
		if got := m.app.Route(req); got != row.pattern {
			t.Errorf("%s %s is served by %q, not by the row's %q", method, path, got, row.pattern)
		}
		want := []string{row.none, row.agent, row.interpreter, row.supervisor, row.admin}
		got := make([]string, len(want))
		for i := range want {
			token := ""
			if i > 0 {
				token = m.tokens[i-1]
				if row.fresh {
					token = m.signIn(t, roleEmails[i-1].email)
				}
			}
			got[i] = m.ask(t, method, path, token)
		}
		if row.fresh {
			m.signInAll(t) // signing out everywhere ended the others too
		}
		mark := ""
		if strings.Join(got, ",") != strings.Join(want, ",") {
			failed++
			mark = "  <-- want " + strings.Join(want, ", ")
			t.Errorf("%s %s: none, agent, interpreter, supervisor, administrator answered %s; want %s\n\t{%q, %q, %q, %q, %q, %q, %q, %v},",
				method, row.path, strings.Join(got, ", "), strings.Join(want, ", "),
				row.pattern, row.path, got[0], got[1], got[2], got[3], got[4], row.fresh)
		}
		fmt.Fprintf(&table, "| %-48s | %-42s | %-4s | %-5s | %-7s | %-7s | %-5s |%s\n", row.pattern, row.path, got[0], got[1], got[2], got[3], got[4], mark)
	}
	t.Logf("role x route matrix: %d rows x 5 visitors = %d requests, %d rows wrong\n%s", len(routeMatrix), len(routeMatrix)*5, failed, table.String())
}

// matrixSite is the app with the demo agency, a session per role and the objects the
// matrix's paths name.
type matrixSite struct {
	app    *app.App
	srv    *httptest.Server
	now    time.Time
	steps  atomic.Int64 // TOTP steps the clock moved on: each code is accepted once
	tokens []string     // by roleEmails
	keys   map[string][]byte
	ids    map[string]string
}

func (m *matrixSite) clock() time.Time {
	return m.now.Add(time.Duration(m.steps.Load()) * auth.TOTPStep)
}

func newMatrixSite(t *testing.T) *matrixSite { return newMatrixSiteOn(t, "") }

// newMatrixSiteOn is newMatrixSite on the PostgreSQL database at db, or SQLite when "".
func newMatrixSiteOn(t *testing.T, db string) *matrixSite {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // a Monday
	m := &matrixSite{now: now, ids: map[string]string{}, keys: map[string][]byte{}}
	a, err := app.New(ctx, config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db, LogLevel: "error"}, slog.New(slog.DiscardHandler),
		app.Options{Now: m.clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	m.app, m.srv = a, srv
	m.signInAll(t)
	// Appointments written directly: the matrix needs them with these very staff.
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, ap := range []struct{ key, id, theme, agent, interpreter string }{
		{"appt", "matrix-appt-1", "pensao-velhice", "ana-martins", "filipe-lopes"},
		{"other", "matrix-appt-2", "independentes", "bruno-costa", ""},
		{"spare", "matrix-appt-3", "independentes", "bruno-costa", ""},
	} {
		var interp any
		if ap.interpreter != "" {
			interp = ap.interpreter
		}
		if _, err := a.DB.Exec(ctx, `INSERT INTO appointments (id, theme_id, agent_id, interpreter_id, starts_at, ends_at, status,
				citizen_name, citizen_email, manage_token_hash, join_token_hash, sign_language, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'booked', 'Rita Matos', 'rita@example.pt', ?, ?, ?, ?, ?)`,
			ap.id, ap.theme, ap.agent, interp, start.Unix(), start.Add(30*time.Minute).Unix(), "m-"+ap.id, "j-"+ap.id,
			ap.interpreter != "", now.Unix(), now.Unix()); err != nil {
			t.Fatal(err)
		}
		m.ids[ap.key] = ap.id
	}
	tk, err := a.Queue.Take(ctx, queue.Request{ServiceID: "informacoes", Citizen: booking.Citizen{Name: "Rui Sá", Language: "pt-PT"}})
	if err != nil {
		t.Fatal(err)
	}
	m.ids["ticket"] = tk.ID
	return m
}

// signInAll starts a session for each role.
func (m *matrixSite) signInAll(t *testing.T) {
	t.Helper()
	m.tokens = m.tokens[:0]
	for _, r := range roleEmails {
		m.tokens = append(m.tokens, m.signIn(t, r.email))
	}
}

// signIn starts a session for a demo staff member, setting up TOTP when the role requires
// it, or giving the code of the next step when it is set up.
func (m *matrixSite) signIn(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	c := auth.Client{IP: "127.0.0.1", UserAgent: "matrix"}
	res, err := m.app.Auth.Login(ctx, email, app.DemoPassword, c)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	switch res.Session.Stage {
	case auth.StageEnrol:
		secret, err := m.app.Auth.BeginTOTP(ctx, res.Staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		m.keys[email], _ = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
		token, err := m.app.Auth.ConfirmTOTP(ctx, res.Session, auth.TOTP(m.keys[email], m.clock(), 6), c)
		if err != nil {
			t.Fatal(err)
		}
		return token
	case auth.StageTOTP:
		m.steps.Add(1)
		next, err := m.app.Auth.VerifyTOTPLogin(ctx, res.Token, auth.TOTP(m.keys[email], m.clock(), 6), c)
		if err != nil {
			t.Fatalf("second factor of %s: %v", email, err)
		}
		return next.Token
	}
	return res.Token
}

func (m *matrixSite) fill(path string) string {
	for k, v := range m.ids {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

// ask sends one request, a state-changing one with the session's CSRF token and no other
// field, and says what came back.
func (m *matrixSite) ask(t *testing.T, method, path, token string) string {
	t.Helper()
	return m.askWith(t, method, path, token, nil)
}

// askWith is ask with these fields in a state-changing request's form.
func (m *matrixSite) askWith(t *testing.T, method, path, token string, fields url.Values) string {
	t.Helper()
	var body io.Reader
	if method != "GET" {
		form := url.Values{}
		for k, v := range fields {
			form[k] = v
		}
		if token != "" {
			form.Set("csrf", auth.CSRFToken(token))
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, m.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "balcao_session", Value: token})
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode == http.StatusSeeOther && (loc == auth.LoginPath || strings.HasPrefix(loc, auth.LoginPath+"?next=")) {
		return "login"
	}
	return strconv.Itoa(res.StatusCode)
}

// scanRoutes reads, from the source of every package under internal/ (test helpers
// aside), the patterns passed to handle, Handle and HandleFunc, evaluating string
// constants; it fails on a pattern it cannot read.
func scanRoutes(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..")
	out := map[string]string{}
	pkgs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasSuffix(d.Name(), "test") || d.Name() == "testdata" || d.Name() == "e2e" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range pkgs {
		consts := map[string]string{}
		for _, f := range files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringValue(vs.Values[i], consts); ok {
								consts[name.Name] = v
							}
						}
					}
				}
			}
		}
		// params tells whether a name is a parameter of a function around a position.
		params := map[string]func(token.Pos) bool{}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				var ft *ast.FuncType
				var body *ast.BlockStmt
				switch fn := n.(type) {
				case *ast.FuncLit:
					ft, body = fn.Type, fn.Body
				case *ast.FuncDecl:
					ft, body = fn.Type, fn.Body
				default:
					return true
				}
				if body == nil {
					return true
				}
				for _, field := range ft.Params.List {
					for _, name := range field.Names {
						prev, from, to := params[name.Name], body.Pos(), body.End()
						params[name.Name] = func(p token.Pos) bool { return (p >= from && p < to) || (prev != nil && prev(p)) }
					}
				}
				return true
			})
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				name := ""
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if name != "handle" && name != "Handle" && name != "HandleFunc" {
					return true
				}
				where := fset.Position(call.Pos()).String()
				if id, ok := call.Args[0].(*ast.Ident); ok && params[id.Name] != nil && params[id.Name](call.Pos()) {
					return true // a helper passing on its own parameter: its callers are read instead
				}
				v, ok := stringValue(call.Args[0], consts)
				if !ok {
					t.Errorf("%s: cannot read the route's pattern: write it as a literal or a constant", where)
					return true
				}
				out[v] = strings.TrimPrefix(where, "../")
				return true
			})
		}
	}
	return out
}

// stringValue evaluates a string literal, a constant of the package or their sum.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[x.Name]
		return s, ok
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringValue(x.X, consts)
		b, ok2 := stringValue(x.Y, consts)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return stringValue(x.X, consts)
	}
	return "", false
}

// TestEveryFormRefusesUnstorableText posts, to every state-changing route, as every
// visitor, on PostgreSQL (which refuses a NUL in a text column), a form in which every
// field any page has holds a NUL, and then one in which each holds a byte that is not
// UTF-8: whatever the route answers, it is never a server error.
func TestEveryFormRefusesUnstorableText(t *testing.T) {
	m := newMatrixSiteOn(t, storetest.NewPostgresDatabase(t))
	names := formFieldNames(t)
	posts := 0
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		fields := url.Values{}
		for _, n := range names {
			fields.Set(n, bad)
		}
		for _, row := range routeMatrix {
			method, _, ok := strings.Cut(row.pattern, " ")
			if !ok || method == "GET" || row.fresh {
				continue
			}
			path := m.fill(row.path)
			for i := range 5 {
				token := ""
				if i > 0 {
					token = m.tokens[i-1]
				}
				posts++
				if got := m.askWith(t, method, path, token, fields); strings.HasPrefix(got, "5") {
					t.Errorf("%s %s as %s with %q in every field: %s", method, path, []string{"nobody", "agent", "interpreter", "supervisor", "administrator"}[i], bad, got)
				}
			}
		}
	}
	t.Logf("%d posts with %d fields each", posts, len(names))
}

// formFieldNames lists the name of every input, select and textarea of every page.
func formFieldNames(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sname="([a-z_]+)"`)
	seen := map[string]bool{"csrf": true}
	var names []string
	err := fs.WalkDir(web.FS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.FS, path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
		return nil
	})
	if err != nil || len(names) < 20 {
		t.Fatalf("form fields: %v %v", names, err)
	}
	return names
}

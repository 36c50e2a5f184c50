package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/app"
	"balcao/internal/auth"
	"balcao/internal/config"
	"balcao/internal/store/storetest"
)

// The demo agency's staff, with the demo password that the first start gives them.
const (
	agentEmail = "ana.martins@demo.balcao.example"
	adminEmail = "helder.alves@demo.balcao.example"
)

type site struct {
	*httptest.Server
	clock *clock
	msg   map[string]string // the Portuguese catalogue of auth's pages
	logs  *lockedBuffer     // everything the app logged, at debug level
}

// lockedBuffer collects the log, which the server's goroutines write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustNotLog fails if the log holds any of secrets (e-mail addresses, passwords, tokens).
func (s site) mustNotLog(t *testing.T, secrets ...string) {
	t.Helper()
	logs := s.logs.String()
	if !strings.Contains(logs, "staff") {
		t.Fatalf("the log says nothing of staff: is it captured?\n%s", logs)
	}
	for _, secret := range secrets {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

func newSite(t *testing.T, pg string, tls bool) site {
	t.Helper()
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: pg, LogLevel: "error"}
	if tls {
		// The app only reads the setting; serving HTTPS is Serve's business.
		cfg.TLSCert, cfg.TLSKey = "cert.pem", "key.pem"
	}
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, logger, app.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "i18n", "auth.pt-PT.json"))
	if err != nil {
		t.Fatal(err)
	}
	msg := map[string]string{}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	return site{Server: srv, clock: c, msg: msg, logs: logs}
}

func engines(t *testing.T, fn func(t *testing.T, s site)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, newSite(t, "", false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newSite(t, storetest.NewPostgresDatabase(t), false)) })
}

// browser is one visitor: its own cookies, and redirects left for the test to see.
type browser struct {
	t      *testing.T
	s      site
	client *http.Client
}

func (s site) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
	cookies  []*http.Cookie
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw), cookies: res.Cookies()}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

func (b *browser) post(path string, fields ...string) page {
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return b.do("POST", path, form)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the synchronizer token of the page's forms.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in the page (%d):\n%s", p.status, p.body)
	}
	return m[1]
}

// otherToken is a token of the same shape as token, but not it.
func otherToken(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

var alertBlock = regexp.MustCompile(`(?s)<div class="alert" role="alert".*?</div>`)

// alert is the page's error summary.
func (p page) alert() string { return alertBlock.FindString(p.body) }

func (p page) cookie(name string) *http.Cookie {
	for _, c := range p.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn logs in with the demo password and expects to be sent to want.
func (b *browser) signIn(email, want string) page {
	b.t.Helper()
	form := b.get("/staff/login")
	p := b.post("/staff/login", "csrf", form.csrf(b.t), "email", email, "password", app.DemoPassword)
	if p.status != http.StatusSeeOther || p.location != want {
		b.t.Fatalf("sign in as %s: %d to %q, want 303 to %s\n%s", email, p.status, p.location, want, p.alert())
	}
	return p
}

func TestStaffLoginAndLogout(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		b := s.browser(t)
		if p := b.get("/staff/"); p.status != http.StatusSeeOther || p.location != "/staff/login?next=%2Fstaff%2F" {
			t.Fatalf("staff area without a session: %d to %q", p.status, p.location)
		}
		form := b.get("/staff/login?next=%2Fstaff%2F")
		if form.status != 200 || !strings.Contains(form.body, s.msg["auth.login.heading"]) || !strings.Contains(form.body, `<label for="f-email">`) {
			t.Fatalf("login page: %d\n%s", form.status, form.body)
		}
		token := form.csrf(t)

		// CSRF: the login form without its token, or with another, is refused.
		for _, bad := range []string{"", otherToken(token)} {
			p := b.post("/staff/login", "csrf", bad, "email", agentEmail, "password", app.DemoPassword)
			if p.status != http.StatusForbidden || p.cookie("balcao_session") != nil {
				t.Fatalf("login with csrf %q: %d, want 403 and no session", bad, p.status)
			}
		}
		if p := b.post("/staff/login", "csrf", token, "email", "", "password", ""); p.status != 422 || !strings.Contains(p.alert(), `href="#f-email"`) {
			t.Fatalf("empty login form: %d %s", p.status, p.alert())
		}
		p := b.post("/staff/login", "csrf", token, "email", agentEmail, "password", "not the password", "next", "/staff/")
		if p.status != 422 || !strings.Contains(p.alert(), html.EscapeString(s.msg["auth.error.invalid_login"])) {
			t.Fatalf("wrong password: %d %s", p.status, p.alert())
		}
		if strings.Contains(p.body, "not the password") {
			t.Fatal("the login page shows the password back")
		}
		p = b.post("/staff/login", "csrf", token, "email", agentEmail, "password", app.DemoPassword, "next", "/staff/")
		if p.status != http.StatusSeeOther || p.location != "/staff/" {
			t.Fatalf("login: %d to %q %s", p.status, p.location, p.alert())
		}
		c := p.cookie("balcao_session")
		if c == nil || !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || len(c.Value) != 43 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over HTTP", c)
		}
		home := b.get("/staff/")
		if home.status != 200 || !strings.Contains(home.body, "Ana Martins") || !strings.Contains(home.body, s.msg["auth.role.agent"]) {
			t.Fatalf("landing page: %d\n%s", home.status, home.body)
		}
		if p := b.get("/staff/login"); p.status != http.StatusSeeOther || p.location != "/staff/" {
			t.Fatalf("login page when signed in: %d to %q", p.status, p.location)
		}

		// CSRF on sign-out: without the session's token, or with the login form's, refused.
		for _, bad := range []string{"", token} {
			if p := b.post("/staff/logout", "csrf", bad); p.status != http.StatusForbidden {
				t.Fatalf("sign-out with csrf %q: %d, want 403", bad, p.status)
			}
		}
		if p := b.get("/staff/"); p.status != 200 {
			t.Fatalf("a refused sign-out signed out: %d", p.status)
		}
		p = b.post("/staff/logout", "csrf", home.csrf(t))
		if p.status != http.StatusSeeOther || p.location != "/staff/login?out=1" {
			t.Fatalf("sign-out: %d to %q", p.status, p.location)
		}
		if c := p.cookie("balcao_session"); c == nil || c.MaxAge >= 0 {
			t.Fatalf("sign-out leaves the cookie: %+v", c)
		}
		if p := b.get("/staff/login?out=1"); !strings.Contains(p.body, s.msg["auth.login.signed_out"]) {
			t.Fatal("the login page does not say that the visitor signed out")
		}
		if p := b.get("/staff/"); p.status != http.StatusSeeOther {
			t.Fatalf("staff area after sign-out: %d", p.status)
		}
		s.mustNotLog(t, agentEmail, "ana.martins", app.DemoPassword, "not the password", c.Value, token, home.csrf(t))
	})
}

// TestLockoutLooksLikeAWrongPassword: after five failures the right password is refused
// with exactly the message of a wrong password and of an unknown e-mail.
func TestLockoutLooksLikeAWrongPassword(t *testing.T) {
	s := newSite(t, "", false)
	b := s.browser(t)
	token := b.get("/staff/login").csrf(t)
	try := func(email, password string) page {
		t.Helper()
		p := b.post("/staff/login", "csrf", token, "email", email, "password", password)
		if p.status != 422 {
			t.Fatalf("login %s: %d, want 422", email, p.status)
		}
		return p
	}
	unknown := try("nobody@demo.balcao.example", app.DemoPassword).alert()
	wrong := ""
	for range auth.MaxFailures {
		wrong = try(agentEmail, "wrong password 1").alert()
	}
	locked := try(agentEmail, app.DemoPassword).alert()
	if unknown == "" || unknown != wrong || wrong != locked {
		t.Fatalf("the messages differ:\nunknown: %s\nwrong:   %s\nlocked:  %s", unknown, wrong, locked)
	}
	s.clock.Advance(auth.LockDuration)
	b.signIn(agentEmail, "/staff/")
}

func TestLogoutEverywhere(t *testing.T) {
	s := newSite(t, "", false)
	laptop, phone := s.browser(t), s.browser(t)
	laptop.signIn(agentEmail, "/staff/")
	phone.signIn(agentEmail, "/staff/")
	home := laptop.get("/staff/")
	if n := strings.Count(home.body, s.msg["auth.home.this_session"]); n != 1 || !strings.Contains(home.body, s.msg["auth.home.sessions"]) {
		t.Fatalf("the landing page lists the sessions wrongly:\n%s", home.body)
	}
	phoneToken := phone.get("/staff/").csrf(t)
	if p := laptop.post("/staff/logout-everywhere", "csrf", phoneToken); p.status != http.StatusForbidden {
		t.Fatalf("sign-out everywhere with another session's token: %d, want 403", p.status)
	}
	if p := laptop.post("/staff/logout-everywhere"); p.status != http.StatusForbidden {
		t.Fatalf("sign-out everywhere without a token: %d, want 403", p.status)
	}
	if p := phone.get("/staff/"); p.status != 200 {
		t.Fatalf("a refused sign-out everywhere signed the phone out: %d", p.status)
	}
	if p := laptop.post("/staff/logout-everywhere", "csrf", home.csrf(t)); p.status != http.StatusSeeOther || p.location != "/staff/login?out=all" {
		t.Fatalf("sign-out everywhere: %d to %q", p.status, p.location)
	}
	for name, b := range map[string]*browser{"laptop": laptop, "phone": phone} {
		if p := b.get("/staff/"); p.status != http.StatusSeeOther {
			t.Fatalf("%s after sign-out everywhere: %d", name, p.status)
		}
	}
}

var secretText = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)

// TestTOTPEnrolmentAndLogin: an administrator (whose role requires TOTP) is sent to set it
// up after the password, and from then on signs in with a code, each code once.
func TestTOTPEnrolmentAndLogin(t *testing.T) {
	engines(t, func(t *testing.T, s site) {
		b := s.browser(t)
		b.signIn(adminEmail, "/staff/account/totp")
		if p := b.get("/staff/"); p.status != http.StatusSeeOther || p.location != "/staff/account/totp" {
			t.Fatalf("staff area before enrolment: %d to %q", p.status, p.location)
		}
		enrol := b.get("/staff/account/totp")
		m := secretText.FindStringSubmatch(enrol.body)
		if enrol.status != 200 || m == nil || !strings.Contains(enrol.body, "<svg") || !strings.Contains(enrol.body, "otpauth://totp/") ||
			!strings.Contains(enrol.body, s.msg["auth.account_totp.forced_lead"]) {
			t.Fatalf("enrolment page: %d\n%s", enrol.status, enrol.body)
		}
		secret := strings.ReplaceAll(m[1], " ", "")
		code := func() string { return auth.TOTP(decode(t, secret), s.clock.Now(), 6) }
		if p := b.post("/staff/account/totp", "action", "confirm", "code", code()); p.status != http.StatusForbidden {
			t.Fatalf("confirm without csrf: %d, want 403", p.status)
		}
		token := enrol.csrf(t)
		if p := b.post("/staff/account/totp", "csrf", token, "action", "confirm", "code", wrongCode(code())); p.status != 422 ||
			!strings.Contains(p.alert(), html.EscapeString(s.msg["auth.error.invalid_code"])) {
			t.Fatalf("wrong code: %d %s", p.status, p.alert())
		}
		p := b.post("/staff/account/totp", "csrf", token, "action", "confirm", "code", code())
		if p.status != http.StatusSeeOther || p.location != "/staff/?totp=on" || p.cookie("balcao_session") == nil {
			t.Fatalf("confirm: %d to %q, want a new session cookie", p.status, p.location)
		}
		home := b.get("/staff/?totp=on")
		if home.status != 200 || !strings.Contains(home.body, s.msg["auth.totp.enabled_notice"]) || !strings.Contains(home.body, s.msg["auth.role.administrator"]) {
			t.Fatalf("landing page after enrolment: %d\n%s", home.status, home.body)
		}
		if p := b.get("/staff/account/totp"); !strings.Contains(p.body, s.msg["auth.account_totp.required_note"]) {
			t.Fatal("the account page does not say that the role requires TOTP")
		}
		b.post("/staff/logout", "csrf", home.csrf(t))

		// The next sign-in asks for a code.
		b.signIn(adminEmail, "/staff/login/totp")
		if p := b.get("/staff/"); p.status != http.StatusSeeOther || p.location != "/staff/login/totp" {
			t.Fatalf("staff area before the code: %d to %q", p.status, p.location)
		}
		step := b.get("/staff/login/totp")
		if step.status != 200 || !strings.Contains(step.body, `autocomplete="one-time-code"`) {
			t.Fatalf("code page: %d\n%s", step.status, step.body)
		}
		token = step.csrf(t)
		if p := b.post("/staff/login/totp", "csrf", "wrong", "code", code()); p.status != http.StatusForbidden {
			t.Fatalf("code with a wrong csrf: %d, want 403", p.status)
		}
		if p := b.post("/staff/login/totp", "csrf", token, "code", code()); p.status != 422 {
			t.Fatalf("the enrolment's code used again: %d, want 422", p.status)
		}
		s.clock.Advance(auth.TOTPStep)
		if p := b.post("/staff/login/totp", "csrf", token, "code", code()); p.status != http.StatusSeeOther || p.location != "/staff/" {
			t.Fatalf("right code: %d to %q %s", p.status, p.location, p.alert())
		}
		if p := b.get("/staff/"); p.status != 200 {
			t.Fatalf("staff area after the code: %d", p.status)
		}
		s.mustNotLog(t, adminEmail, app.DemoPassword, secret, m[1], code())
	})
}

// TestCookiesOverTLS: served over HTTPS, the cookies take the __Host- prefix and Secure.
func TestCookiesOverTLS(t *testing.T) {
	s := newSite(t, "", true)
	b := s.browser(t)
	form := b.get("/staff/login")
	lc := form.cookie("__Host-balcao-login")
	if lc == nil || !lc.Secure || !lc.HttpOnly || lc.Path != "/" || lc.Domain != "" {
		t.Fatalf("login cookie over TLS: %+v", lc)
	}
	req, _ := http.NewRequest("POST", s.URL+"/staff/login", strings.NewReader(url.Values{"csrf": {form.csrf(t)},
		"email": {agentEmail}, "password": {app.DemoPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: lc.Name, Value: lc.Value})
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-balcao" {
			sc = c
		}
	}
	if res.StatusCode != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Fatalf("login over TLS: %d, session cookie %+v", res.StatusCode, sc)
	}
}

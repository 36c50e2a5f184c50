package admin_test

import (
	"context"
	"encoding/base32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// The demo agency's staff.
const (
	adminEmail      = "helder.alves@demo.balcao.example"
	supervisorEmail = "graca.pinto@demo.balcao.example" // Lisboa
	agentEmail      = "ana.martins@demo.balcao.example" // Lisboa: pensões, informação geral
	interpEmail     = "filipe.lopes@demo.balcao.example"
)

// clock is the site's clock: Monday 30 November 2026, 09:00 UTC, until moved.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// site is the whole app on a test server with the demo agency.
type site struct {
	*httptest.Server
	app   *app.App
	clock *clock
}

func newSite(t *testing.T, pg string) *site {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: pg, LogLevel: "error"}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &site{Server: srv, app: a, clock: c}
}

func engines(t *testing.T, fn func(t *testing.T, s *site)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, newSite(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newSite(t, storetest.NewPostgresDatabase(t))) })
}

// user is a signed-in staff member (or, with no token, a visitor).
type user struct {
	t     *testing.T
	s     *site
	token string
	lang  string
}

// signIn signs a demo staff member in through the service, enrolling TOTP when their
// role requires it.
func (s *site) signIn(t *testing.T, email string) *user {
	t.Helper()
	ctx := context.Background()
	c := auth.Client{IP: "127.0.0.1", UserAgent: "test"}
	res, err := s.app.Auth.Login(ctx, email, app.DemoPassword, c)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	token := res.Token
	if res.Session.Stage == auth.StageEnrol {
		secret, err := s.app.Auth.BeginTOTP(ctx, res.Staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
		if token, err = s.app.Auth.ConfirmTOTP(ctx, res.Session, auth.TOTP(key, s.clock.Now(), 6), c); err != nil {
			t.Fatal(err)
		}
	}
	return &user{t: t, s: s, token: token, lang: "pt-PT"}
}

type answer struct {
	status   int
	location string
	header   http.Header
	body     string
}

func (u *user) do(method, path string, body io.Reader, contentType string) answer {
	u.t.Helper()
	req, err := http.NewRequest(method, u.s.URL+path, body)
	if err != nil {
		u.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept-Language", u.lang)
	if u.token != "" {
		req.AddCookie(&http.Cookie{Name: "balcao_session", Value: u.token})
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(b)}
}

func (u *user) get(path string) answer { return u.do("GET", path, nil, "") }

// post sends a form with the session's CSRF token (unless the fields give one).
func (u *user) post(path string, fields ...string) answer {
	u.t.Helper()
	form := url.Values{}
	if u.token != "" {
		form.Set("csrf", auth.CSRFToken(u.token))
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == "csrf" {
			form.Set("csrf", fields[i+1])
			continue
		}
		form.Add(fields[i], fields[i+1])
	}
	return u.do("POST", path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

var alertBlock = regexp.MustCompile(`(?s)<div class="alert" role="alert".*?</div>`)

func (a answer) alert() string { return alertBlock.FindString(a.body) }

// csrfOf is the synchronizer token of u's session.
func csrfOf(u *user) string { return auth.CSRFToken(u.token) }

var authClient = auth.Client{IP: "127.0.0.1", UserAgent: "test"}

package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"balcao/internal/app"
	"balcao/internal/config"
)

// curlHead formats an answer's status line and headers as `curl -sI` shows them.
func curlHead(res *http.Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", res.Proto, res.Status)
	keys := make([]string, 0, len(res.Header))
	for k := range res.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range res.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(k), v)
		}
	}
	return b.String()
}

// TestSecurityHeaders asks for pages with HEAD over HTTPS, as `curl -sI` does, logs the
// headers and checks them: a strict Content-Security-Policy without inline script, no
// framing, no Referer, no camera or microphone but on call pages, HSTS over TLS.
func TestSecurityHeaders(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run(map[bool]string{true: "https", false: "http"}[tls], func(t *testing.T) {
			m := newMatrixSite(t)
			cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "error"}
			srv := m.srv
			if tls {
				cfg.TLSCert, cfg.TLSKey = "cert.pem", "key.pem" // read only: httptest serves the TLS
				a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{})
				if err != nil {
					t.Fatal(err)
				}
				srv = httptest.NewTLSServer(a.Handler())
				t.Cleanup(func() { srv.Close(); a.Close() })
			}
			client := srv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			for _, p := range []struct {
				path, token string
				media       bool
			}{
				{"/", "", false},
				{"/staff/login", "", false},
				{"/staff/admin/", "admin", false},
				{"/staff/call/" + m.ids["appt"], "agent", true},
			} {
				if tls && p.token != "" {
					continue // the sessions are the plain site's
				}
				req, _ := http.NewRequest("HEAD", srv.URL+p.path, nil)
				switch p.token {
				case "agent":
					req.AddCookie(&http.Cookie{Name: "balcao_session", Value: m.tokens[0]})
				case "admin":
					req.AddCookie(&http.Cookie{Name: "balcao_session", Value: m.tokens[3]})
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				t.Logf("$ curl -sI %s%s\n%s", map[bool]string{true: "https://balcao.example", false: "http://localhost:8080"}[tls], p.path, curlHead(res))
				h := res.Header
				csp := h.Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("%s: the CSP %q lacks %s", p.path, csp, want)
					}
				}
				if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
					t.Errorf("%s: the CSP allows inline code: %q", p.path, csp)
				}
				if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
					t.Errorf("%s: referrer, sniffing or framing headers missing", p.path)
				}
				pp := h.Get("Permissions-Policy")
				if granted := strings.Contains(pp, "camera=(self)") && strings.Contains(pp, "microphone=(self)") && strings.Contains(pp, "display-capture=(self)"); granted != p.media {
					t.Errorf("%s: Permissions-Policy %q; camera and microphone should be granted: %v", p.path, pp, p.media)
				}
				if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != tls {
					t.Errorf("%s: HSTS %q over TLS=%v", p.path, hsts, tls)
				}
				if p.token != "" && h.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: a staff page may be cached: %q", p.path, h.Get("Cache-Control"))
				}
			}
		})
	}
}

package httpx

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCompressOnlyWhatIsWorthIt(t *testing.T) {
	for _, c := range []struct {
		name, contentType, body string
		gzipped                 bool
	}{
		{"small JSON", "application/json", `{"ok":true}`, false},
		{"large page", "text/html; charset=utf-8", strings.Repeat("<p>olá</p>", 500), true},
		{"large image", "image/png", strings.Repeat("x", 5000), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				w.WriteHeader(http.StatusCreated)
				for i := 0; i < len(c.body); i += 100 {
					io.WriteString(w, c.body[i:min(i+100, len(c.body))])
				}
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", "gzip, br")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusCreated {
				t.Errorf("status %d", w.Code)
			}
			body := w.Body.String()
			if got := w.Header().Get("Content-Encoding") == "gzip"; got != c.gzipped {
				t.Fatalf("gzipped %v, want %v", got, c.gzipped)
			}
			if c.gzipped {
				zr, err := gzip.NewReader(strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(zr)
				body = string(b)
			}
			if body != c.body {
				t.Errorf("body changed (%d bytes, want %d)", len(body), len(c.body))
			}
		})
	}
}

// TestStorableForm: a form value with a NUL or a byte that is not UTF-8 is refused with
// 400 and a message key; any other text, newlines and accents included, passes.
func TestStorableForm(t *testing.T) {
	if err := StorableForm(url.Values{"notes": {"Linha 1\nLinha 2 — ação"}, "x": {""}}); err != nil {
		t.Errorf("ordinary text refused: %v", err)
	}
	for _, bad := range []string{"a\x00b", "a\xffb"} {
		var e *Error
		if err := StorableForm(url.Values{"ok": {"fine"}, "name": {bad}}); !errors.As(err, &e) || e.Status != 400 || e.Key != "error.bad_text" {
			t.Errorf("%q: %v, want 400 error.bad_text", bad, err)
		}
	}
}

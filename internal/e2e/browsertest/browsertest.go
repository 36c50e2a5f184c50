// Package browsertest holds what the drivers of balcao's test browsers (packages firefox
// and webdriver) share: the virtual X screen a browser draws on when it needs a real
// one, the tail of the programs' output kept for failure messages, and the first steps
// of the drivers' own tests.
//
// It is test support: nothing in the product imports it.
package browsertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// NeedBrowser skips the test when err says a browser's programs are missing, or fails
// it in CI, where they are installed and a skip would hide a broken setup.
func NeedBrowser(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// ServePage serves the HTML document page at the returned URL until the test ends.
func ServePage(t *testing.T, page string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

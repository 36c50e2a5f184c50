package admin_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// adminPages are every configuration page with a GET, as the demo agency has them.
var adminPages = []string{
	"/staff/admin/", "/staff/admin/services", "/staff/admin/services/new", "/staff/admin/services/pensoes",
	"/staff/admin/services/pensoes/themes/new",
	"/staff/admin/services/pensoes/walk-in", "/staff/admin/services/familia/walk-in", "/staff/admin/themes/pensao-velhice", "/staff/admin/locations",
	"/staff/admin/locations/new", "/staff/admin/locations/lisboa", "/staff/admin/closures", "/staff/admin/staff",
	"/staff/admin/staff/new", "/staff/admin/staff/ana-martins", "/staff/admin/branding", "/staff/admin/settings",
	"/staff/admin/audit",
}

var rawKey = regexp.MustCompile(`\b(admin|auth|error|form)\.[a-z_]+\.[a-z_.]+\b`)

// TestEveryPageRendersInBothLanguages opens every page as an administrator, in Portuguese
// and English, and looks for untranslated keys.
func TestEveryPageRendersInBothLanguages(t *testing.T) {
	s := newSite(t, "")
	u := s.signIn(t, adminEmail)
	for _, lang := range []string{"pt-PT", "en"} {
		u.lang = lang
		for _, path := range adminPages {
			a := u.get(path)
			if a.status != http.StatusOK {
				t.Errorf("%s (%s): %d\n%s", path, lang, a.status, a.body)
				continue
			}
			if m := rawKey.FindString(a.body); m != "" {
				t.Errorf("%s (%s) shows the key %q", path, lang, m)
			}
			if !strings.Contains(a.body, `<html lang="`+lang+`">`) {
				t.Errorf("%s: not in %s", path, lang)
			}
		}
	}
}

package httpx

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// StorableForm refuses a posted form with a value that is not UTF-8 or holds a NUL: no
// form of balcao needs one, and PostgreSQL cannot store either in a text column, so
// such a value would otherwise fail deep in a query as a server error.
func StorableForm(form url.Values) error {
	for _, values := range form {
		for _, v := range values {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return Errorf(http.StatusBadRequest, "bad_text", "error.bad_text", nil)
			}
		}
	}
	return nil
}

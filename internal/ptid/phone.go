package ptid

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadPhone is wrapped by every error [ParsePhone] returns.
var ErrBadPhone = errors.New("ptid: bad phone number")

const (
	ptCountryCode = "351"
	ptNationalLen = 9
	// E.164 allows at most 15 digits; fewer than 8 is no real subscriber
	// number anywhere we expect citizens to call from.
	minIntlDigits = 8
	maxIntlDigits = 15
	// Generous room for separators; anything longer is not a phone number.
	maxPhoneInput = 64
)

// phoneSeparators are what people type between digit groups.
var phoneSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")

// ParsePhone normalises a telephone number to E.164, e.g. "+351912345678".
//
// Numbers without an international prefix must be Portuguese: nine digits
// starting with 2 (landline), 3 or 9 (mobile). "+351" or "00351" numbers must
// satisfy the same rule. Other countries are accepted in "+CC…" or "00CC…"
// form with 8 to 15 digits after the prefix, without per-country checks.
// Spaces, dashes, dots and parentheses between digits are ignored.
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %q: %s", ErrBadPhone, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxPhoneInput {
		return bad("too long")
	}
	n := phoneSeparators.Replace(s)
	international := false
	switch {
	case strings.HasPrefix(n, "+"):
		n, international = n[1:], true
	case strings.HasPrefix(n, "00"):
		n, international = n[2:], true
	}
	if !allDigits(n) {
		return bad("must contain only digits after an optional + or 00")
	}
	if !international {
		if !validPTNational(n) {
			return bad("not a Portuguese number; add the country code")
		}
		return "+" + ptCountryCode + n, nil
	}
	if n[0] == '0' {
		return bad("country codes do not start with 0")
	}
	if len(n) < minIntlDigits || len(n) > maxIntlDigits {
		return bad(fmt.Sprintf("international numbers have %d to %d digits", minIntlDigits, maxIntlDigits))
	}
	if national, ok := strings.CutPrefix(n, ptCountryCode); ok && !validPTNational(national) {
		return bad("not a valid Portuguese number")
	}
	return "+" + n, nil
}

// validPTNational checks the national significant number. Portugal has no
// trunk prefix, so a leading 0 is always a mistake.
func validPTNational(n string) bool {
	if len(n) != ptNationalLen || !allDigits(n) {
		return false
	}
	switch n[0] {
	case '2', '3', '9':
		return true
	}
	return false
}

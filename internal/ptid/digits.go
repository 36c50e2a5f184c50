package ptid

import "strings"

// separators are what people and printed documents put between digit
// groups. Nothing else is removed, so stray letters or Unicode lookalikes
// still fail validation instead of being silently dropped.
var separators = strings.NewReplacer(" ", "", ".", "", "-", "")

// Digits returns s without ASCII spaces, dots and dashes. It does not check
// that what remains is digits.
func Digits(s string) string {
	return separators.Replace(s)
}

// allDigits reports whether s is non-empty and made only of ASCII digits;
// unicode.IsDigit would let other scripts' digits through.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package ptid

import "strings"

// NormalizeCC returns a Cartão de Cidadão document number in its compact
// form: ASCII letters upper-cased and spaces removed. Only ASCII is
// upper-cased, because strings.ToUpper would turn lookalikes such as 'ſ' or
// 'ı' into valid letters.
func NormalizeCC(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ValidCC reports whether s is a well-formed Cartão de Cidadão document
// number, DDDDDDDD C AA T: the 8-digit civil identification number, its
// check digit, a 2-character version and a final check digit over all of
// it (a Luhn variant where letters count 10–35). Lower case and spaces, as
// in the printed "12345678 9 zz1", are accepted.
func ValidCC(s string) bool {
	n := NormalizeCC(s)
	if len(n) != 12 || !allDigits(n[:9]) || !allDigits(n[11:]) {
		return false
	}
	sum := 0
	for i := 11; i >= 0; i-- {
		v, ok := ccValue(n[i])
		if !ok {
			return false
		}
		// Counting from the right, every second value is doubled.
		if (11-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func ccValue(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10, true
	}
	return 0, false
}

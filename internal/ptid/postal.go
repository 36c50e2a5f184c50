package ptid

// ValidPostalCode reports whether s is a Portuguese postal code, NNNN-NNN
// with a first digit from 1 to 9. The dash is required: without it the code
// is ambiguous with other numbers, and CTT always prints it. There is no
// check digit, so this does not prove the code exists.
func ValidPostalCode(s string) bool {
	if len(s) != 8 || s[4] != '-' || !allDigits(s[:4]) || !allDigits(s[5:]) {
		return false
	}
	return s[0] != '0'
}

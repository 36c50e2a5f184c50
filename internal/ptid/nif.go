package ptid

// ValidNIF reports whether s is a well-formed NIF (número de identificação
// fiscal): nine digits, not starting with 0, whose last digit is the mod-11
// check of the first eight with weights 9 down to 2. Company and other
// entity prefixes are accepted too, since those also book appointments.
func ValidNIF(s string) bool {
	n := Digits(s)
	if len(n) != 9 || !allDigits(n) || n[0] == '0' {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(n[i]-'0') * (9 - i)
	}
	// A remainder of 0 or 1 would need check digit 11 or 10; both map to 0.
	check := (11 - sum%11) % 11 % 10
	return int(n[8]-'0') == check
}

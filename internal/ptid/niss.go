package ptid

var nissWeights = [10]int{29, 23, 19, 17, 13, 11, 7, 5, 3, 2}

// ValidNISS reports whether s is a well-formed NISS (número de
// identificação da Segurança Social): eleven digits starting with 1 (person)
// or 2 (legal person), the last being 9 minus the weighted sum of the first
// ten modulo 10.
func ValidNISS(s string) bool {
	n := Digits(s)
	if len(n) != 11 || !allDigits(n) || (n[0] != '1' && n[0] != '2') {
		return false
	}
	sum := 0
	for i, w := range nissWeights {
		sum += int(n[i]-'0') * w
	}
	return int(n[10]-'0') == 9-sum%10
}

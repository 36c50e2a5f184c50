package ptid

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDigits(t *testing.T) {
	tests := map[string]string{
		"123 456 789":  "123456789",
		"123.456.789":  "123456789",
		"123-456-789":  "123456789",
		" 1 2-3.4 ":    "1234",
		"12_34":        "12_34",
		"12\t34":       "12\t34",
		"12\u00a034":   "12\u00a034", // no-break space is not removed
		"12\u200b34":   "12\u200b34",
		"":             "",
		"abc":          "abc",
		"１２３":          "１２３",
		"--..  ":       "",
		"PT 123456789": "PT123456789",
	}
	for in, want := range tests {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestValidNIF(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"123456789", true},
		{"123 456 789", true},
		{"123.456.789", true},
		{"123-456-789", true},
		{"", false},
		{"   ", false},
		{"PT123456789", false},
		{"123456789 ", true}, // trailing space is a separator
		{"123\u00a0456789", false},
		{"123\u200b456789", false},
		{"١٢٣٤٥٦٧٨٩", false}, // Arabic-Indic digits
		{"１２３４５６７８９", false},
		{"-23456789", false},
		{"+23456789", false},
		{"123456789\x00", false},
		{"012345678", false},
		{"100000002", true}, // remainder 1 -> check 0
		{"100000010", true}, // remainder 0 -> check 0
		{"100000011", false},
		{"450000001", true},
		{"450000006", false},
	}
	for _, tt := range tests {
		if got := ValidNIF(tt.in); got != tt.want {
			t.Errorf("ValidNIF(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidNISS(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"11234567892", true},
		{"112 3456 7892", true},
		{"20000000001", true},
		{"", false},
		{"30000000000", false},
		{"1123456789a", false},
		{"112345678920", false},
		{"\x0011234567892", false},
	}
	for _, tt := range tests {
		if got := ValidNISS(tt.in); got != tt.want {
			t.Errorf("ValidNISS(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestCC(t *testing.T) {
	tests := []struct {
		in   string
		norm string
		want bool
	}{
		{"123456789ZZ1", "123456789ZZ1", true},
		{"12345678 9 ZZ1", "123456789ZZ1", true},
		{"12345678 9 zz1", "123456789ZZ1", true},
		{"12345678 9 zZ1", "123456789ZZ1", true},
		{"", "", false},
		{"123456789ZZ", "123456789ZZ", false},
		{"123456789ZZ1 ", "123456789ZZ1", true},
		{"123456789-ZZ1", "123456789-ZZ1", false},
		{"123456789ſZ1", "123456789ſZ1", false}, // long s would upper-case to S
		{"123456789ZZ١", "123456789ZZ١", false},
		{"123456789\x00Z1", "123456789\x00Z1", false},
		{"123456789Z!1", "123456789Z!1", false},
		{"1234567891Z1", "1234567891Z1", false}, // bad check digit
	}
	for _, tt := range tests {
		if got := NormalizeCC(tt.in); got != tt.norm {
			t.Errorf("NormalizeCC(%q) = %q; want %q", tt.in, got, tt.norm)
		}
		if got := ValidCC(tt.in); got != tt.want {
			t.Errorf("ValidCC(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidPostalCode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1000-001", true},
		{"9999-999", true},
		{"", false},
		{"1000 001", false},
		{"1000–001", false}, // en dash
		{"1000-00a", false},
		{"1000-0011", false},
		{"٤٢٠٠-072", false},
		{"1000-001\x00", false},
	}
	for _, tt := range tests {
		if got := ValidPostalCode(tt.in); got != tt.want {
			t.Errorf("ValidPostalCode(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzNIF(f *testing.F) {
	for _, s := range []string{"123456789", "123 456 789", "012345678", "", "12345678a", "١٢٣٤٥٦٧٨٩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidNIF(s) && len(Digits(s)) != 9 {
			t.Fatalf("ValidNIF(%q) but Digits = %q", s, Digits(s))
		}
	})
}

func FuzzNISS(f *testing.F) {
	for _, s := range []string{"11234567892", "20000000001", "", "1 1234 567 892", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidNISS(s) && len(Digits(s)) != 11 {
			t.Fatalf("ValidNISS(%q) but Digits = %q", s, Digits(s))
		}
	})
}

func FuzzCC(f *testing.F) {
	for _, s := range []string{"123456789ZZ1", "12345678 9 zz1", "", "00000000AZZ4", "123456789ſZ1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeCC(s)
		if NormalizeCC(n) != n {
			t.Fatalf("NormalizeCC not idempotent on %q", s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("NormalizeCC(%q) broke UTF-8", s)
		}
		if ValidCC(s) {
			if len(n) != 12 || strings.ContainsFunc(n, func(r rune) bool {
				return !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z')
			}) {
				t.Fatalf("ValidCC(%q) but normalised %q", s, n)
			}
			if !ValidCC(n) {
				t.Fatalf("ValidCC(%q) but not its normal form", s)
			}
		}
	})
}

package ptid

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means rejected
	}{
		{"912345678", "+351912345678"},
		{"912 345 678", "+351912345678"},
		{"912-345-678", "+351912345678"},
		{"912.345.678", "+351912345678"},
		{"(+351) 912 345 678", "+351912345678"},
		{"+351 912 345 678", "+351912345678"},
		{"+351912345678", "+351912345678"},
		{"00351 912 345 678", "+351912345678"},
		{"  213 456 789 ", "+351213456789"},
		{"21 345 6789", "+351213456789"},
		{"300 123 456", "+351300123456"},
		{"961234567", "+351961234567"},
		{"+44 20 7946 0958", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+1 (202) 555-0143", "+12025550143"},
		{"+55 11 91234 5678", "+5511912345678"},
		{"+12345678", "+12345678"},               // 8 digits: the minimum
		{"+123456789012345", "+123456789012345"}, // 15 digits: the maximum

		{"", ""},
		{"   ", ""},
		{"12345678", ""},          // too short
		{"9123456789", ""},        // too long
		{"812345678", ""},         // bad first digit
		{"112", ""},               // emergency, not bookable
		{"0912345678", ""},        // no trunk prefix in Portugal
		{"351912345678", ""},      // country code without + or 00
		{"+351 812 345 678", ""},  // +351 but not Portuguese
		{"+351 91234567", ""},     // +351 too short
		{"+351 9123456789", ""},   // +351 too long
		{"00351 812 345 678", ""}, // same via 00
		{"+1234567", ""},          // 7 digits
		{"+1234567890123456", ""}, // 16 digits
		{"+0123456789", ""},       // country code 0
		{"000123456789", ""},
		{"++351912345678", ""},
		{"+351+912345678", ""},
		{"912345678+", ""},
		{"+", ""},
		{"00", ""},
		{"912 345 678 ext 2", ""},
		{"912/345/678", ""},
		{"912_345_678", ""},
		{"９１２３４５６７８", ""},                     // full-width digits
		{"٩١٢٣٤٥٦٧٨", ""},                     // Arabic-Indic digits
		{"912\u200b345678", ""},               // zero-width space
		{"\u200f912345678", ""},               // RTL mark
		{"912\x00345678", ""},                 // NUL
		{"912345678\x00", ""},                 // NUL
		{"912\u00a0345\u00a0678", ""},         // no-break spaces
		{"📞912345678", ""},                    // emoji
		{"+351 912 345 678\xff", ""},          // invalid UTF-8
		{strings.Repeat("9", 1000), ""},       // very long
		{strings.Repeat(" ", 1000) + "9", ""}, // long but trims to 1 digit
		{"+351" + strings.Repeat(" ", 100) + "912345678", ""},
	}
	for _, tt := range tests {
		got, err := ParsePhone(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParsePhone(%q) = %q; want error", tt.in, got)
			} else if !errors.Is(err, ErrBadPhone) {
				t.Errorf("ParsePhone(%q) error %v does not wrap ErrBadPhone", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{
		"912345678", "(+351) 912 345 678", "00351912345678", "+44 20 7946 0958",
		"", "+", "00", "351912345678", "９１２３４５６７８", "912\u200b345678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePhone(s)
		if err != nil {
			if !errors.Is(err, ErrBadPhone) {
				t.Fatalf("ParsePhone(%q) error %v does not wrap ErrBadPhone", s, err)
			}
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || !allDigits(got[1:]) {
			t.Fatalf("ParsePhone(%q) = %q, not E.164", s, got)
		}
		if again, err := ParsePhone(got); err != nil || again != got {
			t.Fatalf("ParsePhone(%q) = %q, which re-parses to %q, %v", s, got, again, err)
		}
	})
}

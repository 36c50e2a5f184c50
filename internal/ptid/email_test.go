package ptid

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEmail(t *testing.T) {
	long := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	tests := []struct {
		in   string
		want string // "" means rejected
	}{
		{"maria.silva@exemplo.pt", "maria.silva@exemplo.pt"},
		{"  maria@exemplo.pt\n", "maria@exemplo.pt"},
		{"Maria.Silva@Exemplo.PT", "Maria.Silva@exemplo.pt"},
		{"joao+balcao@gov.pt", "joao+balcao@gov.pt"},
		{"a@b.pt", "a@b.pt"},
		{"a@sub-domain.example.co.uk", "a@sub-domain.example.co.uk"},
		{"user@café.pt", "user@café.pt"},
		{"user@CAFÉ.PT", "user@café.pt"},
		{"user@xn--caf-dma.pt", "user@xn--caf-dma.pt"},
		{"josé@exemplo.pt", "josé@exemplo.pt"},
		{"user@例え.jp", "user@例え.jp"},
		{long + "@exemplo.pt", long + "@exemplo.pt"},
		{"a@" + label + ".pt", "a@" + label + ".pt"},

		{"", ""},
		{"   ", ""},
		{"maria", ""},
		{"maria@", ""},
		{"@exemplo.pt", ""},
		{"maria@exemplo", ""},
		{"maria@@exemplo.pt", ""},
		{"a@b@exemplo.pt", ""},
		{"maria@exemplo..pt", ""},
		{"maria@.exemplo.pt", ""},
		{"maria@exemplo.pt.", ""},
		{"maria@-exemplo.pt", ""},
		{"maria@exemplo-.pt", ""},
		{"maria@exem_plo.pt", ""},
		{"maria@[192.0.2.1]", ""},
		{"maria@192.0.2.1", "maria@192.0.2.1"}, // syntactically a domain of digit labels
		{"maria silva@exemplo.pt", ""},
		{"maria@exem plo.pt", ""},
		{"Maria <maria@exemplo.pt>", ""},
		{"<maria@exemplo.pt>", ""},
		{`"maria"@exemplo.pt`, ""},
		{`"a b"@exemplo.pt`, ""},
		{"maria@exemplo.pt (Maria)", ""},
		{".maria@exemplo.pt", ""},
		{"maria.@exemplo.pt", ""},
		{"ma..ria@exemplo.pt", ""},
		{"ma,ria@exemplo.pt", ""},
		{"maria@exemplo.pt,joao@exemplo.pt", ""},
		{"maria\u200b@exemplo.pt", ""}, // zero-width space
		{"maria@exem\u200bplo.pt", ""}, // zero-width space in domain
		{"maria\u200f@exemplo.pt", ""}, // RTL mark
		{"\u202emaria@exemplo.pt", ""}, // RTL override
		{"maria\x00@exemplo.pt", ""},   // NUL
		{"maria@exemplo.pt\x00", ""},   // NUL
		{"maria\r\nBcc: x@y.pt", ""},   // header injection
		{"maria@exemplo.pt\r\nBcc: x@y.pt", ""},
		{"maria\u00a0@exemplo.pt", ""}, // no-break space
		{"maria@😀.pt", ""},             // emoji domain
		{"maria@exemplo.p\xff", ""},    // invalid UTF-8
		{"\xffmaria@exemplo.pt", ""},
		{long + "a@exemplo.pt", ""},
		{"a@" + label + "b.pt", ""},
		{"a@" + strings.Repeat(label+".", 4) + "pt", ""},
		{strings.Repeat("a", 10000) + "@exemplo.pt", ""},
		{strings.Repeat("😀", 10000), ""},
		{"maria@exem\u0301plo.pt", ""}, // combining mark
	}
	for _, tt := range tests {
		got, err := ParseEmail(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseEmail(%q) = %q; want error", tt.in, got)
			} else if !errors.Is(err, ErrBadEmail) {
				t.Errorf("ParseEmail(%q) error %v does not wrap ErrBadEmail", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseEmailEmojiLocalPart(t *testing.T) {
	// RFC 6532 permits any UTF-8 in the local part; it must at least not
	// panic and must round-trip if accepted.
	for _, in := range []string{"😀@exemplo.pt", "a😀b@exemplo.pt"} {
		got, err := ParseEmail(in)
		if err == nil && got != in {
			t.Errorf("ParseEmail(%q) = %q", in, got)
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{
		"maria@exemplo.pt", "Maria <maria@exemplo.pt>", "user@CAFÉ.PT", "a@b", "",
		"maria\u200b@exemplo.pt", "\"a\"@b.pt", "a@[1.2.3.4]", "a@Ⱥ.pt",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEmail(s)
		if err != nil {
			if !errors.Is(err, ErrBadEmail) {
				t.Fatalf("ParseEmail(%q) error %v does not wrap ErrBadEmail", s, err)
			}
			return
		}
		if len(got) > 254 || strings.Count(got, "@") != 1 {
			t.Fatalf("ParseEmail(%q) = %q", s, got)
		}
		again, err := ParseEmail(got)
		if err != nil || again != got {
			t.Fatalf("ParseEmail(%q) = %q, which re-parses to %q, %v", s, got, again, err)
		}
	})
}

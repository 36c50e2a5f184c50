package ptid

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadEmail is wrapped by every error [ParseEmail] returns.
var ErrBadEmail = errors.New("ptid: bad e-mail address")

// Limits from RFC 5321 §4.5.3.1, as amended by erratum 1690 for the path.
const (
	maxEmailLen = 254
	maxLocalLen = 64
	maxLabelLen = 63
)

// ParseEmail checks that s (after trimming spaces) is a bare e-mail address
// such as "maria.silva@exemplo.pt" and returns it with the domain in lower
// case; the local part is kept as typed, since servers may treat it as case
// sensitive. Internationalised domains written in Unicode are accepted.
// Display names, comments, quoted local parts and IP-literal domains are
// rejected: we only want something we can put in a To: header unchanged.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %q: %s", ErrBadEmail, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxEmailLen*4 {
		// Cheap early exit before any per-rune work on hostile input; the
		// exact limit is enforced on the normalised form below.
		return bad("too long")
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	for _, r := range s {
		// Format characters (zero-width space, RTL marks) make an address
		// display differently from what is sent, so they are refused too.
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return bad("contains spaces or invisible characters")
		}
	}
	at := strings.IndexByte(s, '@')
	if at < 0 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return bad("must contain exactly one @")
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" {
		return bad("empty local part")
	}
	if len(local) > maxLocalLen {
		return bad("local part longer than 64 bytes")
	}
	if err := checkDomain(domain); err != nil {
		return bad(err.Error())
	}
	addr := local + "@" + domain
	if len(addr) > maxEmailLen {
		return bad("longer than 254 bytes")
	}
	// net/mail enforces the RFC 5322 dot-atom rules for the local part
	// (no leading, trailing or doubled dots; no specials). Comparing the
	// result with the input is what rejects "Name <a@b.pt>" and "<a@b.pt>".
	parsed, err := mail.ParseAddress(addr)
	if err != nil {
		return bad(err.Error())
	}
	if parsed.Name != "" || parsed.Address != addr {
		return bad("not a bare address")
	}
	return addr, nil
}

// checkDomain requires at least two dot-separated labels of letters (any
// script, for IDN), digits and inner hyphens. Combining marks are refused,
// so decomposed (NFD) accents fail; browsers submit NFC.
func checkDomain(domain string) error {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return errors.New("domain needs a dot")
	}
	for _, l := range labels {
		if l == "" {
			return errors.New("empty domain label")
		}
		if len(l) > maxLabelLen {
			return errors.New("domain label longer than 63 bytes")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("domain label starts or ends with a hyphen")
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return fmt.Errorf("invalid character %q in domain", r)
			}
		}
	}
	return nil
}

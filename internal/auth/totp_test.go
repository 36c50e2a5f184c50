package auth_test

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"balcao/internal/auth"
)

// TestRFC6238AppendixB runs the SHA-1 test vectors of RFC 6238, Appendix B, through the
// package's TOTP: the 20-byte ASCII seed "12345678901234567890", 8 digits, 30-second step.
// https://www.rfc-editor.org/rfc/rfc6238#appendix-B
func TestRFC6238AppendixB(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		step string // T, as the RFC's table shows it in hex
		code string
	}{
		{59, "0000000000000001", "94287082"},
		{1111111109, "00000000023523EC", "07081804"},
		{1111111111, "00000000023523ED", "14050471"},
		{1234567890, "000000000273EF07", "89005924"},
		{2000000000, "0000000003F940AA", "69279037"},
		{20000000000, "0000000027BC86AA", "65353130"},
	} {
		at := time.Unix(v.unix, 0).UTC()
		if got := fmt.Sprintf("%016X", auth.TOTPStepAt(at)); got != v.step {
			t.Errorf("%s: step %s, want %s", at.Format(time.RFC3339), got, v.step)
		}
		if got := auth.TOTP(seed, at, 8); got != v.code {
			t.Errorf("%s (%d): TOTP %s, want %s", at.Format(time.RFC3339), v.unix, got, v.code)
		}
	}
}

// TestRFC4226AppendixD checks the HOTP values of RFC 4226, Appendix D (6 digits).
func TestRFC4226AppendixD(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, code := range want {
		if got := auth.HOTP([]byte("12345678901234567890"), uint64(counter), 6); got != code {
			t.Errorf("counter %d: %s, want %s", counter, got, code)
		}
	}
}

func TestVerifyTOTPSkewAndReuse(t *testing.T) {
	secret := auth.NewTOTPSecret()
	if len(secret) != 32 {
		t.Fatalf("secret %q: want 32 base32 characters (160 bits)", secret)
	}
	key := decode(t, secret)
	now := time.Date(2026, 11, 30, 9, 0, 10, 0, time.UTC)
	step := auth.TOTPStepAt(now)
	code := func(d time.Duration) string { return auth.TOTP(key, now.Add(d), 6) }
	for _, c := range []struct {
		name     string
		code     string
		lastStep int64
		ok       bool
		step     int64
	}{
		{"current step", code(0), 0, true, step},
		{"with spaces, as typed", code(0)[:3] + " " + code(0)[3:], 0, true, step},
		{"previous step (clock drift)", code(-30 * time.Second), 0, true, step - 1},
		{"next step (clock drift)", code(30 * time.Second), 0, true, step + 1},
		{"two steps ago", code(-60 * time.Second), 0, false, 0},
		{"two steps ahead", code(60 * time.Second), 0, false, 0},
		{"current step already used", code(0), step, false, 0},
		{"previous step, current used", code(-30 * time.Second), step, false, 0},
		{"next step, current used", code(30 * time.Second), step, true, step + 1},
		{"five digits", code(0)[:5], 0, false, 0},
		{"letters", "abcdef", 0, false, 0},
	} {
		got, ok := auth.VerifyTOTP(secret, c.code, now, c.lastStep)
		if ok != c.ok || got != c.step {
			t.Errorf("%s: (%d, %v), want (%d, %v)", c.name, got, ok, c.step, c.ok)
		}
	}
	if _, ok := auth.VerifyTOTP(strings.ToLower(auth.GroupSecret(secret)), code(0), now, 0); !ok {
		t.Error("a secret typed in lower case and in groups of four is refused")
	}
}

func TestTOTPURI(t *testing.T) {
	uri := auth.TOTPURI("Instituto: Atendimento", "ana@example.pt", "JBSWY3DPEHPK3PXP")
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Instituto Atendimento:ana@example.pt" ||
		q.Get("secret") != "JBSWY3DPEHPK3PXP" || q.Get("issuer") != "Instituto Atendimento" {
		t.Fatalf("URI %s: scheme %s, type %s, label %q, query %v", uri, u.Scheme, u.Host, u.Path, q)
	}
	if got := auth.GroupSecret("JBSWY3DPEHPK3PXP"); got != "JBSW Y3DP EHPK 3PXP" {
		t.Errorf("grouped secret %q", got)
	}
}

func TestQRCodeSVG(t *testing.T) {
	svg, err := auth.QRCodeSVG(auth.TOTPURI("balcao", "ana@example.pt", auth.NewTOTPSecret()), `QR "code" <label>`)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `, `role="img"`,
		`aria-label="QR &#34;code&#34; &lt;label&gt;"`, `<path fill="#000" d="M4 4h7v1h-7z`} {
		if !strings.Contains(s, want) {
			t.Errorf("the SVG lacks %s:\n%s", want, s[:min(len(s), 300)])
		}
	}
}

func decode(t *testing.T, secret string) []byte {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

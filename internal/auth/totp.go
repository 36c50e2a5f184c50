package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP as authenticator apps implement it: RFC 6238 over HOTP (RFC 4226) with
// HMAC-SHA-1, a 30-second step from the Unix epoch and 6 digits.
// https://www.rfc-editor.org/rfc/rfc6238#section-4
const (
	TOTPStep   = 30 * time.Second
	TOTPDigits = 6
	totpSkew   = 1  // steps accepted before and after the current one, for clock drift
	secretLen  = 20 // bytes: 160 bits, the HMAC-SHA-1 block size RFC 4226 recommends
)

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a random 160-bit key, base32-encoded as authenticator apps take it.
func NewTOTPSecret() string {
	b := make([]byte, secretLen)
	_, _ = rand.Read(b)
	return secretEncoding.EncodeToString(b)
}

// decodeSecret reads a base32 key, ignoring spaces, case and padding.
func decodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.TrimRight(strings.ReplaceAll(s, " ", ""), "="))
	b, err := secretEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("decode TOTP secret: %w", err)
	}
	return b, nil
}

// HOTP computes the RFC 4226 one-time password of key for counter, with digits digits:
// HMAC-SHA-1 of the big-endian counter, dynamically truncated (section 5.3).
// https://www.rfc-editor.org/rfc/rfc4226#section-5.3
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// TOTPStepAt is the RFC 6238 time step T of instant t: whole 30-second steps since the
// Unix epoch.
func TOTPStepAt(t time.Time) int64 { return t.Unix() / int64(TOTPStep/time.Second) }

// TOTP computes the code of key at instant t with digits digits.
func TOTP(key []byte, t time.Time, digits int) string {
	return HOTP(key, uint64(TOTPStepAt(t)), digits)
}

// VerifyTOTP checks a 6-digit code against the base32 secret at instant now, accepting
// the step before and the one after for clock drift, but no step at or before lastStep:
// a code, once used, is never accepted again. It returns the step that matched.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return 0, false
	}
	current := TOTPStepAt(now)
	var matched int64
	ok := 0
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		// Every candidate is computed and compared, so that the time taken tells nothing.
		eq := subtle.ConstantTimeCompare([]byte(HOTP(key, uint64(step), TOTPDigits)), []byte(code))
		if eq == 1 && step > lastStep && ok == 0 {
			matched, ok = step, 1
		}
	}
	return matched, ok == 1
}

// TOTPURI is the otpauth:// URI that enrols the secret in an authenticator app, labelled
// with the issuer (the agency) and the account (the staff member's e-mail).
// https://github.com/google/google-authenticator/wiki/Key-Uri-Format
func TOTPURI(issuer, account, secret string) string {
	// A colon separates issuer and account in the label: neither may hold one.
	issuer, account = strings.ReplaceAll(issuer, ":", ""), strings.ReplaceAll(account, ":", "")
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	// SHA1, 6 digits and 30 s are the defaults of the format: left out, the QR code is smaller.
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	return "otpauth://totp/" + label + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// GroupSecret writes a base32 secret in groups of four characters, for typing it in.
func GroupSecret(secret string) string {
	var b strings.Builder
	for i, r := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

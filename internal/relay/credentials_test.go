package relay

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCredentials(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	c, err := NewCredentials([]byte("0123456789abcdef0123"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	user, pass := c.Mint("appt-7/citizen", now.Add(4*time.Hour))
	if want := "1777903200:appt-7/citizen"; user != want {
		t.Fatalf("username %q, want %q (expiry in unix seconds, a colon, the id)", user, want)
	}
	other, err := NewCredentials([]byte("another secret of enough bytes"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	otherUser, otherPass := other.Mint("appt-7/citizen", now.Add(time.Hour))
	expUser, expPass := c.Mint("appt-7/citizen", now)
	pastUser, pastPass := c.Mint("appt-7/citizen", now.Add(-time.Minute))
	flip := []byte(pass)
	flip[3] ^= 1

	for _, tc := range []struct {
		name       string
		user, pass string
		wantID     string
		wantErr    error
	}{
		{name: "as minted", user: user, pass: pass, wantID: "appt-7/citizen"},
		{name: "one character of the password changed", user: user, pass: string(flip), wantErr: ErrForged},
		{name: "empty password", user: user, pass: "", wantErr: ErrForged},
		{name: "another participant's id with this password", user: strings.Replace(user, "citizen", "agent-1", 1), pass: pass, wantErr: ErrForged},
		{name: "expiry pushed later", user: "1777906800:appt-7/citizen", pass: pass, wantErr: ErrForged},
		{name: "minted with another secret", user: otherUser, pass: otherPass, wantErr: ErrForged},
		{name: "expiring this very second", user: expUser, pass: expPass, wantErr: ErrExpired},
		{name: "expired a minute ago", user: pastUser, pass: pastPass, wantErr: ErrExpired},
		{name: "no expiry", user: "appt-7/citizen", pass: pass, wantErr: ErrMalformed},
		{name: "expiry not a number", user: "soon:appt-7/citizen", pass: pass, wantErr: ErrMalformed},
		{name: "no id", user: "1777903200:", pass: pass, wantErr: ErrMalformed},
		{name: "empty", user: "", pass: "", wantErr: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := c.Check(tc.user, tc.pass)
			if !errors.Is(err, tc.wantErr) || id != tc.wantID {
				t.Fatalf("Check(%q) = %q, %v; want %q, %v", tc.user, id, err, tc.wantID, tc.wantErr)
			}
		})
	}

	// The same credentials, checked later, have expired.
	now = now.Add(4 * time.Hour)
	if _, err := c.Check(user, pass); !errors.Is(err, ErrExpired) {
		t.Fatalf("four hours later: %v, want ErrExpired", err)
	}
}

func TestCredentialsRefuseAShortSecret(t *testing.T) {
	if _, err := NewCredentials([]byte("short"), nil); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// The password is the TURN REST one that other servers (coturn's use-auth-secret)
// compute: base64(HMAC-SHA1(secret, username)). The value was computed with openssl:
// printf '1777903200:appt-7/citizen' | openssl dgst -sha1 -hmac 0123456789abcdef0123 -binary | base64
func TestCredentialsPasswordFormat(t *testing.T) {
	c, err := NewCredentials([]byte("0123456789abcdef0123"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.password("1777903200:appt-7/citizen"), opensslPassword; got != want {
		t.Fatalf("password %q, want %q", got, want)
	}
}

const opensslPassword = "+wabpXt9oe9ICywc0UsfgdQ2iXM="

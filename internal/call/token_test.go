package call

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	secret := bytes.Repeat([]byte{7}, 32)
	tokens, err := NewTokens(secret, clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokens(bytes.Repeat([]byte{8}, 32), clock)
	claims := Claims{Room: "appt-1", Participant: "citizen", Role: RoleCitizen, Name: "Ana Conceição"}
	tok, err := tokens.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, _ := strings.Cut(tok, ".")
	forged, _ := other.Issue(Claims{Room: "appt-1", Participant: "agent-x", Role: RoleAgent})
	fPayload, _, _ := strings.Cut(forged, ".")

	for _, tc := range []struct {
		name    string
		token   string
		at      time.Time
		want    error
		wantOut Claims
	}{
		{name: "valid", token: tok, at: now, wantOut: Claims{Room: "appt-1", Participant: "citizen", Role: RoleCitizen,
			Name: "Ana Conceição", Expires: now.Add(TokenTTL).Unix()}},
		{name: "valid a second before expiry", token: tok, at: now.Add(TokenTTL - time.Second), wantOut: Claims{Room: "appt-1",
			Participant: "citizen", Role: RoleCitizen, Name: "Ana Conceição", Expires: now.Add(TokenTTL).Unix()}},
		{name: "expired", token: tok, at: now.Add(TokenTTL), want: ErrExpiredToken},
		{name: "signed with another secret", token: forged, at: now, want: ErrBadToken},
		{name: "claims swapped under a valid signature", token: fPayload + "." + sig, at: now, want: ErrBadToken},
		{name: "signature cut", token: payload + "." + sig[:10], at: now, want: ErrBadToken},
		{name: "no signature", token: payload, at: now, want: ErrBadToken},
		{name: "empty", token: "", at: now, want: ErrBadToken},
		{name: "garbage", token: "a.b.c", at: now, want: ErrBadToken},
		{name: "too long", token: strings.Repeat("a", 5000) + "." + sig, at: now, want: ErrBadToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = tc.at
			defer func() { now = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }()
			got, err := tokens.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want error %v", err, tc.want)
			}
			if tc.want == nil && got != tc.wantOut {
				t.Errorf("claims = %+v, want %+v", got, tc.wantOut)
			}
		})
	}

	// A token for a role that does not exist is refused even when signed.
	bad, _ := tokens.Issue(Claims{Room: "r", Participant: "p", Role: "admin"})
	if _, err := tokens.Verify(bad); !errors.Is(err, ErrBadToken) {
		t.Errorf("unknown role: Verify = %v, want ErrBadToken", err)
	}
	// An invitation: a guest's claims, valid until a given time.
	until := now.Add(90 * time.Minute)
	inv, err := tokens.IssueUntil(Claims{Room: "appt-1", Participant: "guest-1", Role: RoleInterpreter, Guest: true}, until)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tokens.Verify(inv); err != nil || !c.Guest || c.isStaff() || c.Expires != until.Unix() {
		t.Errorf("invitation: claims %+v, %v; want a guest until %v", c, err, until)
	}
	now = until
	if _, err := tokens.Verify(inv); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("invitation at its expiry: Verify = %v, want ErrExpiredToken", err)
	}
	now = until.Add(-90 * time.Minute)
	if (Claims{Role: RoleInterpreter}).isStaff() != true || (Claims{Role: RoleCitizen}).isStaff() {
		t.Error("isStaff: the agency's interpreter is staff, a citizen is not")
	}
	if _, err := NewTokens([]byte("short"), nil); err == nil {
		t.Error("NewTokens accepted a 5-byte secret")
	}
}

// TestFirstName: the citizen is named in a call by the first word of their name alone.
func TestFirstName(t *testing.T) {
	for in, want := range map[string]string{"  Rui   Sá ": "Rui", "Ana": "Ana", "": "", "   ": ""} {
		if got := FirstName(in); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", in, got, want)
		}
	}
}

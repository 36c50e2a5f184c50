package call

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles of the participants of a call.
const (
	RoleCitizen     = "citizen"
	RoleAgent       = "agent"
	RoleInterpreter = "interpreter"
)

// TokenTTL is how long a join token is valid: a call and its reloads fit in it.
const TokenTTL = 4 * time.Hour

// Errors of token verification. They are never shown to users in detail.
var (
	ErrBadToken     = errors.New("call: malformed or forged token")
	ErrExpiredToken = errors.New("call: token expired")
)

// tokenPrefix separates these signatures from any other use of the secret.
const tokenPrefix = "balcao-call-v1."

// Claims is what a join token binds: the room (the appointment id), the participant
// and what they may do there.
type Claims struct {
	Room        string `json:"r"`
	Participant string `json:"p"`
	Role        string `json:"o"`
	Name        string `json:"n"`
	// Guest marks someone the agent invited with a link (an interpreter from outside
	// the agency): they wait in the lobby like a citizen and have no staff powers.
	Guest   bool  `json:"g,omitempty"`
	Expires int64 `json:"e"` // unix seconds
}

// Tokens issues and verifies join tokens: base64url(JSON claims) "." base64url(HMAC-SHA256
// of tokenPrefix + the first part, keyed with the server secret). They are bearer tokens:
// whoever holds one may join that room as that participant until it expires, so they
// travel only in a page marked no-store and in the WebSocket's first message, never in
// a URL, and are never logged.
type Tokens struct {
	secret []byte
	now    func() time.Time
}

// NewTokens returns an issuer keyed with secret (at least 32 bytes); now is the clock.
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("call: token secret of %d bytes, want at least 32", len(secret))
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: append([]byte(nil), secret...), now: now}, nil
}

// Issue signs claims valid for TokenTTL from now.
func (t *Tokens) Issue(c Claims) (string, error) { return t.IssueUntil(c, t.now().Add(TokenTTL)) }

// IssueUntil signs claims valid until the given time.
func (t *Tokens) IssueUntil(c Claims, until time.Time) (string, error) {
	c.Expires = until.Unix()
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.sign(payload)), nil
}

// Verify checks a token's signature and expiry and returns its claims.
func (t *Tokens) Verify(token string) (Claims, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return Claims{}, ErrBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.sign(payload)) {
		return Claims{}, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrBadToken
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.Room == "" || c.Participant == "" || !validRole(c.Role) {
		return Claims{}, ErrBadToken
	}
	if !t.now().Before(time.Unix(c.Expires, 0)) {
		return Claims{}, ErrExpiredToken
	}
	return c, nil
}

func (t *Tokens) sign(payload string) []byte {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(tokenPrefix))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func validRole(r string) bool {
	return r == RoleCitizen || r == RoleAgent || r == RoleInterpreter
}

// isStaff tells whether a participant works for the agency: an agent, or an
// interpreter on the staff (an invited guest is not).
func (c Claims) isStaff() bool { return !c.Guest && (c.Role == RoleAgent || c.Role == RoleInterpreter) }

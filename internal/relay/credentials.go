package relay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme is defined with HMAC-SHA1, which HMAC keeps sound
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of credential checks. A browser never sees them: the TURN server answers 401.
var (
	ErrMalformed = errors.New("relay: malformed username")
	ErrExpired   = errors.New("relay: credentials expired")
	ErrForged    = errors.New("relay: wrong password")
)

// MinSecret is the shortest secret accepted: shorter ones can be guessed offline from
// one username and password seen on the wire.
const MinSecret = 16

// Credentials mints and checks time-limited TURN credentials in the style of the TURN
// REST API (draft-uberti-behave-turn-rest-00, as coturn's use-auth-secret): the
// username is "<expiry in unix seconds>:<id>" and the password is
// base64(HMAC-SHA1(secret, username)). The server keeps no list of users, and a
// credential handed to a browser stops working on its own when it expires.
type Credentials struct {
	secret []byte
	now    func() time.Time
}

// NewCredentials returns a minter keyed with secret (at least MinSecret bytes); now is
// the clock that expiry is measured against (time.Now when nil).
func NewCredentials(secret []byte, now func() time.Time) (*Credentials, error) {
	if len(secret) < MinSecret {
		return nil, fmt.Errorf("relay: secret of %d bytes, want at least %d", len(secret), MinSecret)
	}
	if now == nil {
		now = time.Now
	}
	return &Credentials{secret: append([]byte(nil), secret...), now: now}, nil
}

// Mint returns a username and password for id, valid until the given second.
func (c *Credentials) Mint(id string, until time.Time) (username, password string) {
	username = strconv.FormatInt(until.Unix(), 10) + ":" + id
	return username, c.password(username)
}

// Check tells whether password is the one minted with username and the username has
// not expired, and returns the id it was minted for.
func (c *Credentials) Check(username, password string) (id string, err error) {
	id, err = c.valid(username)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(password), []byte(c.password(username))) {
		return "", ErrForged
	}
	return id, nil
}

// valid parses a username and refuses it once expired. The TURN server proves the
// password itself (the message integrity is keyed with it), so this is all it needs
// before deriving the key.
func (c *Credentials) valid(username string) (id string, err error) {
	exp, id, ok := strings.Cut(username, ":")
	if !ok || id == "" {
		return "", ErrMalformed
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || unix <= 0 {
		return "", ErrMalformed
	}
	if !c.now().Before(time.Unix(unix, 0)) {
		return "", ErrExpired
	}
	return id, nil
}

func (c *Credentials) password(username string) string {
	mac := hmac.New(sha1.New, c.secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"balcao/internal/store"
)

// Stages of a session: signed in, or between the password and the second factor.
const (
	StageFull  = "full"  // signed in
	StageTOTP  = "totp"  // password given; the TOTP code is next
	StageEnrol = "enrol" // password given; the role requires TOTP, which must be set up first
)

// Session is a staff member's sign-in, as the server keeps it. The token that names it
// lives only in the browser's cookie; the server keeps its SHA-256.
type Session struct {
	ID         string // hex SHA-256 of the token
	StaffID    string
	Stage      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end; the idle timeout may end it sooner
	UserAgent  string    // a summary such as "Firefox, Windows"
	IP         string
	// CSRF is the synchronizer token that the session's forms carry in their csrf field,
	// derived from the token (not from the stored hash).
	CSRF string
}

// newToken returns a new session token (256 random bits, base64url) and its id.
func newToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, sessionID(token)
}

func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CSRFToken is the synchronizer token bound to a session or login token: a hash of it
// in a domain of its own, so that it tells nothing of the token or of the stored id.
func CSRFToken(token string) string {
	sum := sha256.Sum256([]byte("balcao csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// LoginResult is a session just started: the token to put in the cookie, the session and
// whose it is.
type LoginResult struct {
	Token   string
	Session Session
	Staff   Staff
}

// Client is where a login comes from.
type Client struct {
	IP        string
	UserAgent string
}

// createSession starts a session at stage for the staff member in tx.
func (s *Service) createSession(ctx context.Context, tx *store.Tx, staffID, stage string, c Client) (string, Session, error) {
	token, id := newToken()
	now := s.now().UTC().Truncate(time.Second)
	life := SessionLifetime
	if stage != StageFull {
		life = PendingLifetime
	}
	sess := Session{ID: id, StaffID: staffID, Stage: stage, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(life),
		UserAgent: SummarizeUserAgent(c.UserAgent), IP: c.IP, CSRF: CSRFToken(token)}
	_, err := tx.Exec(ctx, `INSERT INTO staff_sessions (id, staff_id, stage, created_at, last_seen_at, expires_at, user_agent, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, staffID, stage, unix(now), unix(now), unix(sess.ExpiresAt), sess.UserAgent, c.IP)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return token, sess, nil
}

// Authenticate finds the live session named by token and its staff member, and notes
// the use, which keeps the session from going idle. A session that was revoked, ended,
// went idle, or whose staff member was disabled comes back as ErrNoSession.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, Staff, error) {
	if token == "" || len(token) > 100 {
		return Session{}, Staff{}, ErrNoSession
	}
	id := sessionID(token)
	row := s.db.QueryRow(ctx, `SELECT ss.staff_id, ss.stage, ss.created_at, ss.last_seen_at, ss.expires_at, ss.user_agent, ss.ip,
		`+prefixed("staff.", staffColumns)+`
		FROM staff_sessions ss JOIN staff ON staff.id = ss.staff_id WHERE ss.id = ? AND ss.revoked_at = 0`, id)
	sess := Session{ID: id, CSRF: CSRFToken(token)}
	var created, seen, expires int64
	var a account
	var disabledAt, lockedUntil int64
	err := row.Scan(&sess.StaffID, &sess.Stage, &created, &seen, &expires, &sess.UserAgent, &sess.IP,
		&a.ID, &a.Name, &a.Email, &a.LocationID, &a.Role, &a.Active, &disabledAt, &a.passwordHash, &a.TOTPEnabled, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, Staff{}, ErrNoSession
	}
	if err != nil {
		return Session{}, Staff{}, fmt.Errorf("find session: %w", err)
	}
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
	a.Active = a.Active && disabledAt == 0
	a.HasPassword = a.passwordHash != ""
	a.LockedUntil = fromUnix(lockedUntil)
	now := s.now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(IdleTimeout)) || !a.Active {
		return Session{}, Staff{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if _, err := s.db.Exec(ctx, "UPDATE staff_sessions SET last_seen_at = ? WHERE id = ? AND revoked_at = 0", unix(now), id); err != nil {
			return Session{}, Staff{}, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = now.UTC().Truncate(time.Second)
	}
	return sess, a.Staff, nil
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Revoke ends the session named by token (signing out); an unknown token is no error.
func (s *Service) Revoke(ctx context.Context, token string) error {
	return s.RevokeSession(ctx, sessionID(token))
}

// RevokeSession ends the session with id.
func (s *Service) RevokeSession(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE id = ? AND revoked_at = 0", unix(s.now()), id); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeAll ends every session of a staff member ("sign out everywhere") and reports how
// many were live.
func (s *Service) RevokeAll(ctx context.Context, staffID string) (int, error) {
	res, err := s.db.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE staff_id = ? AND revoked_at = 0 AND expires_at > ?",
		unix(s.now()), staffID, unix(s.now()))
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", staffID, err)
	}
	n, _ := res.RowsAffected()
	s.logger.Info("staff sessions revoked", "staff", staffID, "sessions", n)
	return int(n), nil
}

// Sessions lists a staff member's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, staffID string) ([]Session, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT id, stage, created_at, last_seen_at, expires_at, user_agent, ip FROM staff_sessions
		WHERE staff_id = ? AND revoked_at = 0 AND expires_at > ? AND last_seen_at > ? ORDER BY created_at DESC, id`,
		staffID, unix(now), unix(now.Add(-IdleTimeout)))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		ss := Session{StaffID: staffID}
		var created, seen, expires int64
		if err := rows.Scan(&ss.ID, &ss.Stage, &created, &seen, &expires, &ss.UserAgent, &ss.IP); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// Prune deletes sessions that ended more than a day ago and failed logins older than the
// throttle's window.
func (s *Service) Prune(ctx context.Context) error {
	cutoff := unix(s.now().Add(-24 * time.Hour))
	if _, err := s.db.Exec(ctx, "DELETE FROM staff_sessions WHERE expires_at < ? OR (revoked_at <> 0 AND revoked_at < ?)", cutoff, cutoff); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if _, err := s.db.Exec(ctx, "DELETE FROM login_failures WHERE at < ?", unix(s.now().Add(-IPWindow))); err != nil {
		return fmt.Errorf("prune login failures: %w", err)
	}
	return nil
}

// ThrottleKey is the address failed logins are counted by: the IP, or for IPv6 its /64,
// which one client usually holds whole.
func ThrottleKey(ip string) string {
	addr := net.ParseIP(ip)
	if addr == nil {
		return ip
	}
	if v4 := addr.To4(); v4 != nil {
		return v4.String()
	}
	return addr.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// SummarizeUserAgent shortens a User-Agent header to browser and system, such as
// "Firefox, Windows", which is all a list of sessions needs.
func SummarizeUserAgent(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"}, {"CrOS", "ChromeOS"},
		{"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + ", " + system
	case browser != "" || system != "":
		return browser + system
	}
	if len(ua) > 40 {
		ua = ua[:40]
	}
	return strings.ToValidUTF8(ua, "")
}

// Package auth is how staff sign in: accounts with argon2id passwords and an optional
// TOTP second factor (RFC 6238), login with throttling and lockout, server-side sessions
// with idle and absolute expiry, and the per-role rule that makes the second factor
// mandatory. Its rules take and return plain values and are tested on both engines; the
// staff pages (login, second factor, landing page, account) sit in the web*.go files,
// and other features guard their pages with RequireRole and read the signed-in staff
// member with StaffFromRequest.
package auth

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"balcao/internal/directory"
	"balcao/internal/store"
)

// Roles of staff members, as the staff table has them.
const (
	RoleAgent         = directory.RoleAgent
	RoleInterpreter   = directory.RoleInterpreter
	RoleSupervisor    = directory.RoleSupervisor
	RoleAdministrator = directory.RoleAdministrator
)

// Roles lists every role, least privileged first.
var Roles = []string{RoleAgent, RoleInterpreter, RoleSupervisor, RoleAdministrator}

// ValidRole tells whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Errors of the package. Login answers ErrInvalidLogin alike for an unknown e-mail, a
// wrong password, a disabled account and a locked one, so that accounts cannot be probed.
var (
	ErrInvalidLogin    = errors.New("invalid login")
	ErrThrottled       = errors.New("too many failed logins from this address")
	ErrInvalidCode     = errors.New("invalid second-factor code")
	ErrInvalidPassword = errors.New("wrong password")
	ErrNoSession       = errors.New("no such session")
	ErrWrongStage      = errors.New("session is not at this step of the login")
	ErrTOTPEnabled     = errors.New("second factor already enabled")
	ErrTOTPNotEnabled  = errors.New("second factor not enabled")
	ErrTOTPRequired    = errors.New("second factor required for this role")
	ErrEmailTaken      = errors.New("e-mail already used by another staff member")
	ErrUnknownLocation = errors.New("unknown location")
	ErrUnknownRole     = errors.New("unknown role")
	ErrInvalidEmail    = errors.New("invalid e-mail address")
	ErrNameRequired    = errors.New("name required")
)

// Staff is a staff member as sign-in sees them.
type Staff struct {
	ID          string
	Name        string
	Email       string
	LocationID  string
	Role        string
	Active      bool // neither disabled nor made inactive by the configuration
	TOTPEnabled bool // a confirmed second factor
	HasPassword bool
	LockedUntil time.Time // zero when not locked
}

// Limits of login and sessions.
const (
	MaxFailures     = 5                // failed logins in a row that lock an account
	LockDuration    = 15 * time.Minute // how long a locked account stays locked
	IPWindow        = 15 * time.Minute // the per-address throttle counts failures this far back
	MaxIPFailures   = 30               // failed logins from one address in IPWindow before it is throttled
	IdleTimeout     = 30 * time.Minute // a session unused this long ends
	SessionLifetime = 12 * time.Hour   // a session ends this long after sign-in, used or not
	PendingLifetime = 10 * time.Minute // time to give the second factor after the password
	touchEvery      = time.Minute      // last_seen_at is written at most this often
)

// Service holds the rules of staff accounts and sessions over the database.
type Service struct {
	db     *store.DB
	now    func() time.Time
	logger *slog.Logger
	// lastPrune is when Login last pruned old sessions and failures (unix seconds).
	lastPrune atomic.Int64
	auditor   Auditor // nil: sign-in events are only logged
}

// NewService returns the service; now may be nil for the real clock and logger nil to
// log nothing.
func NewService(db *store.DB, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, now: now, logger: logger}
}

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

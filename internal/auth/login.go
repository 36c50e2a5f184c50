package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"balcao/internal/store"
)

// Login checks an e-mail and password and starts a session: signed in, or waiting for
// the TOTP code (StageTOTP) or for TOTP to be set up (StageEnrol) when the staff member
// has a second factor or their role requires one.
//
// An unknown e-mail, a wrong password, a disabled account and a locked one all answer
// ErrInvalidLogin, after the same argon2id work. MaxFailures failures in a row lock the
// account for LockDuration, during which even the right password is refused. An address
// with MaxIPFailures failures in IPWindow gets ErrThrottled before any check.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (LoginResult, error) {
	s.pruneNow(ctx)
	key := ThrottleKey(c.IP)
	if n, err := s.ipFailures(ctx, key); err != nil {
		return LoginResult{}, err
	} else if n >= MaxIPFailures {
		s.logger.Warn("staff login throttled", "ip", key)
		return LoginResult{}, ErrThrottled
	}
	a, err := accountByEmail(ctx, s.db, email)
	if errors.Is(err, store.ErrNotFound) {
		// The same work as a wrong password: a hash and the same writes.
		CheckPassword(dummyHash(), password)
		s.logger.Info("staff login failed", "reason", "unknown account", "ip", key)
		s.auditBestEffort(ctx, AuditEvent{Action: EventLoginFailed, IP: c.IP, Details: "reason=unknown_account"})
		return LoginResult{}, invalid(errors.Join(s.recordFailure(ctx, ""), s.recordIPFailure(ctx, key)))
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	hash := a.passwordHash
	if hash == "" {
		hash = dummyHash()
	}
	ok := CheckPassword(hash, password) && a.passwordHash != ""
	now := s.now()
	switch {
	case a.LockedUntil.After(now):
		s.logger.Info("staff login failed", "staff", a.ID, "reason", "locked", "ip", key)
		s.auditBestEffort(ctx, AuditEvent{Actor: a.ID, Action: EventLoginFailed, IP: c.IP, Details: "reason=locked"})
		return LoginResult{}, invalid(s.recordIPFailure(ctx, key))
	case !ok:
		s.logger.Info("staff login failed", "staff", a.ID, "reason", "wrong password", "ip", key)
		s.auditBestEffort(ctx, AuditEvent{Actor: a.ID, Action: EventLoginFailed, IP: c.IP, Details: "reason=wrong_password"})
		return LoginResult{}, invalid(errors.Join(s.recordFailure(ctx, a.ID), s.recordIPFailure(ctx, key)))
	case !a.Active:
		s.logger.Info("staff login failed", "staff", a.ID, "reason", "disabled", "ip", key)
		s.auditBestEffort(ctx, AuditEvent{Actor: a.ID, Action: EventLoginFailed, IP: c.IP, Details: "reason=disabled"})
		return LoginResult{}, invalid(s.recordIPFailure(ctx, key))
	}
	stage := StageFull
	if a.TOTPEnabled {
		stage = StageTOTP
	} else if required, err := s.TOTPRequired(ctx, a.Role); err != nil {
		return LoginResult{}, err
	} else if required {
		stage = StageEnrol
	}
	var res LoginResult
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE staff SET failed_logins = 0 WHERE id = ?", a.ID); err != nil {
			return err
		}
		var err error
		res.Token, res.Session, err = s.createSession(ctx, tx, a.ID, stage, c)
		return err
	})
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	res.Staff = a.Staff
	if NeedsRehash(a.passwordHash) {
		if h, err := HashPassword(password); err == nil {
			if _, err := s.db.Exec(ctx, "UPDATE staff SET password_hash = ? WHERE id = ? AND password_hash = ?", h, a.ID, a.passwordHash); err != nil {
				s.logger.Error("rehash password", "staff", a.ID, "error", err)
			}
		}
	}
	s.logger.Info("staff password accepted", "staff", a.ID, "stage", stage)
	if stage == StageFull {
		if err := s.audit(ctx, AuditEvent{Actor: a.ID, Action: EventLogin, IP: c.IP, Details: "second_factor=no"}); err != nil {
			return LoginResult{}, errors.Join(err, s.RevokeSession(ctx, res.Session.ID))
		}
	}
	return res, nil
}

// VerifyTOTPLogin takes the TOTP code of a session waiting for it (StageTOTP) and, when
// the code is right and was not used before, replaces the session with a signed-in one.
// A wrong code counts as a failed login: at the MaxFailures-th the account locks, the
// waiting session ends and the answer is ErrInvalidLogin; before that it is ErrInvalidCode.
func (s *Service) VerifyTOTPLogin(ctx context.Context, token, code string, c Client) (LoginResult, error) {
	sess, _, err := s.Authenticate(ctx, token)
	if err != nil {
		return LoginResult{}, err
	}
	if sess.Stage != StageTOTP {
		return LoginResult{}, ErrWrongStage
	}
	var secret sql.NullString
	var lastStep int64
	if err := s.db.QueryRow(ctx, "SELECT totp_secret, totp_last_step FROM staff WHERE id = ?", sess.StaffID).Scan(&secret, &lastStep); err != nil {
		return LoginResult{}, fmt.Errorf("verify TOTP: %w", err)
	}
	a, err := accountByID(ctx, s.db, sess.StaffID)
	if err != nil {
		return LoginResult{}, fmt.Errorf("verify TOTP: %w", err)
	}
	key := ThrottleKey(c.IP)
	if a.LockedUntil.After(s.now()) || !a.TOTPEnabled {
		return LoginResult{}, invalid(s.RevokeSession(ctx, sess.ID))
	}
	step, ok := VerifyTOTP(secret.String, code, s.now(), lastStep)
	if !ok {
		s.logger.Info("staff login failed", "staff", a.ID, "reason", "wrong TOTP code", "ip", key)
		s.auditBestEffort(ctx, AuditEvent{Actor: a.ID, Action: EventLoginFailed, IP: c.IP, Details: "reason=wrong_code"})
		if err := errors.Join(s.recordFailure(ctx, a.ID), s.recordIPFailure(ctx, key)); err != nil {
			return LoginResult{}, err
		}
		if a, err := accountByID(ctx, s.db, sess.StaffID); err == nil && a.LockedUntil.After(s.now()) {
			return LoginResult{}, invalid(s.RevokeSession(ctx, sess.ID))
		}
		return LoginResult{}, ErrInvalidCode
	}
	var res LoginResult
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// The step is claimed in the same statement that checks it: of two requests with
		// one code, only one gets in.
		r, err := tx.Exec(ctx, "UPDATE staff SET totp_last_step = ?, failed_logins = 0 WHERE id = ? AND totp_last_step < ?", step, a.ID, step)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrInvalidCode
		}
		if _, err := tx.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE id = ?", unix(s.now()), sess.ID); err != nil {
			return err
		}
		res.Token, res.Session, err = s.createSession(ctx, tx, a.ID, StageFull, c)
		return err
	})
	if err != nil {
		return LoginResult{}, fmt.Errorf("verify TOTP: %w", err)
	}
	res.Staff = a.Staff
	s.logger.Info("staff signed in", "staff", a.ID, "second_factor", true)
	if err := s.audit(ctx, AuditEvent{Actor: a.ID, Action: EventLogin, IP: c.IP, Details: "second_factor=totp"}); err != nil {
		return LoginResult{}, errors.Join(err, s.RevokeSession(ctx, res.Session.ID))
	}
	return res, nil
}

// recordFailure counts a failed login against an account, locking it at MaxFailures; an
// unknown id changes nothing.
func (s *Service) recordFailure(ctx context.Context, staffID string) error {
	until := unix(s.now().Add(LockDuration))
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var locked int64
		err := tx.QueryRow(ctx, `UPDATE staff SET
			failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END,
			locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END
			WHERE id = ? RETURNING locked_until`, MaxFailures, MaxFailures, until, staffID).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no such account (see Login)
		}
		if err != nil {
			return fmt.Errorf("record failed login: %w", err)
		}
		if locked == until {
			tx.AfterCommit(func() {
				s.logger.Warn("staff account locked", "staff", staffID, "until", fromUnix(until))
				s.auditBestEffort(ctx, AuditEvent{Actor: staffID, Action: EventAccountLocked, Details: fmt.Sprintf("minutes=%d", int(LockDuration.Minutes()))})
			})
		}
		return nil
	})
}

func (s *Service) recordIPFailure(ctx context.Context, key string) error {
	if _, err := s.db.Exec(ctx, "INSERT INTO login_failures (id, ip, at) VALUES (?, ?, ?)", store.NewID(), key, unix(s.now())); err != nil {
		return fmt.Errorf("record failed login: %w", err)
	}
	return nil
}

func (s *Service) ipFailures(ctx context.Context, key string) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM login_failures WHERE ip = ? AND at > ?", key, unix(s.now().Add(-IPWindow))).Scan(&n); err != nil {
		return 0, fmt.Errorf("count failed logins: %w", err)
	}
	return n, nil
}

// invalid is ErrInvalidLogin, unless noting the failure failed.
func invalid(err error) error {
	if err != nil {
		return err
	}
	return ErrInvalidLogin
}

// pruneNow prunes old sessions and failures at most once an hour.
func (s *Service) pruneNow(ctx context.Context) {
	now := s.now().Unix()
	last := s.lastPrune.Load()
	if now-last < int64(time.Hour/time.Second) && now >= last || !s.lastPrune.CompareAndSwap(last, now) {
		return
	}
	if err := s.Prune(ctx); err != nil {
		s.logger.Error("prune sessions", "error", err)
	}
}

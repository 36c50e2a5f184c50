package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"balcao/internal/store"
)

const totpRequiredKey = "auth.totp_required."

// TOTPRequired tells whether staff with role must sign in with a second factor.
func (s *Service) TOTPRequired(ctx context.Context, role string) (bool, error) {
	var v string
	err := s.db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", totpRequiredKey+role).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read TOTP setting of %s: %w", role, err)
	}
	return v == "true", nil
}

// SetTOTPRequired sets whether staff with role must sign in with a second factor. Those
// without one are asked to set it up at their next sign-in.
func (s *Service) SetTOTPRequired(ctx context.Context, role string, required bool) error {
	if !ValidRole(role) {
		return ErrUnknownRole
	}
	_, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, totpRequiredKey+role, fmt.Sprint(required))
	if err != nil {
		return fmt.Errorf("set TOTP setting of %s: %w", role, err)
	}
	return nil
}

// BeginTOTP returns the secret a staff member enrols in their authenticator app: the one
// already waiting for confirmation, so that reloading the page does not change it, or a
// new one.
func (s *Service) BeginTOTP(ctx context.Context, staffID string) (string, error) {
	var secret string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var current sql.NullString
		var confirmed bool
		err := tx.QueryRow(ctx, "SELECT totp_secret, totp_confirmed FROM staff WHERE id = ?", staffID).Scan(&current, &confirmed)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		switch {
		case err != nil:
			return err
		case confirmed:
			return ErrTOTPEnabled
		case current.Valid && current.String != "":
			secret = current.String
			return nil
		}
		secret = NewTOTPSecret()
		_, err = tx.Exec(ctx, "UPDATE staff SET totp_secret = ?, totp_last_step = 0 WHERE id = ?", secret, staffID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("begin TOTP enrolment: %w", err)
	}
	return secret, nil
}

// ConfirmTOTP turns on the second factor that BeginTOTP started, once the staff member
// types a code their app shows. When sess is waiting for enrolment (StageEnrol) it is
// replaced by a signed-in session, whose token is returned; otherwise the token is "".
func (s *Service) ConfirmTOTP(ctx context.Context, sess Session, code string, c Client) (string, error) {
	var secret sql.NullString
	var confirmed bool
	if err := s.db.QueryRow(ctx, "SELECT totp_secret, totp_confirmed FROM staff WHERE id = ?", sess.StaffID).Scan(&secret, &confirmed); err != nil {
		return "", fmt.Errorf("confirm TOTP: %w", err)
	}
	if confirmed {
		return "", ErrTOTPEnabled
	}
	step, ok := VerifyTOTP(secret.String, code, s.now(), 0)
	if !secret.Valid || !ok {
		return "", ErrInvalidCode
	}
	var token string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE staff SET totp_confirmed = TRUE, totp_last_step = ?
			WHERE id = ? AND totp_confirmed = FALSE AND totp_secret = ?`, step, sess.StaffID, secret.String)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrInvalidCode
		}
		if sess.Stage != StageEnrol {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE id = ?", unix(s.now()), sess.ID); err != nil {
			return err
		}
		token, _, err = s.createSession(ctx, tx, sess.StaffID, StageFull, c)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("confirm TOTP: %w", err)
	}
	s.logger.Info("staff second factor enabled", "staff", sess.StaffID)
	err = s.audit(ctx, AuditEvent{Actor: sess.StaffID, Action: EventTOTPEnabled, IP: c.IP})
	if err == nil && token != "" {
		err = s.audit(ctx, AuditEvent{Actor: sess.StaffID, Action: EventLogin, IP: c.IP, Details: "second_factor=totp_enrolled"})
	}
	if err != nil {
		if token != "" {
			err = errors.Join(err, s.RevokeSession(ctx, sessionID(token)))
		}
		return "", err
	}
	return token, nil
}

// DisableTOTP turns off a staff member's second factor, given their password. It is
// refused while their role requires one. A wrong password counts as a failed login.
func (s *Service) DisableTOTP(ctx context.Context, staffID, password string) error {
	a, err := accountByID(ctx, s.db, staffID)
	if err != nil {
		return fmt.Errorf("disable TOTP: %w", err)
	}
	if !a.TOTPEnabled {
		return ErrTOTPNotEnabled
	}
	if required, err := s.TOTPRequired(ctx, a.Role); err != nil {
		return err
	} else if required {
		return ErrTOTPRequired
	}
	ok := CheckPassword(a.passwordHash, password)
	if a.LockedUntil.After(s.now()) {
		return ErrInvalidPassword
	}
	if !ok {
		if err := s.recordFailure(ctx, staffID); err != nil {
			return err
		}
		return ErrInvalidPassword
	}
	if err := s.ResetTOTP(ctx, staffID); err != nil {
		return err
	}
	return s.audit(ctx, AuditEvent{Actor: staffID, Action: EventTOTPDisabled})
}

// ResetTOTP removes a staff member's second factor (a lost phone): if their role
// requires one, they set up a new one at their next sign-in.
func (s *Service) ResetTOTP(ctx context.Context, staffID string) error {
	r, err := s.db.Exec(ctx, "UPDATE staff SET totp_secret = NULL, totp_confirmed = FALSE, totp_last_step = 0 WHERE id = ?", staffID)
	if err != nil {
		return fmt.Errorf("reset TOTP of %s: %w", staffID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("reset TOTP of %s: %w", staffID, store.ErrNotFound)
	}
	s.logger.Info("staff second factor removed", "staff", staffID)
	return nil
}

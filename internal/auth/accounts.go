package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"balcao/internal/store"
)

const staffColumns = `id, name, email, location_id, role, active, disabled_at, password_hash, totp_confirmed, locked_until`

// account is a staff row with what sign-in needs beyond Staff.
type account struct {
	Staff
	passwordHash string
	disabled     bool
}

func scanAccount(row interface{ Scan(...any) error }) (account, error) {
	var a account
	var disabledAt, lockedUntil int64
	err := row.Scan(&a.ID, &a.Name, &a.Email, &a.LocationID, &a.Role, &a.Active, &disabledAt, &a.passwordHash,
		&a.TOTPEnabled, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	if err != nil {
		return a, err
	}
	a.disabled = disabledAt != 0
	a.Active = a.Active && !a.disabled
	a.HasPassword = a.passwordHash != ""
	a.LockedUntil = fromUnix(lockedUntil)
	return a, nil
}

// normalizeEmail is the form e-mail addresses are compared in.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func accountByEmail(ctx context.Context, q store.Queryer, email string) (account, error) {
	return scanAccount(q.QueryRow(ctx, "SELECT "+staffColumns+" FROM staff WHERE email <> '' AND lower(email) = ?", normalizeEmail(email)))
}

func accountByID(ctx context.Context, q store.Queryer, id string) (account, error) {
	return scanAccount(q.QueryRow(ctx, "SELECT "+staffColumns+" FROM staff WHERE id = ?", id))
}

// StaffByEmail finds a staff member by e-mail address, in any letter case.
func (s *Service) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	a, err := accountByEmail(ctx, s.db, email)
	if err != nil {
		return Staff{}, fmt.Errorf("find staff by e-mail: %w", err)
	}
	return a.Staff, nil
}

// StaffByID finds a staff member by id.
func (s *Service) StaffByID(ctx context.Context, id string) (Staff, error) {
	a, err := accountByID(ctx, s.db, id)
	if err != nil {
		return Staff{}, fmt.Errorf("find staff %s: %w", id, err)
	}
	return a.Staff, nil
}

// ListStaff lists every staff member, by name.
func (s *Service) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := s.db.Query(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list staff: %w", err)
		}
		out = append(out, a.Staff)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

// NewStaff is a staff account to create.
type NewStaff struct {
	Email, Name, Role, LocationID, Password string
}

// CreateStaff adds a staff member who can sign in: the e-mail must be free, the role and
// location known, and the password must pass CheckPasswordPolicy.
func (s *Service) CreateStaff(ctx context.Context, n NewStaff) (Staff, error) {
	n.Email, n.Name = strings.TrimSpace(n.Email), strings.TrimSpace(n.Name)
	if addr, err := mail.ParseAddress(n.Email); err != nil || addr.Address != n.Email {
		return Staff{}, ErrInvalidEmail
	}
	if n.Name == "" {
		return Staff{}, ErrNameRequired
	}
	if !ValidRole(n.Role) {
		return Staff{}, ErrUnknownRole
	}
	if err := CheckPasswordPolicy(n.Password, n.Email, n.Name); err != nil {
		return Staff{}, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return Staff{}, err
	}
	id := store.NewID()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var locations int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM locations WHERE id = ?", n.LocationID).Scan(&locations); err != nil {
			return err
		}
		if locations == 0 {
			return ErrUnknownLocation
		}
		if _, err := accountByEmail(ctx, tx, n.Email); err == nil {
			return ErrEmailTaken
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staff (id, name, email, location_id, role, password_hash, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, n.Name, n.Email, n.LocationID, n.Role, hash, unix(s.now()))
		if store.IsUniqueViolation(err) {
			return ErrEmailTaken
		}
		return err
	})
	if err != nil {
		return Staff{}, fmt.Errorf("create staff: %w", err)
	}
	s.logger.Info("staff account created", "staff", id, "role", n.Role)
	return s.StaffByID(ctx, id)
}

// SetPassword gives a staff member a new password (which must pass the policy), clears
// any lockout and ends every session they have.
func (s *Service) SetPassword(ctx context.Context, staffID, password string) error {
	a, err := accountByID(ctx, s.db, staffID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := CheckPasswordPolicy(password, a.Email, a.Name); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.setPasswordHash(ctx, staffID, hash); err != nil {
		return err
	}
	s.logger.Info("staff password changed", "staff", staffID)
	return nil
}

// setPasswordHash stores a hash as the staff member's password, unlocks the account and
// revokes their sessions.
func (s *Service) setPasswordHash(ctx context.Context, staffID, hash string) error {
	now := unix(s.now())
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE staff SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = 0
			WHERE id = ?`, hash, now, staffID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE staff_id = ? AND revoked_at = 0", now, staffID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", staffID, err)
	}
	return nil
}

// Disable stops a staff member from signing in and ends every session they have. The
// account stays disabled even if a configuration file lists the staff member again.
func (s *Service) Disable(ctx context.Context, staffID string) error {
	now := unix(s.now())
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE staff SET active = FALSE,
			disabled_at = CASE WHEN disabled_at = 0 THEN ? ELSE disabled_at END WHERE id = ?`, now, staffID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, "UPDATE staff_sessions SET revoked_at = ? WHERE staff_id = ? AND revoked_at = 0", now, staffID)
		return err
	})
	if err != nil {
		return fmt.Errorf("disable staff %s: %w", staffID, err)
	}
	s.logger.Info("staff account disabled", "staff", staffID)
	return nil
}

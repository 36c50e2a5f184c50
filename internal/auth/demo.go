package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const demoPasswordsKey = "auth.demo_passwords"

// SetDemoPasswords gives the staff members with these ids an already hashed password
// (the demo agency's shared one, which skips the policy) and notes that the demo logins
// exist, for the welcome message of later starts.
func (s *Service) SetDemoPasswords(ctx context.Context, hash string, staffIDs ...string) error {
	for _, id := range staffIDs {
		if err := s.setPasswordHash(ctx, id, hash); err != nil {
			return err
		}
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, 'true')
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, demoPasswordsKey); err != nil {
		return fmt.Errorf("note demo passwords: %w", err)
	}
	s.logger.Info("demo staff passwords set", "staff", len(staffIDs))
	return nil
}

// HasDemoPasswords tells whether SetDemoPasswords ran on this database.
func (s *Service) HasDemoPasswords(ctx context.Context) (bool, error) {
	var v string
	err := s.db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", demoPasswordsKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read demo passwords setting: %w", err)
	}
	return v == "true", nil
}

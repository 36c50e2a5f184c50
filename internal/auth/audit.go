package auth

import (
	"context"
	"fmt"
)

// Sign-in events for the audit log, as AuditEvent.Action has them.
const (
	EventLogin            = "login"             // signed in, every step of the login passed
	EventLoginFailed      = "login_failed"      // Details: reason=...
	EventAccountLocked    = "account_locked"    // MaxFailures failures in a row
	EventLogout           = "logout"            // one session ended
	EventLogoutEverywhere = "logout_everywhere" // every session ended
	EventTOTPEnabled      = "totp_enabled"
	EventTOTPDisabled     = "totp_disabled"
)

// AuditEvent is a sign-in event. Actor is the staff member's id, or "" for an e-mail
// that names no account (the e-mail itself is never recorded).
type AuditEvent struct {
	Actor   string
	Action  string
	IP      string
	Details string // ids and reasons only
}

// Auditor records sign-in events; the app hands the service one that writes the audit
// log (package audit), which auth does not import.
type Auditor interface {
	AuditSignIn(ctx context.Context, e AuditEvent) error
}

// SetAuditor makes the service record sign-in events with a.
func (s *Service) SetAuditor(a Auditor) { s.auditor = a }

// audit records an event. Successes fail without their record (a sign-in that cannot be
// traced does not happen); a failure's record that cannot be written is only logged, so
// that the visitor still gets their answer.
func (s *Service) audit(ctx context.Context, e AuditEvent) error {
	if s.auditor == nil {
		return nil
	}
	if err := s.auditor.AuditSignIn(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// auditBestEffort records an event that must not stop the answer (a failed login, a
// sign-out), logging rather than returning an error.
func (s *Service) auditBestEffort(ctx context.Context, e AuditEvent) {
	if err := s.audit(ctx, e); err != nil {
		s.logger.Error("audit sign-in failure", "action", e.Action, "error", err)
	}
}

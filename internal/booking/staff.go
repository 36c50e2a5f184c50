package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"balcao/internal/secret"
	"balcao/internal/store"
)

// This file is the staff's side of appointments: reading one without its tokens,
// changing it on the citizen's behalf, the states an agent's agenda shows (the citizen
// in the lobby, in the call, done, no-show) and the extra join links sent to a citizen
// who has not joined.

// ErrNoStaff is a staff operation without the staff member's identity.
var ErrNoStaff = errors.New("staff identity required")

// actor is who changes an appointment: the citizen with the manage token, or a member
// of staff on the citizen's behalf.
type actor struct {
	token   string
	staffID string
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func byID(ctx context.Context, q store.Queryer, id string) (Appointment, error) {
	a, err := scanAppointment(q.QueryRow(ctx, "SELECT "+appointmentColumns+" FROM appointments WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Appointment{}, fmt.Errorf("appointment %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("read appointment %q: %w", id, err)
	}
	return a, nil
}

// ByID returns an appointment for a member of staff, who holds none of its tokens: the
// caller has checked that they may see it.
func (s *Service) ByID(ctx context.Context, id string) (Appointment, error) {
	return byID(ctx, s.db, id)
}

// CancelByStaff cancels a booked appointment that has not started on the citizen's
// behalf; staffID is recorded as who changed it. The citizen is told as for their own
// cancellation.
func (s *Service) CancelByStaff(ctx context.Context, id, staffID string) (Appointment, error) {
	if staffID == "" {
		return Appointment{}, ErrNoStaff
	}
	return s.cancel(ctx, id, actor{staffID: staffID})
}

// RescheduleByStaff moves a booked appointment on the citizen's behalf, with the same
// rules and atomicity as Reschedule; staffID is recorded as who changed it.
func (s *Service) RescheduleByStaff(ctx context.Context, id, staffID string, start time.Time) (Appointment, error) {
	if staffID == "" {
		return Appointment{}, ErrNoStaff
	}
	return s.reschedule(ctx, id, actor{staffID: staffID}, start)
}

// Match finds a citizen's appointments by any of the identifiers given (empty ones are
// ignored).
type Match struct {
	Email, Phone, NISS string
}

func (m Match) where() (string, []any) {
	var conds []string
	var args []any
	if m.Email != "" {
		conds, args = append(conds, "lower(citizen_email) = lower(?)"), append(args, m.Email)
	}
	if m.Phone != "" {
		conds, args = append(conds, "citizen_phone = ?"), append(args, m.Phone)
	}
	if m.NISS != "" {
		conds, args = append(conds, "citizen_niss = ?"), append(args, m.NISS)
	}
	return strings.Join(conds, " OR "), args
}

// ForCitizen lists, newest first, up to limit appointments of the citizen m matches.
func (s *Service) ForCitizen(ctx context.Context, m Match, limit int) ([]Appointment, error) {
	cond, args := m.where()
	if cond == "" {
		return nil, nil
	}
	return s.list(ctx, "("+cond+") ORDER BY starts_at DESC LIMIT ?", append(args, limit)...)
}

// ForAgent lists the appointments of a staff member (as agent or interpreter) that start
// in [from, to), cancelled ones left out, in order of start.
func (s *Service) ForAgent(ctx context.Context, staffID string, from, to time.Time) ([]Appointment, error) {
	return s.list(ctx, `(agent_id = ? OR interpreter_id = ?) AND starts_at >= ? AND starts_at < ? AND status <> 'cancelled'
		ORDER BY starts_at, id`, staffID, staffID, from.Unix(), to.Unix())
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Appointment, error) {
	rows, err := s.db.Query(ctx, "SELECT "+appointmentColumns+" FROM appointments WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list appointments: %w", err)
	}
	defer rows.Close()
	var out []Appointment
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, fmt.Errorf("list appointments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DueFor returns the agent's earliest booked appointment that is due at now: it starts
// within lead of now and its slot has not ended, or the citizen has come and it is still
// open. ErrNotFound when there is none.
func DueFor(ctx context.Context, q store.Queryer, agentID string, now time.Time, lead time.Duration) (Appointment, error) {
	a, err := scanAppointment(q.QueryRow(ctx, "SELECT "+appointmentColumns+` FROM appointments
		WHERE agent_id = ? AND status = 'booked' AND starts_at <= ? AND (ends_at > ? OR lobby_at > 0)
		ORDER BY starts_at, id LIMIT 1`, agentID, now.Add(lead).Unix(), now.Unix()))
	if errors.Is(err, sql.ErrNoRows) {
		return Appointment{}, fmt.Errorf("due appointment of %s: %w", agentID, store.ErrNotFound)
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("due appointment of %s: %w", agentID, err)
	}
	return a, nil
}

// MarkPresence records that the citizen of an appointment entered the call's lobby
// (and, when admitted, the call), the first time each happens. It reports whether
// anything changed.
func MarkPresence(ctx context.Context, q store.Queryer, id string, admitted bool, at time.Time) (bool, error) {
	res, err := q.Exec(ctx, "UPDATE appointments SET lobby_at = ? WHERE id = ? AND lobby_at = 0", at.Unix(), id)
	if err != nil {
		return false, fmt.Errorf("mark appointment %s in the lobby: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if admitted {
		res, err = q.Exec(ctx, "UPDATE appointments SET call_started_at = ? WHERE id = ? AND call_started_at = 0", at.Unix(), id)
		if err != nil {
			return false, fmt.Errorf("mark appointment %s in the call: %w", id, err)
		}
		m, _ := res.RowsAffected()
		n += m
	}
	return n > 0, nil
}

// MarkDone ends a booked appointment whose citizen was served. ErrNotCancellable when
// it is not booked any more (done already, cancelled, no-show).
func MarkDone(ctx context.Context, tx *store.Tx, id string, at time.Time) error {
	res, err := tx.Exec(ctx, "UPDATE appointments SET status = 'done', ended_at = ?, updated_at = ? WHERE id = ? AND status = 'booked'",
		at.Unix(), at.Unix(), id)
	if err != nil {
		return fmt.Errorf("mark appointment %s done: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mark appointment %s done: %w", id, ErrNotCancellable)
	}
	return nil
}

// MarkNoShows turns every booked appointment whose slot ended by now without the
// citizen ever entering the lobby into a no-show, and returns them.
func MarkNoShows(ctx context.Context, tx *store.Tx, now time.Time) ([]Appointment, error) {
	rows, err := tx.Query(ctx, "SELECT "+appointmentColumns+` FROM appointments
		WHERE status = 'booked' AND ends_at <= ? AND lobby_at = 0 ORDER BY ends_at, id`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("find no-shows: %w", err)
	}
	var due []Appointment
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("find no-shows: %w", err)
		}
		due = append(due, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find no-shows: %w", err)
	}
	var out []Appointment
	for _, a := range due {
		res, err := tx.Exec(ctx, `UPDATE appointments SET status = 'no_show', ended_at = ends_at, updated_at = ?
			WHERE id = ? AND status = 'booked' AND lobby_at = 0`, now.Unix(), a.ID)
		if err != nil {
			return nil, fmt.Errorf("mark no-show %s: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			a.Status, a.EndedAt = StatusNoShow, a.End
			out = append(out, a)
		}
	}
	return out, nil
}

// IssueJoinLink makes a new join token for an appointment, valid beside the one its
// confirmation carried, and returns it: it is shown once (in the message that carries
// it) and only its hash is stored.
func IssueJoinLink(ctx context.Context, tx *store.Tx, appointmentID string, now time.Time) (string, error) {
	token, hash := secret.New()
	if _, err := tx.Exec(ctx, "INSERT INTO appointment_join_links (token_hash, appointment_id, created_at) VALUES (?, ?, ?)",
		hash, appointmentID, now.Unix()); err != nil {
		return "", fmt.Errorf("issue a join link for %s: %w", appointmentID, err)
	}
	return token, nil
}

// checkJoinLink answers sql.ErrNoRows unless token is one of the appointment's extra
// join links.
func checkJoinLink(ctx context.Context, q store.Queryer, id, token string) error {
	if token == "" {
		return sql.ErrNoRows
	}
	var one int
	return q.QueryRow(ctx, "SELECT 1 FROM appointment_join_links WHERE token_hash = ? AND appointment_id = ?",
		secret.Hash(token), id).Scan(&one)
}

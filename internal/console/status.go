package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"balcao/internal/store"
)

// Statuses of an agent.
const (
	StatusOffline   = "offline"
	StatusAvailable = "available"
	StatusInCall    = "in_call"
	StatusWrapUp    = "wrap_up"
	StatusBreak     = "break"
)

// Statuses lists them in the order the board shows them.
var Statuses = []string{StatusAvailable, StatusInCall, StatusWrapUp, StatusBreak, StatusOffline}

// Kinds of citizen an agent serves.
const (
	KindAppointment = "appointment"
	KindTicket      = "ticket"
)

// PoolNational is the national pool, where an agent serves every location's citizens.
const PoolNational = "national"

// State is an agent's status and who they are serving.
type State struct {
	StaffID       string
	Status        string
	Since         time.Time
	AppointmentID string // the appointment being served, or ""
	TicketID      string // the walk-in ticket being served, or ""
	AssignedAt    time.Time
	Pool          string // "" (their own location), a location id, or PoolNational
}

// Serving tells whether the agent has a citizen assigned.
func (st State) Serving() bool { return st.AppointmentID != "" || st.TicketID != "" }

// Kind is KindAppointment or KindTicket while serving, else "".
func (st State) Kind() string {
	switch {
	case st.AppointmentID != "":
		return KindAppointment
	case st.TicketID != "":
		return KindTicket
	}
	return ""
}

// SubjectID is the id of the appointment or ticket being served.
func (st State) SubjectID() string {
	if st.AppointmentID != "" {
		return st.AppointmentID
	}
	return st.TicketID
}

const stateColumns = `staff_id, status, since, COALESCE(appointment_id, ''), COALESCE(ticket_id, ''), assigned_at, pool`

func scanState(row interface{ Scan(...any) error }) (State, error) {
	var st State
	var since, assigned int64
	err := row.Scan(&st.StaffID, &st.Status, &since, &st.AppointmentID, &st.TicketID, &assigned, &st.Pool)
	st.Since, st.AssignedAt = fromUnix(since), fromUnix(assigned)
	return st, err
}

// State returns the agent's state; an agent who never opened the console is offline.
func (s *Service) State(ctx context.Context, staffID string) (State, error) {
	return s.stateWith(ctx, s.db, staffID)
}

func (s *Service) stateWith(ctx context.Context, q store.Queryer, staffID string) (State, error) {
	st, err := scanState(q.QueryRow(ctx, "SELECT "+stateColumns+" FROM agent_states WHERE staff_id = ?", staffID))
	if errors.Is(err, sql.ErrNoRows) {
		return State{StaffID: staffID, Status: StatusOffline}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read the state of %s: %w", staffID, err)
	}
	return st, nil
}

// ensure creates the agent's row if there is none: offline, since 0, which tells an
// agent who never chose a status from one who chose to be offline.
func ensure(ctx context.Context, q store.Queryer, staffID string) error {
	_, err := q.Exec(ctx, `INSERT INTO agent_states (staff_id, status, since) VALUES (?, 'offline', 0)
		ON CONFLICT (staff_id) DO NOTHING`, staffID)
	if err != nil {
		return fmt.Errorf("create the state of %s: %w", staffID, err)
	}
	return nil
}

// Arrive is the agent opening the console: one who never chose a status becomes
// available; one who chose to be offline stays so until they say otherwise.
func (s *Service) Arrive(ctx context.Context, staffID string) (State, error) {
	now := s.now()
	changed := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := ensure(ctx, tx, staffID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE agent_states SET status = 'available', since = ? WHERE staff_id = ? AND status = 'offline' AND since = 0",
			now.Unix(), staffID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		changed = n > 0
		return nil
	})
	if err != nil {
		return State{}, fmt.Errorf("agent %s arrives: %w", staffID, err)
	}
	if changed {
		s.publish(ctx, AgentTopic(staffID), BoardTopic)
	}
	return s.State(ctx, staffID)
}

// SetStatus is the agent choosing to be available, on a break or offline. While they
// serve a citizen the status stays "in call" (ErrBusy): finishing the contact ends it.
func (s *Service) SetStatus(ctx context.Context, staffID, status string) error {
	if status != StatusAvailable && status != StatusBreak && status != StatusOffline {
		return &InvalidError{Fields: map[string]string{"status": "console.error.status"}}
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := ensure(ctx, tx, staffID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE agent_states SET status = ?, since = CASE WHEN status = ? THEN since ELSE ? END
			WHERE staff_id = ? AND appointment_id IS NULL AND ticket_id IS NULL`, status, status, now.Unix(), staffID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBusy
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set the status of %s: %w", staffID, err)
	}
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return nil
}

// endWrapUps makes available the agents whose wrap-up has lasted its time.
func (s *Service) endWrapUps(ctx context.Context) ([]string, error) {
	now := s.now()
	var ids []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, "SELECT staff_id FROM agent_states WHERE status = 'wrap_up' AND since <= ?", now.Add(-s.wrapUp).Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "UPDATE agent_states SET status = 'available', since = ? WHERE staff_id = ? AND status = 'wrap_up'",
				now.Unix(), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("end wrap-ups: %w", err)
	}
	return ids, nil
}

// release clears the agent's assignment and makes them available (or leaves them in
// wrap-up), within tx; the progress saved with the citizen goes with it.
func release(ctx context.Context, tx *store.Tx, staffID, status string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE agent_states SET status = ?, since = ?, appointment_id = NULL, ticket_id = NULL,
		assigned_at = 0, calling_until = 0 WHERE staff_id = ?`, status, now.Unix(), staffID)
	if err != nil {
		return fmt.Errorf("release %s: %w", staffID, err)
	}
	return clearProgress(ctx, tx, staffID, "")
}

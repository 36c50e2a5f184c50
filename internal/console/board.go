package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"balcao/internal/directory"
	"balcao/internal/store"
)

// AgentRow is an agent as the supervisor's board shows them.
type AgentRow struct {
	StaffID    string
	Name       string
	Role       string
	LocationID string // their own location
	Pool       string // where they serve now: "" (their own location), a location id, or PoolNational
	Status     string
	Since      time.Time
	Kind       string // what they are serving: KindAppointment, KindTicket or ""
}

// ServesAt is where the agent serves: their pool, else their own location.
func (a AgentRow) ServesAt() string {
	if a.Pool != "" {
		return a.Pool
	}
	return a.LocationID
}

// Agents lists the active agents with their states, by name.
func (s *Service) Agents(ctx context.Context) ([]AgentRow, error) {
	rows, err := s.db.Query(ctx, `SELECT st.id, st.name, st.role, st.location_id, COALESCE(a.pool, ''), COALESCE(a.status, 'offline'),
			COALESCE(a.since, 0), COALESCE(a.appointment_id, ''), COALESCE(a.ticket_id, '')
		FROM staff st LEFT JOIN agent_states a ON a.staff_id = st.id
		WHERE st.active AND st.disabled_at = 0 AND st.role = 'agent' ORDER BY st.name, st.id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	var out []AgentRow
	for rows.Next() {
		var a AgentRow
		var since int64
		var appt, ticket string
		if err := rows.Scan(&a.StaffID, &a.Name, &a.Role, &a.LocationID, &a.Pool, &a.Status, &since, &appt, &ticket); err != nil {
			return nil, err
		}
		a.Since = fromUnix(since)
		switch {
		case appt != "":
			a.Kind = KindAppointment
		case ticket != "":
			a.Kind = KindTicket
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Locations lists the agency's active locations.
func (s *Service) Locations(ctx context.Context) ([]directory.Location, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name FROM locations WHERE active ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	defer rows.Close()
	var out []directory.Location
	for rows.Next() {
		var l directory.Location
		if err := rows.Scan(&l.ID, &l.Name); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Move sends an agent to serve another location's queue, the national pool (to =
// PoolNational) or back to their own location (to = "" or their location's id). The
// move is recorded with who made it.
func (s *Service) Move(ctx context.Context, staffID, to, by string) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var home string
		err := tx.QueryRow(ctx, "SELECT location_id FROM staff WHERE id = ? AND role = 'agent'", staffID).Scan(&home)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("agent %q: %w", staffID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if to == home {
			to = ""
		}
		if to != "" && to != PoolNational {
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM locations WHERE id = ? AND active", to).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrUnknownPlace
			}
			if err != nil {
				return err
			}
		}
		if err := ensure(ctx, tx, staffID); err != nil {
			return err
		}
		st, err := s.stateWith(ctx, tx, staffID)
		if err != nil {
			return err
		}
		if st.Pool == to {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE agent_states SET pool = ? WHERE staff_id = ?", to, staffID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO agent_moves (id, staff_id, from_pool, to_pool, moved_by, at) VALUES (?, ?, ?, ?, ?, ?)",
			store.NewID(), staffID, st.Pool, to, by, now.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("move %s to %q: %w", staffID, to, err)
	}
	s.log.Info("agent moved", "agent", staffID, "to", to, "by", by)
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return nil
}

// StaffNames maps every staff member's id to their name.
func (s *Service) StaffNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name FROM staff")
	if err != nil {
		return nil, fmt.Errorf("staff names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// MoveRecord is one recorded move of an agent.
type MoveRecord struct {
	StaffID, From, To, By string
	At                    time.Time
}

// Moves lists the latest moves, newest first.
func (s *Service) Moves(ctx context.Context, limit int) ([]MoveRecord, error) {
	rows, err := s.db.Query(ctx, "SELECT staff_id, from_pool, to_pool, moved_by, at FROM agent_moves ORDER BY at DESC, id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("list moves: %w", err)
	}
	defer rows.Close()
	var out []MoveRecord
	for rows.Next() {
		var m MoveRecord
		var at int64
		if err := rows.Scan(&m.StaffID, &m.From, &m.To, &m.By, &at); err != nil {
			return nil, err
		}
		m.At = fromUnix(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

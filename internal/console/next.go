package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"balcao/internal/booking"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// Assignment is the citizen "call next" gave an agent.
type Assignment struct {
	Kind       string // KindAppointment or KindTicket
	ID         string // the appointment's or the ticket's
	AssignedAt time.Time
	Resumed    bool // the agent was already serving this citizen
}

// callingFor bounds how long a "call next" holds the agent's claim, should it die
// half-way.
const callingFor = 15 * time.Second

// CallNext gives the agent the next citizen they are qualified for: their own
// appointment due now (starting within DueLead, slot not over) first, then a walk-in
// ticket through queue.CallNext (priority first, first come first served, every
// location), which never gives one ticket to two agents. An agent already serving a
// citizen gets that citizen again (Resumed). ErrNobody when nobody waits.
func (s *Service) CallNext(ctx context.Context, staffID string) (Assignment, error) {
	if err := s.clearStale(ctx, staffID); err != nil {
		return Assignment{}, err
	}
	now := s.now()
	// The claim: one "call next" of an agent at a time, and none while serving.
	claimed := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := ensure(ctx, tx, staffID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE agent_states SET calling_until = ?
			WHERE staff_id = ? AND calling_until < ? AND appointment_id IS NULL AND ticket_id IS NULL`,
			now.Add(callingFor).Unix(), staffID, now.Unix())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		claimed = n > 0
		return nil
	})
	if err != nil {
		return Assignment{}, fmt.Errorf("call next for %s: %w", staffID, err)
	}
	if !claimed {
		st, err := s.State(ctx, staffID)
		if err != nil {
			return Assignment{}, err
		}
		if st.Serving() {
			return Assignment{Kind: st.Kind(), ID: st.SubjectID(), AssignedAt: st.AssignedAt, Resumed: true}, nil
		}
		return Assignment{}, ErrCalling
	}
	a, err := s.pick(ctx, staffID, now)
	if err != nil {
		if _, uerr := s.db.Exec(ctx, "UPDATE agent_states SET calling_until = 0 WHERE staff_id = ?", staffID); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return Assignment{}, err
	}
	column := "appointment_id"
	if a.Kind == KindTicket {
		column = "ticket_id"
	}
	if _, err := s.db.Exec(ctx, `UPDATE agent_states SET status = 'in_call', since = ?, `+column+` = ?, assigned_at = ?,
		calling_until = 0 WHERE staff_id = ?`, now.Unix(), a.ID, now.Unix(), staffID); err != nil {
		return Assignment{}, fmt.Errorf("assign %s %s to %s: %w", a.Kind, a.ID, staffID, err)
	}
	s.log.Info("call next", "agent", staffID, "kind", a.Kind, "id", a.ID)
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return a, nil
}

// pick finds the agent's next citizen: a due appointment, else a ticket.
func (s *Service) pick(ctx context.Context, staffID string, now time.Time) (Assignment, error) {
	due, err := booking.DueFor(ctx, s.db, staffID, now, DueLead)
	switch {
	case err == nil:
		return Assignment{Kind: KindAppointment, ID: due.ID, AssignedAt: now}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Assignment{}, err
	}
	services, err := s.ServicesOf(ctx, staffID)
	if err != nil {
		return Assignment{}, err
	}
	t, err := s.queue.CallNext(ctx, queue.Agent{ID: staffID, Services: services})
	if errors.Is(err, queue.ErrNothingToDo) {
		return Assignment{}, ErrNobody
	}
	if err != nil {
		return Assignment{}, err
	}
	return Assignment{Kind: KindTicket, ID: t.ID, AssignedAt: now}, nil
}

// ServicesOf lists the services whose themes the staff member serves.
func (s *Service) ServicesOf(ctx context.Context, staffID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT th.service_id FROM staff_themes st JOIN themes th ON th.id = st.theme_id
		WHERE st.staff_id = ? AND th.active ORDER BY th.service_id`, staffID)
	if err != nil {
		return nil, fmt.Errorf("services of %s: %w", staffID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ticketStatus reads a ticket's status and the agent it was called by.
func ticketStatus(ctx context.Context, q store.Queryer, id string) (status, agentID string, err error) {
	err = q.QueryRow(ctx, "SELECT status, COALESCE(agent_id, '') FROM tickets WHERE id = ?", id).Scan(&status, &agentID)
	if err != nil {
		err = fmt.Errorf("read ticket %s: %w", id, err)
	}
	return status, agentID, err
}

// clearStale frees an agent whose ticket left them: the citizen did not answer in
// time and the queue took the ticket back (or marked it not answered), or gave it up.
func (s *Service) clearStale(ctx context.Context, staffID string) error {
	st, err := s.State(ctx, staffID)
	if err != nil || st.TicketID == "" {
		return err
	}
	status, agent, err := ticketStatus(ctx, s.db, st.TicketID)
	if err != nil {
		return err
	}
	if (status == queue.StatusCalled || status == queue.StatusInCall) && agent == staffID {
		return nil
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE agent_states SET status = 'available', since = ?, ticket_id = NULL, assigned_at = 0
			WHERE staff_id = ? AND ticket_id = ?`, now.Unix(), staffID, st.TicketID); err != nil {
			return err
		}
		return clearProgress(ctx, tx, staffID, KindTicket+":"+st.TicketID)
	})
	if err != nil {
		return fmt.Errorf("free %s from ticket %s: %w", staffID, st.TicketID, err)
	}
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return nil
}

// Release lets an agent go on when the citizen of their ticket has not answered: the
// ticket stays called until the queue's answer time runs out, then the queue calls it
// again later (or marks it not answered). An appointment cannot be released: the agent
// waits until the end of its slot (the no-show rule).
func (s *Service) Release(ctx context.Context, staffID string) error {
	st, err := s.State(ctx, staffID)
	if err != nil {
		return err
	}
	if st.TicketID == "" {
		return ErrNotServing
	}
	status, _, err := ticketStatus(ctx, s.db, st.TicketID)
	if err != nil {
		return err
	}
	if status == queue.StatusInCall {
		return ErrCitizenCame
	}
	now := s.now()
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return release(ctx, tx, staffID, StatusAvailable, now) }); err != nil {
		return err
	}
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return nil
}

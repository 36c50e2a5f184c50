package console

import (
	"context"
	"fmt"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/call"
)

// InterpreterDays is how many days, today included, an interpreter's page lists.
const InterpreterDays = 14

// Booking is an appointment a staff interpreter (Portuguese Sign Language) is booked
// for, as their page shows it. It holds nothing of the citizen but the first name, with
// which the interpreter greets them: the interpreter translates the conversation and
// needs neither the citizen's surname, contacts nor identifiers, which are the agent's.
type Booking struct {
	ID         string
	Start, End time.Time
	ThemeID    string
	AgentID    string
	FirstName  string
	State      string // an AgendaState
	Open       bool   // the call can be joined now
	OpensAt    time.Time
}

// CallOpen tells whether the call of a booked appointment can be joined at now: from
// call.OpensBefore its start until call.ClosesAfter its end, as the citizen's lobby.
func CallOpen(a booking.Appointment, now time.Time) bool {
	return a.Status == booking.StatusBooked && !now.Before(a.Start.Add(-call.OpensBefore)) && now.Before(a.End.Add(call.ClosesAfter))
}

// InterpreterBookings lists, in order of start, the appointments the staff member is
// booked for as interpreter from the start of today for InterpreterDays days, cancelled
// ones left out. Only the columns the page shows are read.
func (s *Service) InterpreterBookings(ctx context.Context, staffID string) ([]Booking, error) {
	now := s.now()
	today := calendar.DateOf(now.In(s.loc))
	rows, err := s.db.Query(ctx, `SELECT id, theme_id, agent_id, starts_at, ends_at, status, citizen_name, lobby_at, call_started_at
		FROM appointments WHERE interpreter_id = ? AND starts_at >= ? AND starts_at < ? AND status <> 'cancelled'
		ORDER BY starts_at, id`, staffID, today.Start(s.loc).Unix(), today.AddDays(InterpreterDays).Start(s.loc).Unix())
	if err != nil {
		return nil, fmt.Errorf("bookings of interpreter %s: %w", staffID, err)
	}
	defer rows.Close()
	var out []Booking
	for rows.Next() {
		var a booking.Appointment
		var start, end, lobby, called int64
		if err := rows.Scan(&a.ID, &a.ThemeID, &a.AgentID, &start, &end, &a.Status, &a.Citizen.Name, &lobby, &called); err != nil {
			return nil, fmt.Errorf("bookings of interpreter %s: %w", staffID, err)
		}
		a.Start, a.End, a.LobbyAt, a.CallStartedAt = fromUnix(start), fromUnix(end), fromUnix(lobby), fromUnix(called)
		out = append(out, Booking{ID: a.ID, Start: a.Start, End: a.End, ThemeID: a.ThemeID, AgentID: a.AgentID,
			FirstName: call.FirstName(a.Citizen.Name), State: AgendaState(a, now), Open: CallOpen(a, now),
			OpensAt: a.Start.Add(-call.OpensBefore)})
	}
	return out, rows.Err()
}

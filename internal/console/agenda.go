package console

import (
	"context"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
)

// States of an appointment in the agent's agenda.
const (
	AgendaUpcoming = "upcoming"  // before its start
	AgendaLate     = "late"      // started, the citizen not come yet: the no-show rule applies
	AgendaLobby    = "lobby"     // the citizen waits in the lobby
	AgendaInCall   = "in_call"   // the citizen was admitted
	AgendaDone     = "done"      // finished
	AgendaNoShow   = "no_show"   // the slot ended without the citizen
	AgendaCanceled = "cancelled" // cancelled (not listed in the agenda)
)

// AgendaState is where an appointment stands at now.
func AgendaState(a booking.Appointment, now time.Time) string {
	switch a.Status {
	case booking.StatusDone:
		return AgendaDone
	case booking.StatusNoShow:
		return AgendaNoShow
	case booking.StatusCancelled:
		return AgendaCanceled
	}
	switch {
	case !a.CallStartedAt.IsZero():
		return AgendaInCall
	case !a.LobbyAt.IsZero():
		return AgendaLobby
	case !now.Before(a.Start):
		return AgendaLate
	}
	return AgendaUpcoming
}

// MayChase tells whether the console offers to phone or e-mail the citizen: the start
// has passed, the slot has not ended and the citizen has not come.
func MayChase(a booking.Appointment, now time.Time) bool {
	return AgendaState(a, now) == AgendaLate && now.Before(a.End)
}

// AgendaItem is one appointment of the agent's day.
type AgendaItem struct {
	booking.Appointment
	State string
}

// Agenda lists the staff member's appointments of the local day of now.
func (s *Service) Agenda(ctx context.Context, staffID string) ([]AgendaItem, error) {
	now := s.now()
	day := calendar.DateOf(now.In(s.loc))
	list, err := s.booking.ForAgent(ctx, staffID, day.Start(s.loc), day.AddDays(1).Start(s.loc))
	if err != nil {
		return nil, err
	}
	out := make([]AgendaItem, 0, len(list))
	for _, a := range list {
		out = append(out, AgendaItem{Appointment: a, State: AgendaState(a, now)})
	}
	return out, nil
}

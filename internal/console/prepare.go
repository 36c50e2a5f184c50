package console

import (
	"context"
	"errors"

	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// historyLimit bounds the earlier appointments and contacts the preparation shows.
const historyLimit = 20

// Serving is the citizen an agent is serving, with what the agent needs to prepare:
// the citizen's other appointments and earlier contacts (found by e-mail, phone or NISS
// until the CRM has citizen records) and the theme's instructions.
type Serving struct {
	Kind        string // KindAppointment or KindTicket
	Appointment booking.Appointment
	Ticket      queue.Ticket
	Citizen     booking.Citizen
	ServiceID   string
	Theme       *directory.Theme // nil for a ticket taken for a whole service
	// Where the citizen is: an AgendaState for an appointment, the ticket's status for
	// a ticket.
	Presence string
	Joined   bool // the citizen has come into the call (or its lobby)
	CanChase bool // the no-show rule offers to phone or e-mail the citizen now
	Attempts []Attempt
	History  []booking.Appointment // the citizen's other appointments, newest first
	Contacts []Contact             // the citizen's earlier contacts, newest first
}

// Serving returns the citizen the agent is serving; ErrNotServing when none.
func (s *Service) Serving(ctx context.Context, st State) (Serving, error) {
	var sv Serving
	now := s.now()
	themeID := ""
	switch {
	case st.AppointmentID != "":
		a, err := s.booking.ByID(ctx, st.AppointmentID)
		if err != nil {
			return sv, err
		}
		sv.Kind, sv.Appointment, sv.Citizen, themeID = KindAppointment, a, a.Citizen, a.ThemeID
		sv.Presence = AgendaState(a, now)
		sv.Joined = sv.Presence == AgendaLobby || sv.Presence == AgendaInCall
		sv.CanChase = MayChase(a, now)
		if sv.Attempts, err = s.Attempts(ctx, a.ID); err != nil {
			return sv, err
		}
	case st.TicketID != "":
		t, err := s.ticket(ctx, st.TicketID)
		if err != nil {
			return sv, err
		}
		sv.Kind, sv.Ticket, sv.Citizen, sv.ServiceID, themeID = KindTicket, t, t.Citizen, t.ServiceID, t.ThemeID
		sv.Presence, sv.Joined = t.Status, t.Status == queue.StatusInCall || t.Status == queue.StatusServed
	default:
		return sv, ErrNotServing
	}
	if themeID != "" {
		th, err := directory.ThemeByID(ctx, s.db, themeID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return sv, err
		}
		if err == nil {
			sv.Theme, sv.ServiceID = &th, th.ServiceID
		}
	}
	m := booking.Match{Email: sv.Citizen.Email, Phone: sv.Citizen.Phone, NISS: sv.Citizen.NISS}
	history, err := s.booking.ForCitizen(ctx, m, historyLimit+1)
	if err != nil {
		return sv, err
	}
	for _, a := range history {
		if a.ID != sv.Appointment.ID && len(sv.History) < historyLimit {
			sv.History = append(sv.History, a)
		}
	}
	if sv.Contacts, err = s.ContactsFor(ctx, m, historyLimit); err != nil {
		return sv, err
	}
	return sv, nil
}

// MayChange tells whether a member of staff may cancel or move an appointment on the
// citizen's behalf: supervisors may change any; an agent their own appointments and
// those of the citizen they are serving.
func (s *Service) MayChange(ctx context.Context, staffID, role string, a booking.Appointment) (bool, error) {
	if role == directory.RoleSupervisor || role == directory.RoleAdministrator || a.AgentID == staffID {
		return true, nil
	}
	st, err := s.State(ctx, staffID)
	if err != nil || !st.Serving() {
		return false, err
	}
	sv, err := s.Serving(ctx, st)
	if err != nil {
		return false, err
	}
	for _, h := range sv.History {
		if h.ID == a.ID {
			return true, nil
		}
	}
	return false, nil
}

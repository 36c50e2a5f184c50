package console

import (
	"balcao/internal/audit"
	"errors"
	"net/http"

	"balcao/internal/auth"
	"balcao/internal/call"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// TicketRoom is the call room of a walk-in ticket.
func TicketRoom(ticketID string) string { return "ticket-" + ticketID }

// citizenTicketCall is the citizen's call for a called ticket, GET /ticket/{id}/call,
// reached from the ticket's page with the ticket's cookie. Opening it answers the call:
// the ticket is then in the call, and the agent's console shows it.
func (h *Web) citizenTicketCall(w http.ResponseWriter, r *http.Request) error {
	if h.calls == nil {
		return notFound(nil)
	}
	id := r.PathValue("id")
	c, err := r.Cookie(h.cookie)
	if err != nil {
		return httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	}
	t, err := h.queue.Get(r.Context(), id, c.Value)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	}
	if err != nil {
		return err
	}
	switch t.Status {
	case queue.StatusCalled:
		if err := h.queue.Answered(r.Context(), t.ID); err != nil && !errors.Is(err, queue.ErrNotWaiting) {
			return err
		}
		h.svc.publish(r.Context(), AgentTopic(t.AgentID), BoardTopic)
	case queue.StatusInCall:
	default:
		return httpx.Errorf(http.StatusConflict, "not_called", "console.error.not_called", nil)
	}
	return h.calls.RenderRoom(w, r, call.RoomPage{Room: TicketRoom(t.ID), Participant: call.RoleCitizen, Role: call.RoleCitizen,
		Name: call.FirstName(t.Citizen.Name), Heading: h.serviceName(r, t.ServiceID), When: t.CalledAt})
}

// agentTicketCall is the agent's call for the ticket they called, GET
// /staff/console/tickets/{id}/call.
func (h *Web) agentTicketCall(w http.ResponseWriter, r *http.Request) error {
	if h.calls == nil {
		return notFound(nil)
	}
	staff, _ := auth.StaffFromRequest(r)
	t, err := h.svc.ticket(r.Context(), r.PathValue("id"))
	if err != nil || t.AgentID != staff.ID {
		return notFound(err)
	}
	if t.Status != queue.StatusCalled && t.Status != queue.StatusInCall {
		return httpx.Errorf(http.StatusConflict, "not_called", "console.error.not_called", nil)
	}
	if err := audit.RecordRead(r, "ticket:"+t.ID); err != nil {
		return err
	}
	return h.calls.RenderRoom(w, r, call.RoomPage{Room: TicketRoom(t.ID), Participant: call.RoleAgent + "-" + staff.ID,
		Role: call.RoleAgent, Name: staff.Name, Heading: h.serviceName(r, t.ServiceID), When: t.CalledAt, CitizenName: t.Citizen.Name})
}

func (h *Web) serviceName(r *http.Request, id string) string {
	s, err := directory.ServiceByID(r.Context(), h.db, id)
	if err != nil {
		return ""
	}
	return s.Name.In(h.view.NewPage(r, "").Lang)
}

package api

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"balcao/internal/booking"
	"balcao/internal/httpx"
	"balcao/internal/queue"
	"balcao/internal/store"
)

type ticketJSON struct {
	ID                   string `json:"id,omitempty"`
	Number               string `json:"number"`
	Status               string `json:"status"`
	Service              string `json:"service,omitempty"`
	Priority             bool   `json:"priority"`
	Position             int    `json:"position"`
	EstimatedWaitSeconds int    `json:"estimated_wait_seconds"`
	TicketURL            string `json:"ticket_url,omitempty"`
	Token                string `json:"token,omitempty"`
}

func ticketAnswer(t queue.Ticket) ticketJSON {
	return ticketJSON{Number: t.Code, Status: t.Status, Service: t.ServiceID, Priority: t.Priority, Position: t.Position,
		EstimatedWaitSeconds: int(t.Wait.Round(time.Second) / time.Second)}
}

// queueError maps the queue's errors to API answers.
func queueError(err error) error {
	var closed *queue.ClosedError
	var full *queue.FullError
	switch {
	case errors.As(err, &closed):
		e := httpx.Errorf(http.StatusConflict, "queue_closed", "error.queue_closed", err)
		if !closed.OpensAt.IsZero() {
			e.Extra = map[string]any{"opens_at": closed.OpensAt.UTC().Format(time.RFC3339)}
		}
		return e
	case errors.As(err, &full):
		return httpx.Errorf(http.StatusConflict, "queue_full", "error.queue_full", err)
	case errors.Is(err, queue.ErrNotWalkIn):
		return invalid(map[string]string{"service": "error.not_walk_in"}, err)
	case errors.Is(err, queue.ErrNotWaiting):
		return httpx.Errorf(http.StatusConflict, "not_waiting", "error.not_waiting", err)
	case errors.Is(err, store.ErrNotFound):
		return notFound(err)
	}
	return serviceError(err)
}

func (a *API) takeTicket(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Service  string      `json:"service"`
		Theme    string      `json:"theme"`
		Citizen  citizenJSON `json:"citizen"`
		Priority bool        `json:"priority"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Service == "" && req.Theme == "" {
		return invalid(map[string]string{"theme": "error.required"}, nil)
	}
	t, err := a.queue.Take(r.Context(), queue.Request{ServiceID: req.Service, ThemeID: req.Theme, Priority: req.Priority,
		Citizen: booking.Citizen{Name: req.Citizen.Name, Email: req.Citizen.Email, Phone: req.Citizen.Phone, Language: req.Citizen.Language},
		Channel: "api"})
	if err != nil {
		return queueError(err)
	}
	out := ticketAnswer(t.Ticket)
	out.ID, out.Token = t.ID, t.Token
	out.TicketURL = a.base(r) + "/ticket/" + t.ID + "?t=" + url.QueryEscape(t.Token)
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	return httpx.WriteJSON(w, http.StatusCreated, out)
}

func (a *API) ticket(w http.ResponseWriter, r *http.Request) error {
	token, err := bearer(r)
	if err != nil {
		return err
	}
	t, err := a.queue.Get(r.Context(), r.PathValue("id"), token)
	if err != nil {
		return queueError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, ticketAnswer(t))
}

func (a *API) abandonTicket(w http.ResponseWriter, r *http.Request) error {
	token, err := bearer(r)
	if err != nil {
		return err
	}
	t, err := a.queue.Abandon(r.Context(), r.PathValue("id"), token)
	if err != nil {
		return queueError(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": t.ID, "status": t.Status})
}

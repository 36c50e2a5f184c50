package api

import (
	"balcao/internal/audit"
	"net/http"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/httpx"
)

type citizenJSON struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone,omitempty"`
	NISS     string `json:"niss,omitempty"`
	NIF      string `json:"nif,omitempty"`
	Language string `json:"language,omitempty"`
}

func (c citizenJSON) citizen() booking.Citizen {
	return booking.Citizen{Name: c.Name, Email: c.Email, Phone: c.Phone, NISS: c.NISS, NIF: c.NIF, Language: c.Language}
}

type bookRequest struct {
	Theme   string      `json:"theme"`
	Start   string      `json:"start"`
	Citizen citizenJSON `json:"citizen"`
	Needs   struct {
		SignLanguage bool   `json:"sign_language"`
		Notes        string `json:"notes"`
	} `json:"needs"`
	TimeZone string `json:"time_zone"`
}

type appointmentJSON struct {
	ID           string       `json:"id"`
	Status       string       `json:"status"`
	Theme        string       `json:"theme"`
	Start        time.Time    `json:"start"`
	End          time.Time    `json:"end"`
	SignLanguage bool         `json:"sign_language"`
	JoinURL      string       `json:"join_url"`
	ManageURL    string       `json:"manage_url"`
	ManageToken  string       `json:"manage_token,omitempty"`
	ICSURL       string       `json:"ics_url"`
	Citizen      *citizenJSON `json:"citizen,omitempty"`
}

func (a *API) appointmentJSON(r *http.Request, ap booking.Appointment, manageToken string) appointmentJSON {
	join, manage, ics := a.links(r, ap.ID, manageToken)
	return appointmentJSON{ID: ap.ID, Status: ap.Status, Theme: ap.ThemeID, Start: ap.Start, End: ap.End,
		SignLanguage: ap.SignLanguage, JoinURL: join, ManageURL: manage, ICSURL: ics}
}

// parseStart reads an RFC 3339 start; a bad one is a field error.
func parseStart(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, invalid(map[string]string{"start": "error.required"}, nil)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid(map[string]string{"start": "error.datetime"}, err)
	}
	return t, nil
}

func (a *API) book(w http.ResponseWriter, r *http.Request) error {
	var req bookRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	start, err := parseStart(req.Start)
	if err != nil {
		return err
	}
	booked, err := a.svc.Book(r.Context(), booking.Request{ThemeID: req.Theme, Start: start, Citizen: req.Citizen.citizen(),
		SignLanguage: req.Needs.SignLanguage, Notes: req.Needs.Notes, TimeZone: req.TimeZone, Channel: "api"})
	if err != nil {
		return serviceError(err)
	}
	out := a.appointmentJSON(r, booked.Appointment, booked.ManageToken)
	out.ManageToken = booked.ManageToken
	w.Header().Set("Location", "/api/v1/appointments/"+booked.ID)
	return httpx.WriteJSON(w, http.StatusCreated, out)
}

// bearer returns the manage token of the request; a missing one is 401.
func bearer(r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", httpx.Errorf(http.StatusUnauthorized, "unauthorized", "error.unauthorized", nil)
	}
	return strings.TrimSpace(token), nil
}

func (a *API) appointment(w http.ResponseWriter, r *http.Request) error {
	token, err := bearer(r)
	if err != nil {
		return err
	}
	ap, err := a.svc.Get(r.Context(), r.PathValue("id"), token, booking.ManageToken)
	if err != nil {
		return serviceError(err)
	}
	out := a.appointmentJSON(r, ap, token)
	out.Citizen = &citizenJSON{Name: ap.Citizen.Name, Email: ap.Citizen.Email, Phone: ap.Citizen.Phone,
		Language: strings.TrimSuffix(ap.Citizen.Language, "-PT")}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (a *API) cancel(w http.ResponseWriter, r *http.Request) error {
	token, err := bearer(r)
	if err != nil {
		return err
	}
	ap, err := a.svc.Cancel(r.Context(), r.PathValue("id"), token)
	if err != nil {
		return serviceError(err)
	}
	a.audited(r, ap.ID, "cancelled")
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"id": ap.ID, "status": ap.Status})
}

func (a *API) reschedule(w http.ResponseWriter, r *http.Request) error {
	token, err := bearer(r)
	if err != nil {
		return err
	}
	var req struct {
		Start string `json:"start"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	start, err := parseStart(req.Start)
	if err != nil {
		return err
	}
	ap, err := a.svc.Reschedule(r.Context(), r.PathValue("id"), token, start)
	if err != nil {
		return serviceError(err)
	}
	a.audited(r, ap.ID, "rescheduled")
	return httpx.WriteJSON(w, http.StatusOK, a.appointmentJSON(r, ap, token))
}

func (a *API) contactRequest(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Theme          string      `json:"theme"`
		Citizen        citizenJSON `json:"citizen"`
		Subject        string      `json:"subject"`
		Message        string      `json:"message"`
		PreferredTimes string      `json:"preferred_times"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	id, err := a.svc.RequestContact(r.Context(), booking.ContactRequest{ThemeID: req.Theme, Citizen: req.Citizen.citizen(),
		Subject: req.Subject, Message: req.Message, PreferredTimes: req.PreferredTimes})
	if err != nil {
		return serviceError(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, map[string]string{"id": id, "status": "received"})
}

// audited records in the audit log that the holder of the manage token changed the
// appointment. The change has committed: a failure to record it is logged, not answered.
func (a *API) audited(r *http.Request, appointmentID, what string) {
	ref := "appointment:" + appointmentID
	if err := audit.Record(r.Context(), audit.ChangePersonalData, ref, ref, what+" through the API"); err != nil {
		a.logger.Error("audit a citizen's change", "appointment", appointmentID, "error", err)
	}
}

// Package api is the public JSON API v1, for other portals and apps: services and themes,
// availability, appointments (book, read, cancel, reschedule with the manage token) and
// contact requests. It is described by the OpenAPI document served at
// /api/v1/openapi.json. Error messages follow Accept-Language.
package api

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/queue"
	"balcao/internal/store"
)

//go:embed openapi.json
var openAPI []byte

// API serves /api/v1.
type API struct {
	db      *store.DB
	svc     *booking.Service
	queue   *queue.Service
	catalog *i18n.Catalog
	logger  *slog.Logger
	baseURL string // absolute URL of the site, for links in answers; empty: from the request
}

// New returns the API.
func New(db *store.DB, svc *booking.Service, queues *queue.Service, catalog *i18n.Catalog, logger *slog.Logger, baseURL string) *API {
	return &API{db: db, svc: svc, queue: queues, catalog: catalog, logger: logger, baseURL: strings.TrimSuffix(baseURL, "/")}
}

// Routes lists every route of the API.
func (a *API) Routes(mux *http.ServeMux) {
	handle := func(pattern string, h httpx.Handler) { mux.Handle(pattern, httpx.Serve(a.logger, h, a.renderError)) }
	handle("GET /api/v1/openapi.json", a.openAPI)
	handle("GET /api/v1/services", a.services)
	handle("GET /api/v1/availability", a.availability)
	handle("POST /api/v1/appointments", a.book)
	handle("GET /api/v1/appointments/{id}", a.appointment)
	handle("POST /api/v1/appointments/{id}/cancel", a.cancel)
	handle("POST /api/v1/appointments/{id}/reschedule", a.reschedule)
	handle("POST /api/v1/contact-requests", a.contactRequest)
	handle("POST /api/v1/tickets", a.takeTicket)
	handle("GET /api/v1/tickets/{id}", a.ticket)
	handle("DELETE /api/v1/tickets/{id}", a.abandonTicket)
	handle("/api/", func(w http.ResponseWriter, r *http.Request) error { return notFound(nil) })
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail map[string]any

func (a *API) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	lang := i18n.Negotiate(r.Header.Get("Accept-Language"))
	body := errorBody{Error: errorDetail{}}
	for k, v := range e.Extra {
		body.Error[k] = v
	}
	body.Error["code"], body.Error["message"] = e.Code, a.catalog.T(lang, e.Key, e.Args...)
	if e.Status >= 500 {
		body.Error["message"] = a.catalog.T(lang, "error.internal_ref", httpx.RequestID(r.Context()))
	}
	if len(e.Fields) > 0 {
		fields := map[string]string{}
		for field, key := range e.Fields {
			fields[field] = a.catalog.T(lang, key)
		}
		body.Error["fields"] = fields
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="balcao"`)
	}
	httpx.WriteJSON(w, e.Status, body)
}

func notFound(cause error) error {
	return httpx.Errorf(http.StatusNotFound, "not_found", "error.not_found", cause)
}

func invalid(fields map[string]string, cause error) error {
	return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Key: "error.invalid", Fields: fields, Cause: cause}
}

// serviceError maps the booking service's errors to API answers.
func serviceError(err error) error {
	var inv *booking.InvalidError
	switch {
	case errors.As(err, &inv):
		return invalid(inv.Fields, err)
	case errors.Is(err, store.ErrNotFound):
		return notFound(err)
	case errors.Is(err, booking.ErrSlotTaken):
		return httpx.Errorf(http.StatusConflict, "slot_taken", "error.slot_taken", err)
	case errors.Is(err, booking.ErrNoSuchSlot):
		return invalid(map[string]string{"start": "error.no_such_slot"}, err)
	case errors.Is(err, booking.ErrNotCancellable):
		return httpx.Errorf(http.StatusConflict, "not_cancellable", "error.not_cancellable", err)
	case errors.Is(err, booking.ErrRangeTooLong):
		return invalid(map[string]string{"to": "error.range_too_long"}, err)
	}
	return httpx.Internal(err)
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(openAPI)
	return err
}

type themeJSON struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Description           string `json:"description"`
	DurationMinutes       int    `json:"duration_minutes"`
	AuthLevel             string `json:"auth_level"`
	SignLanguageAvailable bool   `json:"sign_language_available"`
}

type serviceJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Themes      []themeJSON `json:"themes"`
}

func (a *API) services(w http.ResponseWriter, r *http.Request) error {
	lang := i18n.Negotiate(r.Header.Get("Accept-Language"))
	services, err := directory.Services(r.Context(), a.db)
	if err != nil {
		return err
	}
	signing, err := directory.Interpreters(r.Context(), a.db, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	out := struct {
		Services []serviceJSON `json:"services"`
	}{Services: []serviceJSON{}}
	for _, s := range services {
		sj := serviceJSON{ID: s.ID, Name: s.Name.In(lang), Description: s.Description.In(lang), Themes: []themeJSON{}}
		for _, th := range s.Themes {
			sj.Themes = append(sj.Themes, themeJSON{ID: th.ID, Name: th.Name.In(lang), Description: th.Description.In(lang),
				DurationMinutes: int(th.Duration.Minutes()), AuthLevel: string(th.AuthLevel), SignLanguageAvailable: len(signing) > 0})
		}
		out.Services = append(out.Services, sj)
	}
	w.Header().Set("Content-Language", lang)
	return httpx.WriteJSON(w, http.StatusOK, out)
}

type slotJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

func (a *API) availability(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	fields := map[string]string{}
	theme := q.Get("theme")
	if theme == "" {
		fields["theme"] = "error.required"
	}
	from, err := calendar.ParseDate(q.Get("from"))
	if err != nil {
		fields["from"] = "error.date"
	}
	to, err := calendar.ParseDate(q.Get("to"))
	if err != nil {
		fields["to"] = "error.date"
	}
	sign := false
	switch q.Get("sign_language") {
	case "", "false", "0":
	case "true", "1":
		sign = true
	default:
		fields["sign_language"] = "error.boolean"
	}
	if len(fields) == 0 && (to.Before(from) || calendar.DaysBetween(from, to) >= booking.MaxRangeDays) {
		fields["to"] = "error.range_too_long"
	}
	if len(fields) > 0 {
		return invalid(fields, nil)
	}
	slots, err := a.svc.Availability(r.Context(), theme, from, to, sign)
	if err != nil {
		return serviceError(err)
	}
	out := struct {
		Theme    string     `json:"theme"`
		TimeZone string     `json:"time_zone"`
		Slots    []slotJSON `json:"slots"`
	}{Theme: theme, TimeZone: a.svc.Location().String(), Slots: make([]slotJSON, 0, len(slots))}
	for _, s := range slots {
		out.Slots = append(out.Slots, slotJSON{Start: s.Start, End: s.End, Free: s.Free})
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// base returns the site's absolute URL for links in answers.
func (a *API) base(r *http.Request) string {
	if a.baseURL != "" {
		return a.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) links(r *http.Request, id, manageToken string) (join, manage, ics string) {
	base := a.base(r)
	join = base + "/join/" + id + "?t=" + url.QueryEscape(booking.JoinTokenFor(manageToken))
	manage = base + "/a/" + id + "?t=" + url.QueryEscape(manageToken)
	ics = base + "/a/" + id + "/ics?t=" + url.QueryEscape(manageToken)
	return join, manage, ics
}

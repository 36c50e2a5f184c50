package call

import (
	"errors"
	"net/http"

	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/portal"
	"balcao/internal/store"
	"balcao/internal/view"
)

// clientConfig is handed to call.js in a <script type="application/json"> element:
// data, not code, so the CSP (script-src 'self') allows it.
type clientConfig struct {
	Token string            `json:"token"`
	WS    string            `json:"ws"`
	Role  string            `json:"role"`
	Text  map[string]string `json:"text"`
}

// jsText are the catalogue keys call.js shows; the rest of a page is rendered here.
var jsText = []string{
	"call.status.connecting", "call.status.lobby_alone", "call.status.lobby_staff", "call.status.starting",
	"call.status.in_call", "call.status.reconnecting", "call.status.ended", "call.status.left", "call.status.replaced",
	"call.status.media_error", "call.status.share_error", "call.status.waiting", "call.status.nobody_waiting",
	"call.status.citizen_in", "call.status.staff_gone", "call.caption.camera", "call.caption.screen",
	"call.chat.you", "call.admit", "call.audio.enable", "call.role.agent", "call.role.interpreter", "call.role.citizen",
	"call.error.refused",
}

type callPage struct {
	view.Page
	ThemeName   string
	When        string
	CitizenName string
	Config      clientConfig
}

func (s *Server) newCallPage(r *http.Request, a booking.Appointment, c Claims) (callPage, error) {
	th, err := directory.ThemeByID(r.Context(), s.db, a.ThemeID)
	if err != nil {
		return callPage{}, httpx.Internal(err)
	}
	token, err := s.tokens.Issue(c)
	if err != nil {
		return callPage{}, httpx.Internal(err)
	}
	pg := s.page(r, "call.title")
	text := make(map[string]string, len(jsText))
	for _, k := range jsText {
		text[k] = pg.T(k)
	}
	loc := s.svc.Location()
	return callPage{Page: pg, ThemeName: th.Name.In(pg.Lang),
		When:   pg.LongDate(a.Start.In(loc)) + ", " + a.Start.In(loc).Format("15:04"),
		Config: clientConfig{Token: token, WS: "/call/ws", Role: c.Role, Text: text}}, nil
}

// citizenPage is the citizen's lobby and call, GET /join/{id}/call. The citizen proves
// the booking with the join link's cookie, which the portal set on /join/{id}.
func (s *Server) citizenPage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cookie, err := r.Cookie(portal.JoinCookie)
	if err != nil {
		return httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	}
	a, err := s.svc.Get(r.Context(), id, cookie.Value, booking.JoinToken)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	} else if err != nil {
		return httpx.Internal(err)
	}
	if now := s.now(); a.Status != booking.StatusBooked || now.Before(a.Start.Add(-OpensBefore)) || !now.Before(a.End.Add(ClosesAfter)) {
		return &httpx.Error{Status: http.StatusConflict, Code: "not_open", Key: "call.error.not_open",
			Args: []any{int(OpensBefore.Minutes())}}
	}
	data, err := s.newCallPage(r, a, Claims{Room: a.ID, Participant: RoleCitizen, Role: RoleCitizen, Name: a.Citizen.Name})
	if err != nil {
		return err
	}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

// agentPage is the agent's (or interpreter's) call, GET /staff/call/{id}: only the
// staff booked for the appointment may open it.
func (s *Server) agentPage(w http.ResponseWriter, r *http.Request) error {
	staffID, name, ok := s.staff(r)
	if !ok {
		return httpx.Errorf(http.StatusUnauthorized, "unauthorized", "call.error.staff_only", nil)
	}
	a, err := appointment(r.Context(), s.db, r.PathValue("id"))
	if err != nil {
		return notFound(err)
	}
	role := RoleAgent
	switch staffID {
	case a.AgentID:
	case a.InterpreterID:
		role = RoleInterpreter
	default:
		return notFound(nil)
	}
	if a.Status != booking.StatusBooked {
		return httpx.Errorf(http.StatusConflict, "not_open", "error.not_cancellable", nil)
	}
	data, err := s.newCallPage(r, a, Claims{Room: a.ID, Participant: role + "-" + staffID, Role: role, Name: name})
	if err != nil {
		return err
	}
	data.CitizenName = a.Citizen.Name
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

package call

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"balcao/internal/audit"
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
	// Token is empty on an invited guest's page: call.js takes it from the link's
	// fragment, which no server ever sees.
	Token string `json:"token"`
	WS    string `json:"ws"`
	Role  string `json:"role"`
	Staff bool   `json:"staff"`
	// Invite is where the agent asks for an interpreter's invitation link.
	Invite string `json:"invite,omitempty"`
	// Card is drawn into the agent's outgoing video: the entity must be identifiable.
	Card       *idCard           `json:"card,omitempty"`
	CardModule string            `json:"cardModule,omitempty"` // the script that draws it
	Text       map[string]string `json:"text"`
}

// idCard is the identification card on the agent's video.
type idCard struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Agency  string `json:"agency"`
	Initial string `json:"initial"`
}

// jsText are the catalogue keys call.js shows; the rest of a page is rendered here.
var jsText = []string{
	"call.status.connecting", "call.status.lobby_alone", "call.status.lobby_staff", "call.status.starting",
	"call.status.in_call", "call.status.reconnecting", "call.status.ended", "call.status.left", "call.status.replaced",
	"call.status.media_error", "call.status.share_error", "call.status.waiting", "call.status.nobody_waiting",
	"call.status.citizen_in", "call.status.staff_gone", "call.status.expired", "call.caption.camera", "call.caption.screen",
	"call.chat.you", "call.admit", "call.audio.enable", "call.role.agent", "call.role.interpreter", "call.role.citizen",
	"call.error.refused", "call.lobby.ready", "call.invite.made", "call.invite.copied", "call.invite.failed",
	"call.quality.you", "call.quality.good", "call.quality.fair", "call.quality.poor", "call.quality.none",
	"call.quality.alert", "call.quality.ms", "call.quality.kbps", "call.chat.kept", "call.chat.keep_failed",
	"call.chat.kept_notice", "call.status.unsupported",
}

type callPage struct {
	view.Page
	ThemeName   string
	When        string
	CitizenName string
	Staff       bool   // the agent's or the agency interpreter's page: admit, end
	Guest       bool   // an invited interpreter's page
	CanInvite   bool   // the agent may invite an interpreter
	CanKeepChat bool   // the agent may keep the chat in the contact record
	CheckURL    string // the device check, which comes back here
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
	loc := s.svc.Location()
	return callPage{Page: pg, ThemeName: th.Name.In(pg.Lang),
		When:     pg.LongDate(a.Start.In(loc)) + ", " + a.Start.In(loc).Format("15:04"),
		Staff:    c.isStaff(),
		CheckURL: CheckPath + "?back=" + url.QueryEscape(r.URL.Path),
		Config:   clientConfig{Token: token, WS: "/call/ws", Role: c.Role, Staff: c.isStaff(), Text: jsTexts(pg)}}, nil
}

func jsTexts(pg view.Page) map[string]string {
	text := make(map[string]string, len(jsText))
	for _, k := range jsText {
		text[k] = pg.T(k)
	}
	return text
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
	data, err := s.newCallPage(r, a, Claims{Room: a.ID, Participant: RoleCitizen, Role: RoleCitizen, Name: FirstName(a.Citizen.Name)})
	if err != nil {
		return err
	}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

// agentPage is the agent's (or the agency interpreter's) call, GET /staff/call/{id}:
// only the staff booked for the appointment may open it.
func (s *Server) agentPage(w http.ResponseWriter, r *http.Request) error {
	a, role, staffID, name, err := s.staffAppointment(r)
	if err != nil {
		return err
	}
	data, err := s.newCallPage(r, a, Claims{Room: a.ID, Participant: role + "-" + staffID, Role: role, Name: name})
	if err != nil {
		return err
	}
	data.CitizenName = a.Citizen.Name
	if role == RoleInterpreter {
		data.CitizenName = FirstName(a.Citizen.Name)
	}
	if err := audit.RecordRead(r, "appointment:"+a.ID); err != nil { // the page shows the citizen's name
		return err
	}
	if role == RoleAgent {
		data.CanInvite, data.CanKeepChat = true, true
		data.Config.Invite = "/staff/call/" + url.PathEscape(a.ID) + "/invite"
		if err := s.addCard(&data, name); err != nil {
			return err
		}
	}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

// addCard puts the agent's identification card on an agent's call page: call.js
// draws it into the video the agent sends.
func (s *Server) addCard(data *callPage, agentName string) error {
	module, err := s.view.Assets().URL("call-card.js")
	if err != nil {
		return httpx.Internal(err)
	}
	data.Config.CardModule = module
	data.Config.Card = &idCard{Name: agentName, Role: data.T("call.card.role"), Agency: data.Agency, Initial: initial(data.Agency)}
	return nil
}

// staffAppointment finds the appointment of a staff page and the signed-in member of
// staff's role in it.
func (s *Server) staffAppointment(r *http.Request) (a booking.Appointment, role, staffID, name string, err error) {
	staffID, name, ok := s.staff(r)
	if !ok {
		return a, "", "", "", httpx.Errorf(http.StatusUnauthorized, "unauthorized", "call.error.staff_only", nil)
	}
	a, err = appointment(r.Context(), s.db, r.PathValue("id"))
	if err != nil {
		return a, "", "", "", notFound(err)
	}
	switch staffID {
	case a.AgentID:
		role = RoleAgent
	case a.InterpreterID:
		role = RoleInterpreter
	default:
		return a, "", "", "", notFound(nil)
	}
	if a.Status != booking.StatusBooked {
		return a, "", "", "", httpx.Errorf(http.StatusConflict, "not_open", "error.not_cancellable", nil)
	}
	return a, role, staffID, name, nil
}

// guestPage is the call of an interpreter the agent invited, GET /call/guest#TOKEN.
// The token travels in the link's fragment: browsers never send it, so it reaches
// neither this handler nor any log; call.js reads it and sends it in its hello.
func (s *Server) guestPage(w http.ResponseWriter, r *http.Request) error {
	pg := s.page(r, "call.title")
	data := callPage{Page: pg, Guest: true, CheckURL: CheckPath + "?back=" + url.QueryEscape(r.URL.Path),
		Config: clientConfig{WS: "/call/ws", Role: RoleInterpreter, Text: jsTexts(pg)}}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

// FirstName is the first word of a name: what the others in a call see of the citizen,
// and all an interpreter needs to greet them.
func FirstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// initial is the first letter of the agency's name, for the card's badge.
func initial(name string) string {
	for _, r := range strings.TrimSpace(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return ""
}

// cleanName trims a name typed by the agent and caps it at max runes.
func cleanName(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		return ""
	}
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

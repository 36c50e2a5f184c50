package call

import (
	"net/http"
	"net/url"
	"time"

	"balcao/internal/httpx"
)

// This file is what the agent console (package console) needs of calls: to hear where
// the citizen of a call is (for the agenda and the no-show rule), and to open a call
// page for a room that is not an appointment's — a walk-in ticket's, "ticket-<id>".

// Presence is told, on its own goroutine, when a participant arrives in a room (in the
// lobby, or admitted at once for staff) and when one is admitted.
type Presence func(room, role string, state State)

// OnPresence sets the function told of arrivals and admissions. Set it before serving.
func (s *Server) OnPresence(fn Presence) { s.presence.Store(&fn) }

// observe tells the presence function, without ever holding up the room's goroutine.
func (s *Server) observe(room, role string, state State) {
	if fn := s.presence.Load(); fn != nil {
		go (*fn)(room, role, state)
	}
}

// RoomPage is the call page of a room that the caller has checked the visitor may
// enter.
type RoomPage struct {
	Room        string    // the room's id: "ticket-<id>" for a walk-in ticket
	Participant string    // unique in the room: RoleCitizen, or "agent-<staff id>"
	Role        string    // RoleCitizen or RoleAgent
	Name        string    // the participant's name, as the others see it
	Heading     string    // what the call is about: the service or theme
	When        time.Time // when the call began (shown to the agent)
	CitizenName string    // the agent's page names the citizen
}

// RenderRoom issues the participant's join token and renders the call page, as the
// appointment's call pages are.
func (s *Server) RenderRoom(w http.ResponseWriter, r *http.Request, p RoomPage) error {
	c := Claims{Room: p.Room, Participant: p.Participant, Role: p.Role, Name: p.Name}
	token, err := s.tokens.Issue(c)
	if err != nil {
		return httpx.Internal(err)
	}
	pg := s.page(r, "call.title")
	when := p.When.In(s.svc.Location())
	data := callPage{Page: pg, ThemeName: p.Heading, When: pg.LongDate(when) + ", " + when.Format("15:04"),
		CitizenName: p.CitizenName, Staff: c.isStaff(), CheckURL: CheckPath + "?back=" + url.QueryEscape(r.URL.Path),
		Config: clientConfig{Token: token, WS: "/call/ws", Role: c.Role, Staff: c.isStaff(), Text: jsTexts(pg)}}
	if c.Role == RoleAgent {
		data.CanKeepChat = true
		if err := s.addCard(&data, p.Name); err != nil {
			return err
		}
	}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_room", data)
}

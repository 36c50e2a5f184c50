package call

import (
	"balcao/internal/mailbox"
	"log/slog"
	"time"
)

// room is the signalling side of one call: the lobby's rules and the connection of
// each participant. One goroutine owns it; connections post it functions.
type room struct {
	id  string
	srv *Server
	log *slog.Logger

	inbox *mailbox.Mailbox
	refs  int // connections attached; guarded by srv.mu

	// Owned by the loop goroutine.
	lobby   Lobby
	conns   map[string]*conn // participant id → its live connection
	keeping bool             // a keep_chat is being written
}

// attach finds or starts the room of c and adds c to it.
func (s *Server) attach(c *conn) *room {
	s.mu.Lock()
	r := s.rooms[c.claims.Room]
	if r == nil {
		r = &room{id: c.claims.Room, srv: s, log: s.log.With("call", c.claims.Room),
			inbox: mailbox.New(), conns: map[string]*conn{}}
		s.rooms[r.id] = r
		s.wg.Add(1)
		go r.loop()
	}
	r.refs++
	s.mu.Unlock()
	r.post(func() { r.arrive(c) })
	return r
}

// detach removes c from its room; the last connection out stops the room, and with it
// the lobby and the chat, which were only ever in memory.
func (r *room) detach(c *conn) {
	r.post(func() { r.depart(c) })
	s := r.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	r.refs--
	if r.refs == 0 {
		delete(s.rooms, r.id)
		r.post(nil) // stop
	}
}

func (r *room) post(fn func()) bool { return r.inbox.Post(fn) }

func (r *room) loop() {
	defer r.srv.wg.Done()
	for range r.inbox.Wake() {
		for _, fn := range r.inbox.Take() {
			if fn == nil {
				r.inbox.Close()
				return
			}
			fn()
		}
	}
}

func (r *room) arrive(c *conn) {
	if old := r.conns[c.claims.Participant]; old != nil && old != c {
		// The same participant from a reloaded page or a new connection: the newest wins.
		old.send(outMsg{Type: "replaced"})
		old.closeAfterFlush()
	}
	arrive := r.lobby.Arrive
	if c.claims.Guest {
		arrive = r.lobby.ArriveGuest
	}
	state, err := arrive(c.claims.Participant, c.claims.Role, c.claims.Name)
	if err != nil {
		c.send(outMsg{Type: "ended"})
		c.closeAfterFlush()
		return
	}
	r.conns[c.claims.Participant] = c
	r.srv.observe(r.id, c.claims.Role, state)
	c.admitted.Store(state == StateAdmitted)
	self, _ := r.lobby.Member(c.claims.Participant)
	ice := r.srv.sfu.ICEServersFor(r.id, c.claims.Participant, time.Unix(c.claims.Expires, 0))
	w := outMsg{Type: "welcome", Self: &self, Members: r.lobby.Members(), ICEServers: ice}
	if state == StateAdmitted {
		w.Chat = r.lobby.Chat()
	}
	c.send(w)
	r.log.Info("participant connected", "participant", c.claims.Participant, "role", c.claims.Role, "state", state)
	r.presence(c)
}

func (r *room) depart(c *conn) {
	if r.conns[c.claims.Participant] != c {
		return // replaced, or never arrived
	}
	delete(r.conns, c.claims.Participant)
	r.lobby.Depart(c.claims.Participant)
	r.log.Info("participant disconnected", "participant", c.claims.Participant)
	r.presence(nil)
}

// presence tells everyone else who is there and in what state.
func (r *room) presence(except *conn) {
	msg := outMsg{Type: "presence", Members: r.lobby.Members()}
	for _, o := range r.conns {
		if o != except {
			o.send(msg)
		}
	}
}

func (r *room) admit(c *conn, id string) {
	if r.conns[c.claims.Participant] != c {
		return
	}
	if err := r.lobby.Admit(c.claims.Participant, id); err != nil {
		c.send(outMsg{Type: "error", Code: "admit_refused"})
		return
	}
	r.log.Info("participant admitted", "participant", id, "by", c.claims.Participant)
	if m, ok := r.lobby.Member(id); ok {
		r.srv.observe(r.id, m.Role, StateAdmitted)
	}
	if t := r.conns[id]; t != nil && !t.admitted.Load() {
		t.admitted.Store(true)
		t.send(outMsg{Type: "admitted", Chat: r.lobby.Chat()})
	}
	r.presence(nil)
}

func (r *room) chat(c *conn, text string) {
	if r.conns[c.claims.Participant] != c {
		return
	}
	msg, err := r.lobby.Say(c.claims.Participant, text, r.srv.now())
	if err != nil {
		c.send(outMsg{Type: "error", Code: "chat_refused"})
		return
	}
	out := outMsg{Type: "chat", Message: &msg}
	for id, o := range r.conns {
		if m, ok := r.lobby.Member(id); ok && m.State == StateAdmitted {
			o.send(out)
		}
	}
}

// quality passes a participant's call quality on to the staff in the call, for the
// agent's live panel.
func (r *room) quality(c *conn, q Quality) {
	if r.conns[c.claims.Participant] != c || !c.admitted.Load() {
		return
	}
	out := outMsg{Type: "quality", From: c.claims.Participant, Quality: &q}
	for id, o := range r.conns {
		if m, ok := r.lobby.Member(id); ok && m.Staff && o != c {
			o.send(out)
		}
	}
}

// leave is a participant leaving on purpose: its connection is closed and a citizen
// who comes back waits in the lobby again.
func (r *room) leave(c *conn) {
	if r.conns[c.claims.Participant] != c {
		return
	}
	delete(r.conns, c.claims.Participant)
	r.lobby.Leave(c.claims.Participant)
	c.send(outMsg{Type: "left"})
	c.closeAfterFlush()
	r.log.Info("participant left", "participant", c.claims.Participant)
	r.presence(nil)
}

// end is the agent ending the call for everyone.
func (r *room) end(c *conn) {
	if r.conns[c.claims.Participant] != c {
		return
	}
	if err := r.lobby.End(c.claims.Participant); err != nil {
		c.send(outMsg{Type: "error", Code: "end_refused"})
		return
	}
	for id, o := range r.conns {
		o.send(outMsg{Type: "ended"})
		o.closeAfterFlush()
		delete(r.conns, id)
	}
	r.log.Info("call ended", "by", c.claims.Participant)
}

// outMsg is every message the server sends; Type says which fields are set.
type outMsg struct {
	Type       string        `json:"type"`
	Self       *Member       `json:"self,omitempty"`
	Members    []Member      `json:"members,omitempty"`
	Chat       []ChatMessage `json:"chat,omitempty"`
	Message    *ChatMessage  `json:"message,omitempty"`
	ICEServers any           `json:"iceServers,omitempty"`
	SDP        string        `json:"sdp,omitempty"`
	Candidate  any           `json:"candidate,omitempty"`
	Event      any           `json:"event,omitempty"`
	Code       string        `json:"code,omitempty"`
	From       string        `json:"from,omitempty"`
	Quality    *Quality      `json:"quality,omitempty"`
	Count      int           `json:"count,omitempty"`
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.clock() }

// Package call is the signalling layer of balcao's video calls: the pages of a call
// (the citizen's lobby and call, the agent's call), join tokens, and a WebSocket per
// participant that carries SDP and ICE candidates to and from the embedded SFU
// (package sfu), the lobby (a citizen waits until the agent admits them), the chat and
// the end of the call.
//
// One room per appointment, its id the appointment's. Nothing of a call is written
// anywhere and calls are never recorded: media goes through the SFU only, and the
// lobby, the chat and the quality reports live in the room's memory until its last
// participant leaves; the chat is copied out only when the agent asks to keep it with
// the contact record. (A test checks that this package writes no files.)
//
// Who joins: the citizen with the join link's cookie, the agent and the agency's
// interpreter from their staff session, and an interpreter from outside the agency
// with an invitation link the agent makes on the call page (a join token for the room,
// in the link's fragment, valid until the lobby closes). Citizens and invited guests
// wait in the lobby until a member of staff admits them.
//
// The WebSocket protocol (JSON text messages, every one with a "type"):
//
//	client → server
//	  hello     {token}                      first message; nothing else before it
//	  offer     {sdp, sources: {mid: source}} admitted participants; the client offers first
//	  answer    {sdp}                        to a server offer
//	  candidate {candidate}                  RTCIceCandidateInit
//	  admit     {participant}                staff: let a waiting citizen or guest in
//	  chat      {text}                       admitted participants
//	  quality   {quality}                    admitted participants, every 2 s: what
//	                                         their browser measures (see Quality)
//	  keep_chat {}                           the agent: keep a copy of the chat so far with
//	                                         the contact record (see OnKeepChat)
//	  leave     {}                           leave the call on purpose
//	  end       {}                           staff: end the call for everyone
//
//	server → client
//	  welcome   {self, members, chat?, iceServers}  state in self.state: lobby or admitted
//	  presence  {members}                    someone arrived, left or was admitted
//	  admitted  {chat}                       the citizen may now start media and offer
//	  offer | answer {sdp}; candidate {candidate}
//	  glare     {}                           the client's offer crossed a server offer and
//	                                         was dropped: answer that offer, then offer again
//	  event     {event}                      an sfu.Event ("tracks" maps mids to sources)
//	  chat      {message}
//	  quality   {from, quality}              staff only: another participant's report
//	  chat_kept {count}                      the agent kept the chat (told to everyone in)
//	  ended | left | replaced {}             the connection then closes; do not reconnect
//	  error     {code}
//
// The server is the impolite peer of perfect negotiation (see sfu.Participant); the
// browser is the polite one. A reconnection with a valid token rejoins the same room as
// the same participant, with a new PeerConnection that replaces the old one in the SFU.
package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/portal"
	"balcao/internal/sfu"
	"balcao/internal/store"
	"balcao/internal/view"
)

// StaffAuth identifies the member of staff who makes a request; ok is false for anyone
// else. The staff login provides it.
type StaffAuth func(r *http.Request) (staffID, name string, ok bool)

// How long around the appointment a citizen can enter the lobby.
const (
	OpensBefore = portal.JoinOpensBefore
	ClosesAfter = time.Hour // after the booked end: agents run late
)

// Config is what a Server needs.
type Config struct {
	DB      *store.DB
	Booking *booking.Service
	SFU     *sfu.SFU
	View    *view.Renderer
	Logger  *slog.Logger
	Staff   StaffAuth
	// Secret signs the join tokens (at least 32 bytes): LoadSecret reads it from the
	// settings table.
	Secret []byte
	// Now is the clock; the booking service's by default.
	Now func() time.Time
}

// Server serves the call pages and the signalling WebSocket.
type Server struct {
	db     *store.DB
	svc    *booking.Service
	sfu    *sfu.SFU
	view   *view.Renderer
	log    *slog.Logger
	staff  StaffAuth
	tokens *Tokens
	clock  func() time.Time

	presence atomic.Pointer[Presence]   // see OnPresence
	keeper   atomic.Pointer[ChatKeeper] // see OnKeepChat

	checks chan struct{} // places for connection tests (device check)

	mu     sync.Mutex
	rooms  map[string]*room
	conns  map[*conn]struct{} // open WebSockets
	closed bool
	wg     sync.WaitGroup // room loops
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Booking == nil || cfg.SFU == nil || cfg.View == nil || cfg.Staff == nil {
		return nil, errors.New("call: DB, Booking, SFU, View and Staff are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = cfg.Booking.Now
	}
	tokens, err := NewTokens(cfg.Secret, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Server{db: cfg.DB, svc: cfg.Booking, sfu: cfg.SFU, view: cfg.View, log: cfg.Logger, staff: cfg.Staff,
		tokens: tokens, clock: cfg.Now, rooms: map[string]*room{}, conns: map[*conn]struct{}{},
		checks: make(chan struct{}, maxChecks)}, nil
}

// Routes lists the call's pages, its WebSocket and the device check.
func (s *Server) Routes(mux *http.ServeMux) {
	handle := func(pattern string, h httpx.Handler) { mux.Handle(pattern, httpx.Serve(s.log, h, s.renderError)) }
	handle("GET /join/{id}/call", s.citizenPage)
	handle("GET /staff/call/{id}", s.agentPage)
	handle("POST /staff/call/{id}/invite", s.invite)
	handle("GET "+GuestPath, s.guestPage)
	mux.HandleFunc("GET /call/ws", s.serveWS)
	handle("GET "+CheckPath, s.checkPage)
	mux.HandleFunc("GET "+CheckPath+"/ping", s.checkPing)
	mux.HandleFunc("GET "+CheckPath+"/download", s.checkDownload)
	mux.HandleFunc("POST "+CheckPath+"/upload", s.checkUpload)
}

// Wait waits until every room has stopped, after the HTTP server has shut down (its
// WebSockets closed).
func (s *Server) Wait() { s.wg.Wait() }

// Close closes every WebSocket (http.Server.Shutdown leaves hijacked connections
// alone) and waits for the rooms to stop. Call it after the HTTP server's Shutdown and
// before closing the SFU. Browsers reconnect to whichever server comes back.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// page starts a page's data with the agency's name.
func (s *Server) page(r *http.Request, titleKey string) view.Page {
	pg := s.view.NewPage(r, titleKey)
	if name, err := directory.AgencyName(r.Context(), s.db); err == nil {
		pg.Agency = name.In(pg.Lang)
	}
	return pg
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	s.view.RenderError(w, r, s.page(r, "error.title"), e, s.log)
}

func notFound(cause error) error {
	return httpx.Errorf(http.StatusNotFound, "not_found", "error.not_found", cause)
}

// appointment reads an appointment for a member of staff, who holds no token.
func appointment(ctx context.Context, db *store.DB, id string) (booking.Appointment, error) {
	var a booking.Appointment
	var start, end int64
	err := db.QueryRow(ctx, `SELECT id, theme_id, agent_id, COALESCE(interpreter_id, ''), starts_at, ends_at, status,
		citizen_name, language, sign_language FROM appointments WHERE id = ?`, id).Scan(&a.ID, &a.ThemeID, &a.AgentID,
		&a.InterpreterID, &start, &end, &a.Status, &a.Citizen.Name, &a.Citizen.Language, &a.SignLanguage)
	if err != nil {
		return a, fmt.Errorf("read appointment %q: %w", id, err)
	}
	a.Start, a.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
	return a, nil
}

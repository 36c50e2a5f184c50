package call

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"balcao/internal/sfu"
)

// Limits of the signalling connection.
const (
	helloTimeout = 10 * time.Second
	writeTimeout = 10 * time.Second
	pingInterval = 20 * time.Second
	maxMessage   = 256 << 10 // an SDP with a few dozen m-lines fits
	sendQueue    = 256
)

// inMsg is every message a client sends; Type says which fields are set.
type inMsg struct {
	Type        string                   `json:"type"`
	Token       string                   `json:"token,omitempty"`
	SDP         string                   `json:"sdp,omitempty"`
	Sources     map[string]sfu.Source    `json:"sources,omitempty"`
	Candidate   *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	Participant string                   `json:"participant,omitempty"`
	Text        string                   `json:"text,omitempty"`
	Quality     *Quality                 `json:"quality,omitempty"`
}

// conn is one participant's WebSocket. Its reader goroutine owns the participant's
// place in the SFU; a writer goroutine drains a bounded queue, so that neither the room
// nor the SFU ever waits on the network. It implements sfu.Signaler.
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	claims Claims
	log    *slog.Logger
	room   *room

	out      chan []byte // nil closes the connection once what is before it is sent
	dead     chan struct{}
	killOnce sync.Once
	admitted atomic.Bool // set by the room goroutine

	part        *sfu.Participant // reader goroutine only
	lastQuality time.Time        // reader goroutine only
}

// serveWS is GET /call/ws. The first message must be {"type":"hello","token":...}: the
// token never appears in a URL, so no log or history keeps it. websocket.Accept refuses
// a handshake whose Origin is not this host.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.log.Info("websocket refused", "error", err)
		return
	}
	ws.SetReadLimit(maxMessage)
	ctx := r.Context()
	claims, err := s.hello(ctx, ws)
	if err != nil {
		s.log.Info("websocket hello refused", "error", err)
		ws.Close(websocket.StatusPolicyViolation, "bad token")
		return
	}
	c := &conn{srv: s, ws: ws, claims: claims, out: make(chan []byte, sendQueue), dead: make(chan struct{}),
		log: s.log.With("call", claims.Room, "participant", claims.Participant)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "")
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { defer close(done); c.writeLoop() }()
	c.room = s.attach(c)
	c.readLoop(ctx)
	if c.part != nil {
		c.part.Leave()
	}
	c.room.detach(c)
	c.kill()
	<-done
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) hello(ctx context.Context, ws *websocket.Conn) (Claims, error) {
	ctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		return Claims{}, err
	}
	var m inMsg
	if err := json.Unmarshal(data, &m); err != nil || m.Type != "hello" {
		return Claims{}, errors.New("first message is not a hello")
	}
	return s.tokens.Verify(m.Token)
}

func (c *conn) readLoop(ctx context.Context) {
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		var m inMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.send(outMsg{Type: "error", Code: "bad_message"})
			continue
		}
		switch m.Type {
		case "offer":
			c.offer(m)
		case "answer":
			if c.part != nil {
				if err := c.part.HandleAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
					c.log.Debug("answer", "error", err)
				}
			}
		case "candidate":
			if c.part != nil && m.Candidate != nil {
				if err := c.part.AddCandidate(*m.Candidate); err != nil {
					c.log.Debug("candidate", "error", err)
				}
			}
		case "admit":
			c.room.post(func() { c.room.admit(c, m.Participant) })
		case "chat":
			c.room.post(func() { c.room.chat(c, m.Text) })
		case "keep_chat":
			c.room.post(func() { c.room.keepChat(ctx, c) })
		case "leave":
			c.room.post(func() { c.room.leave(c) })
		case "end":
			c.room.post(func() { c.room.end(c) })
		case "quality":
			if m.Quality == nil || time.Since(c.lastQuality) < minQualityInterval {
				continue // at most one a second: the agent's panel needs no more
			}
			c.lastQuality = time.Now()
			q := m.Quality.clean()
			c.room.post(func() { c.room.quality(c, q) })
		default:
			c.send(outMsg{Type: "error", Code: "bad_message"})
		}
	}
}

// offer joins the SFU at the first offer of an admitted participant, then hands the
// offer over. A glare is reported: the browser, the polite peer, answers the server's
// offer and then offers again.
func (c *conn) offer(m inMsg) {
	if !c.admitted.Load() {
		c.send(outMsg{Type: "error", Code: "not_admitted"})
		return
	}
	if c.part == nil {
		p, err := c.srv.sfu.Room(c.claims.Room).Join(sfu.ParticipantInfo{ID: c.claims.Participant, Role: c.claims.Role}, c)
		if err != nil {
			c.log.Warn("join SFU", "error", err)
			c.send(outMsg{Type: "error", Code: "media_unavailable"})
			return
		}
		c.part = p
	}
	err := c.part.HandleOffer(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}, m.Sources)
	switch {
	case errors.Is(err, sfu.ErrGlare):
		c.send(outMsg{Type: "glare"})
	case err != nil:
		c.log.Info("offer refused", "error", err)
		c.send(outMsg{Type: "error", Code: "offer_refused"})
	}
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.dead:
			c.ws.CloseNow()
			return
		case b := <-c.out:
			if b == nil {
				c.ws.Close(websocket.StatusNormalClosure, "")
				c.kill()
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.kill()
				c.ws.CloseNow()
				return
			}
		case <-ping.C:
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
				defer cancel()
				if err := c.ws.Ping(ctx); err != nil {
					c.kill()
				}
			}()
		}
	}
}

// send queues a message without ever blocking; a client too slow to take its messages
// is disconnected (it reconnects and starts afresh).
func (c *conn) send(m outMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		c.log.Error("encode message", "type", m.Type, "error", err)
		return
	}
	c.enqueue(b)
}

func (c *conn) enqueue(b []byte) {
	select {
	case <-c.dead:
	case c.out <- b:
	default:
		c.log.Warn("signalling queue full: disconnecting")
		c.kill()
	}
}

// closeAfterFlush closes the connection once the queued messages are written.
func (c *conn) closeAfterFlush() { c.enqueue(nil) }

func (c *conn) kill() { c.killOnce.Do(func() { close(c.dead) }) }

// SendOffer implements sfu.Signaler.
func (c *conn) SendOffer(o webrtc.SessionDescription) error {
	c.send(outMsg{Type: "offer", SDP: o.SDP})
	return nil
}

// SendAnswer implements sfu.Signaler.
func (c *conn) SendAnswer(a webrtc.SessionDescription) error {
	c.send(outMsg{Type: "answer", SDP: a.SDP})
	return nil
}

// SendCandidate implements sfu.Signaler.
func (c *conn) SendCandidate(cand webrtc.ICECandidateInit) error {
	c.send(outMsg{Type: "candidate", Candidate: cand})
	return nil
}

// SendEvent implements sfu.Signaler.
func (c *conn) SendEvent(e sfu.Event) error {
	c.send(outMsg{Type: "event", Event: e})
	return nil
}

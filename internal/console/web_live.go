package console

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/coder/websocket"

	"balcao/internal/auth"
	"balcao/internal/calendar"
	"balcao/internal/events"
	"balcao/internal/queue"
)

// The console and the board are kept live by a WebSocket that only says "changed"
// ({"type":"changed"}) when one of the topics they follow has an event; the page then
// fetches itself again and updates its live regions. The database stays the truth: a
// page without a WebSocket asks every 15 s instead.

// liveGap is the least time between two "changed" messages: events in a burst are
// folded into one refresh.
const liveGap = 300 * time.Millisecond

// consoleLive is GET /staff/console/live: the agent's topic, the board's (which carries
// presence changes) and the queues the agent serves.
func (h *Web) consoleLive(w http.ResponseWriter, r *http.Request) error {
	staff, _ := auth.StaffFromRequest(r)
	services, err := h.svc.ServicesOf(r.Context(), staff.ID)
	if err != nil {
		return err
	}
	topics := []string{AgentTopic(staff.ID)}
	for _, s := range services {
		topics = append(topics, queue.Topic(s))
	}
	return h.live(w, r, topics)
}

// boardLive is GET /staff/board/live: the board's topic and every queue.
func (h *Web) boardLive(w http.ResponseWriter, r *http.Request) error {
	queues, err := h.queue.Queues(r.Context())
	if err != nil {
		return err
	}
	topics := []string{BoardTopic}
	for _, q := range queues {
		topics = append(topics, queue.Topic(q.ServiceID))
	}
	return h.live(w, r, topics)
}

// interpreterLive is GET /staff/interpreter/live: the topics of the agents of the
// interpreter's calls today, which carry the citizen's arrival in the lobby and in the
// call. (The page also refreshes itself every minute, for a call whose Join opens.)
func (h *Web) interpreterLive(w http.ResponseWriter, r *http.Request) error {
	staff, _ := auth.StaffFromRequest(r)
	list, err := h.svc.InterpreterBookings(r.Context(), staff.ID)
	if err != nil {
		return err
	}
	today := calendar.DateOf(h.svc.now().In(h.svc.loc))
	var topics []string
	for _, b := range list {
		if calendar.DateOf(b.Start.In(h.svc.loc)) != today {
			continue // a later day's call changes nothing the page shows live
		}
		if t := AgentTopic(b.AgentID); !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	return h.live(w, r, topics)
}

func (h *Web) live(w http.ResponseWriter, r *http.Request, topics []string) error {
	if h.bus == nil {
		return notFound(nil)
	}
	// Subscribed before the handshake completes, so that nothing after it is missed.
	kick := make(chan struct{}, 1)
	var unsubscribe []func()
	for _, t := range topics {
		unsubscribe = append(unsubscribe, h.bus.Subscribe(t, func(events.Event) {
			select {
			case kick <- struct{}{}:
			default:
			}
		}))
	}
	c, err := websocket.Accept(w, r, nil) // the request's own host only
	if err != nil {
		for _, u := range unsubscribe {
			u()
		}
		return nil // Accept has answered
	}
	go h.push(c, kick, unsubscribe)
	return nil
}

func (h *Web) push(c *websocket.Conn, kick <-chan struct{}, unsubscribe []func()) {
	defer c.CloseNow()
	defer func() {
		for _, u := range unsubscribe {
			u()
		}
	}()
	c.SetReadLimit(512)
	ctx := c.CloseRead(context.Background())
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.Write(wctx, websocket.MessageText, []byte(`{"type":"changed"}`))
			cancel()
			if err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(liveGap):
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

package queue

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"balcao/internal/events"
)

// Update is what a ticket holder's page is told when the queue moves.
type Update struct {
	Number      string `json:"number"`
	Status      string `json:"status"`
	Position    int    `json:"position"`
	WaitSeconds int    `json:"estimated_wait_seconds"`
	Near        bool   `json:"near"`
}

// UpdateOf is a ticket's update.
func UpdateOf(t Ticket) Update {
	return Update{Number: t.Code, Status: t.Status, Position: t.Position, WaitSeconds: int(t.Wait / time.Second), Near: t.Near}
}

// Live pushes every watching ticket holder their new position when their queue moves.
// Each watched queue has one goroutine that, on each change, reads the queue once and
// computes every position at once, so ten thousand watchers cost one query and a sort,
// not ten thousand of each. Changes arriving while it works are folded into one refresh.
type Live struct {
	svc    *Service
	bus    events.Bus
	logger *slog.Logger

	mu     sync.Mutex
	queues map[string]*liveQueue
}

type liveQueue struct {
	watchers    map[*watch]struct{}
	kick        chan struct{}
	done        chan struct{}
	unsubscribe func()
}

type watch struct {
	ticketID string
	code     string
	send     func(Update)
}

// NewLive returns the hub; it follows the queues' events on bus.
func NewLive(svc *Service, bus events.Bus, logger *slog.Logger) *Live {
	return &Live{svc: svc, bus: bus, logger: logger, queues: map[string]*liveQueue{}}
}

// Watch calls send with the ticket's state whenever its queue moves, until stop is
// called. send must not block (a WebSocket writer keeps only the latest update).
func (l *Live) Watch(t Ticket, send func(Update)) (stop func()) {
	w := &watch{ticketID: t.ID, code: t.Code, send: send}
	l.mu.Lock()
	q := l.queues[t.ServiceID]
	if q == nil {
		q = &liveQueue{watchers: map[*watch]struct{}{}, kick: make(chan struct{}, 1), done: make(chan struct{})}
		q.unsubscribe = l.bus.Subscribe(Topic(t.ServiceID), func(events.Event) {
			select {
			case q.kick <- struct{}{}:
			default:
			}
		})
		l.queues[t.ServiceID] = q
		go l.run(t.ServiceID, q)
	}
	q.watchers[w] = struct{}{}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(q.watchers, w)
		if len(q.watchers) == 0 && l.queues[t.ServiceID] == q {
			delete(l.queues, t.ServiceID)
			q.unsubscribe()
			close(q.done)
		}
	}
}

func (l *Live) run(serviceID string, q *liveQueue) {
	for {
		select {
		case <-q.done:
			return
		case <-q.kick:
			if err := l.refresh(serviceID, q); err != nil {
				l.logger.Error("queue: live refresh", "queue", serviceID, "error", err)
			}
		}
	}
}

func (l *Live) refresh(serviceID string, q *liveQueue) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.mu.Lock()
	watchers := make([]*watch, 0, len(q.watchers))
	for w := range q.watchers {
		watchers = append(watchers, w)
	}
	l.mu.Unlock()
	waiting, err := l.svc.waiting(ctx, l.svc.db, serviceID)
	if err != nil {
		return err
	}
	positions := Positions(waiting)
	handling, agents, near, err := l.svc.pace(ctx, serviceID)
	if err != nil {
		return err
	}
	var gone []string
	for _, w := range watchers {
		if _, ok := positions[w.ticketID]; !ok {
			gone = append(gone, w.ticketID)
		}
	}
	statuses, err := l.statuses(ctx, gone)
	if err != nil {
		return err
	}
	for _, w := range watchers {
		u := Update{Number: w.code, Status: StatusWaiting}
		if pos, ok := positions[w.ticketID]; ok {
			u.Position, u.Near = pos, pos <= near
			u.WaitSeconds = int(EstimateWait(pos, handling, agents) / time.Second)
		} else {
			u.Status = statuses[w.ticketID]
		}
		w.send(u)
	}
	return nil
}

// statuses reads the status of tickets that left the waiting list, in chunks.
func (l *Live) statuses(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := l.svc.db.Query(ctx, "SELECT id, status FROM tickets WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = status
		}
		rows.Close()
	}
	return out, nil
}

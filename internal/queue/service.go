package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/events"
	"balcao/internal/notify"
	"balcao/internal/outbox"
	"balcao/internal/secret"
	"balcao/internal/store"
)

// Errors of the queue operations.
var (
	ErrNotWalkIn   = errors.New("service takes no walk-in tickets")
	ErrNothingToDo = errors.New("no citizen waiting")
	ErrNotWaiting  = errors.New("ticket is no longer waiting")
)

// ClosedError says the queue takes no tickets now, and when it opens.
type ClosedError struct{ OpensAt time.Time }

func (e *ClosedError) Error() string { return "queue closed" }

// FullError says the queue holds as many tickets as it may.
type FullError struct{}

func (e *FullError) Error() string { return "queue full" }

// Statuses of a ticket.
const (
	StatusWaiting   = "waiting"
	StatusCalled    = "called"
	StatusInCall    = "in_call"
	StatusServed    = "served"
	StatusAbandoned = "abandoned"
	StatusNoAnswer  = "no_answer"
)

// Ticket is a walk-in ticket with, while it waits, its position and estimated wait.
type Ticket struct {
	ID           string
	ServiceID    string
	ThemeID      string
	Code         string // "A023"
	Number       int    // the daily counter of the code
	Priority     bool
	Status       string
	Citizen      booking.Citizen
	CallAttempts int
	AgentID      string
	CreatedAt    time.Time
	CalledAt     time.Time
	Position     int           // 1 is next; 0 unless waiting
	Wait         time.Duration // estimated; 0 unless waiting
	Near         bool          // the position is at or below the queue's alert threshold
}

// Taken is a new ticket with its token, shown once to its holder.
type Taken struct {
	Ticket
	Token string
}

// Request asks for a ticket.
type Request struct {
	ServiceID string
	ThemeID   string // optional
	Citizen   booking.Citizen
	Priority  bool // legal priority service (atendimento prioritário)
	Channel   string
}

// config is a queue's settings.
type config struct {
	ServiceID      string
	Letter         string
	Hours          Hours
	MaxWaiting     int
	MaxPriorityRun int
	PriorityRun    int
	Answer         time.Duration
	Recall         time.Duration
	NearPosition   int
}

// Service runs the queues on the database.
type Service struct {
	db    *store.DB
	loc   *time.Location
	now   func() time.Time
	hooks Hooks
}

// TurnMessages renders the "your turn is near" message of a ticket.
type TurnMessages interface {
	TurnNearMessage(ctx context.Context, q store.Queryer, t notify.Turn) (outbox.Message, error)
}

// Hooks connect the queue to the rest of balcao; all are optional.
type Hooks struct {
	Bus      events.Bus   // told of every change to a queue, after commit
	Messages TurnMessages // the alert held with each ticket and released when it is near
	Poke     func()       // wakes the outbox after an alert was released
	BaseURL  string       // for the ticket link in the alert
}

// SetHooks connects the queue.
func (s *Service) SetHooks(h Hooks) { s.hooks = h }

// Topic is the event topic of a queue.
func Topic(serviceID string) string { return "queue:" + serviceID }

// changed announces that a queue moved, and alerts the citizens who came near the front.
func (s *Service) changed(ctx context.Context, serviceID string) {
	if err := s.alertNear(ctx, serviceID); err != nil {
		slog.Default().Error("queue: near alerts", "queue", serviceID, "error", err)
	}
	if s.hooks.Bus != nil {
		s.hooks.Bus.Publish(ctx, events.Event{Topic: Topic(serviceID)})
	}
}

// alertNear releases the held alert of every waiting ticket at or below the queue's
// alert position that has not been alerted yet. Only the front of the queue is read.
func (s *Service) alertNear(ctx context.Context, serviceID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var near int
		if err := tx.QueryRow(ctx, "SELECT near_position FROM walk_in_queues WHERE service_id = ?", serviceID).Scan(&near); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM (SELECT id, near_alerted FROM tickets WHERE service_id = ? AND status = 'waiting'
			ORDER BY priority DESC, created_at, number LIMIT ?) front WHERE NOT near_alerted`, serviceID, near)
		if err != nil {
			return err
		}
		var due []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			due = append(due, id)
		}
		rows.Close()
		for _, id := range due {
			if _, err := tx.Exec(ctx, "UPDATE tickets SET near_alerted = TRUE WHERE id = ?", id); err != nil {
				return err
			}
			if err := outbox.Release(ctx, tx, nearKey(id), s.now()); err != nil {
				return err
			}
		}
		if len(due) > 0 && s.hooks.Poke != nil {
			tx.AfterCommit(s.hooks.Poke)
		}
		return nil
	})
}

// lockQueue takes the row of a queue for the rest of tx. On PostgreSQL, where reads do
// not wait for writers, that is what makes the takes of one queue run one at a time, so
// that its count of waiting tickets holds against its maximum, and what makes ending a
// queue (directory.RemoveWalkIn takes the same row) either see a ticket taken meanwhile
// or come first and refuse it. SQLite runs every write transaction alone anyway.
func lockQueue(ctx context.Context, tx *store.Tx, serviceID string) error {
	if _, err := tx.Exec(ctx, "UPDATE walk_in_queues SET priority_run = priority_run WHERE service_id = ?", serviceID); err != nil {
		return fmt.Errorf("lock queue %q: %w", serviceID, err)
	}
	return nil
}

func nearKey(ticketID string) string { return "ticket:" + ticketID + ":near" }

// NewService returns the queue service.
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, loc: calendar.Lisbon(), now: now}
}

func (s *Service) config(ctx context.Context, q store.Queryer, serviceID string) (config, error) {
	c := config{ServiceID: serviceID}
	var answer, recall int
	err := q.QueryRow(ctx, `SELECT letter, always_open, max_waiting, max_priority_run, priority_run, answer_seconds,
		recall_minutes, near_position FROM walk_in_queues WHERE service_id = ?`, serviceID).
		Scan(&c.Letter, &c.Hours.AlwaysOpen, &c.MaxWaiting, &c.MaxPriorityRun, &c.PriorityRun, &answer, &recall, &c.NearPosition)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("queue %q: %w", serviceID, ErrNotWalkIn)
	}
	if err != nil {
		return c, fmt.Errorf("read queue %q: %w", serviceID, err)
	}
	c.Answer, c.Recall = time.Duration(answer)*time.Second, time.Duration(recall)*time.Minute
	rows, err := q.Query(ctx, "SELECT weekday, start_minute, end_minute FROM walk_in_hours WHERE service_id = ?", serviceID)
	if err != nil {
		return c, fmt.Errorf("read queue hours %q: %w", serviceID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r directory.WeeklyRange
		var wd int
		if err := rows.Scan(&wd, &r.StartMinute, &r.EndMinute); err != nil {
			return c, err
		}
		r.Weekday = time.Weekday(wd)
		c.Hours.Weekly = append(c.Hours.Weekly, r)
	}
	return c, rows.Err()
}

// Queues lists the services that take walk-in tickets, with whether each is open now.
func (s *Service) Queues(ctx context.Context) ([]QueueInfo, error) {
	rows, err := s.db.Query(ctx, "SELECT service_id FROM walk_in_queues ORDER BY letter")
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var out []QueueInfo
	now := s.now()
	for _, id := range ids {
		c, err := s.config(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		info := QueueInfo{ServiceID: id, Letter: c.Letter, Open: c.Hours.OpenAt(now, s.loc)}
		if !info.Open {
			info.OpensAt = c.Hours.NextOpening(now, s.loc)
		}
		out = append(out, info)
	}
	return out, nil
}

// QueueInfo is a queue as the portal lists it.
type QueueInfo struct {
	ServiceID string
	Letter    string
	Open      bool
	OpensAt   time.Time
}

// Take gives the citizen a ticket, if the queue is open and not full.
func (s *Service) Take(ctx context.Context, req Request) (Taken, error) {
	errs := booking.FieldErrors{}
	req.Citizen.Normalize(errs, false)
	if len(errs) > 0 {
		return Taken{}, &booking.InvalidError{Fields: errs}
	}
	if req.ThemeID != "" {
		th, err := directory.ThemeByID(ctx, s.db, req.ThemeID)
		if err != nil || (req.ServiceID != "" && th.ServiceID != req.ServiceID) {
			return Taken{}, &booking.InvalidError{Fields: booking.FieldErrors{"theme": "error.unknown_theme"}}
		}
		req.ServiceID = th.ServiceID
	}
	now := s.now()
	token, hash := secret.New()
	t := Taken{Token: token, Ticket: Ticket{ID: store.NewID(), ServiceID: req.ServiceID, ThemeID: req.ThemeID,
		Priority: req.Priority, Status: StatusWaiting, Citizen: req.Citizen, CreatedAt: now.UTC().Truncate(time.Second)}}
	channel := req.Channel
	if channel == "" {
		channel = "portal"
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockQueue(ctx, tx, req.ServiceID); err != nil {
			return err
		}
		c, err := s.config(ctx, tx, req.ServiceID)
		if err != nil {
			return err
		}
		if !c.Hours.OpenAt(now, s.loc) {
			return &ClosedError{OpensAt: c.Hours.NextOpening(now, s.loc)}
		}
		var waiting int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM tickets WHERE service_id = ? AND status = 'waiting'", req.ServiceID).Scan(&waiting); err != nil {
			return err
		}
		if waiting >= c.MaxWaiting {
			return &FullError{}
		}
		day := calendar.DateOf(now.In(s.loc)).String()
		var number int
		if err := tx.QueryRow(ctx, `INSERT INTO ticket_counters (service_id, day, last) VALUES (?, ?, 1)
			ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last`, req.ServiceID, day).Scan(&number); err != nil {
			return fmt.Errorf("number ticket: %w", err)
		}
		t.Code, t.Number = fmt.Sprintf("%s%03d", c.Letter, number), number
		ct := t.Citizen
		_, err = tx.Exec(ctx, `INSERT INTO tickets (id, service_id, theme_id, day, number, code, priority, status, citizen_name,
				citizen_email, citizen_phone, language, token_hash, channel, eligible_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.ServiceID, nullable(t.ThemeID), day, number, t.Code, t.Priority, ct.Name, ct.Email, ct.Phone, ct.Language,
			hash, channel, now.Unix(), t.CreatedAt.Unix())
		if err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		return s.holdAlert(ctx, tx, t, c)
	})
	if err != nil {
		return Taken{}, fmt.Errorf("take a ticket for %s: %w", req.ServiceID, err)
	}
	s.changed(ctx, t.ServiceID)
	got, err := s.withPosition(ctx, t.Ticket)
	t.Ticket = got
	return t, err
}

// holdAlert enqueues the ticket's "your turn is near" message, held until released.
func (s *Service) holdAlert(ctx context.Context, tx *store.Tx, t Taken, c config) error {
	if s.hooks.Messages == nil {
		return nil
	}
	m, err := s.hooks.Messages.TurnNearMessage(ctx, tx, notify.Turn{Key: nearKey(t.ID), Subject: "ticket:" + t.ID,
		Citizen: t.Citizen, Number: t.Code, Position: c.NearPosition,
		URL: strings.TrimSuffix(s.hooks.BaseURL, "/") + "/ticket/" + t.ID + "?t=" + url.QueryEscape(t.Token)})
	if err != nil || m.Channel == "" {
		return err
	}
	m.NotBefore = outbox.Held
	return outbox.Enqueue(ctx, tx, s.now(), m)
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

const ticketColumns = `id, service_id, COALESCE(theme_id, ''), code, number, priority, status, citizen_name, citizen_email,
	citizen_phone, language, call_attempts, COALESCE(agent_id, ''), created_at, called_at`

func scanTicket(row interface{ Scan(...any) error }, extra ...any) (Ticket, error) {
	var t Ticket
	var created, called int64
	err := row.Scan(append([]any{&t.ID, &t.ServiceID, &t.ThemeID, &t.Code, &t.Number, &t.Priority, &t.Status, &t.Citizen.Name,
		&t.Citizen.Email, &t.Citizen.Phone, &t.Citizen.Language, &t.CallAttempts, &t.AgentID, &created, &called}, extra...)...)
	t.CreatedAt = time.Unix(created, 0).UTC()
	if called > 0 {
		t.CalledAt = time.Unix(called, 0).UTC()
	}
	return t, err
}

// Get returns the ticket if token is its token, with its live position and wait.
func (s *Service) Get(ctx context.Context, id, token string) (Ticket, error) {
	var hash string
	t, err := scanTicket(s.db.QueryRow(ctx, "SELECT "+ticketColumns+", token_hash FROM tickets WHERE id = ?", id), &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !secret.Matches(token, hash)) {
		return Ticket{}, fmt.Errorf("ticket %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("read ticket %q: %w", id, err)
	}
	return s.withPosition(ctx, t)
}

// withPosition fills a waiting ticket's position and estimated wait.
func (s *Service) withPosition(ctx context.Context, t Ticket) (Ticket, error) {
	if t.Status != StatusWaiting {
		return t, nil
	}
	// The tickets ahead are counted in the database: the ordering rules of ahead(), in SQL.
	var before int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM tickets WHERE service_id = ? AND status = 'waiting' AND id <> ?
		AND (priority > ? OR (priority = ? AND (created_at < ? OR (created_at = ? AND number < ?))))`,
		t.ServiceID, t.ID, t.Priority, t.Priority, t.CreatedAt.Unix(), t.CreatedAt.Unix(), t.Number).Scan(&before)
	if err != nil {
		return t, fmt.Errorf("ticket position: %w", err)
	}
	t.Position = before + 1
	handling, agents, near, err := s.pace(ctx, t.ServiceID)
	if err != nil {
		return t, err
	}
	t.Wait = EstimateWait(t.Position, handling, agents)
	t.Near = t.Position <= near
	return t, nil
}

func (s *Service) waiting(ctx context.Context, q store.Queryer, serviceID string) ([]Waiting, error) {
	return waitingWhere(ctx, q, "service_id = ? AND status = 'waiting'", serviceID)
}

// waitingWhere lists tickets as the ordering rules see them.
func waitingWhere(ctx context.Context, q store.Queryer, where string, args ...any) ([]Waiting, error) {
	rows, err := q.Query(ctx, "SELECT id, priority, created_at, number FROM tickets WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list waiting tickets: %w", err)
	}
	defer rows.Close()
	var out []Waiting
	for rows.Next() {
		var w Waiting
		var created int64
		if err := rows.Scan(&w.ID, &w.Priority, &created, &w.Number); err != nil {
			return nil, err
		}
		w.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, w)
	}
	return out, rows.Err()
}

// pace is how fast a queue moves: the average service time of its last tickets, the
// number of agents who serve it, and the position at which a citizen is alerted.
func (s *Service) pace(ctx context.Context, serviceID string) (time.Duration, int, int, error) {
	var avg sql.NullFloat64
	err := s.db.QueryRow(ctx, `SELECT AVG(ended_at - answered_at) FROM (SELECT ended_at, answered_at FROM tickets
		WHERE service_id = ? AND status = 'served' AND answered_at > 0 ORDER BY ended_at DESC LIMIT 20) recent`, serviceID).Scan(&avg)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("queue pace: %w", err)
	}
	var agents, near int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT st.staff_id) FROM staff_themes st JOIN themes th ON th.id = st.theme_id
		JOIN staff s ON s.id = st.staff_id WHERE th.service_id = ? AND s.active`, serviceID).Scan(&agents); err != nil {
		return 0, 0, 0, fmt.Errorf("queue pace: %w", err)
	}
	if err := s.db.QueryRow(ctx, "SELECT near_position FROM walk_in_queues WHERE service_id = ?", serviceID).Scan(&near); err != nil {
		return 0, 0, 0, fmt.Errorf("queue pace: %w", err)
	}
	handling := time.Duration(0)
	if avg.Valid {
		handling = time.Duration(avg.Float64 * float64(time.Second))
	}
	return handling, agents, near, nil
}

// Abandon gives up a waiting (or called) ticket.
func (s *Service) Abandon(ctx context.Context, id, token string) (Ticket, error) {
	t, err := s.Get(ctx, id, token)
	if err != nil {
		return Ticket{}, err
	}
	res, err := s.db.Exec(ctx, "UPDATE tickets SET status = 'abandoned', ended_at = ? WHERE id = ? AND status IN ('waiting', 'called')",
		s.now().Unix(), id)
	if err != nil {
		return Ticket{}, fmt.Errorf("abandon ticket %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Ticket{}, ErrNotWaiting
	}
	s.withdrawAlert(ctx, id)
	s.changed(ctx, t.ServiceID)
	t.Status, t.Position, t.Wait = StatusAbandoned, 0, 0
	return t, nil
}

// Agent is who calls the next citizen: their id and the services they may serve.
type Agent struct {
	ID       string
	Services []string
}

// CallNext gives the agent the next citizen they are qualified for, from every location:
// within each queue, priority tickets first (within the queue's run limit), then first
// come, first served; across queues, a priority ticket before a normal one, then the one
// that has waited longest. No two agents ever get the same ticket: the claim is an update
// conditional on the ticket still waiting, which only one transaction can win; the loser
// picks again.
func (s *Service) CallNext(ctx context.Context, agent Agent) (Ticket, error) {
	var called Ticket
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		taken := map[string]bool{}
		queues := map[string]config{}
		candidates := map[string][]Waiting{}
		for _, serviceID := range agent.Services {
			c, err := s.config(ctx, tx, serviceID)
			if errors.Is(err, ErrNotWalkIn) {
				continue
			}
			if err != nil {
				return err
			}
			if candidates[serviceID], err = s.eligible(ctx, tx, serviceID, now); err != nil {
				return err
			}
			queues[serviceID] = c
		}
		for {
			var best *Waiting
			var bestQueue config
			for serviceID, c := range queues {
				eligible := slices.DeleteFunc(candidates[serviceID], func(w Waiting) bool { return taken[w.ID] })
				candidates[serviceID] = eligible
				i := Pick(eligible, c.PriorityRun, c.MaxPriorityRun)
				if i < 0 {
					continue
				}
				w := eligible[i]
				if best == nil || (w.Priority && !best.Priority) || (w.Priority == best.Priority && ahead(w, *best)) {
					best, bestQueue = &w, c
				}
			}
			if best == nil {
				return ErrNothingToDo
			}
			res, err := tx.Exec(ctx, `UPDATE tickets SET status = 'called', agent_id = ?, called_at = ?,
				call_attempts = call_attempts + 1 WHERE id = ? AND status = 'waiting'`, agent.ID, now.Unix(), best.ID)
			if err != nil {
				return fmt.Errorf("claim ticket: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				taken[best.ID] = true // another agent won it
				continue
			}
			run := 0
			if best.Priority {
				run = bestQueue.PriorityRun + 1
			}
			if _, err := tx.Exec(ctx, "UPDATE walk_in_queues SET priority_run = ? WHERE service_id = ?", run, bestQueue.ServiceID); err != nil {
				return err
			}
			called, err = scanTicket(tx.QueryRow(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id = ?", best.ID))
			return err
		}
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("call next for %s: %w", agent.ID, err)
	}
	s.withdrawAlert(ctx, called.ID)
	s.changed(ctx, called.ServiceID)
	return called, nil
}

// eligible lists the tickets of a queue that may be called now.
func (s *Service) eligible(ctx context.Context, tx *store.Tx, serviceID string, now time.Time) ([]Waiting, error) {
	return waitingWhere(ctx, tx, "service_id = ? AND status = 'waiting' AND eligible_at <= ?", serviceID, now.Unix())
}

// Answered marks a called ticket as in the call (the citizen joined).
func (s *Service) Answered(ctx context.Context, id string) error {
	return s.transition(ctx, id, "UPDATE tickets SET status = 'in_call', answered_at = ? WHERE id = ? AND status = 'called'")
}

// Finish marks a ticket in a call as served.
func (s *Service) Finish(ctx context.Context, id string) error {
	return s.transition(ctx, id, "UPDATE tickets SET status = 'served', ended_at = ? WHERE id = ? AND status = 'in_call'")
}

func (s *Service) transition(ctx context.Context, id, query string) error {
	res, err := s.db.Exec(ctx, query, s.now().Unix(), id)
	if err != nil {
		return fmt.Errorf("update ticket %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update ticket %s: %w", id, ErrNotWaiting)
	}
	var serviceID string
	if err := s.db.QueryRow(ctx, "SELECT service_id FROM tickets WHERE id = ?", id).Scan(&serviceID); err == nil && s.hooks.Bus != nil {
		s.hooks.Bus.Publish(ctx, events.Event{Topic: Topic(serviceID)})
	}
	return nil
}

// withdrawAlert cancels a ticket's held alert once it is called or gone: it is too late
// to be told the turn is near.
func (s *Service) withdrawAlert(ctx context.Context, ticketID string) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return outbox.CancelPending(ctx, tx, "ticket:"+ticketID, nearKey(ticketID))
	})
	if err != nil {
		slog.Default().Error("queue: withdraw alert", "ticket", ticketID, "error", err)
	}
}

// ExpireCalls handles citizens who did not answer in time: on the first miss the ticket
// goes back to the queue, to be called again after the queue's recall delay; on the
// second it is marked as not answered. It reports how many tickets it changed.
func (s *Service) ExpireCalls(ctx context.Context) (int, error) {
	now := s.now().Unix()
	changed := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE tickets SET status = 'no_answer', ended_at = ?
			WHERE status = 'called' AND call_attempts >= 2 AND called_at + (SELECT answer_seconds FROM walk_in_queues q WHERE q.service_id = tickets.service_id) <= ?`,
			now, now)
		if err != nil {
			return err
		}
		n1, _ := res.RowsAffected()
		res, err = tx.Exec(ctx, `UPDATE tickets SET status = 'waiting', agent_id = NULL,
				eligible_at = ? + 60 * (SELECT recall_minutes FROM walk_in_queues q WHERE q.service_id = tickets.service_id)
			WHERE status = 'called' AND call_attempts < 2 AND called_at + (SELECT answer_seconds FROM walk_in_queues q WHERE q.service_id = tickets.service_id) <= ?`,
			now, now)
		if err != nil {
			return err
		}
		n2, _ := res.RowsAffected()
		changed = int(n1 + n2)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire calls: %w", err)
	}
	if changed > 0 {
		queues, err := s.Queues(ctx)
		if err == nil {
			for _, q := range queues {
				s.changed(ctx, q.ServiceID)
			}
		}
	}
	return changed, nil
}

// Board is a queue's state for supervisors and agents.
type Board struct {
	ServiceID   string
	Waiting     int
	Priority    int
	LongestWait time.Duration
}

// Boards returns every queue's waiting count and longest wait.
func (s *Service) Boards(ctx context.Context) ([]Board, error) {
	now := s.now().Unix()
	rows, err := s.db.Query(ctx, `SELECT q.service_id, COUNT(t.id), COALESCE(SUM(CASE WHEN t.priority THEN 1 ELSE 0 END), 0),
			COALESCE(MIN(t.created_at), 0)
		FROM walk_in_queues q LEFT JOIN tickets t ON t.service_id = q.service_id AND t.status = 'waiting'
		GROUP BY q.service_id ORDER BY q.service_id`)
	if err != nil {
		return nil, fmt.Errorf("queue boards: %w", err)
	}
	defer rows.Close()
	var out []Board
	for rows.Next() {
		var b Board
		var oldest int64
		if err := rows.Scan(&b.ServiceID, &b.Waiting, &b.Priority, &oldest); err != nil {
			return nil, err
		}
		if oldest > 0 {
			b.LongestWait = time.Duration(now-oldest) * time.Second
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

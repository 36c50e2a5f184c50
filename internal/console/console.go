// Package console is the agent's console and the supervisor's board: the agent's status
// (available, in a call, wrap-up, break), today's agenda with where each citizen is,
// "call next" (the agent's appointments due now first, then the walk-in queues), the
// preparation view, the call script and its progress (saved as the agent goes), the
// outcome of each contact written as a contact record (the first rows of the CRM), the
// no-show rule (phone or e-mail a citizen who has not joined; a no-show at the end of
// the slot), the supervisor's view of the queues and the agents, who may be moved
// between locations and the national pool, and the staff interpreters' page of the calls
// they are booked for. Reads of personal data on its live pages are audited once a day
// per object shown, not at every refresh.
//
// Its rules take and return plain values and run on the database (this file, status.go,
// next.go, contacts.go, agenda.go, noshow.go, board.go, script.go, progress.go, reads.go,
// interpreter.go); its pages sit in the web*.go files. Every change is announced on the events bus after commit, on the topics
// AgentTopic(id) and BoardTopic, which the pages follow over a WebSocket.
package console

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/events"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// Errors of the console's operations.
var (
	ErrNobody       = errors.New("no citizen to call")
	ErrBusy         = errors.New("the agent is serving a citizen")
	ErrCalling      = errors.New("a call next is already running for this agent")
	ErrNotServing   = errors.New("the agent is serving nobody")
	ErrNotJoined    = errors.New("the citizen has not joined the call")
	ErrNotYours     = errors.New("not the agent's appointment")
	ErrTooEarly     = errors.New("the appointment has not started")
	ErrCitizenCame  = errors.New("the citizen has joined")
	ErrNoContact    = errors.New("the citizen left no way to be reached")
	ErrFinished     = errors.New("the contact is already finished")
	ErrUnknownPlace = errors.New("unknown location")
)

// InvalidError carries the fields of a form that are wrong: field -> message key.
type InvalidError struct{ Fields map[string]string }

func (e *InvalidError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	return "invalid: " + strings.Join(keys, ", ")
}

// Topics of the console's events.
const BoardTopic = "board"

// AgentTopic is the topic of one agent's console: their status, assignment and agenda.
func AgentTopic(staffID string) string { return "agent:" + staffID }

// DueLead is how long before its start an appointment is called by "call next".
const DueLead = 5 * time.Minute

// DefaultWrapUp is how long an agent stays in wrap-up after finishing a contact, unless
// they say they are ready sooner.
const DefaultWrapUp = time.Minute

// LinkSender writes the message that sends a citizen who has not joined the link to
// join; notify.Notifier is one.
type LinkSender interface {
	NoShowLink(ctx context.Context, tx *store.Tx, a booking.Appointment, joinURL string, attempt int) error
}

// Options connect the service; all are optional.
type Options struct {
	Bus     events.Bus
	Links   LinkSender
	BaseURL string // for the join links sent by e-mail
	Now     func() time.Time
	Logger  *slog.Logger
	WrapUp  time.Duration
}

// Service runs the console's rules on the database.
type Service struct {
	db      *store.DB
	booking *booking.Service
	queue   *queue.Service
	bus     events.Bus
	links   LinkSender
	baseURL string
	now     func() time.Time
	loc     *time.Location
	log     *slog.Logger
	wrapUp  time.Duration
}

// NewService returns the console's service.
func NewService(db *store.DB, bk *booking.Service, q *queue.Service, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WrapUp <= 0 {
		opts.WrapUp = DefaultWrapUp
	}
	return &Service{db: db, booking: bk, queue: q, bus: opts.Bus, links: opts.Links, baseURL: strings.TrimSuffix(opts.BaseURL, "/"),
		now: opts.Now, loc: calendar.Lisbon(), log: opts.Logger, wrapUp: opts.WrapUp}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// publish announces changes to topics; call it after commit.
func (s *Service) publish(ctx context.Context, topics ...string) {
	if s.bus == nil {
		return
	}
	seen := map[string]bool{}
	for _, t := range topics {
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		s.bus.Publish(ctx, events.Event{Topic: t})
	}
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

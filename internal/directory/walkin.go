package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"balcao/internal/store"
)

// WalkIn is a service's walk-in queue (senhas) as the configuration pages read and change
// it: plain values, the agency file's defaults already applied. Package queue reads the
// same rows on every step, so a change takes effect at once.
type WalkIn struct {
	Letter     string        // the tickets' prefix: one capital letter, each service its own
	AlwaysOpen bool          // tickets around the clock, national holidays included
	Hours      []WeeklyRange // otherwise when tickets can be taken (national holidays closed)
	// With neither AlwaysOpen nor Hours the queue takes no new tickets, while the ones
	// already taken are still called: the way to empty a queue before ending it.
	MaxWaiting     int // tickets waiting at most
	MaxPriorityRun int // priority tickets called in a row before a waiting normal one; 0: priority always first
	AnswerSeconds  int // time a called citizen has to answer
	RecallMinutes  int // wait before calling once more a citizen who did not answer
	NearPosition   int // the position at which the citizen is told their turn is near; 0: never
}

// Defaults of a walk-in queue, for the settings the agency file leaves out.
const (
	DefaultMaxWaiting    = 200
	DefaultAnswerSeconds = 120
	DefaultRecallMinutes = 5
	DefaultNearPosition  = 3
)

// NewWalkIn is a queue with the default rules, no letter and no hours.
func NewWalkIn() WalkIn {
	return WalkIn{MaxWaiting: DefaultMaxWaiting, AnswerSeconds: DefaultAnswerSeconds,
		RecallMinutes: DefaultRecallMinutes, NearPosition: DefaultNearPosition}
}

// ClosedToNew tells whether the queue takes no new tickets at any time.
func (w WalkIn) ClosedToNew() bool { return !w.AlwaysOpen && len(w.Hours) == 0 }

// Limit is the range of a whole number, both ends included.
type Limit struct{ Min, Max int }

// WalkInLimits are the ranges of a queue's numbers, by their names in the agency file
// (which the configuration page uses too).
var WalkInLimits = map[string]Limit{
	"max_waiting":      {1, 100000},
	"max_priority_run": {0, 99},
	"answer_seconds":   {15, 900},
	"recall_minutes":   {0, 240},
	"near_position":    {0, 99},
}

// Numbers are the queue's numbers by their names in WalkInLimits.
func (w WalkIn) Numbers() map[string]int {
	return map[string]int{"max_waiting": w.MaxWaiting, "max_priority_run": w.MaxPriorityRun,
		"answer_seconds": w.AnswerSeconds, "recall_minutes": w.RecallMinutes, "near_position": w.NearPosition}
}

// WalkInError is a walk-in setting that breaks its rule; Field is its name in the agency
// file ("letter", "hours" or a key of WalkInLimits).
type WalkInError struct{ Field, Reason string }

func (e *WalkInError) Error() string { return "walk-in " + e.Field + ": " + e.Reason }

// ValidLetter tells whether s can prefix a queue's tickets: one capital letter A-Z, which
// every keyboard types and every voice reads out alike.
func ValidLetter(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }

// Validate reports every setting that breaks its rule, each a *WalkInError.
func (w WalkIn) Validate() error { return errors.Join(w.problems()...) }

func (w WalkIn) problems() []error {
	var errs []error
	if !ValidLetter(w.Letter) {
		errs = append(errs, &WalkInError{"letter", fmt.Sprintf("%q is not one capital letter", w.Letter)})
	}
	numbers := w.Numbers()
	for _, name := range slices.Sorted(maps.Keys(WalkInLimits)) {
		lim, v := WalkInLimits[name], numbers[name]
		if v < lim.Min || v > lim.Max {
			errs = append(errs, &WalkInError{name, fmt.Sprintf("%d is not between %d and %d", v, lim.Min, lim.Max)})
		}
	}
	for _, r := range w.Hours {
		if r.Weekday < time.Sunday || r.Weekday > time.Saturday || r.StartMinute < 0 || r.EndMinute > 1440 || r.EndMinute <= r.StartMinute {
			errs = append(errs, &WalkInError{"hours", fmt.Sprintf("%+v is not a span of one day", r)})
		}
	}
	if Overlap(w.Hours) {
		errs = append(errs, &WalkInError{"hours", "two spans of one day overlap"})
	}
	return errs
}

// Overlap tells whether two of the ranges share a moment of the same weekday.
func Overlap(rs []WeeklyRange) bool {
	for i := range rs {
		for j := range i {
			if rs[i].Weekday == rs[j].Weekday && rs[i].StartMinute < rs[j].EndMinute && rs[j].StartMinute < rs[i].EndMinute {
				return true
			}
		}
	}
	return false
}

// Errors of the walk-in settings.
var (
	ErrLetterTaken    = errors.New("letter used by another service's queue")
	ErrTicketsWaiting = errors.New("tickets still waiting")
)

// TicketsWaitingError refuses to end a queue in which citizens still wait: no agent
// could call them any more.
type TicketsWaitingError struct{ Tickets int }

func (e *TicketsWaitingError) Error() string {
	return fmt.Sprintf("%d tickets waiting or being called", e.Tickets)
}

func (e *TicketsWaitingError) Unwrap() error { return ErrTicketsWaiting }

// WalkInOf returns a service's walk-in queue; store.ErrNotFound when the service takes no
// tickets.
func WalkInOf(ctx context.Context, q store.Queryer, serviceID string) (WalkIn, error) {
	var w WalkIn
	err := q.QueryRow(ctx, `SELECT letter, always_open, max_waiting, max_priority_run, answer_seconds, recall_minutes,
		near_position FROM walk_in_queues WHERE service_id = ?`, serviceID).
		Scan(&w.Letter, &w.AlwaysOpen, &w.MaxWaiting, &w.MaxPriorityRun, &w.AnswerSeconds, &w.RecallMinutes, &w.NearPosition)
	if errors.Is(err, sql.ErrNoRows) {
		return WalkIn{}, fmt.Errorf("walk-in queue of %s: %w", serviceID, store.ErrNotFound)
	}
	if err != nil {
		return WalkIn{}, fmt.Errorf("read walk-in queue of %s: %w", serviceID, err)
	}
	err = eachRow(ctx, q, "SELECT weekday, start_minute, end_minute FROM walk_in_hours WHERE service_id = ?", []any{serviceID},
		func(rows *sql.Rows) error {
			var r WeeklyRange
			var wd int
			if err := rows.Scan(&wd, &r.StartMinute, &r.EndMinute); err != nil {
				return err
			}
			r.Weekday = time.Weekday(wd)
			w.Hours = append(w.Hours, r)
			return nil
		})
	if err != nil {
		return WalkIn{}, fmt.Errorf("read walk-in hours of %s: %w", serviceID, err)
	}
	w.Hours = sortRanges(w.Hours)
	return w, nil
}

// WalkInLetters maps the letter of every walk-in queue to its service's id.
func WalkInLetters(ctx context.Context, q store.Queryer) (map[string]string, error) {
	out := map[string]string{}
	err := eachRow(ctx, q, "SELECT letter, service_id FROM walk_in_queues", nil, func(rows *sql.Rows) error {
		var letter, id string
		if err := rows.Scan(&letter, &id); err != nil {
			return err
		}
		out[letter] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list walk-in letters: %w", err)
	}
	return out, nil
}

// WaitingTickets counts a service's tickets that are waiting or being called.
func WaitingTickets(ctx context.Context, q store.Queryer, serviceID string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM tickets WHERE service_id = ? AND status IN ('waiting', 'called')", serviceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count waiting tickets of %s: %w", serviceID, err)
	}
	return n, nil
}

// SetWalkIn makes an active service take walk-in tickets under w, or changes its queue's
// settings. Tickets already taken keep their codes and their places. Refused with the
// *WalkInError of a bad setting, ErrLetterTaken when another queue has the letter, and
// store.ErrNotFound when the service is not active.
func SetWalkIn(ctx context.Context, q store.Queryer, serviceID string, w WalkIn) error {
	if err := w.Validate(); err != nil {
		return fmt.Errorf("set walk-in queue of %s: %w", serviceID, err)
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM services WHERE id = ? AND active", serviceID).Scan(&n); err != nil {
		return fmt.Errorf("set walk-in queue of %s: %w", serviceID, err)
	}
	if n == 0 {
		return fmt.Errorf("set walk-in queue of %s: %w", serviceID, store.ErrNotFound)
	}
	var other string
	err := q.QueryRow(ctx, "SELECT service_id FROM walk_in_queues WHERE letter = ? AND service_id <> ?", w.Letter, serviceID).Scan(&other)
	if err == nil {
		return fmt.Errorf("set walk-in queue of %s: letter %s of %s: %w", serviceID, w.Letter, other, ErrLetterTaken)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("set walk-in queue of %s: %w", serviceID, err)
	}
	if err := writeWalkIn(ctx, q, serviceID, w); err != nil {
		return fmt.Errorf("set walk-in queue of %s: %w", serviceID, err)
	}
	return nil
}

// RemoveWalkIn stops a service from taking walk-in tickets (nothing to do if it takes
// none). It is refused with a *TicketsWaitingError while tickets wait or are being
// called: no agent could call them once the queue is gone. Closing the queue to new
// tickets (SetWalkIn with no hours) lets it empty first.
func RemoveWalkIn(ctx context.Context, q store.Queryer, serviceID string) error {
	// The queue's row first: a ticket being taken holds it (see queue.Service.Take), so
	// the count below sees that ticket, or the take waits and then finds no queue.
	if _, err := q.Exec(ctx, "UPDATE walk_in_queues SET priority_run = priority_run WHERE service_id = ?", serviceID); err != nil {
		return fmt.Errorf("end walk-in queue of %s: %w", serviceID, err)
	}
	n, err := WaitingTickets(ctx, q, serviceID)
	if err != nil {
		return fmt.Errorf("end walk-in queue of %s: %w", serviceID, err)
	}
	if n > 0 {
		return fmt.Errorf("end walk-in queue of %s: %w", serviceID, &TicketsWaitingError{Tickets: n})
	}
	if _, err := q.Exec(ctx, "DELETE FROM walk_in_queues WHERE service_id = ?", serviceID); err != nil {
		return fmt.Errorf("end walk-in queue of %s: %w", serviceID, err)
	}
	return nil
}

// writeWalkIn stores a queue's settings and replaces its hours, leaving its priority run
// (how many priority tickets it has just called in a row) as it is.
func writeWalkIn(ctx context.Context, q store.Queryer, serviceID string, w WalkIn) error {
	if _, err := q.Exec(ctx, `INSERT INTO walk_in_queues (service_id, letter, always_open, max_waiting, max_priority_run,
			answer_seconds, recall_minutes, near_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_id) DO UPDATE SET letter = excluded.letter, always_open = excluded.always_open,
			max_waiting = excluded.max_waiting, max_priority_run = excluded.max_priority_run,
			answer_seconds = excluded.answer_seconds, recall_minutes = excluded.recall_minutes,
			near_position = excluded.near_position`,
		serviceID, w.Letter, w.AlwaysOpen, w.MaxWaiting, w.MaxPriorityRun, w.AnswerSeconds, w.RecallMinutes, w.NearPosition); err != nil {
		return fmt.Errorf("walk-in queue: %w", err)
	}
	if _, err := q.Exec(ctx, "DELETE FROM walk_in_hours WHERE service_id = ?", serviceID); err != nil {
		return fmt.Errorf("walk-in hours: %w", err)
	}
	for _, h := range w.Hours {
		if _, err := q.Exec(ctx, `INSERT INTO walk_in_hours (service_id, weekday, start_minute, end_minute) VALUES (?, ?, ?, ?)`,
			serviceID, int(h.Weekday), h.StartMinute, h.EndMinute); err != nil {
			return fmt.Errorf("walk-in hours: %w", err)
		}
	}
	return nil
}

// settings are the queue the agency file describes, its defaults applied.
func (c WalkInConfig) settings() WalkIn {
	w := NewWalkIn()
	w.Letter, w.AlwaysOpen, w.MaxPriorityRun = c.Letter, c.AlwaysOpen, c.MaxPriorityRun
	if c.MaxWaiting != 0 {
		w.MaxWaiting = c.MaxWaiting
	}
	if c.AnswerSeconds != 0 {
		w.AnswerSeconds = c.AnswerSeconds
	}
	if c.RecallMinutes != nil {
		w.RecallMinutes = *c.RecallMinutes
	}
	if c.NearPosition != nil {
		w.NearPosition = *c.NearPosition
	}
	w.Hours, _ = ParseWeekly(c.Hours)
	return w
}

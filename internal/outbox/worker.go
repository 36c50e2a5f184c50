package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"balcao/internal/store"
)

// Receipt is what a provider answered for an accepted message.
type Receipt struct {
	ProviderRef string // the provider's id for the message
	CostCents   int
	Segments    int // SMS parts billed
}

// Sender delivers messages of one channel. It returns a *PermanentError for a message
// that can never be delivered (a rejected address), which goes straight to the dead list.
type Sender interface {
	Send(ctx context.Context, key string, m Message) (Receipt, error)
}

// PermanentError marks a failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Worker delivers due messages. Several workers (on several servers) may run on one
// database: each claims a batch by leasing it, so a message is handed to one at a time.
type Worker struct {
	db          *store.DB
	senders     map[string]Sender
	logger      *slog.Logger
	now         func() time.Time
	poke        chan struct{}
	owner       string
	Batch       int
	Lease       time.Duration // how long a claimed message is left to its worker
	MaxAttempts int
	Idle        time.Duration // longest sleep between two looks at the queue
}

// NewWorker returns a worker delivering through senders (by channel).
func NewWorker(db *store.DB, senders map[string]Sender, logger *slog.Logger, now func() time.Time) *Worker {
	if now == nil {
		now = time.Now
	}
	host, _ := os.Hostname()
	return &Worker{db: db, senders: senders, logger: logger, now: now, poke: make(chan struct{}, 1),
		owner: fmt.Sprintf("%s/%d", host, os.Getpid()), Batch: 32, Lease: time.Minute, MaxAttempts: 10, Idle: 5 * time.Second}
}

// Poke wakes the worker; call it after a transaction that enqueued messages commits.
func (w *Worker) Poke() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.logger.Error("outbox", "error", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-w.poke:
		case <-time.After(w.Idle):
		}
	}
}

// RunOnce claims one batch of due messages and delivers them, and reports how many it
// handled.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	entries, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		w.deliver(ctx, e)
	}
	return len(entries), nil
}

func (w *Worker) claim(ctx context.Context) ([]Entry, error) {
	now := w.now().Unix()
	skipLocked := ""
	if w.db.Dialect() == store.Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	var out []Entry
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE outbox SET locked_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND not_before <= ? AND locked_until <= ?
				ORDER BY not_before LIMIT ?`+skipLocked+`)
			RETURNING `+entryColumns, now+int64(w.Lease/time.Second), now, now, w.Batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim messages: %w", err)
	}
	return out, nil
}

func (w *Worker) deliver(ctx context.Context, e Entry) {
	sender, ok := w.senders[e.Message.Channel]
	var receipt Receipt
	err := fmt.Errorf("no sender for channel %q", e.Message.Channel)
	if ok {
		receipt, err = sender.Send(ctx, e.Message.Key, e.Message)
	}
	// Recording the outcome must not be cut short by shutdown: the provider has answered.
	rec := context.WithoutCancel(ctx)
	if err == nil {
		_, dbErr := w.db.Exec(rec, `UPDATE outbox SET status = 'sent', sent_at = ?, provider_ref = ?, cost_cents = ?,
			segments = ?, last_error = '' WHERE id = ?`, w.now().Unix(), receipt.ProviderRef, receipt.CostCents, receipt.Segments, e.ID)
		if dbErr != nil {
			w.logger.Error("outbox: record delivery", "message", e.ID, "error", dbErr)
		}
		w.logger.Debug("outbox: delivered", "message", e.ID, "channel", e.Message.Channel, "attempt", e.Attempts)
		return
	}
	var permanent *PermanentError
	dead := errors.As(err, &permanent) || e.Attempts >= w.MaxAttempts
	status, next := StatusPending, w.now().Add(Backoff(e.Attempts))
	if dead {
		status = StatusDead
	}
	_, dbErr := w.db.Exec(rec, `UPDATE outbox SET status = ?, not_before = ?, locked_until = 0, last_error = ? WHERE id = ?`,
		status, next.Unix(), truncate(err.Error(), 500), e.ID)
	if dbErr != nil {
		w.logger.Error("outbox: record failure", "message", e.ID, "error", dbErr)
	}
	w.logger.Warn("outbox: delivery failed", "message", e.ID, "channel", e.Message.Channel, "attempt", e.Attempts,
		"dead", dead, "error", err)
}

// Backoff is the wait after a failed attempt: exponential from 10 s, capped at an hour,
// with jitter so that a provider's outage does not end in a thundering herd.
func Backoff(attempt int) time.Duration {
	d := 10 * time.Second << min(attempt-1, 9)
	d = min(d, time.Hour)
	return d/2 + rand.N(d/2+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Package outbox delivers the messages that changes owe (confirmations, reminders,
// cancellations) without losing any: a message is written in the same transaction as the
// change that causes it, and a worker delivers it with retries and back-off, parking it on
// a dead-letter list when it keeps failing.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"balcao/internal/store"
)

// Channels a message can go by.
const (
	Email = "email"
	SMS   = "sms"
)

// Statuses of a message.
const (
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusDead      = "dead"
	StatusCancelled = "cancelled"
)

// Message is one message to deliver.
type Message struct {
	Channel    string
	Key        string    // idempotency key: enqueueing the same key twice is a no-op
	SubjectRef string    // what the message is about ("appointment:ID"), to cancel pending ones
	NotBefore  time.Time // not delivered before; zero for at once
	Mail       *Mail     `json:",omitempty"`
	Text       *Text     `json:",omitempty"`
}

// Mail is an e-mail with a plain-text and an HTML body and attachments.
type Mail struct {
	To          string
	Subject     string
	TextBody    string
	HTMLBody    string
	Language    string
	Attachments []Attachment `json:",omitempty"`
}

// Attachment is a file sent with an e-mail. A calendar invitation has ContentType
// "text/calendar; method=REQUEST".
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Text is a short text message to a phone (SMS).
type Text struct {
	To   string // E.164
	Body string
}

type payload struct {
	Mail *Mail `json:"mail,omitempty"`
	Text *Text `json:"text,omitempty"`
}

// Enqueue writes messages in tx, in one statement; they are delivered once tx commits. A
// message whose key was already enqueued is ignored.
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	args := make([]any, 0, 7*len(msgs))
	for _, m := range msgs {
		if m.Key == "" || (m.Channel == Email) != (m.Mail != nil) || (m.Channel == SMS) != (m.Text != nil) {
			return fmt.Errorf("enqueue %q: a key and one body matching the channel are required", m.Key)
		}
		body, err := json.Marshal(payload{Mail: m.Mail, Text: m.Text})
		if err != nil {
			return fmt.Errorf("enqueue %s: %w", m.Key, err)
		}
		notBefore := m.NotBefore
		if notBefore.IsZero() || notBefore.Before(now) {
			notBefore = now
		}
		args = append(args, store.NewID(), m.Channel, m.Key, m.SubjectRef, string(body), notBefore.Unix(), now.Unix())
	}
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?),", len(msgs)), ",")
	_, err := tx.Exec(ctx, `INSERT INTO outbox (id, channel, idempotency_key, subject_ref, payload, not_before, created_at)
		VALUES `+values+` ON CONFLICT (idempotency_key) DO NOTHING`, args...)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", msgs[0].Key, err)
	}
	return nil
}

// CancelPending cancels the messages about subjectRef that have not been sent yet and
// whose key starts with keyPrefix (reminders of an appointment that moved or was
// cancelled).
func CancelPending(ctx context.Context, tx *store.Tx, subjectRef, keyPrefix string) error {
	_, err := tx.Exec(ctx, `UPDATE outbox SET status = 'cancelled' WHERE subject_ref = ? AND status = 'pending'
		AND substr(idempotency_key, 1, ?) = ?`, subjectRef, len(keyPrefix), keyPrefix)
	if err != nil {
		return fmt.Errorf("cancel pending messages of %s: %w", subjectRef, err)
	}
	return nil
}

// Entry is a message as stored, for the worker and the dead-letter list.
type Entry struct {
	ID         string
	Message    Message
	Status     string
	Attempts   int
	LastError  string
	CreatedAt  time.Time
	NotBefore  time.Time
	SentAt     time.Time
	ProviderID string
}

const entryColumns = `id, channel, idempotency_key, subject_ref, payload, status, attempts, last_error, created_at, not_before, sent_at, provider_ref`

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var body string
	var created, notBefore, sent int64
	if err := row.Scan(&e.ID, &e.Message.Channel, &e.Message.Key, &e.Message.SubjectRef, &body, &e.Status, &e.Attempts,
		&e.LastError, &created, &notBefore, &sent, &e.ProviderID); err != nil {
		return e, err
	}
	var p payload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return e, fmt.Errorf("decode message %s: %w", e.ID, err)
	}
	e.Message.Mail, e.Message.Text = p.Mail, p.Text
	e.CreatedAt, e.NotBefore = time.Unix(created, 0).UTC(), time.Unix(notBefore, 0).UTC()
	if sent > 0 {
		e.SentAt = time.Unix(sent, 0).UTC()
	}
	e.Message.NotBefore = e.NotBefore
	return e, nil
}

// List returns the messages with a status, newest first (the dead-letter list is
// List(ctx, db, StatusDead, n)).
func List(ctx context.Context, q store.Queryer, status string, limit int) ([]Entry, error) {
	rows, err := q.Query(ctx, "SELECT "+entryColumns+" FROM outbox WHERE status = ? ORDER BY created_at DESC, id LIMIT ?", status, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s messages: %w", status, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s messages: %w", status, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErrNotDead is returned when retrying a message that is not on the dead-letter list.
var ErrNotDead = errors.New("message is not dead")

// Retry puts a dead message back in the queue, with its attempts reset.
func Retry(ctx context.Context, db *store.DB, id string, now time.Time) error {
	res, err := db.Exec(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, not_before = ?, locked_until = 0
		WHERE id = ? AND status = 'dead'`, now.Unix(), id)
	if err != nil {
		return fmt.Errorf("retry message %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var status string
		err := db.QueryRow(ctx, "SELECT status FROM outbox WHERE id = ?", id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("retry message %s: %w", id, store.ErrNotFound)
		}
		return fmt.Errorf("retry message %s: %w", id, ErrNotDead)
	}
	return nil
}

// ReleaseLeases frees every claimed message at once. Only a server that knows it is the
// sole worker on the database may call it — one on an embedded SQLite file, at start —
// so that messages claimed by its killed predecessor go out now, not when their lease
// expires.
func ReleaseLeases(ctx context.Context, db *store.DB) error {
	if _, err := db.Exec(ctx, "UPDATE outbox SET locked_until = 0 WHERE status = 'pending' AND locked_until > 0"); err != nil {
		return fmt.Errorf("release outbox leases: %w", err)
	}
	return nil
}

// Held is the NotBefore of a message enqueued now but sent only once released.
var Held = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Release makes a held message due now.
func Release(ctx context.Context, tx *store.Tx, key string, now time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE outbox SET not_before = ? WHERE idempotency_key = ? AND status = 'pending'", now.Unix(), key); err != nil {
		return fmt.Errorf("release message %s: %w", key, err)
	}
	return nil
}

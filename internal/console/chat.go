package console

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"balcao/internal/audit"
	"balcao/internal/call"
	"balcao/internal/store"
)

// keptChatMaxAge is how long a kept chat waits for its contact record: a contact that
// was never finished does not keep the citizen's words around.
const keptChatMaxAge = 12 * time.Hour

// KeepChat keeps a copy of a call's chat, at the request of its agent, until the agent
// finishes the contact: Finish then writes it into the contact record. A second request
// replaces the first copy with the longer chat. Only the agent serving the appointment
// or ticket of room may keep it (ErrNotServing otherwise); the keeping is recorded in the
// audit log with the actor ctx carries. It is call.ChatKeeper's shape.
func (s *Service) KeepChat(ctx context.Context, room, staffID string, chat []call.ChatMessage) error {
	column, id, subject := "appointment_id", room, KindAppointment+":"+room
	if ticketID, ok := strings.CutPrefix(room, TicketRoom("")); ok {
		column, id, subject = "ticket_id", ticketID, KindTicket+":"+ticketID
	}
	if !storable(id) {
		return ErrNotServing
	}
	body, err := json.Marshal(chat)
	if err != nil {
		return fmt.Errorf("keep chat of %s: %w", room, err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// The agent's row, taken as SaveProgress takes it: Finish releases the same row
		// before it takes the kept chat, so a keeping either lands before and goes into
		// the contact record, or comes after and is refused.
		res, err := tx.Exec(ctx, "UPDATE agent_states SET calling_until = calling_until WHERE staff_id = ? AND "+column+" = ?", staffID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotServing
		}
		if _, err := tx.Exec(ctx, `INSERT INTO kept_chats (room, staff_id, kept_at, messages) VALUES (?, ?, ?, ?)
			ON CONFLICT (room) DO UPDATE SET staff_id = excluded.staff_id, kept_at = excluded.kept_at, messages = excluded.messages`,
			room, staffID, s.now().Unix(), string(body)); err != nil {
			return err
		}
		return audit.RecordTx(ctx, tx, audit.ChangePersonalData, subject, subject, "chat kept: messages="+strconv.Itoa(len(chat)))
	})
	if err != nil {
		return fmt.Errorf("keep chat of %s: %w", room, err)
	}
	return nil
}

// KeptChat is the number of messages kept so far from the call of room, for the outcome
// form.
func (s *Service) KeptChat(ctx context.Context, room string) (int, error) {
	chat, err := keptChat(ctx, s.db, room)
	return len(chat), err
}

func keptChat(ctx context.Context, q store.Queryer, room string) ([]call.ChatMessage, error) {
	var body string
	err := q.QueryRow(ctx, "SELECT messages FROM kept_chats WHERE room = ?", room).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kept chat of %s: %w", room, err)
	}
	var chat []call.ChatMessage
	if err := json.Unmarshal([]byte(body), &chat); err != nil {
		return nil, fmt.Errorf("kept chat of %s: %w", room, err)
	}
	return chat, nil
}

// takeKeptChat moves the kept chat of room, if any, out of kept_chats, for the contact
// record written in the same tx.
func takeKeptChat(ctx context.Context, tx *store.Tx, room string) ([]call.ChatMessage, error) {
	chat, err := keptChat(ctx, tx, room)
	if err != nil || chat == nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM kept_chats WHERE room = ?", room); err != nil {
		return nil, fmt.Errorf("take kept chat of %s: %w", room, err)
	}
	return chat, nil
}

// sweepKeptChats deletes the chats kept for contacts that were never finished.
func (s *Service) sweepKeptChats(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, "DELETE FROM kept_chats WHERE kept_at < ?", s.now().Add(-keptChatMaxAge).Unix()); err != nil {
		return fmt.Errorf("sweep kept chats: %w", err)
	}
	return nil
}

package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/store"
)

// Results of an attempt to reach a citizen who has not joined.
const (
	ResultReached     = "reached"
	ResultNoAnswer    = "no_answer"
	ResultVoicemail   = "voicemail"
	ResultWrongNumber = "wrong_number"
	ResultSent        = "sent"
)

// PhoneResults are the results an agent records for a phone call.
var PhoneResults = []string{ResultReached, ResultNoAnswer, ResultVoicemail, ResultWrongNumber}

// Attempt is one try at reaching a citizen who has not joined.
type Attempt struct {
	ID            string
	AppointmentID string
	AgentID       string
	Channel       string // phone, email or sms
	Result        string
	At            time.Time
}

// chaseable reads the agent's appointment and checks that the no-show rule applies now.
func (s *Service) chaseable(ctx context.Context, staffID, appointmentID string) (booking.Appointment, error) {
	a, err := s.booking.ByID(ctx, appointmentID)
	if err != nil {
		return a, err
	}
	if a.AgentID != staffID {
		return a, ErrNotYours
	}
	now := s.now()
	switch AgendaState(a, now) {
	case AgendaUpcoming:
		return a, ErrTooEarly
	case AgendaLobby, AgendaInCall:
		return a, ErrCitizenCame
	case AgendaLate:
		if now.Before(a.End) {
			return a, nil
		}
	}
	return a, ErrFinished
}

// RecordCall records that the agent phoned the citizen of their appointment, who had
// not joined after the start, and how it went.
func (s *Service) RecordCall(ctx context.Context, staffID, appointmentID, result string) (Attempt, error) {
	if !slices.Contains(PhoneResults, result) {
		return Attempt{}, &InvalidError{Fields: map[string]string{"result": "console.error.result"}}
	}
	a, err := s.chaseable(ctx, staffID, appointmentID)
	if err != nil {
		return Attempt{}, err
	}
	if a.Citizen.Phone == "" {
		return Attempt{}, ErrNoContact
	}
	at := Attempt{ID: store.NewID(), AppointmentID: a.ID, AgentID: staffID, Channel: "phone", Result: result, At: s.now()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error { return insertAttempt(ctx, tx, at) })
	if err != nil {
		return Attempt{}, fmt.Errorf("record a call to %s: %w", a.ID, err)
	}
	s.publish(ctx, AgentTopic(staffID))
	return at, nil
}

// SendJoinLink sends the citizen of the agent's appointment, who had not joined after
// the start, a fresh link to join: by e-mail, or by text message without an e-mail
// address. The message goes through the outbox in the same transaction as the attempt.
func (s *Service) SendJoinLink(ctx context.Context, staffID, appointmentID string) (Attempt, error) {
	if s.links == nil {
		return Attempt{}, errors.New("send join link: no message sender")
	}
	a, err := s.chaseable(ctx, staffID, appointmentID)
	if err != nil {
		return Attempt{}, err
	}
	channel := "email"
	switch {
	case a.Citizen.Email != "":
	case a.Citizen.Phone != "":
		channel = "sms"
	default:
		return Attempt{}, ErrNoContact
	}
	now := s.now()
	at := Attempt{ID: store.NewID(), AppointmentID: a.ID, AgentID: staffID, Channel: channel, Result: ResultSent, At: now}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var sent int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM contact_attempts WHERE appointment_id = ? AND channel <> 'phone'", a.ID).Scan(&sent); err != nil {
			return err
		}
		token, err := booking.IssueJoinLink(ctx, tx, a.ID, now)
		if err != nil {
			return err
		}
		link := s.baseURL + "/join/" + a.ID + "?t=" + url.QueryEscape(token)
		if err := s.links.NoShowLink(ctx, tx, a, link, sent+1); err != nil {
			return err
		}
		return insertAttempt(ctx, tx, at)
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("send a join link for %s: %w", a.ID, err)
	}
	s.publish(ctx, AgentTopic(staffID))
	return at, nil
}

func insertAttempt(ctx context.Context, tx *store.Tx, at Attempt) error {
	_, err := tx.Exec(ctx, "INSERT INTO contact_attempts (id, appointment_id, agent_id, channel, result, at) VALUES (?, ?, ?, ?, ?, ?)",
		at.ID, at.AppointmentID, at.AgentID, at.Channel, at.Result, at.At.Unix())
	return err
}

// Attempts lists the attempts to reach the citizen of an appointment, oldest first.
func (s *Service) Attempts(ctx context.Context, appointmentID string) ([]Attempt, error) {
	rows, err := s.db.Query(ctx, `SELECT id, appointment_id, agent_id, channel, result, at FROM contact_attempts
		WHERE appointment_id = ? ORDER BY at, id`, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var at Attempt
		var t int64
		if err := rows.Scan(&at.ID, &at.AppointmentID, &at.AgentID, &at.Channel, &at.Result, &t); err != nil {
			return nil, err
		}
		at.At = fromUnix(t)
		out = append(out, at)
	}
	return out, rows.Err()
}

// MarkNoShows applies the end of the no-show rule: every booked appointment whose slot
// has ended without the citizen becomes a no-show, with a contact record (outcome
// no_show, stage 0) and its agent freed if they were waiting for it. It reports how many
// it marked.
func (s *Service) MarkNoShows(ctx context.Context) (int, error) {
	now := s.now()
	var marked []booking.Appointment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if marked, err = booking.MarkNoShows(ctx, tx, now); err != nil {
			return err
		}
		for _, a := range marked {
			var serviceID string
			if err := tx.QueryRow(ctx, "SELECT service_id FROM themes WHERE id = ?", a.ThemeID).Scan(&serviceID); err != nil {
				return err
			}
			c := Contact{Channel: ChannelVideo, AppointmentID: a.ID, Citizen: a.Citizen, AgentID: a.AgentID, ServiceID: serviceID,
				ThemeID: a.ThemeID, AuthLevel: "none", Person: PersonSelf, Outcome: OutcomeNoShow, Started: a.Start, Ended: a.Start}
			if err := insertContact(ctx, tx, &c, now); err != nil && !errors.Is(err, ErrFinished) {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE agent_states SET status = 'available', since = ?, appointment_id = NULL, assigned_at = 0
				WHERE appointment_id = ?`, now.Unix(), a.ID); err != nil {
				return err
			}
			if err := clearProgress(ctx, tx, "", KindAppointment+":"+a.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark no-shows: %w", err)
	}
	topics := []string{}
	for _, a := range marked {
		s.log.Info("no-show", "appointment", a.ID, "agent", a.AgentID)
		topics = append(topics, AgentTopic(a.AgentID))
	}
	if len(marked) > 0 {
		s.publish(ctx, append(topics, BoardTopic)...)
	}
	return len(marked), nil
}

// Upkeep is the console's periodic work: no-shows at the end of their slots, the end
// of wrap-ups that have lasted their time, and the tidying of progress left behind and
// of earlier days' reads. Run it every few seconds.
func (s *Service) Upkeep(ctx context.Context) error {
	if _, err := s.MarkNoShows(ctx); err != nil {
		return err
	}
	if err := s.sweepProgress(ctx); err != nil {
		return err
	}
	if err := s.pruneReads(ctx); err != nil {
		return err
	}
	if err := s.sweepKeptChats(ctx); err != nil {
		return err
	}
	ids, err := s.endWrapUps(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.publish(ctx, AgentTopic(id))
	}
	if len(ids) > 0 {
		s.publish(ctx, BoardTopic)
	}
	return nil
}

// Presence hears the call's participants: the first time the citizen of an appointment
// enters the lobby, and is admitted, is recorded for the agenda and the no-show rule,
// and the agent's console told. Rooms of tickets are left alone (the ticket's call page
// marks the ticket answered). It is call.Presence's shape, with the state as a string.
func (s *Service) Presence(room, role string, admitted bool) {
	if role != "citizen" || strings.HasPrefix(room, "ticket-") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	changed, err := booking.MarkPresence(ctx, s.db, room, admitted, s.now())
	if err != nil {
		s.log.Error("console: mark presence", "appointment", room, "error", err)
		return
	}
	if !changed {
		return
	}
	a, err := s.booking.ByID(ctx, room)
	if err != nil {
		s.log.Error("console: mark presence", "appointment", room, "error", err)
		return
	}
	s.publish(ctx, AgentTopic(a.AgentID), BoardTopic)
}

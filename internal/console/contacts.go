package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"balcao/internal/booking"
	"balcao/internal/call"
	"balcao/internal/directory"
	"balcao/internal/queue"
	"balcao/internal/store"
)

// Channels of a contact.
const (
	ChannelVideo    = "video"
	ChannelPhone    = "phone"
	ChannelEmail    = "email"
	ChannelInPerson = "in_person"
)

// Outcome codes of a contact.
const (
	OutcomeResolved    = "resolved"
	OutcomeFollowUp    = "follow_up"
	OutcomeReferred    = "referred"
	OutcomeNotResolved = "not_resolved"
	OutcomeNoAnswer    = "no_answer"
	OutcomeNoShow      = "no_show"
)

// Outcomes are the codes an agent chooses when finishing a contact.
var Outcomes = []string{OutcomeResolved, OutcomeFollowUp, OutcomeReferred, OutcomeNotResolved}

// Authentication levels reached in a contact (see ROADMAP: none, weak, strong).
var AuthLevels = []string{"none", "weak", "strong"}

// Who the agent spoke with.
const (
	PersonSelf       = "self"
	PersonThirdParty = "third_party"
)

// Limits of the outcome form's texts.
const (
	maxReason = 500
	maxNotes  = 4000
	maxName   = 200
)

// storable tells whether a text typed by the agent can be stored: valid UTF-8, and no
// NUL, which PostgreSQL refuses in text columns.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Outcome is what the agent records when finishing a contact.
type Outcome struct {
	Reason         string
	ThemeID        string // "" keeps the appointment's or ticket's theme
	Code           string // one of Outcomes
	Notes          string
	FollowUp       string // what happens next; required for OutcomeFollowUp
	AuthLevel      string // one of AuthLevels
	Person         string // PersonSelf or PersonThirdParty
	Representative string // the third party's name
	Stage          int    // the step of the script reached, 1-8
}

// Validate lists the outcome's problems: field -> message key.
func (o *Outcome) Validate() map[string]string {
	errs := map[string]string{}
	o.Reason, o.Notes = strings.TrimSpace(o.Reason), strings.TrimSpace(o.Notes)
	o.FollowUp, o.Representative = strings.TrimSpace(o.FollowUp), strings.TrimSpace(o.Representative)
	if o.Reason == "" {
		errs["reason"] = "console.error.reason_required"
	} else if utf8.RuneCountInString(o.Reason) > maxReason || !storable(o.Reason) {
		errs["reason"] = "console.error.too_long"
	}
	if !storable(o.ThemeID) {
		errs["theme"] = "console.error.theme"
	}
	if !slices.Contains(Outcomes, o.Code) {
		errs["outcome"] = "console.error.outcome"
	}
	if utf8.RuneCountInString(o.Notes) > maxNotes || !storable(o.Notes) {
		errs["notes"] = "console.error.too_long"
	}
	if utf8.RuneCountInString(o.FollowUp) > maxNotes || !storable(o.FollowUp) {
		errs["follow_up"] = "console.error.too_long"
	} else if o.Code == OutcomeFollowUp && o.FollowUp == "" {
		errs["follow_up"] = "console.error.follow_up_required"
	}
	if o.AuthLevel == "" {
		o.AuthLevel = "none"
	}
	if !slices.Contains(AuthLevels, o.AuthLevel) {
		errs["auth_level"] = "console.error.auth_level"
	}
	if o.Person == "" {
		o.Person = PersonSelf
	}
	switch o.Person {
	case PersonSelf:
		o.Representative = ""
	case PersonThirdParty:
		if o.Representative == "" {
			errs["representative"] = "console.error.representative_required"
		} else if utf8.RuneCountInString(o.Representative) > maxName || !storable(o.Representative) {
			errs["representative"] = "console.error.too_long"
		}
	default:
		errs["person"] = "console.error.person"
	}
	if o.Stage < 1 || o.Stage > len(Script) {
		errs["stage"] = "console.error.stage"
	}
	return errs
}

// Contact is one service contact, as the CRM keeps it.
type Contact struct {
	ID             string
	Channel        string
	AppointmentID  string
	TicketID       string
	Citizen        booking.Citizen
	AgentID        string
	ServiceID      string
	ThemeID        string
	Reason         string
	AuthLevel      string
	Person         string
	Representative string
	Stage          int
	Outcome        string
	Notes          string
	FollowUp       string
	Started, Ended time.Time
	Duration       time.Duration
	Chat           []call.ChatMessage // the call's chat, when the agent kept it
}

// insertContact writes a contact record in tx.
func insertContact(ctx context.Context, tx *store.Tx, c *Contact, now time.Time) error {
	if c.ID == "" {
		c.ID = store.NewID()
	}
	c.Duration = c.Ended.Sub(c.Started).Truncate(time.Second)
	if c.Duration < 0 {
		c.Duration = 0
	}
	chat := ""
	if len(c.Chat) > 0 {
		b, err := json.Marshal(c.Chat)
		if err != nil {
			return fmt.Errorf("write contact record: %w", err)
		}
		chat = string(b)
	}
	_, err := tx.Exec(ctx, `INSERT INTO contacts (id, channel, appointment_id, ticket_id, citizen_name, citizen_email,
			citizen_phone, citizen_niss, agent_id, service_id, theme_id, reason, auth_level, person, representative, stage,
			outcome, notes, follow_up, started_at, ended_at, duration_seconds, created_at, chat)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Channel, nullable(c.AppointmentID), nullable(c.TicketID), c.Citizen.Name, c.Citizen.Email, c.Citizen.Phone,
		c.Citizen.NISS, nullable(c.AgentID), nullable(c.ServiceID), nullable(c.ThemeID), c.Reason, c.AuthLevel, c.Person,
		c.Representative, c.Stage, c.Outcome, c.Notes, c.FollowUp, c.Started.Unix(), c.Ended.Unix(), int(c.Duration/time.Second), now.Unix(), chat)
	if store.IsUniqueViolation(err) {
		return ErrFinished
	}
	if err != nil {
		return fmt.Errorf("write contact record: %w", err)
	}
	return nil
}

// Finish ends the contact the agent is serving: the contact record is written, the
// appointment marked done (or the ticket served), and the agent goes to wrap-up. The
// citizen must have joined the call (ErrNotJoined), or, for an appointment, have been
// reached by phone (the contact is then a phone contact); a ticket whose citizen never
// joined is let go with Release, an appointment's ends with the no-show rule.
func (s *Service) Finish(ctx context.Context, staffID string, o Outcome) (Contact, error) {
	if errs := o.Validate(); len(errs) > 0 {
		return Contact{}, &InvalidError{Fields: errs}
	}
	st, err := s.State(ctx, staffID)
	if err != nil {
		return Contact{}, err
	}
	if !st.Serving() {
		return Contact{}, ErrNotServing
	}
	c := Contact{Channel: ChannelVideo, AgentID: staffID, Reason: o.Reason, AuthLevel: o.AuthLevel, Person: o.Person,
		Representative: o.Representative, Stage: o.Stage, Outcome: o.Code, Notes: o.Notes, FollowUp: o.FollowUp,
		Started: st.AssignedAt}
	themeID := o.ThemeID
	if st.TicketID != "" {
		t, err := s.ticket(ctx, st.TicketID)
		if err != nil {
			return Contact{}, err
		}
		c.TicketID, c.Citizen, c.ServiceID = t.ID, t.Citizen, t.ServiceID
		if themeID == "" {
			themeID = t.ThemeID
		}
		err = s.queue.Finish(ctx, t.ID)
		if errors.Is(err, queue.ErrNotWaiting) {
			status, _, serr := ticketStatus(ctx, s.db, t.ID)
			if serr != nil {
				return Contact{}, serr
			}
			if status != queue.StatusServed {
				return Contact{}, ErrNotJoined
			}
		} else if err != nil {
			return Contact{}, err
		}
	} else {
		a, err := s.booking.ByID(ctx, st.AppointmentID)
		if err != nil {
			return Contact{}, err
		}
		c.AppointmentID, c.Citizen = a.ID, a.Citizen
		if !a.CallStartedAt.IsZero() {
			c.Started = a.CallStartedAt
		}
		if a.LobbyAt.IsZero() {
			// Never in the call: served by phone if the agent reached them, else nothing
			// to record yet (the no-show rule ends it).
			reached, err := s.reachedByPhone(ctx, a.ID)
			if err != nil {
				return Contact{}, err
			}
			if !reached {
				return Contact{}, ErrNotJoined
			}
			c.Channel = ChannelPhone
		}
		if themeID == "" {
			themeID = a.ThemeID
		}
	}
	if themeID != "" {
		th, err := directory.ThemeByID(ctx, s.db, themeID)
		if errors.Is(err, store.ErrNotFound) {
			return Contact{}, &InvalidError{Fields: map[string]string{"theme": "console.error.theme"}}
		}
		if err != nil {
			return Contact{}, err
		}
		c.ThemeID, c.ServiceID = th.ID, th.ServiceID
	}
	now := s.now()
	c.Ended = now
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if c.AppointmentID != "" {
			if err := booking.MarkDone(ctx, tx, c.AppointmentID, now); errors.Is(err, booking.ErrNotCancellable) {
				return ErrFinished
			} else if err != nil {
				return err
			}
		}
		// Released first: that takes the agent's row, which a KeepChat of this contact
		// holds until it commits, so the chat taken next is the last one kept.
		if err := release(ctx, tx, staffID, StatusWrapUp, now); err != nil {
			return err
		}
		room := c.AppointmentID
		if c.TicketID != "" {
			room = TicketRoom(c.TicketID)
		}
		var err error
		if c.Chat, err = takeKeptChat(ctx, tx, room); err != nil {
			return err
		}
		return insertContact(ctx, tx, &c, now)
	})
	if err != nil {
		return Contact{}, fmt.Errorf("finish the contact of %s: %w", staffID, err)
	}
	s.log.Info("contact finished", "agent", staffID, "contact", c.ID, "outcome", c.Outcome, "stage", c.Stage)
	s.publish(ctx, AgentTopic(staffID), BoardTopic)
	return c, nil
}

// reachedByPhone tells whether the agent reached the citizen of an appointment by phone.
func (s *Service) reachedByPhone(ctx context.Context, appointmentID string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM contact_attempts WHERE appointment_id = ? AND channel = 'phone' AND result = 'reached'",
		appointmentID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("attempts of %s: %w", appointmentID, err)
	}
	return n > 0, nil
}

// ticket reads a ticket for the staff, who hold no token.
func (s *Service) ticket(ctx context.Context, id string) (queue.Ticket, error) {
	var t queue.Ticket
	var called int64
	err := s.db.QueryRow(ctx, `SELECT id, service_id, COALESCE(theme_id, ''), code, priority, status, citizen_name,
		citizen_email, citizen_phone, language, COALESCE(agent_id, ''), called_at FROM tickets WHERE id = ?`, id).
		Scan(&t.ID, &t.ServiceID, &t.ThemeID, &t.Code, &t.Priority, &t.Status, &t.Citizen.Name, &t.Citizen.Email,
			&t.Citizen.Phone, &t.Citizen.Language, &t.AgentID, &called)
	if err != nil {
		return t, fmt.Errorf("read ticket %s: %w", id, err)
	}
	t.CalledAt = fromUnix(called)
	return t, nil
}

const contactColumns = `id, channel, COALESCE(appointment_id, ''), COALESCE(ticket_id, ''), citizen_name, citizen_email,
	citizen_phone, citizen_niss, COALESCE(agent_id, ''), COALESCE(service_id, ''), COALESCE(theme_id, ''), reason,
	auth_level, person, representative, stage, outcome, notes, follow_up, started_at, ended_at, duration_seconds, chat`

func scanContact(row interface{ Scan(...any) error }) (Contact, error) {
	var c Contact
	var started, ended int64
	var secs int
	var chat string
	err := row.Scan(&c.ID, &c.Channel, &c.AppointmentID, &c.TicketID, &c.Citizen.Name, &c.Citizen.Email, &c.Citizen.Phone,
		&c.Citizen.NISS, &c.AgentID, &c.ServiceID, &c.ThemeID, &c.Reason, &c.AuthLevel, &c.Person, &c.Representative,
		&c.Stage, &c.Outcome, &c.Notes, &c.FollowUp, &started, &ended, &secs, &chat)
	c.Started, c.Ended, c.Duration = fromUnix(started), fromUnix(ended), time.Duration(secs)*time.Second
	if err == nil && chat != "" {
		err = json.Unmarshal([]byte(chat), &c.Chat)
	}
	return c, err
}

// ContactByID returns one contact record.
func (s *Service) ContactByID(ctx context.Context, id string) (Contact, error) {
	c, err := scanContact(s.db.QueryRow(ctx, "SELECT "+contactColumns+" FROM contacts WHERE id = ?", id))
	if err != nil {
		return Contact{}, fmt.Errorf("read contact %s: %w", id, err)
	}
	return c, nil
}

// ContactsFor lists, newest first, up to limit contacts of the citizen m matches.
func (s *Service) ContactsFor(ctx context.Context, m booking.Match, limit int) ([]Contact, error) {
	var conds []string
	var args []any
	if m.Email != "" {
		conds, args = append(conds, "lower(citizen_email) = lower(?)"), append(args, m.Email)
	}
	if m.Phone != "" {
		conds, args = append(conds, "citizen_phone = ?"), append(args, m.Phone)
	}
	if m.NISS != "" {
		conds, args = append(conds, "citizen_niss = ?"), append(args, m.NISS)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, "SELECT "+contactColumns+" FROM contacts WHERE ("+strings.Join(conds, " OR ")+
		") ORDER BY started_at DESC, id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("list contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

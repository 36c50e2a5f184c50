package call

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// State is where a participant is in a call.
type State string

// The states of a participant.
const (
	// StateLobby: a citizen who waits to be admitted; no media flows.
	StateLobby State = "lobby"
	// StateAdmitted: in the call, with media through the SFU. Staff are admitted as
	// they arrive.
	StateAdmitted State = "admitted"
)

// Chat limits: messages live only in the room's memory and go when the call ends.
const (
	MaxChatRunes    = 1000
	MaxChatMessages = 200
)

// Errors of the lobby's rules.
var (
	ErrNotAllowed    = errors.New("call: not allowed")
	ErrNoParticipant = errors.New("call: no such participant")
	ErrEnded         = errors.New("call: the call has ended")
	ErrEmptyMessage  = errors.New("call: empty or too long message")
)

// Member is one participant as the lobby knows it.
type Member struct {
	ID     string `json:"id"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	State  State  `json:"state"`
	Online bool   `json:"online"`
	// Staff: works for the agency (may admit and end); false for the citizen and for
	// invited guests.
	Staff bool `json:"staff"`
}

// ChatMessage is one line of the call's chat.
type ChatMessage struct {
	From string    `json:"from"`
	Name string    `json:"name"`
	Role string    `json:"role"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Lobby holds the rules of one call, with no I/O: who is waiting, who is in, the chat
// and whether the agent ended it. The room goroutine owns it; it is not safe for
// concurrent use.
type Lobby struct {
	members []*Member // in order of first arrival
	chat    []ChatMessage
	ended   bool
}

func (l *Lobby) find(id string) *Member {
	for _, m := range l.members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// Arrive records a participant's connection and returns its state. Staff (agents and
// the agency's interpreters) are admitted at once; a citizen waits in the lobby unless
// already admitted (a reload or a reconnection keeps the place). After the call has
// ended a citizen cannot come back (ErrEnded) until a member of staff arrives again,
// which opens the call anew.
func (l *Lobby) Arrive(id, role, name string) (State, error) {
	return l.arrive(id, role, name, role == RoleAgent || role == RoleInterpreter)
}

// ArriveGuest records the connection of someone the agent invited with a link (an
// interpreter from outside the agency): like a citizen, they wait to be admitted,
// cannot admit or end, and cannot come back once the call has ended.
func (l *Lobby) ArriveGuest(id, role, name string) (State, error) {
	return l.arrive(id, role, name, false)
}

func (l *Lobby) arrive(id, role, name string, staff bool) (State, error) {
	if l.ended {
		if !staff {
			return "", ErrEnded
		}
		l.ended = false
	}
	m := l.find(id)
	if m == nil {
		m = &Member{ID: id, Role: role, State: StateLobby, Staff: staff}
		if staff {
			m.State = StateAdmitted
		}
		l.members = append(l.members, m)
	}
	m.Name, m.Online = name, true
	return m.State, nil
}

// Depart records that a participant's connection is gone; it keeps its place.
func (l *Lobby) Depart(id string) {
	if m := l.find(id); m != nil {
		m.Online = false
	}
}

// Leave removes a participant who left on purpose: a citizen who comes back waits to
// be admitted again.
func (l *Lobby) Leave(id string) {
	l.members = slices.DeleteFunc(l.members, func(m *Member) bool { return m.ID == id })
}

// Admit lets a waiting citizen or guest into the call; only staff present in the call
// may.
// Admitting someone already admitted does nothing.
func (l *Lobby) Admit(by, id string) error {
	if l.ended {
		return ErrEnded
	}
	b := l.find(by)
	if b == nil || !b.Staff || !b.Online {
		return ErrNotAllowed
	}
	m := l.find(id)
	if m == nil {
		return ErrNoParticipant
	}
	m.State = StateAdmitted
	return nil
}

// End ends the call for everyone; only staff may. The members and the chat are
// forgotten.
func (l *Lobby) End(by string) error {
	b := l.find(by)
	if b == nil || !b.Staff {
		return ErrNotAllowed
	}
	l.ended, l.members, l.chat = true, nil, nil
	return nil
}

// Say adds a chat message from an admitted participant.
func (l *Lobby) Say(from, text string, at time.Time) (ChatMessage, error) {
	m := l.find(from)
	if m == nil || m.State != StateAdmitted {
		return ChatMessage{}, ErrNotAllowed
	}
	text = strings.TrimSpace(text)
	if text == "" || !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxChatRunes {
		return ChatMessage{}, ErrEmptyMessage
	}
	msg := ChatMessage{From: m.ID, Name: m.Name, Role: m.Role, Text: text, At: at.UTC()}
	l.chat = append(l.chat, msg)
	if len(l.chat) > MaxChatMessages {
		l.chat = slices.Delete(l.chat, 0, len(l.chat)-MaxChatMessages)
	}
	return msg, nil
}

// Member returns a participant's record.
func (l *Lobby) Member(id string) (Member, bool) {
	if m := l.find(id); m != nil {
		return *m, true
	}
	return Member{}, false
}

// Members lists the participants in order of arrival.
func (l *Lobby) Members() []Member {
	out := make([]Member, len(l.members))
	for i, m := range l.members {
		out[i] = *m
	}
	return out
}

// Chat returns the messages so far.
func (l *Lobby) Chat() []ChatMessage { return slices.Clone(l.chat) }

// Ended tells whether the agent ended the call.
func (l *Lobby) Ended() bool { return l.ended }

package call

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// step is one event of a lobby scenario and what it must give.
type step struct {
	do      string // arrive, guest, depart, leave, admit, end, say
	who     string // the participant acting
	role    string // for arrive
	target  string // for admit
	text    string // for say
	want    error
	state   State  // for arrive: the state returned
	members string // afterwards, "id:state:online" joined by spaces (empty: not checked)
}

func TestLobby(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{name: "citizen waits, agent admits, both chat", steps: []step{
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby, members: "citizen:lobby:true"},
			{do: "say", who: "citizen", text: "olá", want: ErrNotAllowed},
			{do: "admit", who: "citizen", target: "citizen", want: ErrNotAllowed},
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted, members: "citizen:lobby:true agent-1:admitted:true"},
			{do: "admit", who: "agent-1", target: "nobody", want: ErrNoParticipant},
			{do: "admit", who: "agent-1", target: "citizen", members: "citizen:admitted:true agent-1:admitted:true"},
			{do: "admit", who: "agent-1", target: "citizen"}, // again: nothing changes
			{do: "say", who: "citizen", text: "  bom dia  "},
			{do: "say", who: "agent-1", text: "   ", want: ErrEmptyMessage},
			{do: "say", who: "agent-1", text: strings.Repeat("é", MaxChatRunes+1), want: ErrEmptyMessage},
		}},
		{name: "a reload keeps the admitted citizen in the call", steps: []step{
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "admit", who: "agent-1", target: "citizen"},
			{do: "depart", who: "citizen", members: "agent-1:admitted:true citizen:admitted:false"},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateAdmitted, members: "agent-1:admitted:true citizen:admitted:true"},
		}},
		{name: "a citizen who leaves waits again", steps: []step{
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "admit", who: "agent-1", target: "citizen"},
			{do: "leave", who: "citizen", members: "agent-1:admitted:true"},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
		}},
		{name: "an agent who is gone cannot admit", steps: []step{
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "depart", who: "agent-1"},
			{do: "admit", who: "agent-1", target: "citizen", want: ErrNotAllowed},
		}},
		{name: "the agent ends the call; only staff reopen it", steps: []step{
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "end", who: "citizen", want: ErrNotAllowed},
			{do: "admit", who: "agent-1", target: "citizen"},
			{do: "say", who: "agent-1", text: "adeus"},
			{do: "end", who: "agent-1", members: "-"},
			{do: "arrive", who: "citizen", role: RoleCitizen, want: ErrEnded},
			{do: "admit", who: "agent-1", target: "citizen", want: ErrEnded},
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby, members: "agent-1:admitted:true citizen:lobby:true"},
		}},
		{name: "an invited guest waits, is admitted, and has no staff powers", steps: []step{
			{do: "arrive", who: "agent-1", role: RoleAgent, state: StateAdmitted},
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "guest", who: "guest-1", role: RoleInterpreter, state: StateLobby,
				members: "agent-1:admitted:true citizen:lobby:true guest-1:lobby:true"},
			{do: "say", who: "guest-1", text: "olá", want: ErrNotAllowed},
			{do: "admit", who: "guest-1", target: "citizen", want: ErrNotAllowed},
			{do: "admit", who: "agent-1", target: "guest-1"},
			{do: "admit", who: "guest-1", target: "citizen", want: ErrNotAllowed},
			{do: "say", who: "guest-1", text: "bom dia"},
			{do: "end", who: "guest-1", want: ErrNotAllowed},
			{do: "depart", who: "guest-1"},
			{do: "guest", who: "guest-1", role: RoleInterpreter, state: StateAdmitted},
			{do: "end", who: "agent-1", members: "-"},
			{do: "guest", who: "guest-1", role: RoleInterpreter, want: ErrEnded},
		}},
		{name: "an interpreter is staff", steps: []step{
			{do: "arrive", who: "citizen", role: RoleCitizen, state: StateLobby},
			{do: "arrive", who: "interpreter-9", role: RoleInterpreter, state: StateAdmitted},
			{do: "admit", who: "interpreter-9", target: "citizen", members: "citizen:admitted:true interpreter-9:admitted:true"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Lobby
			for i, s := range tc.steps {
				var err error
				var state State
				switch s.do {
				case "arrive":
					state, err = l.Arrive(s.who, s.role, "name of "+s.who)
				case "guest":
					state, err = l.ArriveGuest(s.who, s.role, "name of "+s.who)
				case "depart":
					l.Depart(s.who)
				case "leave":
					l.Leave(s.who)
				case "admit":
					err = l.Admit(s.who, s.target)
				case "end":
					err = l.End(s.who)
				case "say":
					var msg ChatMessage
					msg, err = l.Say(s.who, s.text, at)
					if err == nil && (msg.Text != strings.TrimSpace(s.text) || msg.From != s.who || !msg.At.Equal(at)) {
						t.Errorf("step %d: message %+v", i, msg)
					}
				}
				if !errors.Is(err, s.want) {
					t.Fatalf("step %d (%s %s): error %v, want %v", i, s.do, s.who, err, s.want)
				}
				if s.state != "" && state != s.state {
					t.Fatalf("step %d (%s %s): state %q, want %q", i, s.do, s.who, state, s.state)
				}
				if s.members != "" {
					var got []string
					for _, m := range l.Members() {
						got = append(got, m.ID+":"+string(m.State)+":"+map[bool]string{true: "true", false: "false"}[m.Online])
					}
					want := s.members
					if want == "-" {
						want = ""
					}
					if strings.Join(got, " ") != want {
						t.Fatalf("step %d (%s %s): members %q, want %q", i, s.do, s.who, strings.Join(got, " "), want)
					}
				}
			}
		})
	}
}

func TestLobbyChatIsBounded(t *testing.T) {
	var l Lobby
	l.Arrive("agent-1", RoleAgent, "Rui")
	for i := range MaxChatMessages + 10 {
		if _, err := l.Say("agent-1", "m"+string(rune('a'+i%26)), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(l.Chat()); n != MaxChatMessages {
		t.Errorf("chat keeps %d messages, want %d", n, MaxChatMessages)
	}
	l.End("agent-1")
	if n := len(l.Chat()); n != 0 || !l.Ended() {
		t.Errorf("after the end: %d messages, ended %v; want none, true", n, l.Ended())
	}
}

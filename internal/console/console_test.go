package console_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/call"
	"balcao/internal/console"
	"balcao/internal/directory"
	"balcao/internal/events"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// links records the join links the console sends instead of writing messages.
type links struct {
	mu   sync.Mutex
	sent []string
}

func (l *links) NoShowLink(ctx context.Context, tx *store.Tx, a booking.Appointment, joinURL string, attempt int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, joinURL)
	return nil
}

// recorder counts the events of each topic.
type recorder struct {
	mu     sync.Mutex
	topics map[string]int
}

func (r *recorder) Publish(_ context.Context, ev events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics[ev.Topic]++
}
func (r *recorder) Subscribe(string, func(events.Event)) func() { return func() {} }
func (r *recorder) count(topic string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.topics[topic]
}

type fixture struct {
	db      *store.DB
	clock   *clock
	booking *booking.Service
	queue   *queue.Service
	console *console.Service
	links   *links
	events  *recorder
}

// The fixture agency: service "s" with theme "t" (30 minutes, no notice) and a walk-in
// queue open around the clock; agents a1 and a2 serve it, every day 08:00-20:00, at
// location l1, as does i1, a sign-language interpreter; l2 is another location; sup is
// a supervisor. The clock stands at Wednesday 2 December 2026, 08:00 in Lisbon.
func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	zero := 0
	days := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		days[d] = []string{"08:00-20:00"}
	}
	cfg := directory.Config{
		Agency: directory.AgencyConfig{Name: directory.Text{"pt-PT": "Agência"}},
		Locations: []directory.LocationConfig{{ID: "l1", Name: directory.Text{"pt-PT": "Local 1"}, OpeningHours: days},
			{ID: "l2", Name: directory.Text{"pt-PT": "Local 2"}, OpeningHours: days}},
		Services: []directory.ServiceConfig{{ID: "s", Name: directory.Text{"pt-PT": "Serviço"},
			WalkIn: &directory.WalkInConfig{Letter: "A", AlwaysOpen: true},
			Themes: []directory.ThemeConfig{{ID: "t", Name: directory.Text{"pt-PT": "Tema"}, DurationMinutes: 30, AuthLevel: "none",
				MinNoticeMinutes: &zero, HorizonDays: 30, Instructions: directory.Text{"pt-PT": "Peça o NISS."}}}}},
		Staff: []directory.StaffConfig{
			{ID: "a1", Name: "Agente Um", Location: "l1", Themes: []string{"t"}, Hours: days},
			{ID: "a2", Name: "Agente Dois", Location: "l1", Themes: []string{"t"}, Hours: days},
			{ID: "sup", Name: "Supervisora", Location: "l1", Role: "supervisor"},
			{ID: "i1", Name: "Intérprete Um", Location: "l1", Role: "interpreter", Languages: []string{"lgp"}, Hours: days},
		},
	}
	ctx := context.Background()
	if err := directory.Apply(ctx, db, cfg); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 2, 8, 0, 0, 0, calendar.Lisbon())}
	f := &fixture{db: db, clock: c, links: &links{}, events: &recorder{topics: map[string]int{}}}
	f.booking = booking.NewService(db, c.now)
	f.queue = queue.NewService(db, c.now)
	f.console = console.NewService(db, f.booking, f.queue, console.Options{Bus: f.events, Links: f.links,
		BaseURL: "https://balcao.example.pt/", Now: c.now, WrapUp: time.Minute})
	return f
}

// book books theme t at the given Lisbon time for agent (retrying until it is theirs:
// the booking spreads appointments over the agents).
func (f *fixture) book(t *testing.T, hour, minute int, agent string, citizen booking.Citizen) booking.Booked {
	t.Helper()
	start := time.Date(2026, 12, 2, hour, minute, 0, 0, calendar.Lisbon())
	var mine booking.Booked
	var others []booking.Booked
	for mine.ID == "" && len(others) < 2 {
		b, err := f.booking.Book(context.Background(), booking.Request{ThemeID: "t", Start: start, Citizen: citizen})
		if err != nil {
			t.Fatal(err)
		}
		if b.AgentID == agent {
			mine = b
		} else {
			others = append(others, b)
		}
	}
	for _, o := range others {
		if _, err := f.booking.Cancel(context.Background(), o.ID, o.ManageToken); err != nil {
			t.Fatal(err)
		}
	}
	if mine.ID == "" {
		t.Fatalf("no appointment of %s at %s", agent, start)
	}
	return mine
}

func (f *fixture) take(t *testing.T, name string, priority bool) queue.Taken {
	t.Helper()
	tk, err := f.queue.Take(context.Background(), queue.Request{ServiceID: "s", Priority: priority,
		Citizen: booking.Citizen{Name: name, Email: name + "@example.pt"}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Second)
	return tk
}

func outcome() console.Outcome {
	return console.Outcome{Reason: "Pedido de informação", Code: console.OutcomeResolved, AuthLevel: "weak",
		Person: console.PersonSelf, Stage: 8, Notes: "Explicado o prazo."}
}

var maria = booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Phone: "912345678", NISS: "12345678902"}

// TestCallNextDueAppointmentsFirst: tickets while the agent's appointment is not due,
// priority first; the appointment from five minutes before its start, before any
// ticket, and only to its own agent; nobody when nothing waits.
func TestCallNextDueAppointmentsFirst(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		appt := f.book(t, 9, 0, "a1", maria)
		first := f.take(t, "primeiro", false)
		prio := f.take(t, "prioritario", true)
		last := f.take(t, "ultimo", false)

		f.clock.set(time.Date(2026, 12, 2, 8, 30, 0, 0, calendar.Lisbon()))
		got, err := f.console.CallNext(ctx, "a1")
		if err != nil || got.Kind != console.KindTicket || got.ID != prio.ID {
			t.Fatalf("first call: %+v %v, want the priority ticket", got, err)
		}
		again, err := f.console.CallNext(ctx, "a1")
		if err != nil || !again.Resumed || again.ID != prio.ID {
			t.Fatalf("call next while serving: %+v %v, want the same citizen again", again, err)
		}
		if st, _ := f.console.State(ctx, "a1"); st.Status != console.StatusInCall || st.TicketID != prio.ID {
			t.Fatalf("state while serving: %+v", st)
		}
		if err := f.queue.Answered(ctx, prio.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.Finish(ctx, "a1", outcome()); err != nil {
			t.Fatal(err)
		}

		// 08:56: the 09:00 appointment is due, before the tickets still waiting.
		f.clock.set(time.Date(2026, 12, 2, 8, 56, 0, 0, calendar.Lisbon()))
		got, err = f.console.CallNext(ctx, "a1")
		if err != nil || got.Kind != console.KindAppointment || got.ID != appt.ID {
			t.Fatalf("call at 08:56: %+v %v, want the appointment", got, err)
		}
		// a2 is not its agent: a2 gets the oldest ticket.
		got, err = f.console.CallNext(ctx, "a2")
		if err != nil || got.Kind != console.KindTicket || got.ID != first.ID {
			t.Fatalf("a2's call: %+v %v, want the first ticket", got, err)
		}
		if err := f.queue.Answered(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.Finish(ctx, "a2", outcome()); err != nil {
			t.Fatal(err)
		}
		if err := f.console.SetStatus(ctx, "a2", console.StatusAvailable); err != nil {
			t.Fatal(err)
		}
		got, err = f.console.CallNext(ctx, "a2")
		if err != nil || got.ID != last.ID {
			t.Fatalf("a2's second call: %+v %v, want the last ticket", got, err)
		}
		// The last ticket's citizen does not answer: a2 lets go, and nobody is left.
		if err := f.console.Release(ctx, "a2"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.CallNext(ctx, "a2"); !errors.Is(err, console.ErrNobody) {
			t.Fatalf("call with nobody waiting: %v, want ErrNobody", err)
		}
		if st, _ := f.console.State(ctx, "a2"); st.Serving() {
			t.Fatalf("a2 serves someone after nobody was found: %+v", st)
		}
		if f.events.count(console.AgentTopic("a1")) == 0 || f.events.count(console.BoardTopic) == 0 {
			t.Errorf("no events: %v", f.events.topics)
		}
	})
}

// TestCallNextServesEachTicketOnce: agents calling next at once over many tickets each
// get a different one.
func TestCallNextServesEachTicketOnce(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for range 6 {
			f.take(t, "c", false)
		}
		var mu sync.Mutex
		got := map[string]string{}
		var wg sync.WaitGroup
		for _, agent := range []string{"a1", "a2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					a, err := f.console.CallNext(ctx, agent)
					if errors.Is(err, console.ErrNobody) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if prev, dup := got[a.ID]; dup {
						t.Errorf("ticket %s given to %s and %s", a.ID, prev, agent)
					}
					got[a.ID] = agent
					mu.Unlock()
					if err := f.console.Release(ctx, agent); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(got) != 6 {
			t.Fatalf("%d tickets called, want 6", len(got))
		}
	})
}

// TestFinishWritesTheContactRecord: the outcome form's rules; a ticket whose citizen
// never joined cannot be finished; finishing writes the contact record, marks the
// appointment done, and puts the agent in wrap-up, then available.
func TestFinishWritesTheContactRecord(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		appt := f.book(t, 9, 0, "a1", maria)

		bad := []struct {
			name  string
			edit  func(*console.Outcome)
			field string
		}{
			{"no reason", func(o *console.Outcome) { o.Reason = " " }, "reason"},
			{"unknown outcome", func(o *console.Outcome) { o.Code = "no_show" }, "outcome"},
			{"follow-up without what", func(o *console.Outcome) { o.Code = console.OutcomeFollowUp }, "follow_up"},
			{"unknown level", func(o *console.Outcome) { o.AuthLevel = "total" }, "auth_level"},
			{"third party without a name", func(o *console.Outcome) { o.Person = console.PersonThirdParty }, "representative"},
			{"stage 9", func(o *console.Outcome) { o.Stage = 9 }, "stage"},
			{"a NUL in the reason", func(o *console.Outcome) { o.Reason = "prazo\x00" }, "reason"},
			{"a NUL in the theme", func(o *console.Outcome) { o.ThemeID = "\x00" }, "theme"},
		}
		for _, c := range bad {
			o := outcome()
			c.edit(&o)
			var invalid *console.InvalidError
			if _, err := f.console.Finish(ctx, "a1", o); !errors.As(err, &invalid) || invalid.Fields[c.field] == "" {
				t.Errorf("%s: %v, want an invalid %s", c.name, err, c.field)
			}
		}
		if _, err := f.console.Finish(ctx, "a1", outcome()); !errors.Is(err, console.ErrNotServing) {
			t.Fatalf("finish while serving nobody: %v", err)
		}

		// A ticket whose citizen never came into the call.
		tk := f.take(t, "rui", false)
		if a, err := f.console.CallNext(ctx, "a2"); err != nil || a.ID != tk.ID {
			t.Fatal(a, err)
		}
		if _, err := f.console.Finish(ctx, "a2", outcome()); !errors.Is(err, console.ErrNotJoined) {
			t.Fatalf("finish a ticket never answered: %v, want ErrNotJoined", err)
		}
		if err := f.queue.Answered(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.add(4 * time.Minute)
		o := outcome()
		o.Person, o.Representative, o.Code, o.FollowUp = console.PersonThirdParty, "Filha", console.OutcomeFollowUp, "Ligar amanhã."
		c, err := f.console.Finish(ctx, "a2", o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.console.ContactByID(ctx, c.ID)
		if err != nil || got.TicketID != tk.ID || got.Channel != console.ChannelVideo || got.ServiceID != "s" ||
			got.Representative != "Filha" || got.Outcome != console.OutcomeFollowUp || got.Duration != 4*time.Minute ||
			got.Citizen.Name != "rui" || got.AgentID != "a2" {
			t.Fatalf("ticket contact: %+v %v", got, err)
		}
		var status string
		if err := db.QueryRow(ctx, "SELECT status FROM tickets WHERE id = ?", tk.ID).Scan(&status); err != nil || status != queue.StatusServed {
			t.Fatalf("ticket status %q %v, want served", status, err)
		}

		// The appointment: the citizen comes, is admitted, and is served.
		f.clock.set(time.Date(2026, 12, 2, 8, 58, 0, 0, calendar.Lisbon()))
		if a, err := f.console.CallNext(ctx, "a1"); err != nil || a.ID != appt.ID {
			t.Fatal(a, err)
		}
		f.console.Presence(appt.ID, "citizen", false)
		f.clock.add(3 * time.Minute)
		f.console.Presence(appt.ID, "citizen", true)
		agenda, err := f.console.Agenda(ctx, "a1")
		if err != nil || len(agenda) != 1 || agenda[0].State != console.AgendaInCall {
			t.Fatalf("agenda in the call: %+v %v", agenda, err)
		}
		f.clock.add(10 * time.Minute)
		c, err = f.console.Finish(ctx, "a1", outcome())
		if err != nil {
			t.Fatal(err)
		}
		got, _ = f.console.ContactByID(ctx, c.ID)
		if got.AppointmentID != appt.ID || got.ThemeID != "t" || got.Citizen.NISS != maria.NISS || got.AuthLevel != "weak" ||
			got.Stage != 8 || got.Duration != 10*time.Minute {
			t.Fatalf("appointment contact: %+v", got)
		}
		if a, _ := f.booking.ByID(ctx, appt.ID); a.Status != booking.StatusDone {
			t.Fatalf("appointment status %q, want done", a.Status)
		}
		if agenda, _ := f.console.Agenda(ctx, "a1"); agenda[0].State != console.AgendaDone {
			t.Errorf("agenda after finishing: %s", agenda[0].State)
		}
		if st, _ := f.console.State(ctx, "a1"); st.Status != console.StatusWrapUp || st.Serving() {
			t.Fatalf("after finishing: %+v, want wrap-up", st)
		}
		contacts, err := f.console.ContactsFor(ctx, booking.Match{Email: "MARIA@example.pt"}, 10)
		if err != nil || len(contacts) != 1 || contacts[0].ID != c.ID {
			t.Fatalf("the citizen's contacts: %+v %v", contacts, err)
		}
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.console.State(ctx, "a1"); st.Status != console.StatusWrapUp {
			t.Fatalf("wrap-up ended early: %+v", st)
		}
		f.clock.add(time.Minute)
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.console.State(ctx, "a1"); st.Status != console.StatusAvailable {
			t.Fatalf("after the wrap-up time: %+v, want available", st)
		}
	})
}

// TestNoShowRule: before the start nothing is offered; after it the agent phones (the
// attempt and its result recorded) and e-mails a fresh join link; at the end of the
// slot the appointment is a no-show with its contact record, and the agent is freed. A
// citizen who came is never marked.
func TestNoShowRule(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		absent := f.book(t, 9, 0, "a1", maria)
		present := f.book(t, 9, 0, "a2", booking.Citizen{Name: "Rui", Email: "rui@example.pt"})

		f.clock.set(time.Date(2026, 12, 2, 8, 57, 0, 0, calendar.Lisbon()))
		if _, err := f.console.CallNext(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.RecordCall(ctx, "a1", absent.ID, console.ResultNoAnswer); !errors.Is(err, console.ErrTooEarly) {
			t.Fatalf("phone before the start: %v, want ErrTooEarly", err)
		}
		f.clock.set(time.Date(2026, 12, 2, 9, 5, 0, 0, calendar.Lisbon()))
		sv, err := f.console.Serving(ctx, mustState(t, f, "a1"))
		if err != nil || !sv.CanChase || sv.Presence != console.AgendaLate || sv.Theme == nil || sv.Theme.Instructions["pt-PT"] == "" {
			t.Fatalf("serving after the start: %+v %v", sv, err)
		}
		if _, err := f.console.RecordCall(ctx, "a2", absent.ID, console.ResultNoAnswer); !errors.Is(err, console.ErrNotYours) {
			t.Errorf("another agent phones: %v, want ErrNotYours", err)
		}
		if _, err := f.console.RecordCall(ctx, "a1", absent.ID, "shouted"); err == nil {
			t.Errorf("an unknown result was recorded")
		}
		if _, err := f.console.RecordCall(ctx, "a1", absent.ID, console.ResultVoicemail); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.Finish(ctx, "a1", outcome()); !errors.Is(err, console.ErrNotJoined) {
			t.Fatalf("finish an appointment whose citizen never came: %v, want ErrNotJoined", err)
		}
		f.clock.add(time.Minute)
		if _, err := f.console.SendJoinLink(ctx, "a1", absent.ID); err != nil {
			t.Fatal(err)
		}
		attempts, err := f.console.Attempts(ctx, absent.ID)
		if err != nil || len(attempts) != 2 || attempts[0].Channel != "phone" || attempts[0].Result != console.ResultVoicemail ||
			attempts[1].Channel != "email" || attempts[1].Result != console.ResultSent {
			t.Fatalf("attempts: %+v %v", attempts, err)
		}
		if len(f.links.sent) != 1 {
			t.Fatalf("links sent: %v", f.links.sent)
		}
		// The link sent opens the appointment's join page.
		link := f.links.sent[0]
		const prefix = "https://balcao.example.pt/join/"
		if len(link) < len(prefix) || link[:len(prefix)] != prefix {
			t.Fatalf("link %q", link)
		}
		token := link[len(prefix)+len(absent.ID)+len("?t="):]
		if _, err := f.booking.Get(ctx, absent.ID, token, booking.JoinToken); err != nil {
			t.Errorf("the link sent does not open the appointment: %v", err)
		}

		// Rui comes; Maria does not.
		f.console.Presence(present.ID, "citizen", false)
		if _, err := f.console.SendJoinLink(ctx, "a2", present.ID); !errors.Is(err, console.ErrCitizenCame) {
			t.Errorf("chase a citizen who came: %v, want ErrCitizenCame", err)
		}
		f.clock.set(time.Date(2026, 12, 2, 9, 29, 0, 0, calendar.Lisbon()))
		if n, err := f.console.MarkNoShows(ctx); err != nil || n != 0 {
			t.Fatalf("no-shows before the end of the slot: %d %v", n, err)
		}
		f.clock.set(time.Date(2026, 12, 2, 9, 30, 0, 0, calendar.Lisbon()))
		if n, err := f.console.MarkNoShows(ctx); err != nil || n != 1 {
			t.Fatalf("no-shows at the end of the slot: %d %v", n, err)
		}
		if a, _ := f.booking.ByID(ctx, absent.ID); a.Status != booking.StatusNoShow {
			t.Errorf("absent: %s, want no_show", a.Status)
		}
		if a, _ := f.booking.ByID(ctx, present.ID); a.Status != booking.StatusBooked {
			t.Errorf("present: %s, want still booked", a.Status)
		}
		contacts, err := f.console.ContactsFor(ctx, booking.Match{NISS: maria.NISS}, 10)
		if err != nil || len(contacts) != 1 || contacts[0].Outcome != console.OutcomeNoShow || contacts[0].Stage != 0 {
			t.Fatalf("no-show contact: %+v %v", contacts, err)
		}
		if st := mustState(t, f, "a1"); st.Serving() || st.Status != console.StatusAvailable {
			t.Errorf("a1 after the no-show: %+v", st)
		}
		if _, err := f.console.RecordCall(ctx, "a1", absent.ID, console.ResultNoAnswer); !errors.Is(err, console.ErrFinished) {
			t.Errorf("phone after the no-show: %v, want ErrFinished", err)
		}

		// A citizen reached by phone is served by phone: a phone contact.
		phoned := f.book(t, 10, 0, "a1", booking.Citizen{Name: "Ana", Email: "ana@example.pt", Phone: "913000000"})
		f.clock.set(time.Date(2026, 12, 2, 10, 5, 0, 0, calendar.Lisbon()))
		if a, err := f.console.CallNext(ctx, "a1"); err != nil || a.ID != phoned.ID {
			t.Fatalf("call next at 10:05: %+v %v", a, err)
		}
		if _, err := f.console.RecordCall(ctx, "a1", phoned.ID, console.ResultReached); err != nil {
			t.Fatal(err)
		}
		c, err := f.console.Finish(ctx, "a1", outcome())
		if err != nil || c.Channel != console.ChannelPhone || c.AppointmentID != phoned.ID {
			t.Fatalf("finish after reaching by phone: %+v %v", c, err)
		}
	})
}

func mustState(t *testing.T, f *fixture, id string) console.State {
	t.Helper()
	st, err := f.console.State(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestAgentStatusAndMoves: an agent is offline until they open the console; they
// choose available or break but not while serving; a supervisor moves them to another
// location and the national pool, and each move is recorded.
func TestAgentStatusAndMoves(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if st := mustState(t, f, "a1"); st.Status != console.StatusOffline {
			t.Fatalf("before the console: %+v", st)
		}
		if st, err := f.console.Arrive(ctx, "a1"); err != nil || st.Status != console.StatusAvailable {
			t.Fatalf("arrive: %+v %v", st, err)
		}
		if err := f.console.SetStatus(ctx, "a1", console.StatusBreak); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.console.Arrive(ctx, "a1"); st.Status != console.StatusBreak {
			t.Errorf("reopening the console ended the break: %+v", st)
		}
		if err := f.console.SetStatus(ctx, "a1", console.StatusInCall); err == nil {
			t.Errorf("an agent chose in_call")
		}
		f.take(t, "c", false)
		if _, err := f.console.CallNext(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if err := f.console.SetStatus(ctx, "a1", console.StatusBreak); !errors.Is(err, console.ErrBusy) {
			t.Errorf("a break while serving: %v, want ErrBusy", err)
		}

		if err := f.console.Move(ctx, "a2", "l2", "sup"); err != nil {
			t.Fatal(err)
		}
		f.clock.add(time.Second)
		if err := f.console.Move(ctx, "a2", console.PoolNational, "sup"); err != nil {
			t.Fatal(err)
		}
		if err := f.console.Move(ctx, "a2", "nowhere", "sup"); !errors.Is(err, console.ErrUnknownPlace) {
			t.Errorf("move to an unknown place: %v", err)
		}
		if err := f.console.Move(ctx, "sup", "l2", "sup"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("move a supervisor: %v, want ErrNotFound", err)
		}
		agents, err := f.console.Agents(ctx)
		if err != nil || len(agents) != 2 {
			t.Fatalf("agents: %+v %v", agents, err)
		}
		byID := map[string]console.AgentRow{}
		for _, a := range agents {
			byID[a.StaffID] = a
		}
		if a := byID["a1"]; a.Status != console.StatusInCall || a.Kind != console.KindTicket || a.ServesAt() != "l1" {
			t.Errorf("a1 on the board: %+v", a)
		}
		if a := byID["a2"]; a.Status != console.StatusOffline || a.ServesAt() != console.PoolNational {
			t.Errorf("a2 on the board: %+v", a)
		}
		f.clock.add(time.Second)
		if err := f.console.Move(ctx, "a2", "l1", "sup"); err != nil {
			t.Fatal(err)
		}
		moves, err := f.console.Moves(ctx, 10)
		if err != nil || len(moves) != 3 || moves[0].To != "" || moves[0].By != "sup" {
			t.Fatalf("moves: %+v %v", moves, err)
		}
	})
}

// TestScriptHasEightStages keeps the script to the seed's eight stages, with the
// identity stage fourth.
func TestScriptHasEightStages(t *testing.T) {
	if len(console.Script) != 8 {
		t.Fatalf("%d stages", len(console.Script))
	}
	for i, s := range console.Script {
		if s.Number != i+1 {
			t.Errorf("stage %d numbered %d", i+1, s.Number)
		}
		if s.Identity != (s.Number == 4) {
			t.Errorf("stage %d identity %v", s.Number, s.Identity)
		}
	}
	lis := calendar.Lisbon()
	for _, c := range []struct {
		hour int
		want string
	}{{9, "console.script.morning"}, {14, "console.script.afternoon"}, {21, "console.script.evening"}} {
		if got := console.GreetingKey(time.Date(2026, 12, 2, c.hour, 0, 0, 0, lis)); got != c.want {
			t.Errorf("greeting at %d:00: %s", c.hour, got)
		}
	}
}

// TestKeptChatGoesIntoTheContactRecord: only the agent serving an appointment keeps its
// call's chat (each keeping audited, the last one counts); finishing moves it into the
// contact record, and a keeping after that is refused; a chat kept for a contact never
// finished is deleted after 12 hours.
func TestKeptChatGoesIntoTheContactRecord(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		log := audit.New(db, f.clock.now, nil)
		ctx := audit.NewContext(context.Background(), log, "a1", "127.0.0.1")
		appt := f.book(t, 9, 0, "a1", maria)
		f.clock.set(time.Date(2026, 12, 2, 8, 58, 0, 0, calendar.Lisbon()))
		if a, err := f.console.CallNext(ctx, "a1"); err != nil || a.ID != appt.ID {
			t.Fatal(a, err)
		}
		f.console.Presence(appt.ID, "citizen", true)
		at := f.clock.now()
		first := call.ChatMessage{From: "citizen", Name: "Maria", Role: "citizen", Text: "Não ouço bem.", At: at}
		second := call.ChatMessage{From: "agent-a1", Name: "Ana", Role: "agent", Text: "Escrevo aqui, então.", At: at.Add(time.Minute)}

		for _, c := range []struct{ room, staff string }{{appt.ID, "a2"}, {"no-such-appointment", "a1"}, {console.TicketRoom("nope"), "a1"}} {
			if err := f.console.KeepChat(ctx, c.room, c.staff, []call.ChatMessage{first}); !errors.Is(err, console.ErrNotServing) {
				t.Errorf("%s keeping the chat of %s: %v, want ErrNotServing", c.staff, c.room, err)
			}
		}
		if err := f.console.KeepChat(ctx, appt.ID, "a1", []call.ChatMessage{first}); err != nil {
			t.Fatal(err)
		}
		if err := f.console.KeepChat(ctx, appt.ID, "a1", []call.ChatMessage{first, second}); err != nil {
			t.Fatal(err)
		}
		if n, err := f.console.KeptChat(ctx, appt.ID); err != nil || n != 2 {
			t.Fatalf("kept %d %v, want 2", n, err)
		}
		entries, err := log.Search(ctx, audit.Filter{Object: "appointment:" + appt.ID, Action: audit.ChangePersonalData})
		if err != nil || len(entries) != 2 || entries[0].Actor != "a1" || !strings.Contains(entries[0].Details, "messages=2") {
			t.Fatalf("audit of the keeping: %+v %v", entries, err)
		}

		c, err := f.console.Finish(ctx, "a1", outcome())
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.console.ContactByID(ctx, c.ID)
		if err != nil || len(got.Chat) != 2 || got.Chat[0].Text != first.Text || got.Chat[1].Name != "Ana" || !got.Chat[1].At.Equal(second.At) {
			t.Fatalf("the contact's chat: %+v %v", got.Chat, err)
		}
		if n, _ := f.console.KeptChat(ctx, appt.ID); n != 0 {
			t.Errorf("%d messages still kept after finishing", n)
		}
		if err := f.console.KeepChat(ctx, appt.ID, "a1", []call.ChatMessage{first, second, first}); !errors.Is(err, console.ErrNotServing) {
			t.Errorf("keeping the chat after finishing: %v, want ErrNotServing", err)
		}
		contacts, err := f.console.ContactsFor(ctx, booking.Match{Email: maria.Email}, 10)
		if err != nil || len(contacts) != 1 || len(contacts[0].Chat) != 2 {
			t.Fatalf("the citizen's contacts: %+v %v", contacts, err)
		}

		// A ticket's chat kept, and its contact never finished.
		tk := f.take(t, "rui", false)
		f.clock.add(10 * time.Minute)
		if a, err := f.console.CallNext(ctx, "a2"); err != nil || a.ID != tk.ID {
			t.Fatal(a, err)
		}
		if err := f.console.KeepChat(ctx, console.TicketRoom(tk.ID), "a2", []call.ChatMessage{first}); err != nil {
			t.Fatal(err)
		}
		f.clock.add(11 * time.Hour)
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.console.KeptChat(ctx, console.TicketRoom(tk.ID)); n != 1 {
			t.Fatalf("kept %d after 11 hours, want 1", n)
		}
		f.clock.add(2 * time.Hour)
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := f.console.KeptChat(ctx, console.TicketRoom(tk.ID)); n != 0 {
			t.Fatalf("kept %d after 13 hours, want none", n)
		}
	})
}

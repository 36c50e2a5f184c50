package console_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/console"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

func progressCount(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM console_progress").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProgressIsSavedAndCleared: the agent's ticks, current step and outcome draft are
// saved for the citizen they serve and read back as saved; a save for another citizen
// (a stale tab) or by another agent is refused, as are values the form does not offer;
// finishing the contact, letting a ticket go and the no-show rule clear the progress,
// and the upkeep removes a progress left behind.
func TestProgressIsSavedAndCleared(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		tk := f.take(t, "rui", false)
		if _, err := f.console.CallNext(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		st := mustState(t, f, "a1")
		subject := st.Subject()
		if subject != "ticket:"+tk.ID {
			t.Fatalf("subject %q", subject)
		}
		if _, found, err := f.console.ProgressOf(ctx, "a1", subject); err != nil || found {
			t.Fatalf("progress before any save: %v %v", found, err)
		}

		draft := console.Outcome{Reason: " Prazo da pensão ", AuthLevel: "weak", Person: console.PersonThirdParty,
			Representative: "Joana", Stage: 2, Notes: "A meio."}
		p := console.Progress{Subject: subject, Ticked: []int{3, 1, 3, 2}, Current: 4, Draft: draft}
		if _, err := f.console.SaveProgress(ctx, "a1", p); err != nil {
			t.Fatal(err)
		}
		got, found, err := f.console.ProgressOf(ctx, "a1", subject)
		if err != nil || !found || !slices.Equal(got.Ticked, []int{1, 2, 3}) || got.Current != 4 ||
			got.Draft.Reason != "Prazo da pensão" || got.Draft.AuthLevel != "weak" || got.Draft.Person != console.PersonThirdParty ||
			got.Draft.Representative != "Joana" || got.Draft.Stage != 3 || got.Draft.Notes != "A meio." || !got.Updated.Equal(f.clock.now()) {
			t.Fatalf("progress read back: %+v %v %v", got, found, err)
		}
		// A second save replaces the first: one row per agent and citizen.
		p.Ticked, p.Draft.Code = []int{1, 2, 3, 4}, console.OutcomeFollowUp
		if _, err := f.console.SaveProgress(ctx, "a1", p); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := f.console.ProgressOf(ctx, "a1", subject); !got.Done(4) || got.Draft.Code != console.OutcomeFollowUp || got.Draft.Stage != 4 {
			t.Fatalf("after the second save: %+v", got)
		}
		if n := progressCount(t, db); n != 1 {
			t.Fatalf("%d progress rows, want 1", n)
		}

		refused := []struct {
			name    string
			staffID string
			edit    func(*console.Progress)
			field   string // "" for ErrNotServing
		}{
			{"another citizen (a stale tab)", "a1", func(p *console.Progress) { p.Subject = "ticket:someone-else" }, ""},
			{"no subject", "a1", func(p *console.Progress) { p.Subject = "" }, ""},
			{"another agent", "a2", func(p *console.Progress) {}, ""},
			{"step 9 ticked", "a1", func(p *console.Progress) { p.Ticked = []int{1, 9} }, "done"},
			{"current step 12", "a1", func(p *console.Progress) { p.Current = 12 }, "current"},
			{"unknown outcome", "a1", func(p *console.Progress) { p.Draft.Code = "no_show" }, "outcome"},
			{"unknown level", "a1", func(p *console.Progress) { p.Draft.AuthLevel = "total" }, "auth_level"},
			{"unknown person", "a1", func(p *console.Progress) { p.Draft.Person = "cat" }, "person"},
			{"reason too long", "a1", func(p *console.Progress) { p.Draft.Reason = string(make([]rune, 501)) }, "reason"},
			{"unknown theme", "a1", func(p *console.Progress) { p.Draft.ThemeID = "nope" }, "theme"},
			// PostgreSQL refuses a NUL in a text column: refused here, never a 500.
			{"a NUL in the notes", "a1", func(p *console.Progress) { p.Draft.Notes = "a\x00b" }, "notes"},
			{"a NUL in the theme", "a1", func(p *console.Progress) { p.Draft.ThemeID = "t\x00" }, "theme"},
			{"a NUL in the subject", "a1", func(p *console.Progress) { p.Subject += "\x00" }, ""},
		}
		for _, c := range refused {
			q := p
			q.Ticked = slices.Clone(p.Ticked)
			c.edit(&q)
			_, err := f.console.SaveProgress(ctx, c.staffID, q)
			var invalid *console.InvalidError
			switch {
			case c.field == "" && !errors.Is(err, console.ErrNotServing):
				t.Errorf("%s: %v, want ErrNotServing", c.name, err)
			case c.field != "" && (!errors.As(err, &invalid) || invalid.Fields[c.field] == ""):
				t.Errorf("%s: %v, want an invalid %s", c.name, err, c.field)
			}
		}
		if got, _, _ := f.console.ProgressOf(ctx, "a1", subject); got.Draft.Code != console.OutcomeFollowUp {
			t.Fatalf("a refused save changed the progress: %+v", got)
		}

		// Finishing writes the contact record and clears the progress.
		if err := f.queue.Answered(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.Finish(ctx, "a1", outcome()); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := f.console.ProgressOf(ctx, "a1", subject); found {
			t.Fatal("the progress outlived the contact")
		}
		if _, err := f.console.SaveProgress(ctx, "a1", p); !errors.Is(err, console.ErrNotServing) {
			t.Fatalf("a save after finishing: %v, want ErrNotServing", err)
		}

		// Letting a ticket go clears it too.
		tk2 := f.take(t, "ana", false)
		if _, err := f.console.CallNext(ctx, "a2"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.console.SaveProgress(ctx, "a2", console.Progress{Subject: "ticket:" + tk2.ID, Ticked: []int{1}}); err != nil {
			t.Fatal(err)
		}
		if err := f.console.Release(ctx, "a2"); err != nil {
			t.Fatal(err)
		}
		if n := progressCount(t, db); n != 0 {
			t.Fatalf("%d progress rows after the release", n)
		}

		// The no-show rule clears the progress of the appointment it ends.
		appt := f.book(t, 9, 0, "a2", maria)
		f.clock.set(time.Date(2026, 12, 2, 9, 2, 0, 0, calendar.Lisbon()))
		if err := f.console.SetStatus(ctx, "a2", console.StatusAvailable); err != nil {
			t.Fatal(err)
		}
		if a, err := f.console.CallNext(ctx, "a2"); err != nil || a.ID != appt.ID {
			t.Fatalf("call next: %+v %v", a, err)
		}
		if _, err := f.console.SaveProgress(ctx, "a2", console.Progress{Subject: "appointment:" + appt.ID, Ticked: []int{1}}); err != nil {
			t.Fatal(err)
		}
		f.clock.set(time.Date(2026, 12, 2, 9, 30, 0, 0, calendar.Lisbon()))
		if n, err := f.console.MarkNoShows(ctx); err != nil || n != 1 {
			t.Fatalf("no-shows: %d %v", n, err)
		}
		if n := progressCount(t, db); n != 0 {
			t.Fatalf("%d progress rows after the no-show", n)
		}

		// A progress left behind (its agent serves someone else) goes at the upkeep.
		if _, err := db.Exec(ctx, "INSERT INTO console_progress (staff_id, subject, updated_at) VALUES ('a1', 'ticket:gone', 0)"); err != nil {
			t.Fatal(err)
		}
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := progressCount(t, db); n != 0 {
			t.Fatalf("%d progress rows after the upkeep", n)
		}
	})
}

// TestFirstReadsOncePerDay: a page's objects are claimed the first time they are shown
// to a member of staff on a day; a refresh claims nothing, a new object on the page is
// claimed alone, another page or person claims on its own; a claim whose record fails
// is not kept, and is claimed again; the next day everything is claimed once more, and the upkeep deletes
// the earlier days' claims.
func TestFirstReadsOncePerDay(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		claim := func(staff, page string, objects ...string) []string {
			t.Helper()
			var got []string
			err := f.console.FirstReads(ctx, staff, page, objects, func(_ *store.Tx, o string) error {
				got = append(got, o)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := claim("a1", console.ReadAgenda, "appointment:x", "appointment:y", "appointment:x"); !slices.Equal(got, []string{"appointment:x", "appointment:y"}) {
			t.Fatalf("first view: %v", got)
		}
		if got := claim("a1", console.ReadAgenda, "appointment:x", "appointment:y"); len(got) != 0 {
			t.Fatalf("refresh: %v, want nothing", got)
		}
		if got := claim("a1", console.ReadAgenda, "appointment:x", "appointment:z", "appointment:y"); !slices.Equal(got, []string{"appointment:z"}) {
			t.Fatalf("a new appointment: %v", got)
		}
		if got := claim("a1", console.ReadServing, "appointment:x"); !slices.Equal(got, []string{"appointment:x"}) {
			t.Fatalf("another page: %v", got)
		}
		if got := claim("a2", console.ReadAgenda, "appointment:x"); !slices.Equal(got, []string{"appointment:x"}) {
			t.Fatalf("another agent: %v", got)
		}
		refused := errors.New("audit log unavailable")
		err := f.console.FirstReads(ctx, "a1", console.ReadAgenda, []string{"appointment:w"}, func(*store.Tx, string) error { return refused })
		if !errors.Is(err, refused) {
			t.Fatalf("a read that cannot be recorded: %v, want %v", err, refused)
		}
		if got := claim("a1", console.ReadAgenda, "appointment:x", "appointment:w"); !slices.Equal(got, []string{"appointment:w"}) {
			t.Fatalf("after a record failed: %v", got)
		}
		f.clock.add(24 * time.Hour)
		if got := claim("a1", console.ReadAgenda, "appointment:x"); !slices.Equal(got, []string{"appointment:x"}) {
			t.Fatalf("the next day: %v", got)
		}
		if err := f.console.Upkeep(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM console_reads").Scan(&n); err != nil || n != 1 {
			t.Fatalf("claims after the upkeep: %d %v, want today's 1", n, err)
		}
	})
}

// TestFirstReadsAcrossServers: two services on one database (two servers) showing the
// same agenda at once claim each object once between them.
func TestFirstReadsAcrossServers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := console.NewService(db, f.booking, f.queue, console.Options{Now: f.clock.now})
		ctx := context.Background()
		objects := []string{"appointment:1", "appointment:2", "appointment:3"}
		results := make(chan []string, 8)
		for i := range 8 {
			svc := f.console
			if i%2 == 1 {
				svc = other
			}
			go func() {
				var got []string
				err := svc.FirstReads(ctx, "a1", console.ReadAgenda, objects, func(_ *store.Tx, o string) error {
					got = append(got, o)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
				results <- got
			}()
		}
		claimed := map[string]int{}
		for range 8 {
			for _, o := range <-results {
				claimed[o]++
			}
		}
		for _, o := range objects {
			if claimed[o] != 1 {
				t.Errorf("%s claimed %d times, want once: %v", o, claimed[o], claimed)
			}
		}
	})
}

// TestInterpreterBookings: an interpreter's page lists the appointments they are booked
// for (today's and the coming days', not cancelled ones, nobody else's), with the
// citizen's first name only, the state, and whether the call can be joined now.
func TestInterpreterBookings(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		book := func(day, hour int, sign bool) booking.Booked {
			t.Helper()
			b, err := f.booking.Book(ctx, booking.Request{ThemeID: "t", Start: time.Date(2026, 12, day, hour, 0, 0, 0, calendar.Lisbon()),
				Citizen: booking.Citizen{Name: "Maria da Graça Lopes", Email: "maria@example.pt", Phone: "912345678"}, SignLanguage: sign})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		today := book(2, 9, true)
		tomorrow := book(3, 10, true)
		cancelled := book(2, 11, true)
		book(2, 12, false) // no interpreter
		if _, err := f.booking.Cancel(ctx, cancelled.ID, cancelled.ManageToken); err != nil {
			t.Fatal(err)
		}
		if today.InterpreterID != "i1" || tomorrow.InterpreterID != "i1" {
			t.Fatalf("interpreters booked: %q %q", today.InterpreterID, tomorrow.InterpreterID)
		}

		f.clock.set(time.Date(2026, 12, 2, 8, 40, 0, 0, calendar.Lisbon()))
		list, err := f.console.InterpreterBookings(ctx, "i1")
		if err != nil || len(list) != 2 || list[0].ID != today.ID || list[1].ID != tomorrow.ID {
			t.Fatalf("bookings: %+v %v", list, err)
		}
		if b := list[0]; b.FirstName != "Maria" || b.State != console.AgendaUpcoming || b.Open || b.AgentID != today.AgentID ||
			!b.OpensAt.Equal(today.Start.Add(-15*time.Minute)) {
			t.Fatalf("today's at 08:40: %+v", b)
		}
		f.clock.set(time.Date(2026, 12, 2, 8, 45, 0, 0, calendar.Lisbon()))
		list, _ = f.console.InterpreterBookings(ctx, "i1")
		if !list[0].Open || list[1].Open {
			t.Fatalf("at 08:45 the 09:00 call opens, not tomorrow's: %+v", list)
		}
		f.console.Presence(today.ID, "citizen", false)
		list, _ = f.console.InterpreterBookings(ctx, "i1")
		if list[0].State != console.AgendaLobby {
			t.Fatalf("with the citizen in the lobby: %+v", list[0])
		}
		if list, err := f.console.InterpreterBookings(ctx, "a1"); err != nil || len(list) != 0 {
			t.Fatalf("an agent's interpreter bookings: %+v %v", list, err)
		}
	})
}

package directory_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

func TestWalkInValidate(t *testing.T) {
	mon := func(from, to int) directory.WeeklyRange {
		return directory.WeeklyRange{Weekday: time.Monday, StartMinute: from, EndMinute: to}
	}
	good := directory.NewWalkIn()
	good.Letter, good.Hours = "C", []directory.WeeklyRange{mon(540, 720), mon(840, 1440)}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good queue: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(w *directory.WalkIn)
		field  string
	}{
		{"lower-case letter", func(w *directory.WalkIn) { w.Letter = "c" }, "letter"},
		{"two letters", func(w *directory.WalkIn) { w.Letter = "CD" }, "letter"},
		{"no letter", func(w *directory.WalkIn) { w.Letter = "" }, "letter"},
		{"accented letter", func(w *directory.WalkIn) { w.Letter = "Ç" }, "letter"},
		{"digit", func(w *directory.WalkIn) { w.Letter = "1" }, "letter"},
		{"no room for anyone", func(w *directory.WalkIn) { w.MaxWaiting = 0 }, "max_waiting"},
		{"too many waiting", func(w *directory.WalkIn) { w.MaxWaiting = 100001 }, "max_waiting"},
		{"negative priority run", func(w *directory.WalkIn) { w.MaxPriorityRun = -1 }, "max_priority_run"},
		{"answer in 5 seconds", func(w *directory.WalkIn) { w.AnswerSeconds = 5 }, "answer_seconds"},
		{"negative recall", func(w *directory.WalkIn) { w.RecallMinutes = -5 }, "recall_minutes"},
		{"alert far back", func(w *directory.WalkIn) { w.NearPosition = 100 }, "near_position"},
		{"overlapping hours", func(w *directory.WalkIn) { w.Hours = append(w.Hours, mon(700, 900)) }, "hours"},
		{"backwards hours", func(w *directory.WalkIn) { w.Hours = []directory.WeeklyRange{mon(720, 540)} }, "hours"},
		{"past midnight", func(w *directory.WalkIn) { w.Hours = []directory.WeeklyRange{mon(1380, 1445)} }, "hours"},
	} {
		w := good
		w.Hours = append([]directory.WeeklyRange(nil), good.Hours...)
		tc.change(&w)
		var we *directory.WalkInError
		if err := w.Validate(); !errors.As(err, &we) || we.Field != tc.field {
			t.Errorf("%s: %v, want a problem with %s", tc.name, err, tc.field)
		}
	}
	// The edges of each range are allowed.
	for name, lim := range directory.WalkInLimits {
		for _, v := range []int{lim.Min, lim.Max} {
			w := good
			switch name {
			case "max_waiting":
				w.MaxWaiting = v
			case "max_priority_run":
				w.MaxPriorityRun = v
			case "answer_seconds":
				w.AnswerSeconds = v
			case "recall_minutes":
				w.RecallMinutes = v
			case "near_position":
				w.NearPosition = v
			}
			if err := w.Validate(); err != nil {
				t.Errorf("%s = %d: %v", name, v, err)
			}
		}
	}
}

// TestWalkInSettingsTakeEffect turns a service's walk-in tickets on, changes them, closes
// the queue to new tickets and ends it, reading each change back through the queue.
func TestWalkInSettingsTakeEffect(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		load(t, db)
		now := time.Date(2026, 11, 30, 10, 0, 0, 0, calendar.Lisbon()) // a Monday
		q := queue.NewService(db, func() time.Time { return now })
		citizen := booking.Citizen{Name: "Rui Sá", Language: "pt-PT"}

		if _, err := directory.WalkInOf(ctx, db, "s"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a service without tickets: %v", err)
		}
		w := directory.NewWalkIn()
		w.Letter, w.MaxWaiting, w.MaxPriorityRun = "P", 2, 1
		w.Hours, _ = directory.ParseWeekly(map[string][]string{"mon": {"14:00-16:00", "09:00-12:00"}})
		if err := directory.SetWalkIn(ctx, db, "s", w); err != nil {
			t.Fatal(err)
		}
		got, err := directory.WalkInOf(ctx, db, "s")
		if err != nil || got.Letter != "P" || got.MaxWaiting != 2 || got.AnswerSeconds != directory.DefaultAnswerSeconds ||
			directory.FormatWeekly(got.Hours, time.Monday) != "09:00-12:00, 14:00-16:00" || got.ClosedToNew() {
			t.Fatalf("read back: %+v %v", got, err)
		}
		tk, err := q.Take(ctx, queue.Request{ServiceID: "s", Citizen: citizen})
		if err != nil || tk.Code != "P001" {
			t.Fatalf("a ticket once walk-in is on: %+v %v", tk.Ticket, err)
		}

		// The letter is the service's own; bad settings and unknown services are refused.
		if err := directory.CreateService(ctx, db, directory.ServiceConfig{ID: "s2", Name: directory.Text{"pt-PT": "Outro"}}); err != nil {
			t.Fatal(err)
		}
		other := directory.NewWalkIn()
		other.Letter, other.AlwaysOpen = "P", true
		if err := directory.SetWalkIn(ctx, db, "s2", other); !errors.Is(err, directory.ErrLetterTaken) {
			t.Fatalf("a letter taken: %v", err)
		}
		other.Letter = "Q"
		if err := directory.SetWalkIn(ctx, db, "s2", other); err != nil {
			t.Fatal(err)
		}
		if letters, err := directory.WalkInLetters(ctx, db); err != nil || !reflect.DeepEqual(letters, map[string]string{"P": "s", "Q": "s2"}) {
			t.Fatalf("letters: %v %v", letters, err)
		}
		bad := w
		bad.AnswerSeconds = 0
		var we *directory.WalkInError
		if err := directory.SetWalkIn(ctx, db, "s", bad); !errors.As(err, &we) || we.Field != "answer_seconds" {
			t.Fatalf("an answer time of 0: %v", err)
		}
		if err := directory.SetWalkIn(ctx, db, "nowhere", other); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unknown service: %v", err)
		}

		// A change of rules reaches the queue at once: now it is full at one ticket.
		w.MaxWaiting = 1
		if err := directory.SetWalkIn(ctx, db, "s", w); err != nil {
			t.Fatal(err)
		}
		var full *queue.FullError
		if _, err := q.Take(ctx, queue.Request{ServiceID: "s", Citizen: citizen}); !errors.As(err, &full) {
			t.Fatalf("a second ticket with room for one: %v", err)
		}

		// Ending the queue is refused while a ticket waits; closing it to new tickets is not.
		var waiting *directory.TicketsWaitingError
		if err := directory.RemoveWalkIn(ctx, db, "s"); !errors.As(err, &waiting) || waiting.Tickets != 1 || !errors.Is(err, directory.ErrTicketsWaiting) {
			t.Fatalf("end a queue with a ticket waiting: %v", err)
		}
		if _, err := directory.WalkInOf(ctx, db, "s"); err != nil {
			t.Fatalf("the refused end removed the queue: %v", err)
		}
		w.Hours, w.MaxWaiting = nil, 10
		if err := directory.SetWalkIn(ctx, db, "s", w); err != nil {
			t.Fatal(err)
		}
		var closed *queue.ClosedError
		if _, err := q.Take(ctx, queue.Request{ServiceID: "s", Citizen: citizen}); !errors.As(err, &closed) || !closed.OpensAt.IsZero() {
			t.Fatalf("a ticket from a queue closed to new tickets: %v", err)
		}
		called, err := q.CallNext(ctx, queue.Agent{ID: "a", Services: []string{"s"}})
		if err != nil || called.ID != tk.ID {
			t.Fatalf("the waiting ticket is still called: %+v %v", called, err)
		}
		if err := directory.RemoveWalkIn(ctx, db, "s"); !errors.As(err, &waiting) {
			t.Fatalf("end a queue while its ticket is being called: %v", err)
		}
		if err := q.Answered(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		if err := directory.RemoveWalkIn(ctx, db, "s"); err != nil {
			t.Fatalf("end a queue whose last ticket is in a call: %v", err)
		}
		if _, err := q.Take(ctx, queue.Request{ServiceID: "s", Citizen: citizen}); !errors.Is(err, queue.ErrNotWalkIn) {
			t.Fatalf("a ticket once walk-in is off: %v", err)
		}
		if err := q.Finish(ctx, tk.ID); err != nil {
			t.Fatalf("the call in progress cannot finish: %v", err)
		}
		if err := directory.RemoveWalkIn(ctx, db, "s"); err != nil {
			t.Fatalf("end a queue twice: %v", err)
		}

		// Withdrawing a service ends its queue, under the same rule.
		if _, err := q.Take(ctx, queue.Request{ServiceID: "s2", Citizen: citizen}); err != nil {
			t.Fatal(err)
		}
		if err := directory.DeactivateService(ctx, db, "s2"); !errors.As(err, &waiting) {
			t.Fatalf("withdraw a service with a ticket waiting: %v", err)
		}
	})
}

func TestDeleteLocation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		load(t, db)
		now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		inUse := func(id string) directory.LocationUses {
			t.Helper()
			var e *directory.LocationInUseError
			if err := directory.DeleteLocation(ctx, db, id, now); !errors.As(err, &e) || !errors.Is(err, directory.ErrLocationInUse) {
				t.Fatalf("delete %s: %v, want a refusal", id, err)
			}
			return e.Uses
		}
		// Lisbon has its staff and an appointment to come with one of them.
		if _, err := db.Exec(ctx, `INSERT INTO appointments (id, theme_id, agent_id, starts_at, ends_at, status, citizen_name,
				citizen_email, manage_token_hash, join_token_hash, created_at, updated_at)
			VALUES ('ap', 't', 'a', ?, ?, 'booked', 'Rita', 'rita@example.pt', 'm', 'j', ?, ?)`,
			now.Add(48*time.Hour).Unix(), now.Add(49*time.Hour).Unix(), now.Unix(), now.Unix()); err != nil {
			t.Fatal(err)
		}
		if u := inUse("lx"); u != (directory.LocationUses{Staff: 2, Appointments: 1}) {
			t.Fatalf("uses of Lisbon: %+v", u)
		}
		// Porto has no staff, but a closure to come and an agent of Lisbon serving it.
		for _, day := range []string{"2026-06-13", "2026-12-24"} {
			if err := directory.SaveClosure(ctx, db, directory.Closure{LocationID: "po", Day: day}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, "INSERT INTO agent_states (staff_id, since, pool) VALUES ('b', ?, 'po')", now.Unix()); err != nil {
			t.Fatal(err)
		}
		if u := inUse("po"); u != (directory.LocationUses{Closures: 1, Visitors: 1}) {
			t.Fatalf("uses of Porto: %+v", u)
		}
		if _, err := db.Exec(ctx, "UPDATE agent_states SET pool = '' WHERE staff_id = 'b'"); err != nil {
			t.Fatal(err)
		}
		if err := directory.DeleteClosure(ctx, db, "po", "2026-12-24"); err != nil {
			t.Fatal(err)
		}
		if err := directory.DeleteLocation(ctx, db, "po", now); err != nil {
			t.Fatal(err)
		}
		if _, err := directory.LocationByID(ctx, db, "po"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the deleted location: %v", err)
		}
		var left int
		if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM opening_hours WHERE location_id = 'po')
			+ (SELECT COUNT(*) FROM closures WHERE location_id = 'po')`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d hours and closures of the deleted location left: %v", left, err)
		}
		if err := directory.DeleteLocation(ctx, db, "po", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete it twice: %v", err)
		}
		// Its id can be used again.
		if err := directory.SaveLocation(ctx, db, directory.LocationConfig{ID: "po", Name: directory.Text{"pt-PT": "Porto"}}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEnableStaff disables a staff member, saves their configuration (which must leave
// them unbookable), then enables them.
func TestEnableStaff(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		load(t, db)
		monday := time.Date(2026, 11, 30, 9, 0, 0, 0, calendar.Lisbon())
		agents := func() []string {
			t.Helper()
			list, err := directory.Agents(ctx, db, "t", monday, monday.Add(8*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range list {
				ids = append(ids, s.ID)
			}
			return ids
		}
		if err := auth.NewService(db, nil, nil).Disable(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if got := agents(); !reflect.DeepEqual(got, []string{"b"}) {
			t.Fatalf("agents with a disabled: %v", got)
		}
		if err := directory.SaveStaff(ctx, db, directory.StaffConfig{ID: "a", Name: "Ana", Email: "ana@example.pt", Location: "lx",
			Themes: []string{"t"}, Hours: map[string][]string{"mon": {"09:00-12:00"}}}); err != nil {
			t.Fatal(err)
		}
		a, err := directory.StaffByID(ctx, db, "a", monday)
		if err != nil || a.Active {
			t.Fatalf("a after saving their form: %+v %v", a, err)
		}
		if got := agents(); !reflect.DeepEqual(got, []string{"b"}) {
			t.Fatalf("saving a disabled agent's form made them bookable: %v", got)
		}
		if err := directory.EnableStaff(ctx, db, "a"); err != nil {
			t.Fatal(err)
		}
		if a, err := directory.StaffByID(ctx, db, "a", monday); err != nil || !a.Active {
			t.Fatalf("a after enabling: %+v %v", a, err)
		}
		if got := agents(); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Fatalf("agents once a is enabled: %v", got)
		}
		if err := directory.EnableStaff(ctx, db, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("enable nobody: %v", err)
		}
	})
}

package booking_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

func freeAt(t *testing.T, svc *booking.Service, theme string, start time.Time, sign bool) int {
	t.Helper()
	day := date(start.Format("2006-01-02"))
	slots, err := svc.Availability(context.Background(), theme, day, day, sign)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if s.Start.Equal(start) {
			return s.Free
		}
	}
	return 0
}

func TestAvailability(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		wed, err := svc.Availability(ctx, "t30", date("2026-12-02"), date("2026-12-02"), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(wed) != 6 {
			t.Fatalf("Wednesday: %d slots, want 6 (09:00 to 11:30)", len(wed))
		}
		for _, s := range wed {
			if s.Free != 3 || s.End.Sub(s.Start) != 30*time.Minute {
				t.Errorf("slot %s: free %d, length %s; want 3 free, 30m", s.Start, s.Free, s.End.Sub(s.Start))
			}
		}
		if !wed[0].Start.Equal(lisbon(2, 9, 0)) || wed[0].Start.Location() != time.UTC {
			t.Errorf("first slot %v, want 09:00 Lisbon in UTC", wed[0].Start)
		}
		holiday, _ := svc.Availability(ctx, "t30", date("2026-12-01"), date("2026-12-01"), false)
		if len(holiday) != 0 {
			t.Errorf("1 December (holiday): %d slots, want none", len(holiday))
		}
		if got := freeAt(t, svc, "t30", lisbon(3, 9, 0), false); got != 2 {
			t.Errorf("3 December with a3 absent: free %d, want 2", got)
		}
		signed, _ := svc.Availability(ctx, "t30", date("2026-12-02"), date("2026-12-02"), true)
		if len(signed) != 2 || signed[0].Free != 1 {
			t.Errorf("with an interpreter: %+v, want 09:00 and 09:30 with 1 free", signed)
		}
		if _, err := svc.Availability(ctx, "t30", date("2026-12-01"), date("2027-01-01"), false); !errors.Is(err, booking.ErrRangeTooLong) {
			t.Errorf("32-day range: %v, want ErrRangeTooLong", err)
		}
		if _, err := svc.Availability(ctx, "nope", date("2026-12-01"), date("2026-12-02"), false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown theme: %v, want ErrNotFound", err)
		}
	})
}

func TestBookCancelReschedule(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		nine := lisbon(2, 9, 0)
		b, err := svc.Book(ctx, request("t30", nine))
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != booking.StatusBooked || !b.End.Equal(nine.Add(30*time.Minute)) || len(b.ManageToken) < 22 {
			t.Fatalf("booked %+v", b)
		}
		if b.Citizen.Phone != "+351912345678" {
			t.Errorf("phone stored as %q, want E.164", b.Citizen.Phone)
		}
		if got := freeAt(t, svc, "t30", nine, false); got != 2 {
			t.Errorf("after one booking: free %d, want 2", got)
		}
		// t20 shares agent a1: a1 busy 09:00-09:30 removes t20's 09:00 and 09:25 starts.
		if got := freeAt(t, svc, "t20", lisbon(2, 9, 25), false); got != 0 && b.AgentID == "a1" {
			t.Errorf("t20 at 09:25 while a1 is booked: free %d, want 0", got)
		}

		if _, err := svc.Get(ctx, b.ID, "wrong-token", booking.ManageToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong token: %v, want ErrNotFound", err)
		}
		if b.JoinToken != booking.JoinTokenFor(b.ManageToken) {
			t.Errorf("join token is not derived from the manage token")
		}
		if _, err := svc.Get(ctx, b.ID, b.JoinToken, booking.JoinToken); err != nil {
			t.Errorf("join token: %v", err)
		}
		if _, err := svc.Get(ctx, b.ID, b.JoinToken, booking.ManageToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("join token used to manage: %v, want ErrNotFound", err)
		}
		got, err := svc.Get(ctx, b.ID, b.ManageToken, booking.ManageToken)
		if err != nil || got.Citizen.Email != "maria@example.pt" || !got.Start.Equal(nine) {
			t.Fatalf("get: %+v, %v", got, err)
		}

		// Fill 10:00 and try to move there: refused, and the 09:00 booking is untouched.
		for range 3 {
			if _, err := svc.Book(ctx, request("t30", lisbon(2, 10, 0))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Reschedule(ctx, b.ID, b.ManageToken, lisbon(2, 10, 0)); !errors.Is(err, booking.ErrSlotTaken) {
			t.Fatalf("reschedule to a full slot: %v, want ErrSlotTaken", err)
		}
		if got := freeAt(t, svc, "t30", nine, false); got != 2 {
			t.Errorf("after a refused reschedule: free at 09:00 %d, want 2", got)
		}
		moved, err := svc.Reschedule(ctx, b.ID, b.ManageToken, lisbon(2, 11, 0))
		if err != nil {
			t.Fatal(err)
		}
		if !moved.Start.Equal(lisbon(2, 11, 0)) || moved.Sequence != 1 {
			t.Errorf("moved: start %v sequence %d", moved.Start, moved.Sequence)
		}
		if freeAt(t, svc, "t30", nine, false) != 3 || freeAt(t, svc, "t30", lisbon(2, 11, 0), false) != 2 {
			t.Errorf("after moving: 09:00 should be free again and 11:00 taken once")
		}
		// A move by half an hour onto a slot the same agent partly held.
		if _, err := svc.Reschedule(ctx, b.ID, b.ManageToken, lisbon(2, 11, 30)); err != nil {
			t.Fatalf("move to the adjacent slot: %v", err)
		}

		cancelled, err := svc.Cancel(ctx, b.ID, b.ManageToken)
		if err != nil || cancelled.Status != booking.StatusCancelled {
			t.Fatalf("cancel: %+v %v", cancelled, err)
		}
		if freeAt(t, svc, "t30", lisbon(2, 11, 30), false) != 3 {
			t.Errorf("cancel did not free the slot")
		}
		if _, err := svc.Cancel(ctx, b.ID, b.ManageToken); !errors.Is(err, booking.ErrNotCancellable) {
			t.Errorf("second cancel: %v, want ErrNotCancellable", err)
		}
		if _, err := svc.Reschedule(ctx, b.ID, b.ManageToken, lisbon(2, 9, 0)); !errors.Is(err, booking.ErrNotCancellable) {
			t.Errorf("reschedule a cancelled appointment: %v, want ErrNotCancellable", err)
		}
	})
}

func TestBookRejectsBadRequests(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		cases := []struct {
			name  string
			edit  func(*booking.Request)
			field string
			is    error
		}{
			{"unaligned start", func(r *booking.Request) { r.Start = lisbon(2, 9, 10) }, "start", nil},
			{"too soon", func(r *booking.Request) { r.Start = fixtureNow.Add(30 * time.Minute) }, "start", nil},
			{"beyond the horizon", func(r *booking.Request) { r.Start = lisbon(2, 9, 0).AddDate(0, 2, 0) }, "start", nil},
			{"bad NIF", func(r *booking.Request) { r.Citizen.NIF = "123456780" }, "citizen.nif", nil},
			{"bad NISS", func(r *booking.Request) { r.Citizen.NISS = "12109072812" }, "citizen.niss", nil},
			{"no e-mail", func(r *booking.Request) { r.Citizen.Email = " " }, "citizen.email", nil},
			{"bidi override in name", func(r *booking.Request) { r.Citizen.Name = "Maria\u202eavliS" }, "citizen.name", nil},
			{"unknown language", func(r *booking.Request) { r.Citizen.Language = "xx" }, "citizen.language", nil},
			{"unknown theme", func(r *booking.Request) { r.ThemeID = "nope" }, "", store.ErrNotFound},
			{"nobody works then", func(r *booking.Request) { r.Start = lisbon(2, 15, 0) }, "", booking.ErrNoSuchSlot},
			{"holiday", func(r *booking.Request) { r.Start = lisbon(1, 9, 0) }, "", booking.ErrNoSuchSlot},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := request("t30", lisbon(2, 9, 0))
				c.edit(&req)
				_, err := svc.Book(ctx, req)
				if c.is != nil {
					if !errors.Is(err, c.is) {
						t.Fatalf("got %v, want %v", err, c.is)
					}
					return
				}
				var invalid *booking.InvalidError
				if !errors.As(err, &invalid) || invalid.Fields[c.field] == "" {
					t.Fatalf("got %v, want an invalid %s", err, c.field)
				}
			})
		}
		if got := freeAt(t, svc, "t30", lisbon(2, 9, 0), false); got != 3 {
			t.Errorf("a refused request left a trace: free %d, want 3", got)
		}
	})
}

func TestSignLanguageBooksTheInterpreter(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		req := request("t30", lisbon(2, 9, 0))
		req.SignLanguage = true
		b, err := svc.Book(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if b.InterpreterID != "i1" || b.AgentID == "" {
			t.Fatalf("agent %q interpreter %q, want i1 booked too", b.AgentID, b.InterpreterID)
		}
		if got := freeAt(t, svc, "t30", lisbon(2, 9, 0), true); got != 0 {
			t.Errorf("interpreter taken: free with sign language %d, want 0", got)
		}
		if got := freeAt(t, svc, "t30", lisbon(2, 9, 0), false); got != 2 {
			t.Errorf("without sign language: free %d, want 2", got)
		}
		if _, err := svc.Book(ctx, req); !errors.Is(err, booking.ErrSlotTaken) {
			t.Errorf("second sign-language booking: %v, want ErrSlotTaken", err)
		}
		if got := freeAt(t, svc, "t30", lisbon(2, 9, 0), false); got != 2 {
			t.Errorf("a refused sign-language booking kept an agent: free %d, want 2", got)
		}
	})
}

// TestConcurrentBookingsGiveEachSeatOnce fires many bookings at once at a slot with three
// seats: exactly three succeed.
func TestConcurrentBookingsGiveEachSeatOnce(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		start := lisbon(2, 9, 30)
		const attempts = 120
		var wg sync.WaitGroup
		var mu sync.Mutex
		booked, taken := 0, 0
		var other []error
		gate := make(chan struct{})
		for range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				_, err := svc.Book(context.Background(), request("t30", start))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					booked++
				case errors.Is(err, booking.ErrSlotTaken):
					taken++
				default:
					other = append(other, err)
				}
			}()
		}
		close(gate)
		wg.Wait()
		if booked != 3 || taken != attempts-3 || len(other) > 0 {
			t.Fatalf("booked %d, taken %d, other errors %v; want 3 and %d", booked, taken, other, attempts-3)
		}
		var rows int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM appointments WHERE starts_at = ?", start.Unix()).Scan(&rows); err != nil || rows != 3 {
			t.Fatalf("appointments at the slot: %d (%v), want 3", rows, err)
		}
	})
}

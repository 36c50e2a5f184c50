package booking_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

// TestStaffChangesOnTheCitizensBehalf cancels and moves appointments as a member of
// staff, without the manage token: the change is recorded with who made it, and the
// rules are the citizen's own (not after the start, not onto a full slot).
func TestStaffChangesOnTheCitizensBehalf(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		b, err := svc.Book(ctx, request("t30", lisbon(2, 9, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CancelByStaff(ctx, b.ID, ""); !errors.Is(err, booking.ErrNoStaff) {
			t.Fatalf("cancel without a staff id: %v, want ErrNoStaff", err)
		}
		moved, err := svc.RescheduleByStaff(ctx, b.ID, "a2", lisbon(2, 10, 0))
		if err != nil || !moved.Start.Equal(lisbon(2, 10, 0)) || moved.ChangedBy != "a2" || moved.Sequence != 1 {
			t.Fatalf("reschedule by staff: %+v %v", moved, err)
		}
		if got, err := svc.ByID(ctx, b.ID); err != nil || got.ChangedBy != "a2" || !got.Start.Equal(lisbon(2, 10, 0)) {
			t.Fatalf("after the move: %+v %v", got, err)
		}
		if freeAt(t, svc, "t30", lisbon(2, 9, 0), false) != 3 || freeAt(t, svc, "t30", lisbon(2, 10, 0), false) != 2 {
			t.Errorf("the move did not free 09:00 and take 10:00")
		}
		// The citizen's own links still work after a staff change.
		if _, err := svc.Get(ctx, b.ID, b.ManageToken, booking.ManageToken); err != nil {
			t.Errorf("manage token after a staff move: %v", err)
		}
		cancelled, err := svc.CancelByStaff(ctx, b.ID, "a2")
		if err != nil || cancelled.Status != booking.StatusCancelled || cancelled.ChangedBy != "a2" {
			t.Fatalf("cancel by staff: %+v %v", cancelled, err)
		}
		if _, err := svc.RescheduleByStaff(ctx, b.ID, "a2", lisbon(2, 11, 0)); !errors.Is(err, booking.ErrNotCancellable) {
			t.Errorf("move a cancelled appointment: %v, want ErrNotCancellable", err)
		}
		if _, err := svc.CancelByStaff(ctx, "nope", "a2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("cancel an unknown appointment: %v, want ErrNotFound", err)
		}
	})
}

// TestAgendaStates follows appointments through the states the agent's agenda shows:
// due, in the lobby, in the call, done, and no-show at the end of the slot.
func TestAgendaStates(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		nine, err := svc.Book(ctx, request("t30", lisbon(2, 9, 0)))
		if err != nil {
			t.Fatal(err)
		}
		ten, err := svc.Book(ctx, request("t30", lisbon(2, 10, 0)))
		if err != nil {
			t.Fatal(err)
		}
		day, err := svc.ForAgent(ctx, nine.AgentID, lisbon(2, 0, 0), lisbon(3, 0, 0))
		if err != nil || len(day) == 0 || day[0].ID != nine.ID {
			t.Fatalf("the agent's day: %+v %v", day, err)
		}
		mine, err := svc.ForCitizen(ctx, booking.Match{Email: "MARIA@example.pt"}, 10)
		if err != nil || len(mine) != 2 || mine[0].ID != ten.ID {
			t.Fatalf("the citizen's appointments, newest first: %+v %v", mine, err)
		}
		if got, _ := svc.ForCitizen(ctx, booking.Match{}, 10); got != nil {
			t.Errorf("no identifier matched %d appointments", len(got))
		}

		// Due: from five minutes before the start until the end of the slot.
		if _, err := booking.DueFor(ctx, db, nine.AgentID, lisbon(2, 8, 50), 5*time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("due ten minutes early: %v, want ErrNotFound", err)
		}
		if a, err := booking.DueFor(ctx, db, nine.AgentID, lisbon(2, 8, 56), 5*time.Minute); err != nil || a.ID != nine.ID {
			t.Errorf("due four minutes early: %+v %v", a, err)
		}

		// The citizen of 09:00 comes: lobby, then the call, then done.
		if changed, err := booking.MarkPresence(ctx, db, nine.ID, false, lisbon(2, 9, 1)); err != nil || !changed {
			t.Fatalf("mark lobby: %v %v", changed, err)
		}
		if changed, _ := booking.MarkPresence(ctx, db, nine.ID, false, lisbon(2, 9, 2)); changed {
			t.Errorf("a second arrival changed the lobby time")
		}
		if _, err := booking.MarkPresence(ctx, db, nine.ID, true, lisbon(2, 9, 3)); err != nil {
			t.Fatal(err)
		}
		// Still due after the end of its slot, since the citizen came.
		if a, err := booking.DueFor(ctx, db, nine.AgentID, lisbon(2, 9, 40), 5*time.Minute); err != nil || a.ID != nine.ID {
			t.Errorf("due after the slot with the citizen in: %+v %v", a, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return booking.MarkDone(ctx, tx, nine.ID, lisbon(2, 9, 25)) }); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.ByID(ctx, nine.ID)
		if got.Status != booking.StatusDone || !got.LobbyAt.Equal(lisbon(2, 9, 1)) || !got.CallStartedAt.Equal(lisbon(2, 9, 3)) ||
			!got.EndedAt.Equal(lisbon(2, 9, 25)) {
			t.Fatalf("done: %+v", got)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return booking.MarkDone(ctx, tx, nine.ID, lisbon(2, 9, 26)) }); !errors.Is(err, booking.ErrNotCancellable) {
			t.Errorf("done twice: %v, want ErrNotCancellable", err)
		}

		// The citizen of 10:00 never comes: a no-show once the slot has ended, not before.
		var marked []booking.Appointment
		mark := func(at time.Time) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				marked, err = booking.MarkNoShows(ctx, tx, at)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		mark(lisbon(2, 10, 29))
		if len(marked) != 0 {
			t.Fatalf("no-shows before the end of the slot: %+v", marked)
		}
		mark(lisbon(2, 10, 30))
		if len(marked) != 1 || marked[0].ID != ten.ID || marked[0].Status != booking.StatusNoShow {
			t.Fatalf("no-shows at the end of the slot: %+v", marked)
		}
		mark(lisbon(2, 11, 0))
		if len(marked) != 0 {
			t.Errorf("marked again: %+v", marked)
		}
		if got, _ := svc.ByID(ctx, ten.ID); got.Status != booking.StatusNoShow || !got.EndedAt.Equal(lisbon(2, 10, 30)) {
			t.Errorf("no-show: %+v", got)
		}
	})
}

// TestExtraJoinLinks issues a second join link: it opens the appointment as the first
// one does, and manages nothing.
func TestExtraJoinLinks(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		svc := newFixture(t, db)
		ctx := context.Background()
		b, err := svc.Book(ctx, request("t30", lisbon(2, 9, 0)))
		if err != nil {
			t.Fatal(err)
		}
		var link string
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			link, err = booking.IssueJoinLink(ctx, tx, b.ID, fixtureNow)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if link == "" || link == b.JoinToken {
			t.Fatalf("link %q", link)
		}
		if _, err := svc.Get(ctx, b.ID, link, booking.JoinToken); err != nil {
			t.Errorf("the extra link: %v", err)
		}
		if _, err := svc.Get(ctx, b.ID, b.JoinToken, booking.JoinToken); err != nil {
			t.Errorf("the first link after another was issued: %v", err)
		}
		if _, err := svc.Get(ctx, b.ID, link, booking.ManageToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the extra link manages: %v", err)
		}
		other, err := svc.Book(ctx, request("t30", lisbon(2, 9, 30)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, other.ID, link, booking.JoinToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the link opens another appointment: %v", err)
		}
		if _, err := svc.Get(ctx, b.ID, "", booking.JoinToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an empty token: %v", err)
		}
	})
}

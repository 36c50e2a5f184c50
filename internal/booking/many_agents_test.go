package booking_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

// TestManyAgentsGiveEachSeatOnce books a slot that many more agents than a booking first
// looks at serve, some of them away or not working then: every seat that availability
// shows is booked once, by a distinct agent who works then, and no more.
func TestManyAgentsGiveEachSeatOnce(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		cfg := fixtureConfig()
		mornings := map[string][]string{"mon": {"09:00-12:00"}, "tue": {"09:00-12:00"}, "wed": {"09:00-12:00"}, "thu": {"09:00-12:00"}, "fri": {"09:00-12:00"}}
		afternoons := map[string][]string{"wed": {"14:00-17:00"}}
		const working, away, elsewhen = 25, 5, 10
		for i := range working + away + elsewhen {
			s := directory.StaffConfig{ID: fmt.Sprintf("m%02d", i), Name: "Agente", Location: "l1", Themes: []string{"t30"}, Hours: mornings}
			switch {
			case i >= working+away:
				s.Hours = afternoons
			case i >= working:
				s.Absences = []directory.AbsenceConfig{{From: "2026-12-02", To: "2026-12-02"}}
			}
			cfg.Staff = append(cfg.Staff, s)
		}
		if err := directory.Apply(context.Background(), db, cfg); err != nil {
			t.Fatal(err)
		}
		svc := booking.NewService(db, func() time.Time { return fixtureNow })
		start := lisbon(2, 10, 0)
		seats := freeAt(t, svc, "t30", start, false)
		if want := working + 3; seats != want { // a1, a2 and a3 work that morning too
			t.Fatalf("free seats: %d, want %d", seats, want)
		}
		const attempts = 60
		var wg sync.WaitGroup
		var mu sync.Mutex
		agents := map[string]int{}
		taken := 0
		var other []error
		for range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := svc.Book(context.Background(), request("t30", start))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					agents[b.AgentID]++
				case errors.Is(err, booking.ErrSlotTaken):
					taken++
				default:
					other = append(other, err)
				}
			}()
		}
		wg.Wait()
		if len(agents) != seats || taken != attempts-seats || len(other) > 0 {
			t.Fatalf("booked %d agents, taken %d, other errors %v; want %d and %d", len(agents), taken, other, seats, attempts-seats)
		}
		for id, n := range agents {
			var i int
			if _, err := fmt.Sscanf(id, "m%d", &i); n != 1 || (err == nil && i >= working) {
				t.Errorf("agent %s booked %d times", id, n)
			}
		}
		if got := freeAt(t, svc, "t30", start, false); got != 0 {
			t.Errorf("free seats after: %d, want 0", got)
		}
	})
}

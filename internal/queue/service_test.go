package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Queue "a" is open around the clock with at most two priority calls in a row; queue "b"
// opens weekdays 09:00-16:00 and holds at most 3 tickets. Agent x serves both.
func setup(t *testing.T, db *store.DB) (*queue.Service, *clock) {
	t.Helper()
	zero := 0
	wk := []string{"09:00-16:00"}
	cfg := directory.Config{
		Agency:    directory.AgencyConfig{Name: directory.Text{"pt-PT": "Agência"}},
		Locations: []directory.LocationConfig{{ID: "l", Name: directory.Text{"pt-PT": "L"}}},
		Services: []directory.ServiceConfig{
			{ID: "a", Name: directory.Text{"pt-PT": "A"}, WalkIn: &directory.WalkInConfig{Letter: "A", AlwaysOpen: true, MaxPriorityRun: 2, RecallMinutes: nil},
				Themes: []directory.ThemeConfig{{ID: "a1", Name: directory.Text{"pt-PT": "A1"}, DurationMinutes: 15, AuthLevel: "none"}}},
			{ID: "b", Name: directory.Text{"pt-PT": "B"}, WalkIn: &directory.WalkInConfig{Letter: "B", MaxWaiting: 3, NearPosition: &zero,
				Hours: map[string][]string{"mon": wk, "tue": wk, "wed": wk, "thu": wk, "fri": wk}},
				Themes: []directory.ThemeConfig{{ID: "b1", Name: directory.Text{"pt-PT": "B1"}, DurationMinutes: 15, AuthLevel: "none"}}},
		},
		Staff: []directory.StaffConfig{{ID: "x", Name: "X", Location: "l", Themes: []string{"a1", "b1"}}},
	}
	if err := directory.Apply(context.Background(), db, cfg); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, calendar.Lisbon())} // a Wednesday
	return queue.NewService(db, c.now), c
}

func take(t *testing.T, s *queue.Service, service string, priority bool) queue.Taken {
	t.Helper()
	tk, err := s.Take(context.Background(), queue.Request{ServiceID: service, Priority: priority,
		Citizen: booking.Citizen{Name: "Cidadão", Email: "c@example.pt"}})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTakeNumbersAndPositions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		t1 := take(t, s, "a", false)
		c.add(time.Second)
		t2 := take(t, s, "a", false)
		c.add(time.Second)
		p := take(t, s, "a", true)
		if t1.Code != "A001" || t2.Code != "A002" || p.Code != "A003" {
			t.Fatalf("codes %s %s %s", t1.Code, t2.Code, p.Code)
		}
		if t1.Position != 1 || t2.Position != 2 || p.Position != 1 || p.Wait <= 0 {
			t.Errorf("positions at taking: %d %d %d (priority first), wait %v", t1.Position, t2.Position, p.Position, p.Wait)
		}
		got, err := s.Get(ctx, t2.ID, t2.Token)
		if err != nil || got.Position != 3 || got.Status != queue.StatusWaiting {
			t.Fatalf("t2 now: %+v %v", got, err)
		}
		if _, err := s.Get(ctx, t2.ID, t1.Token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another ticket's token: %v", err)
		}
		if _, err := s.Abandon(ctx, p.ID, p.Token); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, t2.ID, t2.Token); got.Position != 2 {
			t.Errorf("after the priority ticket left, t2 is at %d, want 2", got.Position)
		}
		if _, err := s.Abandon(ctx, p.ID, p.Token); !errors.Is(err, queue.ErrNotWaiting) {
			t.Errorf("abandon twice: %v", err)
		}
		// Tickets taken within the same second keep the order they were taken in.
		same := []queue.Taken{take(t, s, "a", false), take(t, s, "a", false), take(t, s, "a", false)}
		for i, tk := range same {
			if got, _ := s.Get(ctx, tk.ID, tk.Token); got.Position != 3+i {
				t.Errorf("ticket %s taken %d-th in one second is at %d, want %d", tk.Code, i+1, got.Position, 3+i)
			}
		}
		// The next day numbering starts again.
		c.add(24 * time.Hour)
		if tk := take(t, s, "a", false); tk.Code != "A001" {
			t.Errorf("next day: %s", tk.Code)
		}
	})
}

func TestClosedAndFull(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		for range 3 {
			take(t, s, "b", false)
		}
		var full *queue.FullError
		if _, err := s.Take(ctx, queue.Request{ServiceID: "b", Citizen: booking.Citizen{Name: "Z", Phone: "912345678"}}); !errors.As(err, &full) {
			t.Fatalf("fourth ticket: %v, want full", err)
		}
		c.add(7 * time.Hour) // Wednesday 17:00
		var closed *queue.ClosedError
		_, err := s.Take(ctx, queue.Request{ServiceID: "b", Citizen: booking.Citizen{Name: "Z"}})
		if !errors.As(err, &closed) || !closed.OpensAt.Equal(time.Date(2026, 12, 3, 9, 0, 0, 0, calendar.Lisbon())) {
			t.Fatalf("after hours: %v (opens %v)", err, closed)
		}
		var invalid *booking.InvalidError
		if _, err := s.Take(ctx, queue.Request{ServiceID: "a", Citizen: booking.Citizen{Name: "", Email: "x"}}); !errors.As(err, &invalid) {
			t.Errorf("bad citizen: %v", err)
		}
		if _, err := s.Take(ctx, queue.Request{ServiceID: "nope", Citizen: booking.Citizen{Name: "Z"}}); !errors.Is(err, queue.ErrNotWalkIn) {
			t.Errorf("no such queue: %v", err)
		}
	})
}

func TestCallOrderRecallAndNoAnswer(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		var order []string
		for i, prio := range []bool{false, true, true, true, false} {
			tk := take(t, s, "a", prio)
			order = append(order, tk.Code)
			c.add(time.Duration(i+1) * time.Second)
		}
		agent := queue.Agent{ID: "x", Services: []string{"a", "b"}}
		var calls []string
		for range 5 {
			tk, err := s.CallNext(ctx, agent)
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, tk.Code)
			if err := s.Answered(ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
			c.add(3 * time.Minute)
			if err := s.Finish(ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
		// A002 A003 priority, then A001 (two priority in a row), then A004 priority, then A005.
		want := []string{"A002", "A003", "A001", "A004", "A005"}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Fatalf("called %v, want %v", calls, want)
		}
		if _, err := s.CallNext(ctx, agent); !errors.Is(err, queue.ErrNothingToDo) {
			t.Fatalf("empty queue: %v", err)
		}
		absent := take(t, s, "a", false)
		if _, err := s.CallNext(ctx, agent); err != nil {
			t.Fatal(err)
		}
		c.add(3 * time.Minute) // past the 120 s to answer
		if n, err := s.ExpireCalls(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		if got, _ := s.Get(ctx, absent.ID, absent.Token); got.Status != queue.StatusWaiting || got.CallAttempts != 1 {
			t.Fatalf("after the first miss: %+v", got)
		}
		if _, err := s.CallNext(ctx, agent); !errors.Is(err, queue.ErrNothingToDo) {
			t.Fatalf("called again before the recall delay: %v", err)
		}
		c.add(6 * time.Minute)
		if tk, err := s.CallNext(ctx, agent); err != nil || tk.ID != absent.ID {
			t.Fatalf("recall: %+v %v", tk, err)
		}
		c.add(3 * time.Minute)
		s.ExpireCalls(ctx)
		if got, _ := s.Get(ctx, absent.ID, absent.Token); got.Status != queue.StatusNoAnswer {
			t.Fatalf("after the second miss: %s", got.Status)
		}
		boards, err := s.Boards(ctx)
		if err != nil || len(boards) != 2 || boards[0].Waiting != 0 {
			t.Fatalf("boards %+v %v", boards, err)
		}
	})
}

// TestFourAgentsServeEachTicketOnce has four agents call next concurrently over 200
// tickets: every ticket is called exactly once.
func TestFourAgentsServeEachTicketOnce(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		for i := range 200 {
			take(t, s, "a", i%7 == 0)
			c.add(time.Second)
		}
		var mu sync.Mutex
		served := map[string]int{}
		perAgent := map[string]int{}
		var wg sync.WaitGroup
		for a := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				agent := queue.Agent{ID: "x", Services: []string{"a"}}
				name := fmt.Sprint("agent", a)
				for {
					tk, err := s.CallNext(ctx, agent)
					if errors.Is(err, queue.ErrNothingToDo) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					served[tk.ID]++
					perAgent[name]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(served) != 200 {
			t.Fatalf("%d distinct tickets called, want 200", len(served))
		}
		for id, n := range served {
			if n != 1 {
				t.Errorf("ticket %s called %d times", id, n)
			}
		}
		t.Logf("calls per agent: %v", perAgent)
	})
}

// TestConcurrentTakesRespectTheQueue: 30 citizens taking tickets at once from a queue
// that holds 3 get exactly 3 tickets; and a queue ended while citizens take tickets
// either refuses its ending (a ticket came first) or refuses the tickets after it: no
// ticket is ever left waiting in a queue that is gone.
func TestConcurrentTakesRespectTheQueue(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := setup(t, db)
		results := make(chan error, 30)
		for i := range 30 {
			go func() {
				_, err := s.Take(ctx, queue.Request{ServiceID: "b", Citizen: booking.Citizen{Name: fmt.Sprint("C", i), Phone: "912345678"}})
				results <- err
			}()
		}
		taken := 0
		for range 30 {
			var full *queue.FullError
			switch err := <-results; {
			case err == nil:
				taken++
			case !errors.As(err, &full):
				t.Fatalf("take: %v", err)
			}
		}
		if taken != 3 {
			t.Fatalf("%d tickets taken from a queue that holds 3", taken)
		}

		for round := range 5 {
			if round > 0 {
				if err := directory.SetWalkIn(ctx, db, "a", directory.WalkIn{Letter: "A", AlwaysOpen: true, MaxWaiting: 200,
					AnswerSeconds: 120, RecallMinutes: 5, NearPosition: 3}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Take(ctx, queue.Request{ServiceID: "a", Citizen: booking.Citizen{Name: fmt.Sprint("D", i), Phone: "912345678"}})
					if err != nil && !errors.Is(err, queue.ErrNotWalkIn) {
						t.Errorf("take: %v", err)
					}
				}()
			}
			var ended error
			wg.Add(1)
			go func() {
				defer wg.Done()
				ended = db.InTx(ctx, func(tx *store.Tx) error { return directory.RemoveWalkIn(ctx, tx, "a") })
			}()
			wg.Wait()
			if ended != nil && !errors.Is(ended, directory.ErrTicketsWaiting) {
				t.Fatalf("end the queue: %v", ended)
			}
			var orphans int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM tickets t WHERE t.status = 'waiting'
				AND NOT EXISTS (SELECT 1 FROM walk_in_queues q WHERE q.service_id = t.service_id)`).Scan(&orphans); err != nil {
				t.Fatal(err)
			}
			if orphans > 0 {
				t.Fatalf("round %d: %d tickets waiting in a queue that is gone", round, orphans)
			}
			if _, err := db.Exec(ctx, "UPDATE tickets SET status = 'served' WHERE service_id = 'a'"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

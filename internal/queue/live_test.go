package queue_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/events"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

func TestLivePushesPositions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		bus := events.NewLocal()
		s.SetHooks(queue.Hooks{Bus: bus})
		live := queue.NewLive(s, bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
		var tickets []queue.Taken
		for range 3 {
			tk, err := s.Take(ctx, queue.Request{ServiceID: "a", Citizen: booking.Citizen{Name: "C"}})
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
			c.add(time.Second)
		}
		var mu sync.Mutex
		latest := map[string]queue.Update{}
		for _, tk := range tickets {
			stop := live.Watch(tk.Ticket, func(u queue.Update) {
				mu.Lock()
				latest[u.Number] = u
				mu.Unlock()
			})
			defer stop()
		}
		if _, err := s.CallNext(ctx, queue.Agent{ID: "x", Services: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			done := latest["A003"].Position == 2 && latest["A001"].Status == queue.StatusCalled && latest["A002"].Position == 1
			mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("updates: %+v", latest)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if u := latest["A002"]; !u.Near || u.WaitSeconds <= 0 {
			t.Errorf("A002 at the front: %+v", u)
		}
	})
}

package queue_test

import (
	"context"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/events"
	"balcao/internal/i18n"
	"balcao/internal/notify"
	"balcao/internal/outbox"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
	"balcao/web"
)

// TestNearAlertIsHeldThenReleased: each ticket's "your turn is near" message waits in the
// outbox from the moment it is taken and goes out when the ticket reaches position 3.
func TestNearAlertIsHeldThenReleased(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, c := setup(t, db)
		catalog, err := i18n.Load(web.FS, "i18n")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := notify.New(catalog, notify.Options{BaseURL: "https://balcao.example.pt", Now: c.now})
		bus := events.NewLocal()
		moved := 0
		bus.Subscribe(queue.Topic("a"), func(events.Event) { moved++ })
		s.SetHooks(queue.Hooks{Bus: bus, Messages: n, BaseURL: "https://balcao.example.pt"})
		var last queue.Taken
		for i := range 5 {
			last, err = s.Take(ctx, queue.Request{ServiceID: "a", Citizen: booking.Citizen{Name: "C", Email: "c@example.pt"}})
			if err != nil {
				t.Fatal(err)
			}
			c.add(time.Duration(i+1) * time.Second)
		}
		due := func() int {
			var k int
			db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND not_before <= ?", c.now().Unix()).Scan(&k)
			return k
		}
		if got := due(); got != 3 {
			t.Fatalf("%d alerts due after taking 5 tickets, want 3 (positions 1-3)", got)
		}
		agent := queue.Agent{ID: "x", Services: []string{"a"}}
		for range 2 {
			if _, err := s.CallNext(ctx, agent); err != nil {
				t.Fatal(err)
			}
		}
		// The two called tickets' alerts are withdrawn (already sent ones stay sent); the
		// fourth and fifth are now at positions 2 and 3.
		var released int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = ? AND not_before <= ?", "ticket:"+last.ID+":near", c.now().Unix()).Scan(&released)
		if released != 1 {
			t.Fatalf("the fifth ticket's alert was not released at position 3")
		}
		pending, _ := outbox.List(ctx, db, outbox.StatusPending, 10)
		for _, p := range pending {
			if p.Message.Mail == nil || p.Message.Mail.Subject == "" {
				t.Errorf("alert without a subject: %+v", p)
			}
		}
		if moved != 7 {
			t.Errorf("%d queue events, want 7 (5 takes, 2 calls)", moved)
		}
	})
}

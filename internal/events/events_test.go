package events_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"balcao/internal/events"
	"balcao/internal/store/storetest"
)

func TestLocal(t *testing.T) {
	bus := events.NewLocal()
	var got []string
	stop := bus.Subscribe("queue:a", func(ev events.Event) { got = append(got, ev.Payload) })
	bus.Subscribe("queue:b", func(ev events.Event) { t.Errorf("wrong topic: %v", ev) })
	bus.Publish(context.Background(), events.Event{Topic: "queue:a", Payload: "1"})
	stop()
	bus.Publish(context.Background(), events.Event{Topic: "queue:a", Payload: "2"})
	if len(got) != 1 || got[0] != "1" {
		t.Fatalf("got %v", got)
	}
}

// TestPostgresCrossesServers runs two buses on one database, as two servers would: an
// event published on one reaches the subscribers of both.
func TestPostgresCrossesServers(t *testing.T) {
	url := storetest.NewPostgresDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	one, two := events.NewPostgres(url, quiet), events.NewPostgres(url, quiet)
	go one.Run(ctx)
	go two.Run(ctx)
	for _, b := range []*events.Postgres{one, two} {
		select {
		case <-b.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("listener not ready")
		}
	}
	var mu sync.Mutex
	heard := map[string][]string{}
	for name, b := range map[string]*events.Postgres{"one": one, "two": two} {
		b.Subscribe("queue:a", func(ev events.Event) {
			mu.Lock()
			heard[name] = append(heard[name], ev.Payload)
			mu.Unlock()
		})
	}
	one.Publish(ctx, events.Event{Topic: "queue:a", Payload: "ticket taken\nwith a newline"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := len(heard["one"]) == 1 && len(heard["two"]) == 1
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard["one"]) != 1 || len(heard["two"]) != 1 || heard["two"][0] != "ticket taken\nwith a newline" {
		t.Fatalf("heard %q", heard)
	}
}

package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the PostgreSQL notification channel balcao's servers share.
const channel = "balcao_events"

// Postgres delivers events on every server connected to one database: Publish sends a
// NOTIFY, and each server's listener hands what it hears to its local subscribers — its
// own events included, so every server follows one path.
type Postgres struct {
	local  *Local
	url    string
	logger *slog.Logger
	pub    chan Event
	ready  chan struct{}
}

// NewPostgres connects a bus to the database at url; Run must run for it to work.
func NewPostgres(url string, logger *slog.Logger) *Postgres {
	return &Postgres{local: NewLocal(), url: url, logger: logger, pub: make(chan Event, 4096), ready: make(chan struct{})}
}

// Subscribe registers fn for the topic's events from every server.
func (p *Postgres) Subscribe(topic string, fn func(Event)) func() {
	return p.local.Subscribe(topic, fn)
}

// Publish queues ev for NOTIFY. Should the queue be full (the database unreachable for a
// while) the event is delivered locally only: watchers repair from the database anyway.
func (p *Postgres) Publish(ctx context.Context, ev Event) {
	select {
	case p.pub <- ev:
	default:
		p.logger.Warn("events: publish queue full; delivering locally", "topic", ev.Topic)
		p.local.deliver(ev)
	}
}

// Ready is closed once the listener is listening.
func (p *Postgres) Ready() <-chan struct{} { return p.ready }

// Run listens and publishes until ctx ends, reconnecting after failures.
func (p *Postgres) Run(ctx context.Context) {
	go p.publishLoop(ctx)
	first := true
	for ctx.Err() == nil {
		err := p.listen(ctx, func() {
			if first {
				close(p.ready)
				first = false
			}
		})
		if ctx.Err() != nil {
			return
		}
		p.logger.Warn("events: listener lost, reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (p *Postgres) listen(ctx context.Context, listening func()) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		topic, payload, _ := strings.Cut(n.Payload, "\n")
		p.local.deliver(Event{Topic: topic, Payload: payload})
	}
}

func (p *Postgres) publishLoop(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-p.pub:
			for attempt := 0; ; attempt++ {
				if conn == nil {
					c, err := pgx.Connect(ctx, p.url)
					if err != nil {
						if ctx.Err() != nil || attempt >= 3 {
							p.logger.Warn("events: cannot notify; delivering locally", "topic", ev.Topic, "error", err)
							p.local.deliver(ev)
							break
						}
						time.Sleep(200 * time.Millisecond)
						continue
					}
					conn = c
				}
				if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", channel, ev.Topic+"\n"+ev.Payload); err != nil {
					conn.Close(context.Background())
					conn = nil
					if attempt < 3 && ctx.Err() == nil {
						continue
					}
					p.logger.Warn("events: notify failed; delivering locally", "topic", ev.Topic, "error", fmt.Sprint(err))
					p.local.deliver(ev)
				}
				break
			}
		}
	}
}

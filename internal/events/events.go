// Package events carries realtime events — a queue moved, an appointment changed — from
// the code that committed a change to whoever watches: browsers behind WebSockets, on
// this server, and with PostgreSQL on every server sharing the database, through
// LISTEN/NOTIFY. Events are signals after commit; the database stays the truth, so a
// missed event is repaired by the next one or a poll.
package events

import (
	"context"
	"sync"
)

// Event is something that happened to a topic ("queue:informacoes").
type Event struct {
	Topic   string
	Payload string
}

// Bus publishes events and delivers them to subscribers.
type Bus interface {
	// Publish announces ev; call it after the change committed.
	Publish(ctx context.Context, ev Event)
	// Subscribe calls fn for every event of topic until the returned function is called.
	// fn runs on the bus's delivery goroutine: it must return quickly.
	Subscribe(topic string, fn func(Event)) (unsubscribe func())
}

// Local delivers events within this process.
type Local struct {
	mu     sync.RWMutex
	subs   map[string]map[int]func(Event)
	nextID int
}

// NewLocal returns an in-process bus.
func NewLocal() *Local { return &Local{subs: map[string]map[int]func(Event){}} }

// Publish delivers ev to the topic's subscribers.
func (l *Local) Publish(_ context.Context, ev Event) { l.deliver(ev) }

func (l *Local) deliver(ev Event) {
	l.mu.RLock()
	fns := make([]func(Event), 0, len(l.subs[ev.Topic]))
	for _, fn := range l.subs[ev.Topic] {
		fns = append(fns, fn)
	}
	l.mu.RUnlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// Subscribe registers fn for topic.
func (l *Local) Subscribe(topic string, fn func(Event)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextID++
	id := l.nextID
	if l.subs[topic] == nil {
		l.subs[topic] = map[int]func(Event){}
	}
	l.subs[topic][id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs[topic], id)
		if len(l.subs[topic]) == 0 {
			delete(l.subs, topic)
		}
	}
}

// Package mailbox is the queue through which other goroutines hand work to the one
// goroutine that owns a room's state (a call room, a media room): posting never blocks,
// so a callback can post while the owner is busy or waiting on it.
package mailbox

import "sync"

// Mailbox is an unbounded queue of functions.
type Mailbox struct {
	mu     sync.Mutex
	q      []func()
	closed bool
	wake   chan struct{}
}

// New returns an open, empty mailbox.
func New() *Mailbox { return &Mailbox{wake: make(chan struct{}, 1)} }

// Post queues fn for the owner; it reports false once the mailbox is closed.
func (m *Mailbox) Post(fn func()) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.q = append(m.q, fn)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// Wake receives a value when there may be work to Take.
func (m *Mailbox) Wake() <-chan struct{} { return m.wake }

// Take returns and removes everything queued so far.
func (m *Mailbox) Take() []func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.q
	m.q = nil
	return q
}

// Close refuses further posts; what is queued can still be taken.
func (m *Mailbox) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

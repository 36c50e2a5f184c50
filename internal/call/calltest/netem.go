package calltest

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// This machine's kernel has no netem (tc qdisc netem is not built), so the network is
// emulated in user space, on the one path the tests impair: between a participant's
// browser and a TURN relay the browser is made to use (see TURN). The relay's
// client-facing socket is wrapped in a Link's PacketConn, which delays, drops,
// rate-limits or cuts what crosses it, in each direction on its own.

// Shape is one direction of a link.
type Shape struct {
	Rate  int           // bit/s; 0 for no limit
	Delay time.Duration // one way, added to every packet
	Loss  float64       // share of packets dropped at random, 0 to 1
	// Queue is the most a packet may wait for the rate limit before it is dropped
	// (drop-tail); 0 means 200 ms.
	Queue time.Duration
}

// Link is an emulated network path with an "up" direction (browser to server) and a
// "down" one. Its settings may change at any time. The zero Link passes everything.
type Link struct {
	mu       sync.Mutex
	up, down Shape
	cut      bool
	dropped  [2]int // up, down: packets dropped while cut
}

// SetShape sets both directions.
func (l *Link) SetShape(up, down Shape) {
	l.mu.Lock()
	l.up, l.down = up, down
	l.mu.Unlock()
}

// Cut drops every packet, both ways, while on: the network is gone.
func (l *Link) Cut(on bool) {
	l.mu.Lock()
	l.cut = on
	l.mu.Unlock()
}

// Dropped returns how many packets the cut dropped, up and down.
func (l *Link) Dropped() (up, down int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped[0], l.dropped[1]
}

// direction is one way of a link: a FIFO of packets waiting to be delivered.
type direction struct {
	link     *Link
	up       bool
	nextFree time.Time // when the rate limiter is free again
	q        chan delayed
}

type delayed struct {
	at   time.Time
	b    []byte
	addr net.Addr
}

// admit decides what happens to a packet of n bytes now: dropped, or delivered at.
func (d *direction) admit(n int) (at time.Time, ok bool) {
	l := d.link
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.down
	if d.up {
		s = l.up
	}
	if l.cut {
		if d.up {
			l.dropped[0]++
		} else {
			l.dropped[1]++
		}
		return time.Time{}, false
	}
	if s.Loss > 0 && rand.Float64() < s.Loss {
		return time.Time{}, false
	}
	now := time.Now()
	depart := now
	if s.Rate > 0 {
		queue := s.Queue
		if queue <= 0 {
			queue = 200 * time.Millisecond
		}
		start := d.nextFree
		if start.Before(now) {
			start = now
		}
		if start.Sub(now) > queue {
			return time.Time{}, false
		}
		depart = start.Add(time.Duration(int64(n) * 8 * int64(time.Second) / int64(s.Rate)))
		d.nextFree = depart
	}
	return depart.Add(s.Delay), true
}

// PacketConn wraps the socket of the server end of the link (a TURN relay's
// listener): what it reads went up the link, what it writes goes down.
func (l *Link) PacketConn(c net.PacketConn) net.PacketConn {
	p := &linkConn{PacketConn: c, in: make(chan delayed, 4096), done: make(chan struct{}),
		upDir: &direction{link: l, up: true, q: make(chan delayed, 4096)}, downDir: &direction{link: l, q: make(chan delayed, 4096)}}
	go p.readLoop()
	go p.deliver(p.upDir.q, func(d delayed) {
		select {
		case p.in <- d:
		default: // the reader is too slow: the packet is lost
		}
	})
	go p.deliver(p.downDir.q, func(d delayed) { p.PacketConn.WriteTo(d.b, d.addr) })
	return p
}

type linkConn struct {
	net.PacketConn
	upDir, downDir *direction
	in             chan delayed
	done           chan struct{}
	closeOnce      sync.Once
}

func (p *linkConn) readLoop() {
	for {
		buf := make([]byte, 1600)
		n, addr, err := p.PacketConn.ReadFrom(buf)
		if err != nil {
			p.Close()
			return
		}
		if at, ok := p.upDir.admit(n); ok {
			select {
			case p.upDir.q <- delayed{at: at, b: buf[:n], addr: addr}:
			default:
			}
		}
	}
}

// deliver hands each packet of q on at its time, in order (the times of one direction
// never decrease: the delay is fixed and the rate limiter serves in order).
func (p *linkConn) deliver(q chan delayed, hand func(delayed)) {
	for {
		select {
		case <-p.done:
			return
		case d := <-q:
			if wait := time.Until(d.at); wait > 0 {
				select {
				case <-p.done:
					return
				case <-time.After(wait):
				}
			}
			hand(d)
		}
	}
}

func (p *linkConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d.b), d.addr, nil
	case <-p.done:
		return 0, nil, net.ErrClosed
	}
}

func (p *linkConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-p.done:
		return 0, net.ErrClosed
	default:
	}
	if at, ok := p.downDir.admit(len(b)); ok {
		select {
		case p.downDir.q <- delayed{at: at, b: append([]byte(nil), b...), addr: addr}:
		default:
		}
	}
	return len(b), nil
}

func (p *linkConn) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.done)
		err = p.PacketConn.Close()
	})
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

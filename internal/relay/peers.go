package relay

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/pion/turn/v5"
)

// Route is the one kind of peer the relay serves: the media server, as browsers know it
// (the address in its ICE candidates) and as the relay reaches it.
type Route struct {
	Announced netip.AddrPort
	Local     netip.AddrPort
}

// MediaRoutes are the routes to a media server that listens on local (its UDP
// addresses). Behind a 1:1 NAT it announces public instead of its own addresses: each
// public address is then reached at the first local address of the same family, so that
// relayed media never goes out to the NAT and back in (many NATs do not hairpin).
func MediaRoutes(local []net.Addr, public []string) []Route {
	var locals []netip.AddrPort
	for _, a := range local {
		if ap, ok := addrPort(a); ok {
			locals = append(locals, ap)
		}
	}
	var routes []Route
	if len(public) == 0 {
		for _, l := range locals {
			routes = append(routes, Route{Announced: l, Local: l})
		}
		return routes
	}
	for _, p := range public {
		ip, err := netip.ParseAddr(p)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		for _, l := range locals {
			if l.Addr().Is4() == ip.Is4() {
				routes = append(routes, Route{Announced: netip.AddrPortFrom(ip, l.Port()), Local: l})
				break
			}
		}
	}
	return routes
}

// PickAddress is the address browsers reach the relay at and that its relayed
// candidates carry: the first public address when the server is behind a 1:1 NAT, else
// one of the media server's own, a public one before a private one and IPv4 before IPv6.
func PickAddress(local []net.Addr, public []string) (netip.Addr, error) {
	if len(public) > 0 {
		ip, err := netip.ParseAddr(public[0])
		if err != nil {
			return netip.Addr{}, fmt.Errorf("relay address %q: %w", public[0], err)
		}
		return ip.Unmap(), nil
	}
	var best netip.Addr
	rank := func(a netip.Addr) int {
		r := 0
		if a.Is4() {
			r += 2
		}
		if !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
			r++
		}
		return r
	}
	for _, a := range local {
		ap, ok := addrPort(a)
		if !ok || ap.Addr().IsLinkLocalUnicast() {
			continue
		}
		if !best.IsValid() || rank(ap.Addr()) > rank(best) {
			best = ap.Addr()
		}
	}
	if !best.IsValid() {
		return netip.Addr{}, errors.New("relay: the media server has no address to relay to; give --public-ip")
	}
	return best, nil
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := u.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ap.IsValid()
}

// peers is the relay's whole view of the world: the routes, and nothing else.
type peers []Route

// permit is the TURN permission check (CreatePermission, ChannelBind): only the media
// server's announced addresses, so that a holder of credentials cannot use the relay
// as a proxy into the agency's network or anywhere else.
func (p peers) permit(_ net.Addr, ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, r := range p {
		if r.Announced.Addr() == a {
			return true
		}
	}
	return false
}

// generator allocates relayed addresses: a UDP socket in the configured port range whose
// traffic is confined to the routes. TCP allocations (RFC 6062) are refused: browsers do
// not use them, and they would open TCP connections on a client's behalf.
type generator struct {
	relayIP  netip.Addr
	bind     string // the IP relay sockets listen on; "" for every interface
	min, max int    // port range; 0 for any free port
	peers    peers
}

var errRefused = errors.New("relay: only UDP allocations of the server's address family")

func (g *generator) Validate() error {
	if !g.relayIP.IsValid() {
		return errors.New("relay: no relay address")
	}
	return nil
}

func (g *generator) network() string {
	if g.relayIP.Is4() {
		return "udp4"
	}
	return "udp6"
}

// AllocatePacketConn opens a relay socket; a port the client asks for (EVEN-PORT
// reservations) is honoured only inside the range.
func (g *generator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if conf.Network != g.network() {
		return nil, nil, errRefused
	}
	var conn net.PacketConn
	var err error
	switch {
	case conf.RequestedPort != 0 && (g.min == 0 || (conf.RequestedPort >= g.min && conf.RequestedPort <= g.max)):
		conn, err = g.listen(conf.RequestedPort)
	case g.min == 0:
		conn, err = g.listen(0)
	default:
		conn, err = g.listenInRange()
	}
	if err != nil {
		return nil, nil, err
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	return newConfined(conn, g.peers), &net.UDPAddr{IP: g.relayIP.AsSlice(), Port: port}, nil
}

func (g *generator) listen(port int) (net.PacketConn, error) {
	return net.ListenPacket(g.network(), net.JoinHostPort(g.bind, strconv.Itoa(port)))
}

// listenInRange tries a few random ports, then walks the whole range from a random one,
// so that a free port is found however full the range is.
func (g *generator) listenInRange() (net.PacketConn, error) {
	n := g.max - g.min + 1
	for range min(n, 8) {
		if c, err := g.listen(g.min + rand.IntN(n)); err == nil {
			return c, nil
		}
	}
	start := rand.IntN(n)
	for i := range n {
		if c, err := g.listen(g.min + (start+i)%n); err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("relay: every port from %d to %d is taken", g.min, g.max)
}

func (g *generator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errRefused
}

func (g *generator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errRefused
}

// confined is a relay socket that sends only to the routes' announced addresses (to
// their local ones) and hears only from the media server. The TURN permissions are per
// IP address; this holds the port too, so that no other service on the media server's
// own address can be reached through the relay.
type confined struct {
	net.PacketConn
	peers peers

	mu   sync.Mutex
	back map[netip.AddrPort]netip.AddrPort // local → the announced address last sent to
}

func newConfined(c net.PacketConn, p peers) *confined {
	return &confined{PacketConn: c, peers: p, back: map[netip.AddrPort]netip.AddrPort{}}
}

// WriteTo drops, without an error, what is not for the media server: an error would only
// fill the log at the request of whoever probes.
func (c *confined) WriteTo(b []byte, to net.Addr) (int, error) {
	ap, ok := addrPort(to)
	if !ok {
		return len(b), nil
	}
	for _, r := range c.peers {
		if r.Announced == ap {
			c.mu.Lock()
			c.back[r.Local] = r.Announced
			c.mu.Unlock()
			return c.PacketConn.WriteTo(b, net.UDPAddrFromAddrPort(r.Local))
		}
	}
	return len(b), nil
}

// ReadFrom returns what the media server sends, from the address the client knows it
// by; anything else is dropped.
func (c *confined) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		if ap, ok := addrPort(from); ok {
			if a, ok := c.announced(ap); ok {
				return n, net.UDPAddrFromAddrPort(a), nil
			}
		}
	}
}

func (c *confined) announced(from netip.AddrPort) (netip.AddrPort, bool) {
	c.mu.Lock()
	a, ok := c.back[from]
	c.mu.Unlock()
	if ok {
		return a, true
	}
	for _, r := range c.peers {
		if r.Local == from || r.Announced == from {
			return r.Announced, true
		}
	}
	return netip.AddrPort{}, false
}

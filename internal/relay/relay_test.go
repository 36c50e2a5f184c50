package relay

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// echo answers every UDP datagram on addr with the same bytes, prefixed with its own
// address, until the test ends.
func echo(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	me := c.LocalAddr().String()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(append([]byte(me+" "), buf[:n]...), from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func startRelay(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.ListenIP = netip.MustParseAddr("127.0.0.1")
	if !cfg.RelayIP.IsValid() {
		cfg.RelayIP = cfg.ListenIP
	}
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// quiet keeps pion's client from printing the refusals the tests provoke.
var quiet = logging.NewDefaultLoggerFactory()

func init() { quiet.DefaultLogLevel = logging.LogLevelDisabled }

// client is a TURN client of s over UDP, or over TCP when tcp is set.
func client(t *testing.T, s *Server, user, pass string, tcp bool) *turn.Client {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(s.Port())
	var conn net.PacketConn
	if tcp {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	} else {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	}
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Username: user, Password: pass,
		Realm: Realm, Conn: conn, LoggerFactory: quiet, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	return c
}

// roundTrip sends a datagram through the relayed conn and waits for the answer, three
// times at most: pion's client loses the first datagram after its channel binding over
// TCP, as UDP may lose any.
func roundTrip(relayed net.PacketConn, to netip.AddrPort, wait time.Duration) (reply string, from netip.AddrPort, err error) {
	buf := make([]byte, 1500)
	for range 3 {
		if _, err := relayed.WriteTo([]byte("ping"), net.UDPAddrFromAddrPort(to)); err != nil {
			return "", netip.AddrPort{}, err
		}
		relayed.SetReadDeadline(time.Now().Add(wait))
		var n int
		var addr net.Addr
		if n, addr, err = relayed.ReadFrom(buf); err == nil {
			ap, _ := addrPort(addr)
			return string(buf[:n]), ap, nil
		}
	}
	return "", netip.AddrPort{}, err
}

// TestRelayReachesOnlyTheMediaServer allocates through the relay with pion's TURN
// client, over UDP and over TCP, and reaches a UDP echo standing in for the media server;
// the same client cannot reach another port of the same address, nor another address.
func TestRelayReachesOnlyTheMediaServer(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	otherPort := echo(t, "127.0.0.1:0")
	otherHost := echo(t, "127.0.0.2:0")
	s := startRelay(t, Config{Routes: []Route{{Announced: media, Local: media}}, RelayPorts: [2]int{41000, 41999}})

	for _, tcp := range []bool{false, true} {
		name := map[bool]string{false: "udp", true: "tcp"}[tcp]
		t.Run(name, func(t *testing.T) {
			is := s.ICEServer("appt-1/citizen", time.Now().Add(time.Hour))
			c := client(t, s, is.Username, is.Credential, tcp)
			relayed, err := c.Allocate()
			if err != nil {
				t.Fatalf("allocate: %v", err)
			}
			defer relayed.Close()
			if p := relayed.LocalAddr().(*net.UDPAddr).Port; p < 41000 || p > 41999 {
				t.Errorf("relayed port %d, want it in 41000-41999", p)
			}
			reply, from, err := roundTrip(relayed, media, time.Second)
			if err != nil || reply != media.String()+" ping" || from != media {
				t.Fatalf("through the relay to the media server: %q from %s, %v", reply, from, err)
			}
			if n := s.Allocations(); n != 1 {
				t.Errorf("%d allocations open, want 1", n)
			}

			// The same address, another port: the permission (per IP) is there, but
			// nothing gets through.
			if reply, _, err := roundTrip(relayed, otherPort, 300*time.Millisecond); err == nil {
				t.Fatalf("another port of the media server's address answered %q through the relay", reply)
			}
			// Another address: the permission itself is refused.
			if err := c.CreatePermission(net.UDPAddrFromAddrPort(otherHost)); err == nil {
				t.Fatal("permission granted to reach 127.0.0.2")
			}
			if reply, _, err := roundTrip(relayed, otherHost, 300*time.Millisecond); err == nil {
				t.Fatalf("127.0.0.2 answered %q through the relay", reply)
			}
			// The media server still answers.
			if reply, _, err := roundTrip(relayed, media, time.Second); err != nil || reply != media.String()+" ping" {
				t.Fatalf("the media server after the refusals: %q, %v", reply, err)
			}
		})
	}

	t.Run("no TCP allocations", func(t *testing.T) {
		is := s.ICEServer("appt-1/citizen", time.Now().Add(time.Hour))
		c := client(t, s, is.Username, is.Credential, true)
		if a, err := c.AllocateTCP(); err == nil {
			a.Close()
			t.Fatal("a TCP allocation (RFC 6062) was granted")
		}
	})
}

// TestRelayRefusesBadCredentials: expired, tampered and foreign credentials get no
// allocation.
func TestRelayRefusesBadCredentials(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	s := startRelay(t, Config{Routes: []Route{{Announced: media, Local: media}}})
	good := s.ICEServer("appt-1/citizen", time.Now().Add(time.Hour))
	expUser, expPass := s.creds.Mint("appt-1/citizen", time.Now().Add(-time.Second))
	foreign, err := NewCredentials([]byte("not the relay's secret at all"), nil)
	if err != nil {
		t.Fatal(err)
	}
	forUser, forPass := foreign.Mint("appt-1/citizen", time.Now().Add(time.Hour))
	for _, tc := range []struct{ name, user, pass string }{
		{"expired", expUser, expPass},
		{"tampered password", good.Username, good.Credential[:5] + "x" + good.Credential[6:]},
		{"expiry pushed later", strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10) + ":appt-1/citizen", good.Credential},
		{"another secret", forUser, forPass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, s, tc.user, tc.pass, false)
			if relayed, err := c.Allocate(); err == nil {
				relayed.Close()
				t.Fatal("allocation granted")
			}
		})
	}
	if n := s.Allocations(); n != 0 {
		t.Fatalf("%d allocations open, want none", n)
	}
}

// TestRelayBehindNAT: browsers know the media server by its public address; the relay
// sends to the local one and presents the answers as coming from the public one.
func TestRelayBehindNAT(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	public := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), media.Port())
	s := startRelay(t, Config{Routes: []Route{{Announced: public, Local: media}}})
	is := s.ICEServer("appt-1/citizen", time.Now().Add(time.Hour))
	relayed, err := client(t, s, is.Username, is.Credential, false).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	reply, from, err := roundTrip(relayed, public, time.Second)
	if err != nil || reply != media.String()+" ping" || from != public {
		t.Fatalf("to the public address: %q from %s, %v; want the media server's answer from %s", reply, from, err, public)
	}
	if reply, _, err := roundTrip(relayed, media, 300*time.Millisecond); err == nil {
		t.Fatalf("the local address, unknown to browsers, answered %q", reply)
	}
}

// TestRelayQuota: a participant holds at most MaxAllocations at once.
func TestRelayQuota(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	s := startRelay(t, Config{Routes: []Route{{Announced: media, Local: media}}, MaxAllocations: 2})
	is := s.ICEServer("appt-1/citizen", time.Now().Add(time.Hour))
	for i := range 3 {
		relayed, err := client(t, s, is.Username, is.Credential, false).Allocate()
		if i < 2 && err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
		if i == 2 && err == nil {
			t.Fatal("a third allocation was granted")
		}
		if err == nil {
			defer relayed.Close()
		}
	}
	other := s.ICEServer("appt-1/agent-x", time.Now().Add(time.Hour))
	if relayed, err := client(t, s, other.Username, other.Credential, false).Allocate(); err != nil {
		t.Fatalf("another participant: %v", err)
	} else {
		relayed.Close()
	}
}

// TestRelayCloseEndsTCPClients: Close leaves no client's TCP connection open.
func TestRelayCloseEndsTCPClients(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	s := startRelay(t, Config{Routes: []Route{{Announced: media, Local: media}}})
	c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(s.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.tcp.mu.Lock()
		n := len(s.tcp.conns)
		s.tcp.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the relay never accepted the connection")
		}
	}
	s.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); err == nil || (ok && ne.Timeout()) {
		t.Fatalf("the client's connection is still open after Close: %v", err)
	}
}

// TestRelayLimitsTCPConnections: one address holds at most maxTCPConnsPerIP connections
// before any credential is checked (the next is closed at once), and a connection with
// nothing to say is closed after the idle time.
func TestRelayLimitsTCPConnections(t *testing.T) {
	media := echo(t, "127.0.0.1:0")
	s := startRelay(t, Config{Routes: []Route{{Announced: media, Local: media}}})
	s.tcp.mu.Lock()
	s.tcp.idle = 500 * time.Millisecond // the test cannot wait tcpIdle
	s.tcp.mu.Unlock()
	addr := "127.0.0.1:" + strconv.Itoa(s.Port())
	open := func() net.Conn {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedSoon := func(c net.Conn, within time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(within))
		_, err := c.Read(make([]byte, 1))
		ne, ok := err.(net.Error)
		return err != nil && !(ok && ne.Timeout())
	}
	first := open()
	for range maxTCPConnsPerIP - 1 {
		open()
	}
	if extra := open(); !closedSoon(extra, 300*time.Millisecond) {
		t.Fatalf("connection %d from one address was kept", maxTCPConnsPerIP+1)
	}
	// The first ones said nothing: after the idle time they are gone, and room is made.
	if !closedSoon(first, 3*time.Second) {
		t.Fatal("an idle connection was kept past the idle limit")
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s.tcp.mu.Lock()
		n := len(s.tcp.conns)
		s.tcp.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections still counted", n)
		}
	}
	if late := open(); closedSoon(late, 200*time.Millisecond) {
		t.Fatal("a new connection was refused once the idle ones were gone")
	}
}

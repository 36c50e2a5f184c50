// Package relay is balcao's optional embedded TURN server (RFC 8656, on pion/turn), for
// citizens whose network lets no UDP through to the media server, or only to a few
// ports: their browser reaches the relay over UDP or TCP on one port, and the relay
// passes their media to the media server.
//
// It is not an open relay. Credentials are minted per participant and expire with
// their join token ([Credentials]); the only peer it relays to is the media server
// itself, at its own ports ([Route]), so that nobody can use it to reach the agency's
// network or the internet; it makes no TCP connections for clients; and each
// participant may hold only so many allocations at once.
package relay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"

	"balcao/internal/pionlog"
)

// Realm is the TURN realm of the relay's credentials.
const Realm = "balcao"

// MaxTTL bounds the life of minted credentials; DefaultTTL is used when no expiry is given.
const (
	MaxTTL     = 24 * time.Hour
	DefaultTTL = 4 * time.Hour
)

// Config is what the relay needs.
type Config struct {
	// Port is the UDP and TCP port of the TURN server; 0 picks a free one (tests).
	Port int
	// ListenIP is where the TURN server and the relay sockets listen; the zero value
	// listens on every interface.
	ListenIP netip.Addr
	// RelayIP is the address browsers reach the relay at and that relayed candidates
	// carry: the public address behind a 1:1 NAT (see [PickAddress]).
	RelayIP netip.Addr
	// RelayPorts is the range of the relay sockets' ports, first and last; {0, 0} for
	// any free port.
	RelayPorts [2]int
	// Secret keys the credentials; nil for a random one, so that credentials handed
	// out before a restart stop working with it.
	Secret []byte
	// Routes are the only peers: the media server (see [MediaRoutes]).
	Routes []Route
	// MaxAllocations is how many allocations one participant may hold at once. Default 20:
	// a browser takes one per URL, and again at each ICE restart until the old ones go.
	MaxAllocations int
	// Now is the clock that credentials expire by; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// ICEServer is the relay as one entry of a browser's RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Server is a running relay.
type Server struct {
	cfg   Config
	creds *Credentials
	turn  *turn.Server
	udp   net.PacketConn
	tcp   *trackedListener
	log   *slog.Logger

	allocations atomic.Int64
	mu          sync.Mutex
	held        map[string]int // participant → allocations held
}

// Start opens the relay's ports and starts serving.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAllocations <= 0 {
		cfg.MaxAllocations = 20
	}
	if !cfg.RelayIP.IsValid() {
		return nil, errors.New("relay: no relay address")
	}
	if len(cfg.Routes) == 0 {
		return nil, errors.New("relay: no media server to relay to")
	}
	if lo, hi := cfg.RelayPorts[0], cfg.RelayPorts[1]; (lo != 0 || hi != 0) && (lo < 1 || hi > 65535 || lo > hi) {
		return nil, fmt.Errorf("relay: port range %d-%d", lo, hi)
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	creds, err := NewCredentials(secret, cfg.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, creds: creds, log: cfg.Logger, held: map[string]int{}}
	if err := s.listen(); err != nil {
		return nil, err
	}
	bind := ""
	if cfg.ListenIP.IsValid() && !cfg.ListenIP.IsUnspecified() {
		bind = cfg.ListenIP.String()
	}
	gen := &generator{relayIP: cfg.RelayIP.Unmap(), bind: bind, min: cfg.RelayPorts[0], max: cfg.RelayPorts[1],
		peers: peers(cfg.Routes)}
	s.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:         Realm,
		LoggerFactory: pionlog.Factory(s.log),
		// Browsers do not say which family they want: with an IPv4 relay address, give
		// IPv4 (RFC 6156's default) even to one that reaches the relay over IPv6.
		StrictAddressFamily: cfg.RelayIP.Unmap().Is4(),
		AuthHandler:         s.auth,
		QuotaHandler:        s.quota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: s.allocated,
			OnAllocationDeleted: s.released,
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: s.udp, RelayAddressGenerator: gen, PermissionHandler: gen.peers.permit}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: s.tcp, RelayAddressGenerator: gen, PermissionHandler: gen.peers.permit}},
	})
	if err != nil {
		s.udp.Close()
		s.tcp.Close()
		return nil, fmt.Errorf("serve TURN: %w", err)
	}
	s.log.Info("relay started", "port", s.Port(), "relay_ip", cfg.RelayIP.String(),
		"relay_ports", fmt.Sprintf("%d-%d", cfg.RelayPorts[0], cfg.RelayPorts[1]))
	return s, nil
}

// listen opens the UDP port, and TCP on the same number (found again when the UDP port
// was picked by the system and its TCP twin is taken).
func (s *Server) listen() error {
	host := ""
	if s.cfg.ListenIP.IsValid() && !s.cfg.ListenIP.IsUnspecified() {
		host = s.cfg.ListenIP.String()
	}
	var last error
	for range 10 {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			return fmt.Errorf("open TURN UDP port %d: %w", s.cfg.Port, err)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			s.udp, s.tcp = udp, &trackedListener{Listener: tcp, conns: map[net.Conn]struct{}{}, idle: tcpIdle, log: s.log}
			return nil
		}
		udp.Close()
		last = err
		if s.cfg.Port != 0 {
			break
		}
	}
	return fmt.Errorf("open TURN TCP port: %w", last)
}

// Port is the port the relay listens on.
func (s *Server) Port() int { return s.udp.LocalAddr().(*net.UDPAddr).Port }

// URLs are the relay's addresses for browsers, UDP first.
func (s *Server) URLs() []string {
	hp := net.JoinHostPort(s.cfg.RelayIP.String(), strconv.Itoa(s.Port()))
	return []string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// ICEServer gives the participant id the relay with credentials of their own, valid
// until the given time (their join token's expiry), never longer than MaxTTL.
func (s *Server) ICEServer(id string, until time.Time) ICEServer {
	now := s.cfg.Now()
	if until.IsZero() {
		until = now.Add(DefaultTTL)
	}
	if limit := now.Add(MaxTTL); until.After(limit) {
		until = limit
	}
	user, pass := s.creds.Mint(id, until)
	return ICEServer{URLs: s.URLs(), Username: user, Credential: pass}
}

// Allocations is how many allocations are open now.
func (s *Server) Allocations() int { return int(s.allocations.Load()) }

// Close stops the relay: its ports, every allocation and every client's TCP connection.
func (s *Server) Close() error {
	err := s.turn.Close()
	s.tcp.closeConns()
	return err
}

// auth answers the TURN server's question for every authenticated request (Allocate,
// Refresh, CreatePermission, ChannelBind): the key to check the message with, unless
// the username is malformed or expired. A wrong password fails that check.
func (s *Server) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	id, err := s.creds.valid(ra.Username)
	if err != nil {
		s.log.Debug("relay refused credentials", "method", ra.Method.String(), "reason", err)
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, s.creds.password(ra.Username)), true
}

func (s *Server) quota(id, _ string, _ net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[id] >= s.cfg.MaxAllocations {
		s.log.Warn("relay allocation refused: quota reached", "participant", id, "held", s.held[id])
		return false
	}
	return true
}

func (s *Server) allocated(_, _ net.Addr, protocol, id, _ string, _ net.Addr, _ int) {
	s.allocations.Add(1)
	s.mu.Lock()
	s.held[id]++
	s.mu.Unlock()
	s.log.Info("relay allocation", "participant", id, "transport", protocol)
}

func (s *Server) released(_, _ net.Addr, protocol, id, _ string) {
	s.allocations.Add(-1)
	s.mu.Lock()
	if s.held[id]--; s.held[id] <= 0 {
		delete(s.held, id)
	}
	s.mu.Unlock()
	s.log.Info("relay allocation released", "participant", id, "transport", protocol)
}

// Limits of TURN over TCP, where a connection costs a goroutine and a descriptor before
// any credential is checked: so many at once in all and from one address, and a
// connection with nothing to read for tcpIdle is closed. A client in a call always has
// something to send (media, or ICE consent checks every few seconds), and refreshes its
// allocation well within that.
const (
	maxTCPConns       = 2000
	maxTCPConnsPerIP  = 50
	tcpIdle           = 2 * time.Minute
	tcpRefusalLogSpan = time.Minute
)

// trackedListener remembers the TCP connections it accepted: the TURN server closes its
// listener on Close but leaves the connections to their clients. It also holds them to
// the limits above.
type trackedListener struct {
	net.Listener
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	perIP     map[netip.Addr]int
	closed    bool
	lastNoted time.Time // of a refusal, so that a flood does not flood the log too
	idle      time.Duration
	log       *slog.Logger
}

func (l *trackedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			return nil, net.ErrClosed
		}
		ip := remoteIP(c)
		if len(l.conns) >= maxTCPConns || l.perIP[ip] >= maxTCPConnsPerIP {
			noted := time.Since(l.lastNoted) > tcpRefusalLogSpan
			if noted {
				l.lastNoted = time.Now()
			}
			l.mu.Unlock()
			c.Close()
			if noted {
				l.log.Warn("relay TCP connection refused: too many open", "limit_total", maxTCPConns, "limit_per_address", maxTCPConnsPerIP)
			}
			continue
		}
		if l.perIP == nil {
			l.perIP = map[netip.Addr]int{}
		}
		l.conns[c] = struct{}{}
		l.perIP[ip]++
		l.mu.Unlock()
		return &trackedConn{Conn: c, l: l, ip: ip, idle: l.idle}, nil
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

func (l *trackedListener) closeConns() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for c := range l.conns {
		c.Close()
	}
	clear(l.conns)
	clear(l.perIP)
}

type trackedConn struct {
	net.Conn
	l    *trackedListener
	ip   netip.Addr
	idle time.Duration
	once sync.Once
}

// Read waits at most the idle time for the client's next bytes.
func (c *trackedConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c.Conn)
		if c.l.perIP[c.ip]--; c.l.perIP[c.ip] <= 0 {
			delete(c.l.perIP, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

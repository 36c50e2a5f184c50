package calltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/pion/turn/v5"
)

// TURN is a TURN relay (pion/turn) on loopback whose client side crosses a Link: a
// browser made to relay through it (ForceRelay) has its whole media path impaired as
// the link says, and nobody else's.
type TURN struct {
	URL, User, Pass string
	srv             *turn.Server
}

// NewTURN starts a relay behind link.
func NewTURN(link *Link) (*TURN, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for TURN: %w", err)
	}
	const realm, user, pass = "balcao.test", "test", "test-secret"
	key := turn.GenerateAuthKey(user, realm, pass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == user
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            link.PacketConn(conn),
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"},
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("start TURN: %w", err)
	}
	return &TURN{URL: "turn:" + conn.LocalAddr().String() + "?transport=udp", User: user, Pass: pass, srv: srv}, nil
}

// Close stops the relay.
func (t *TURN) Close() { t.srv.Close() }

// ForceRelay is a script to run in a page before its own (chromedp:
// page.AddScriptToEvaluateOnNewDocument): every RTCPeerConnection it makes uses this
// relay and nothing else (iceTransportPolicy "relay").
func (t *TURN) ForceRelay() string {
	server, _ := json.Marshal(map[string]any{"urls": []string{t.URL}, "username": t.User, "credential": t.Pass})
	return `(() => {
	const Native = window.RTCPeerConnection;
	const Relayed = function (config) {
		return new Native(Object.assign({}, config, { iceServers: [` + string(server) + `], iceTransportPolicy: 'relay' }));
	};
	Relayed.prototype = Native.prototype;
	Object.setPrototypeOf(Relayed, Native);
	window.RTCPeerConnection = Relayed;
})();`
}

// Proxy forwards TCP connections (a browser's HTTP and WebSocket) to a server, and can
// hold every byte while the network is cut, or reset every connection as a change of
// network would.
type Proxy struct {
	URL    string // http://127.0.0.1:port
	ln     net.Listener
	target string

	mu    sync.Mutex
	cond  *sync.Cond
	cut   bool
	conns map[net.Conn]struct{}
}

// NewProxy forwards to target ("host:port").
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	return p, nil
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp4", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(gated{p, dst}, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// gated writes only while the network is up.
type gated struct {
	p *Proxy
	w io.Writer
}

func (g gated) Write(b []byte) (int, error) {
	g.p.mu.Lock()
	for g.p.cut {
		g.p.cond.Wait()
	}
	g.p.mu.Unlock()
	return g.w.Write(b)
}

// Cut holds every byte, both ways, while on; connections stay open, as TCP's do over a
// short outage.
func (p *Proxy) Cut(on bool) {
	p.mu.Lock()
	p.cut = on
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Reset closes every connection, as a change of network does.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and its connections.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut(false)
	p.Reset()
}

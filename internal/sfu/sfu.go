// Package sfu is balcao's media layer: an embedded selective forwarding unit
// built on Pion WebRTC.
//
// It carries media only and never records: it forwards RTP packets between the
// participants of a call without decoding them, and no code path in this
// package writes media to disk or anywhere else but the participants'
// PeerConnections. It has no HTTP, database or WebSocket code either: a
// signalling layer drives it through [Room], [Participant] and the [Signaler]
// interface it implements.
//
// Each participant has one PeerConnection. Every track a participant publishes
// is forwarded to every other participant of the room, tagged with the
// publisher's participant id as the stream id and its [Source] as the track
// id. One goroutine owns each room's state; the exported methods send it
// messages.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"balcao/internal/pionlog"
)

// Errors returned by the package.
var (
	ErrClosed         = errors.New("sfu: closed")
	ErrLeft           = errors.New("sfu: participant has left")
	ErrNoPendingOffer = errors.New("sfu: no offer is waiting for an answer")
	// ErrGlare: the client's offer crossed a server offer and was ignored.
	ErrGlare = errors.New("sfu: offer ignored: a server offer is waiting for an answer")
)

// Config holds the network settings of the SFU.
type Config struct {
	// UDPPort is the single UDP port on which all ICE traffic is multiplexed,
	// on every allowed interface. 0 picks a free port (tests).
	UDPPort int
	// TCPPort enables ICE-TCP (passive candidates) on this port as a fallback
	// for networks that block UDP. 0 disables ICE-TCP.
	TCPPort int
	// PublicIPs are the addresses announced in host candidates instead of
	// the local ones, for a server behind a 1:1 NAT.
	PublicIPs []string
	// ICEServers are the STUN and TURN servers (with credentials). They are
	// used by the server's PeerConnections and returned by
	// [SFU.ICEServers] for the signalling layer to hand to clients.
	ICEServers []webrtc.ICEServer
	// ClientICE, when set, adds ICE servers of a participant's own to those handed to
	// their browser (see [SFU.ICEServersFor]): the embedded TURN relay, with
	// credentials that expire with the participant's right to be in the call. The
	// server's own PeerConnections never use it.
	ClientICE func(room, participant string, until time.Time) []webrtc.ICEServer
	// Loopback restricts ICE to IPv4 loopback over UDP (plus TCP when TCPPort
	// is set), with mDNS off: for tests on one machine.
	Loopback bool
	// ICEDisconnectedTimeout is how long without traffic before a connection
	// is "disconnected" (the client's cue to restart ICE). Default 3 s.
	ICEDisconnectedTimeout time.Duration
	// ICEFailedTimeout is how long after "disconnected" before it is
	// "failed". Default 20 s.
	ICEFailedTimeout time.Duration
	// ICEKeepaliveInterval is how often a STUN keepalive is sent when no
	// media flows. Default 1 s.
	ICEKeepaliveInterval time.Duration
}

// SFU is an embedded selective forwarding unit. It is safe for concurrent use.
type SFU struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	udpMux *ice.MultiUDPMuxDefault
	tcpMux *ice.TCPMuxDefault
	tcpLn  net.Listener

	closeWG sync.WaitGroup // room loops and PeerConnection closes

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool
}

// New starts an SFU: it opens the UDP (and optional TCP) ports and builds the
// WebRTC API shared by all PeerConnections.
func New(cfg Config, logger *slog.Logger) (*SFU, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ICEDisconnectedTimeout <= 0 {
		cfg.ICEDisconnectedTimeout = 3 * time.Second
	}
	if cfg.ICEFailedTimeout <= 0 {
		cfg.ICEFailedTimeout = 20 * time.Second
	}
	if cfg.ICEKeepaliveInterval <= 0 {
		cfg.ICEKeepaliveInterval = time.Second
	}
	s := &SFU{cfg: cfg, log: logger, rooms: map[string]*Room{}}
	if err := s.build(); err != nil {
		s.closeNet()
		return nil, err
	}
	return s, nil
}

func (s *SFU) build() error {
	cfg := s.cfg
	lf := pionlog.Factory(s.log)

	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICETimeouts(cfg.ICEDisconnectedTimeout, cfg.ICEFailedTimeout, cfg.ICEKeepaliveInterval)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	setSRTPProfiles(&se)

	muxOpts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithLogger(lf.NewLogger("udpmux"))}
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.Loopback {
		ifFilter := func(name string) bool { return name == "lo" }
		ipFilter := func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(ifFilter)
		se.SetIPFilter(ipFilter)
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
		muxOpts = append(muxOpts,
			ice.UDPMuxFromPortWithLoopback(),
			ice.UDPMuxFromPortWithInterfaceFilter(ifFilter),
			ice.UDPMuxFromPortWithIPFilter(ipFilter),
			ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4))
	}
	muxOpts = append(muxOpts,
		ice.UDPMuxFromPortWithReadBufferSize(4<<20),
		ice.UDPMuxFromPortWithWriteBufferSize(4<<20))
	udpMux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, muxOpts...)
	if err != nil {
		return fmt.Errorf("open ICE UDP port %d: %w", cfg.UDPPort, err)
	}
	s.udpMux = udpMux
	se.SetICEUDPMux(udpMux)

	if cfg.TCPPort > 0 {
		host := ""
		if cfg.Loopback {
			host = "127.0.0.1"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TCPPort)))
		if err != nil {
			return fmt.Errorf("open ICE TCP port %d: %w", cfg.TCPPort, err)
		}
		s.tcpLn = ln
		s.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{
			Listener:        ln,
			Logger:          lf.NewLogger("tcpmux"),
			ReadBufferSize:  8,
			WriteBufferSize: 4 << 20,
		})
		se.SetICETCPMux(s.tcpMux)
		se.DisableActiveTCP(true)
		networks = append(networks, webrtc.NetworkTypeTCP4)
		if !cfg.Loopback {
			networks = append(networks, webrtc.NetworkTypeTCP6)
		}
	}
	se.SetNetworkTypes(networks)

	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return fmt.Errorf("set public IPs: %w", err)
		}
	}

	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return err
	}
	ir := &interceptor.Registry{}
	if err := registerInterceptors(m, ir, lf); err != nil {
		return err
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return nil
}

// setSRTPProfiles makes the server choose the SRTP protection profile, and
// choose AEAD_AES_128_GCM (RFC 7714): with AES-NI it costs a fraction of
// AES_CM_128_HMAC_SHA1_80, whose HMAC-SHA1 runs over every packet twice (in
// and out), for 6 more bytes a packet (a 16-byte tag instead of 10).
//
// The DTLS server picks the profile (RFC 5764 §4.1.1) by its own preference,
// and browsers, as servers, put HMAC-SHA1 first (Chrome to save the bytes).
// So the server takes the DTLS server role whenever it answers, which it
// always does first (the client opens every call). HMAC-SHA1 stays last, for
// a client without GCM.
//
// The DTLS cookie exchange (HelloVerifyRequest, RFC 6347 §4.2.1) is skipped:
// it guards against spoofed source addresses, which ICE has already ruled
// out before DTLS starts (only a checked candidate pair carries DTLS), and it
// would cost every call one more round trip to connect.
func setSRTPProfiles(se *webrtc.SettingEngine) {
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer) // fails only for roles other than client and server
	se.SetDTLSInsecureSkipHelloVerify(true)
}

// registerCodecs registers the codecs every browser can decode: an SFU cannot
// transcode, so a publisher's codec must be one that every subscriber has.
// RTX is left out: retransmissions travel on the original SSRC.
func registerCodecs(m *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBGoogREMB},
		{Type: webrtc.TypeRTCPFBTransportCC},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	}
	codecs := []struct {
		typ webrtc.RTPCodecType
		p   webrtc.RTPCodecParameters
	}{
		{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		}}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB,
		}}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{PayloadType: 108, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
		}}},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.typ); err != nil {
			return fmt.Errorf("register codec %s: %w", c.p.MimeType, err)
		}
	}
	return nil
}

// registerInterceptors sets up NACKs towards publishers, RTCP sender and
// receiver reports, and TWCC feedback for what publishers send. The
// subscribers' NACKs are answered from each track's [history], not by an
// interceptor.
//
// Congestion control: TWCC is terminated per hop. The transport-cc header
// extension is negotiated only on the m-lines a participant publishes on
// (recvonly here), so the server returns TWCC feedback and the browser's
// send-side estimator adapts the uplink. On the m-lines the server forwards
// it is not negotiated, so browsers fall back to receive-side estimation and
// send REMB; the room forwards the lowest estimate (capped by the profiles)
// to each publisher as REMB. See [Room] for that loop.
func registerInterceptors(m *webrtc.MediaEngine, ir *interceptor.Registry, lf logging.LoggerFactory) error {
	// Before the NACK generator, so that it writes through it.
	ir.Add(nackFilterFactory{})
	// 256 packets is 2-3 s of video: plenty for a NACK to come back. A missing
	// packet is asked for at most 5 times, and never one lost in an outage
	// (see nackFilter). The codecs carry the nack feedback (registerCodecs).
	gen, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(lf), nack.GeneratorSize(256), nack.GeneratorMaxNacksPerPacket(5))
	if err != nil {
		return fmt.Errorf("configure NACK: %w", err)
	}
	ir.Add(gen)
	err = webrtc.ConfigureRTCPReportsWithOptions(ir,
		[]report.ReceiverOption{report.WithReceiverLoggerFactory(lf)}, report.WithSenderLoggerFactory(lf))
	if err != nil {
		return fmt.Errorf("configure RTCP reports: %w", err)
	}
	for _, typ := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		for _, uri := range []string{sdp.TransportCCURI, sdp.SDESMidURI} {
			err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, typ,
				webrtc.RTPTransceiverDirectionRecvonly)
			if err != nil {
				return fmt.Errorf("register header extension %s: %w", uri, err)
			}
		}
	}
	ir.Add(twccFeedbackFactory{lf})
	return nil
}

// ICEServers returns the STUN and TURN servers that clients should use.
func (s *SFU) ICEServers() []webrtc.ICEServer {
	return append([]webrtc.ICEServer(nil), s.cfg.ICEServers...)
}

// ICEServersFor returns the ICE servers for one participant's browser: ICEServers,
// and those of Config.ClientICE with credentials valid until the given time.
func (s *SFU) ICEServersFor(room, participant string, until time.Time) []webrtc.ICEServer {
	servers := s.ICEServers()
	if s.cfg.ClientICE != nil {
		servers = append(servers, s.cfg.ClientICE(room, participant, until)...)
	}
	return servers
}

// UDPAddrs returns the local addresses of the ICE UDP port.
func (s *SFU) UDPAddrs() []net.Addr {
	return s.udpMux.GetListenAddresses()
}

// Room returns the room with this id, creating it if needed. A room is
// removed when its last participant leaves; a Room value obtained before that
// stays usable: Join on it joins the room's new incarnation.
func (s *SFU) Room(id string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil {
		r = newRoom(s, id)
		if !s.closed {
			s.rooms[id] = r
		}
	}
	return r
}

// Close ends every call and releases the ports. It waits for the
// PeerConnections to close.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.shutdown()
	}
	s.closeWG.Wait()
	return s.closeNet()
}

func (s *SFU) closeNet() error {
	var errs []error
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	}
	return errors.Join(errs...)
}

// newPeerConnection creates a participant's PeerConnection.
func (s *SFU) newPeerConnection() (*webrtc.PeerConnection, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{
		ICEServers:    s.cfg.ICEServers,
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("create peer connection: %w", err)
	}
	return pc, nil
}

// closeLater closes a PeerConnection off the room goroutine; Close waits for it.
func (s *SFU) closeLater(pc *webrtc.PeerConnection, log *slog.Logger) {
	s.closeWG.Add(1)
	go func() {
		defer s.closeWG.Done()
		if err := pc.Close(); err != nil {
			log.Debug("close peer connection", "err", err)
		}
	}()
}

package sfu_test

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"balcao/internal/sfu"
)

// This file holds a synthetic WebRTC client built on Pion: it publishes fake
// Opus and VP8 frames, counts what it receives, and follows the client side
// of the negotiation rules (the impolite peer).

func testLogger(t *testing.T) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SFU_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	w := &testWriter{t: t}
	// Registered first, this cleanup runs last: Pion's goroutines may still log
	// while the SFU closes, but never once the test is over.
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(b)))
	}
	return len(b), nil
}

func newSFU(t *testing.T) *sfu.SFU {
	t.Helper()
	s, err := sfu.New(sfu.Config{Loopback: true}, testLogger(t))
	if err != nil {
		t.Fatalf("new SFU: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close SFU: %v", err)
		}
	})
	return s
}

// clientAPI is a browser-like Pion API restricted to IPv4 loopback; opts
// change its settings.
func clientAPI(t *testing.T, opts ...func(*webrtc.SettingEngine)) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	for _, o := range opts {
		o(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// recvTrack is a track the client receives.
type recvTrack struct {
	streamID, id, mid string
	kind              webrtc.RTPCodecType
	ssrc              uint32
	packets           atomic.Int64
	ended             atomic.Bool

	mu   sync.Mutex
	seqs map[uint16]int // packets received, by sequence number
	last uint16
}

// note counts a packet received.
func (rt *recvTrack) note(seq uint16) {
	rt.mu.Lock()
	rt.seqs[seq]++
	rt.last = seq
	rt.mu.Unlock()
}

// latest returns the sequence number of the last packet received.
func (rt *recvTrack) latest() uint16 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.last
}

// times returns how many times packet seq was received.
func (rt *recvTrack) times(seq uint16) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.seqs[seq]
}

type client struct {
	t    *testing.T
	name string
	pc   *webrtc.PeerConnection
	p    *sfu.Participant

	mu            sync.Mutex
	queue         []func()
	paused        bool
	wake          chan struct{}
	events        []sfu.Event
	tracks        []*recvTrack
	remoteSDPs    []webrtc.SessionDescription
	ignoredOffers int
	glares        int

	senders     map[string]*webrtc.RTPSender
	mediaTracks sync.Map // id → *webrtc.TrackLocalStaticSample
	plis        atomic.Int64
	stop        chan struct{}
	wg          sync.WaitGroup
}

// join creates a client and joins it to the room.
func join(t *testing.T, api *webrtc.API, room *sfu.Room, info sfu.ParticipantInfo, paused bool) *client {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{
		t: t, name: info.ID, pc: pc, paused: paused,
		wake: make(chan struct{}, 1), senders: map[string]*webrtc.RTPSender{}, stop: make(chan struct{}),
	}
	pc.OnTrack(c.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			init := cand.ToJSON()
			c.enqueue(func() { _ = c.p.AddCandidate(init) })
		}
	})
	p, err := room.Join(info, c)
	if err != nil {
		t.Fatalf("%s: join: %v", info.ID, err)
	}
	c.p = p
	c.wg.Add(2)
	go c.run()
	go c.sendMedia()
	t.Cleanup(c.close)
	return c
}

func (c *client) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	c.wg.Wait()
	_ = c.pc.Close()
}

// The sfu.Signaler side: queue everything, like a WebSocket.

func (c *client) SendOffer(o webrtc.SessionDescription) error {
	c.enqueue(func() { c.onOffer(o) })
	return nil
}

func (c *client) SendAnswer(a webrtc.SessionDescription) error {
	c.enqueue(func() {
		c.record(a)
		if err := c.pc.SetRemoteDescription(a); err != nil {
			c.t.Errorf("%s: set answer: %v", c.name, err)
		}
	})
	return nil
}

func (c *client) SendCandidate(cand webrtc.ICECandidateInit) error {
	c.enqueue(func() { _ = c.pc.AddICECandidate(cand) })
	return nil
}

func (c *client) SendEvent(e sfu.Event) error {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	return nil
}

func (c *client) enqueue(fn func()) {
	c.mu.Lock()
	c.queue = append(c.queue, fn)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *client) resume() {
	c.mu.Lock()
	c.paused = false
	c.mu.Unlock()
	c.enqueue(func() {})
}

func (c *client) run() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		for {
			c.mu.Lock()
			if c.paused || len(c.queue) == 0 {
				c.mu.Unlock()
				break
			}
			fn := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			fn()
		}
	}
}

func (c *client) record(d webrtc.SessionDescription) {
	c.mu.Lock()
	c.remoteSDPs = append(c.remoteSDPs, d)
	c.mu.Unlock()
}

// onOffer answers a server offer, unless the client's own offer is pending:
// the client is the impolite peer.
func (c *client) onOffer(o webrtc.SessionDescription) {
	if c.pc.SignalingState() != webrtc.SignalingStateStable {
		c.mu.Lock()
		c.ignoredOffers++
		c.mu.Unlock()
		return
	}
	c.record(o)
	if err := c.pc.SetRemoteDescription(o); err != nil {
		c.t.Errorf("%s: set offer: %v", c.name, err)
		return
	}
	a, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(a)
	}
	if err != nil {
		c.t.Errorf("%s: answer: %v", c.name, err)
		return
	}
	if err := c.p.HandleAnswer(*c.pc.LocalDescription()); err != nil {
		c.t.Errorf("%s: handle answer: %v", c.name, err)
	}
}

// negotiate sends a client offer (on the client goroutine) and waits until
// the answer is applied. If the offer crosses a server offer (sfu.ErrGlare),
// it is dropped and made again once the server's offer is answered: the
// client is the polite peer.
func (c *client) negotiate(opts *webrtc.OfferOptions) {
	done := make(chan struct{})
	var try func()
	try = func() {
		if errors.Is(c.offerNow(opts), sfu.ErrGlare) {
			c.enqueue(try) // after the server's offer, already queued
			return
		}
		// The answer is queued by now: wait until it is applied too.
		c.enqueue(func() { close(done) })
	}
	c.enqueue(try)
	<-done
}

// offerNow makes an offer and sends it. The offer is set as the local
// description only once the server took it: a dropped offer is thereby
// rolled back, which Pion cannot do after SetLocalDescription.
func (c *client) offerNow(opts *webrtc.OfferOptions) error {
	o, err := c.pc.CreateOffer(opts)
	if err != nil {
		c.t.Errorf("%s: create offer: %v", c.name, err)
		return err
	}
	if err := c.p.HandleOffer(o, nil); err != nil {
		if errors.Is(err, sfu.ErrGlare) {
			c.mu.Lock()
			c.glares++
			c.mu.Unlock()
		} else {
			c.t.Errorf("%s: handle offer: %v", c.name, err)
		}
		return err
	}
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Errorf("%s: set local offer: %v", c.name, err)
		return err
	}
	return nil
}

// publish adds tracks ("audio", "camera", "screen") without negotiating.
func (c *client) publish(ids ...string) {
	for _, id := range ids {
		codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		if id == "audio" {
			codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
		}
		track, err := webrtc.NewTrackLocalStaticSample(codec, id, c.name)
		if err != nil {
			c.t.Fatal(err)
		}
		sender, err := c.pc.AddTrack(track)
		if err != nil {
			c.t.Fatal(err)
		}
		c.mu.Lock()
		c.senders[id] = sender
		c.mu.Unlock()
		go c.readRTCP(sender)
		c.mediaTracks.Store(id, track)
	}
}

// unpublish removes a track without negotiating.
func (c *client) unpublish(id string) {
	c.mu.Lock()
	sender := c.senders[id]
	delete(c.senders, id)
	c.mu.Unlock()
	c.mediaTracks.Delete(id)
	if err := c.pc.RemoveTrack(sender); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.plis.Add(1)
			}
		}
	}
}

// sendMedia writes 20 ms Opus frames and 25 fps VP8 frames to the published
// tracks; a VP8 keyframe is flagged on the first frame and every 50th.
func (c *client) sendMedia() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	audio := make([]byte, 60)
	video := make([]byte, 1000)
	for n := 0; ; n++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.mediaTracks.Range(func(k, v any) bool {
			track := v.(*webrtc.TrackLocalStaticSample)
			if k == "audio" {
				_ = track.WriteSample(media.Sample{Data: audio, Duration: 20 * time.Millisecond})
			} else if n%2 == 0 {
				frame := append([]byte(nil), video...)
				if n%100 != 0 {
					frame[0] = 1 // VP8 frame tag: bit 0 set means interframe
				}
				_ = track.WriteSample(media.Sample{Data: frame, Duration: 40 * time.Millisecond})
			}
			return true
		})
	}
}

func (c *client) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	rt := &recvTrack{streamID: tr.StreamID(), id: tr.ID(), kind: tr.Kind(), ssrc: uint32(tr.SSRC()), seqs: map[uint16]int{}}
	for _, x := range c.pc.GetTransceivers() {
		if x.Receiver() == recv {
			rt.mid = x.Mid()
		}
	}
	c.mu.Lock()
	c.tracks = append(c.tracks, rt)
	c.mu.Unlock()
	go func() { // the report interceptor needs the sender reports
		for {
			if _, _, err := recv.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			rt.ended.Store(true)
			return
		}
		if n >= 4 {
			rt.note(binary.BigEndian.Uint16(buf[2:4]))
		}
		rt.packets.Add(1)
	}
}

// track returns the live track received from publisher with this id, or nil.
func (c *client) track(publisher, id string) *recvTrack {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.tracks) - 1; i >= 0; i-- {
		rt := c.tracks[i]
		if rt.streamID == publisher && rt.id == id && !rt.ended.Load() {
			return rt
		}
	}
	return nil
}

// received returns the packets received on the live track from publisher
// with this id, or -1 if there is none.
func (c *client) received(publisher, id string) int64 {
	return c.receivedSince(0, publisher, id)
}

// trackCount returns how many tracks the client has seen start.
func (c *client) trackCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tracks)
}

// receivedSince is received for the tracks that started after the first n.
func (c *client) receivedSince(n int, publisher, id string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.tracks) - 1; i >= n; i-- {
		rt := c.tracks[i]
		if rt.streamID == publisher && rt.id == id && !rt.ended.Load() {
			return rt.packets.Load()
		}
	}
	return -1
}

// liveTracks lists "publisher/id" of the tracks still receiving.
func (c *client) liveTracks() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, rt := range c.tracks {
		if !rt.ended.Load() {
			out = append(out, rt.streamID+"/"+rt.id)
		}
	}
	return out
}

func (c *client) eventsOf(kind sfu.EventKind) []sfu.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sfu.Event
	for _, e := range c.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (c *client) lastRemoteSDP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.remoteSDPs) == 0 {
		return ""
	}
	return c.remoteSDPs[len(c.remoteSDPs)-1].SDP
}

// waitReceiving waits until the client has more than min packets on each of
// the given "publisher/id" tracks.
func (c *client) waitReceiving(min int64, tracks ...string) {
	c.t.Helper()
	waitFor(c.t, 10*time.Second, func() error {
		for _, tr := range tracks {
			pub, id, _ := strings.Cut(tr, "/")
			if n := c.received(pub, id); n <= min {
				return errors.New(c.name + " has " + itoa(n) + " packets on " + tr)
			}
		}
		return nil
	})
}

// waitMore waits until every given track has received more packets than
// now: media keeps flowing.
func (c *client) waitMore(more int64, tracks ...string) {
	c.t.Helper()
	base := map[string]int64{}
	for _, tr := range tracks {
		pub, id, _ := strings.Cut(tr, "/")
		base[tr] = max(c.received(pub, id), 0)
	}
	waitFor(c.t, 10*time.Second, func() error {
		for _, tr := range tracks {
			pub, id, _ := strings.Cut(tr, "/")
			if n := c.received(pub, id); n < base[tr]+more {
				return errors.New(c.name + " has " + itoa(n-base[tr]) + " new packets on " + tr)
			}
		}
		return nil
	})
}

func waitFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

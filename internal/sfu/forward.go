package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeInterval is the least time between two keyframe requests sent to
// one publisher's track, however many subscribers ask: a little over the
// 300 ms within which browsers ignore another request.
const keyframeInterval = 350 * time.Millisecond

// forwardTrack is one published track. It is the TrackLocal added to every
// subscriber's PeerConnection: each Bind adds a binding, and the read loop
// writes every packet to every binding, with no allocation per packet.
type forwardTrack struct {
	pub      *Participant
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	id       string // track id in the subscribers' SDP
	source   Source
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecCapability
	ssrc     uint32   // the publisher's media SSRC
	history  *history // video only: what the subscribers may ask for again

	mu       sync.Mutex                 // serialises Bind and Unbind
	bindings atomic.Pointer[[]*binding] // copy-on-write, read per packet

	// Uplink counters, written by the read loop.
	packets, bytes  atomic.Uint64
	lost            atomic.Int64
	lastKeyframe    atomic.Int64 // unix nanoseconds of the last PLI sent
	keyframePending atomic.Bool  // a PLI waits for the interval to end
	keyframeReqs    atomic.Uint64

	hdr rtp.Header // scratch header, read loop only
}

// binding is one subscriber's copy of a track.
type binding struct {
	ctxID          string
	ssrc           uint32
	payloadType    uint8
	w              webrtc.TrackLocalWriter
	packets, bytes atomic.Uint64
}

func newForwardTrack(pub *Participant, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, source Source, id string) *forwardTrack {
	ft := &forwardTrack{
		pub:      pub,
		remote:   remote,
		receiver: receiver,
		id:       id,
		source:   source,
		kind:     remote.Kind(),
		codec:    remote.Codec().RTPCodecCapability,
		ssrc:     uint32(remote.SSRC()),
	}
	ft.bindings.Store(&[]*binding{})
	if ft.kind == webrtc.RTPCodecTypeVideo {
		ft.history = newHistory()
	}
	return ft
}

// ID implements webrtc.TrackLocal.
func (ft *forwardTrack) ID() string { return ft.id }

// StreamID implements webrtc.TrackLocal: the publisher's participant id.
func (ft *forwardTrack) StreamID() string { return ft.pub.info.ID }

// RID implements webrtc.TrackLocal.
func (ft *forwardTrack) RID() string { return "" }

// Kind implements webrtc.TrackLocal.
func (ft *forwardTrack) Kind() webrtc.RTPCodecType { return ft.kind }

// Bind implements webrtc.TrackLocal. It is called when a subscriber's
// negotiation completes, on the room goroutine (within the subscriber's
// HandleAnswer or HandleOffer), which then asks for the keyframe the
// subscriber needs to start decoding (Participant.startSubscriptions).
func (ft *forwardTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(ft.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &binding{ctxID: ctx.ID(), ssrc: uint32(ctx.SSRC()), payloadType: uint8(codec.PayloadType), w: ctx.WriteStream()}
	ft.mu.Lock()
	old := *ft.bindings.Load()
	next := make([]*binding, 0, len(old)+1)
	next = append(append(next, old...), b)
	ft.bindings.Store(&next)
	ft.mu.Unlock()
	return codec, nil
}

// Unbind implements webrtc.TrackLocal.
func (ft *forwardTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	old := *ft.bindings.Load()
	next := make([]*binding, 0, len(old))
	for _, b := range old {
		if b.ctxID != ctx.ID() {
			next = append(next, b)
		}
	}
	ft.bindings.Store(&next)
	return nil
}

// binding returns the binding with this SSRC, or nil.
func (ft *forwardTrack) binding(ssrc uint32) *binding {
	for _, b := range *ft.bindings.Load() {
		if b.ssrc == ssrc {
			return b
		}
	}
	return nil
}

// matchCodec finds the publisher's codec among those negotiated with a
// subscriber: same MIME type and, for H.264, same profile and packetization.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var partial *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) || c.ClockRate != want.ClockRate {
			continue
		}
		if !strings.EqualFold(want.MimeType, webrtc.MimeTypeH264) ||
			(fmtpParam(c.SDPFmtpLine, "profile-level-id") == fmtpParam(want.SDPFmtpLine, "profile-level-id") &&
				fmtpParam(c.SDPFmtpLine, "packetization-mode") == fmtpParam(want.SDPFmtpLine, "packetization-mode")) {
			return c, true
		}
		if partial == nil {
			partial = &have[i]
		}
	}
	if partial != nil {
		return *partial, true
	}
	return webrtc.RTPCodecParameters{}, false
}

func fmtpParam(line, key string) string {
	for _, p := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, key) {
			return strings.ToLower(v)
		}
	}
	return ""
}

// readLoop forwards the publisher's packets until the track ends, then tells
// the room.
func (ft *forwardTrack) readLoop() {
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	var seq seqTracker
	for {
		if ft.history != nil {
			buf = ft.history.slot()
		}
		n, _, err := ft.remote.Read(buf)
		if err != nil {
			ft.pub.room.post(func() { ft.pub.room.trackEnded(ft) })
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		if ft.history != nil {
			ft.history.commit(n, pkt.SequenceNumber, time.Now().UnixNano())
		}
		ft.packets.Add(1)
		ft.bytes.Add(uint64(n))
		if seq.started && ft.kind == webrtc.RTPCodecTypeVideo && outage(seq.highest, pkt.SequenceNumber) {
			// The publisher is back after an outage: its receivers lost frames
			// that the next ones refer to. Ask for a keyframe at once, before
			// the receivers notice, so that the picture comes back sooner.
			ft.requestKeyframe()
		}
		if lost, ok := seq.update(pkt.SequenceNumber); ok {
			ft.lost.Store(lost)
		}
		ft.forward(&pkt, n)
	}
}

// forward writes pkt to every subscriber.
func (ft *forwardTrack) forward(pkt *rtp.Packet, size int) {
	bs := *ft.bindings.Load()
	if len(bs) == 0 {
		return
	}
	h := &ft.hdr
	for _, b := range bs {
		outHeader(h, pkt, b)
		if _, err := b.w.WriteRTP(h, pkt.Payload); err == nil {
			b.packets.Add(1)
			b.bytes.Add(uint64(size))
		}
	}
}

// outHeader sets h to pkt's header as forwarded to b. The publisher's header
// extensions are dropped: their ids were negotiated with the publisher, not
// with the subscribers, and transport-wide sequence numbers belong to one hop.
func outHeader(h *rtp.Header, pkt *rtp.Packet, b *binding) {
	*h = pkt.Header
	h.Extension = false
	h.ExtensionProfile = 0
	h.Extensions = nil
	if pkt.PaddingSize != 0 && h.PaddingSize == 0 {
		h.PaddingSize = pkt.PaddingSize
	}
	h.SSRC = b.ssrc
	h.PayloadType = b.payloadType
}

// requestKeyframe sends a PLI to the publisher, at most once per
// keyframeInterval: a request that comes sooner is sent when the interval is
// over, once however many came meanwhile. (Browsers ignore a request that comes
// within 300 ms of their last keyframe: sent at once, it would be lost, and the
// receiver that needed it would wait for its own next request.)
func (ft *forwardTrack) requestKeyframe() {
	if ft.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := ft.lastKeyframe.Load()
	if wait := time.Duration(last + int64(keyframeInterval) - now); wait > 0 {
		if ft.keyframePending.CompareAndSwap(false, true) {
			time.AfterFunc(wait, func() {
				ft.keyframePending.Store(false)
				ft.requestKeyframe()
			})
		}
		return
	}
	if !ft.lastKeyframe.CompareAndSwap(last, now) {
		return
	}
	ft.keyframeReqs.Add(1)
	_ = ft.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ft.ssrc}})
}

// drainReceiverRTCP reads the publisher's RTCP (sender reports) so the
// interceptors see it; the report interceptor needs it for its receiver
// reports' LSR/DLSR.
func drainReceiverRTCP(r *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// outageGap is the smallest jump in a video track's sequence numbers taken for an
// outage: a burst of random loss is never this long.
const outageGap = 48

// outage tells whether a packet numbered seq, when the highest so far is highest,
// means that the packets in between were lost to an outage.
func outage(highest, seq uint16) bool {
	return int16(seq-highest) > outageGap
}

// seqTracker counts lost packets from RTP sequence numbers (RFC 3550 A.3).
type seqTracker struct {
	highest  uint16 // the highest sequence number seen (wrapping)
	started  bool
	base     uint32 // extended sequence number of the first packet
	max      uint32 // highest extended sequence number
	received int64
}

func (s *seqTracker) update(seq uint16) (lost int64, ok bool) {
	if !s.started || int16(seq-s.highest) > 0 {
		s.highest = seq
	}
	if !s.started {
		s.started, s.base, s.max = true, uint32(seq), uint32(seq)
		s.received = 1
		return 0, true
	}
	s.received++
	ext := s.max&^0xffff | uint32(seq)
	switch diff := int32(ext - s.max); {
	case diff > 1<<15:
		ext -= 1 << 16
	case diff < -(1 << 15):
		ext += 1 << 16
	}
	if int32(ext-s.max) > 0 {
		s.max = ext
	}
	lost = int64(s.max-s.base+1) - s.received
	if lost < 0 {
		lost = 0
	}
	return lost, s.received%16 == 0
}

// subscriberSilence is how long a subscriber's RTCP may pause before its return is
// taken for the end of an outage.
const subscriberSilence = 2500 * time.Millisecond

// subscription is one forwarded track in one subscriber's PeerConnection.
type subscription struct {
	track  *forwardTrack
	sub    *Participant
	tr     *webrtc.RTPTransceiver
	sender *webrtc.RTPSender
	ssrc   uint32
	// started: a keyframe was asked for since the subscriber's connection came
	// up and the track was bound (room goroutine only).
	started bool

	resender resender // rtcpLoop only

	// From the subscriber's receiver reports.
	fractionLost atomic.Uint32 // 1/256 units
	totalLost    atomic.Int64
	jitter       atomic.Uint32 // RTP timestamp units
}

// rtcpLoop reads the subscriber's RTCP for this track: it runs the sender's
// interceptors, resends what NACKs ask for, forwards keyframe requests to the
// publisher, and keeps loss, RTT and REMB for the stats and the room.
func (s *subscription) rtcpLoop() {
	buf := make([]byte, 1500)
	last := time.Now()
	for {
		n, _, err := s.sender.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if now.Sub(last) > subscriberSilence {
			// The subscriber is back after an outage (browsers report on video
			// every second): what it missed cannot be repaired, a keyframe can.
			s.track.requestKeyframe()
		}
		last = now
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pk := range pkts {
			switch pk := pk.(type) {
			case *rtcp.TransportLayerNack:
				if pk.MediaSSRC == s.ssrc {
					s.resender.resend(s.track, s.track.binding(s.ssrc), pk, time.Duration(s.sub.rtt.Load()))
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.track.requestKeyframe()
			case *rtcp.ReceiverReport:
				s.report(pk.Reports)
			case *rtcp.SenderReport:
				s.report(pk.Reports)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				s.sub.remb.Store(uint64(pk.Bitrate))
			}
		}
	}
}

func (s *subscription) report(reports []rtcp.ReceptionReport) {
	for _, r := range reports {
		if r.SSRC != s.ssrc {
			continue
		}
		s.fractionLost.Store(uint32(r.FractionLost))
		s.totalLost.Store(int64(r.TotalLost))
		s.jitter.Store(r.Jitter)
		if rtt, ok := roundTrip(time.Now(), r.LastSenderReport, r.Delay); ok {
			s.sub.rtt.Store(int64(rtt))
		}
	}
}

// roundTrip computes the RTT from a reception report (RFC 3550 §6.4.1):
// arrival time minus the LSR and DLSR fields, in 1/65536 s.
func roundTrip(now time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	rtt := ntpMiddle(now) - lsr - dlsr
	if int32(rtt) < 0 {
		return 0, false
	}
	return time.Duration(uint64(rtt) * uint64(time.Second) >> 16), true
}

// ntpMiddle returns the middle 32 bits of the NTP timestamp for t.
func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	nsec := uint64(t.UnixNano())
	sec := nsec/1e9 + ntpEpochOffset
	frac := (nsec % 1e9) << 32 / 1e9
	return uint32(sec<<16) | uint32(frac>>16)
}

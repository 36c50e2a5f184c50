package sfu

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// maxPendingCandidates bounds the candidates kept while no matching remote
// description is set.
const maxPendingCandidates = 64

// Participant is one member of a room and its PeerConnection.
//
// Negotiation: the client makes the first offer, after Join, with at least
// one m-line (a recvonly transceiver if it publishes nothing). After that the
// client offers when it publishes, stops publishing or restarts ICE, and the
// server answers; the server offers when the tracks forwarded to the
// participant change (or on [Participant.RestartICE]), and only then.
//
// Glare: the server is the impolite peer (Pion cannot roll back a local
// offer). A client offer that arrives while a server offer waits for its
// answer is ignored and HandleOffer returns [ErrGlare]; the client is the
// polite peer of the W3C "perfect negotiation" pattern: it rolls its offer
// back (a browser does so implicitly in setRemoteDescription), answers the
// server's offer, and offers again.
type Participant struct {
	info ParticipantInfo
	room *Room
	sig  Signaler
	pc   *webrtc.PeerConnection
	log  *slog.Logger
	gone chan struct{} // closed when removed from the room

	// Read from any goroutine.
	remb atomic.Uint64 // last REMB from this participant, bit/s
	rtt  atomic.Int64  // last RTT from its receiver reports, ns

	// Owned by the room goroutine.
	left       bool
	published  []*forwardTrack
	subs       []*subscription
	sources    map[string]Source // mid → source, from the client
	needsOffer bool              // the forwarded tracks changed since the last offer
	restartICE bool              // the next offer restarts ICE
	candidates []webrtc.ICECandidateInit
	nextMid    int
}

func newParticipant(r *Room, info ParticipantInfo, sig Signaler) (*Participant, error) {
	pc, err := r.sfu.newPeerConnection()
	if err != nil {
		return nil, err
	}
	p := &Participant{
		info:    info,
		room:    r,
		sig:     sig,
		pc:      pc,
		log:     r.log.With("participant", info.ID),
		gone:    make(chan struct{}),
		sources: map[string]Source{},
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		r.post(func() {
			if !p.left {
				if err := p.sig.SendCandidate(init); err != nil {
					p.log.Debug("send candidate", "err", err)
				}
			}
		})
	})
	pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		r.post(func() { r.publish(p, remote, receiver) })
	})
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		r.post(func() { p.stateChanged(state) })
	})
	return p, nil
}

// ID returns the participant's id.
func (p *Participant) ID() string { return p.info.ID }

// Info returns what the participant joined with.
func (p *Participant) Info() ParticipantInfo { return p.info }

// Profile returns the participant's bitrate caps, for the signalling layer to
// pass to the client's RTCRtpSender.setParameters (maxBitrate).
func (p *Participant) Profile() Profile { return p.info.Profile }

// HandleOffer applies an offer from the client and sends the answer through
// the Signaler. sources maps the mids of the offer's m-lines to what they
// carry; it may be nil, and mids may be missing, in which case a track whose
// id is "audio", "camera" or "screen" is taken at its word, other audio is
// SourceAudio, and other video is the camera if the participant publishes no
// camera yet, else the screen. An offer with new ICE credentials restarts ICE.
func (p *Participant) HandleOffer(offer webrtc.SessionDescription, sources map[string]Source) error {
	if offer.Type != webrtc.SDPTypeOffer {
		return fmt.Errorf("sfu: handle offer: got type %s", offer.Type)
	}
	return p.room.call(func() error { return p.handleOffer(offer, sources) })
}

// HandleAnswer applies the client's answer to the server's last offer.
func (p *Participant) HandleAnswer(answer webrtc.SessionDescription) error {
	if answer.Type != webrtc.SDPTypeAnswer {
		return fmt.Errorf("sfu: handle answer: got type %s", answer.Type)
	}
	return p.room.call(func() error { return p.handleAnswer(answer) })
}

// AddCandidate adds one of the client's ICE candidates. Candidates that come
// before the description they belong to are kept until it is set. An error
// concerns this candidate only.
func (p *Participant) AddCandidate(c webrtc.ICECandidateInit) error {
	return p.room.call(func() error {
		if p.left {
			return ErrLeft
		}
		p.candidates = append(p.candidates, c)
		if len(p.candidates) > maxPendingCandidates {
			p.candidates = p.candidates[1:]
		}
		return p.flushCandidates()
	})
}

// RestartICE makes the server send an offer with new ICE credentials, for
// when the server sees the connection fail. The client more often restarts
// ICE itself, by offering with iceRestart.
func (p *Participant) RestartICE() error {
	return p.room.call(func() error {
		if p.left {
			return ErrLeft
		}
		p.restartICE = true
		p.needsOffer = true
		return nil
	})
}

// Leave removes the participant from the room; the others are told, and the
// tracks it published are removed from their PeerConnections. Leave is
// idempotent and safe to call from any goroutine.
func (p *Participant) Leave() {
	_ = p.room.call(func() error {
		p.room.remove(p, true)
		return nil
	})
}

// Done is closed when the participant has left the room.
func (p *Participant) Done() <-chan struct{} { return p.gone }

// send delivers an event to this participant's client.
func (p *Participant) send(e Event) {
	if err := p.sig.SendEvent(e); err != nil {
		p.log.Debug("send event", "kind", e.Kind, "err", err)
	}
}

func (p *Participant) handleOffer(offer webrtc.SessionDescription, sources map[string]Source) error {
	if p.left {
		return ErrLeft
	}
	for mid, s := range sources {
		p.sources[mid] = s
	}
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// Glare: the server is the impolite peer, its offer stands.
		p.log.Debug("glare: client offer ignored")
		return ErrGlare
	}
	if err := p.pc.SetRemoteDescription(offer); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	if err := p.sig.SendAnswer(applyProfile(*p.pc.LocalDescription(), p.info.Profile)); err != nil {
		p.log.Debug("send answer", "err", err)
	}
	p.startSubscriptions()
	return p.flushCandidates()
}

func (p *Participant) handleAnswer(answer webrtc.SessionDescription) error {
	if p.left {
		return ErrLeft
	}
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return ErrNoPendingOffer
	}
	if err := p.pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("set remote answer: %w", err)
	}
	p.startSubscriptions()
	return p.flushCandidates()
}

// maybeOffer sends a server offer if the forwarded tracks changed and no
// negotiation is under way. The room loop calls it after every batch of
// messages, so several changes make one offer.
func (p *Participant) maybeOffer() {
	if p.left || !p.needsOffer || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	if p.pc.CurrentRemoteDescription() == nil {
		return // the client opens the negotiation
	}
	if p.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		return
	}
	restart := p.restartICE
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Warn("make offer", "err", err)
		return
	}
	p.needsOffer, p.restartICE = false, false
	p.send(Event{Kind: EventTracks, Tracks: p.trackInfos()})
	if err := p.sig.SendOffer(applyProfile(*p.pc.LocalDescription(), p.info.Profile)); err != nil {
		p.log.Debug("send offer", "err", err)
	}
}

// trackInfos lists the tracks forwarded to p, by mid.
func (p *Participant) trackInfos() []TrackInfo {
	out := make([]TrackInfo, 0, len(p.subs))
	for _, s := range p.subs {
		out = append(out, TrackInfo{
			Mid:           s.tr.Mid(),
			ParticipantID: s.track.pub.info.ID,
			Source:        s.track.source,
			Kind:          s.track.kind.String(),
		})
	}
	return out
}

// subscribe adds a forwarded track to p's PeerConnection, on an m-line of
// its own. m-lines of removed tracks are not reused: they stay inactive, a
// few per call. (Reactivating them works in browsers but not in Pion's
// receiving side, which the tests and the bench use.)
func (p *Participant) subscribe(ft *forwardTrack) error {
	if p.left {
		return ErrLeft
	}
	tr, err := p.pc.AddTransceiverFromTrack(ft, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("add transceiver: %w", err)
	}
	// Server m-lines get mids of their own ("sfu0", "sfu1"...) so that they
	// can never be taken for the client's m-lines, which browsers number
	// "0", "1"...
	if err := tr.SetMid("sfu" + strconv.Itoa(p.nextMid)); err != nil {
		return fmt.Errorf("set mid: %w", err)
	}
	p.nextMid++
	s := &subscription{track: ft, sub: p, tr: tr, sender: tr.Sender()}
	if enc := s.sender.GetParameters().Encodings; len(enc) > 0 {
		s.ssrc = uint32(enc[0].SSRC)
	}
	p.subs = append(p.subs, s)
	p.needsOffer = true
	go s.rtcpLoop()
	return nil
}

// unsubscribe removes a forwarded track from p's PeerConnection.
func (p *Participant) unsubscribe(ft *forwardTrack) {
	for i, s := range p.subs {
		if s.track != ft {
			continue
		}
		p.subs = append(p.subs[:i], p.subs[i+1:]...)
		if !p.left {
			if err := p.pc.RemoveTrack(s.sender); err != nil {
				p.log.Debug("remove track", "track", ft.id, "err", err)
			}
			p.needsOffer = true
		}
		return
	}
}

// videoSubscriptions counts the video tracks forwarded to p.
func (p *Participant) videoSubscriptions() int {
	n := 0
	for _, s := range p.subs {
		if s.track.kind == webrtc.RTPCodecTypeVideo {
			n++
		}
	}
	return n
}

// sourceOf decides what a newly published track carries.
func (p *Participant) sourceOf(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) Source {
	for _, t := range p.pc.GetTransceivers() {
		if t.Receiver() == receiver {
			if s, ok := p.sources[t.Mid()]; ok {
				return s
			}
			break
		}
	}
	switch s := Source(remote.ID()); s {
	case SourceAudio, SourceCamera, SourceScreen:
		return s
	}
	if remote.Kind() == webrtc.RTPCodecTypeAudio {
		return SourceAudio
	}
	for _, ft := range p.published {
		if ft.source == SourceCamera {
			return SourceScreen
		}
	}
	return SourceCamera
}

func (p *Participant) hasTrackID(id string) bool {
	for _, ft := range p.published {
		if ft.id == id {
			return true
		}
	}
	return false
}

// stateChanged reacts to the PeerConnection's state: once connected (DTLS
// up, or ICE back after an outage), every video track forwarded to p, and
// every one p publishes, needs a keyframe to start decoding again.
func (p *Participant) stateChanged(state webrtc.PeerConnectionState) {
	if p.left {
		return
	}
	p.log.Info("connection state", "state", state.String())
	p.send(Event{Kind: EventConnectionState, State: state.String()})
	switch state {
	case webrtc.PeerConnectionStateConnected:
		// Connected, or back after an outage: every track forwarded to p needs a
		// keyframe, and so do the receivers of what p sent meanwhile.
		for _, s := range p.subs {
			s.started = false
		}
		p.startSubscriptions()
		for _, ft := range p.published {
			ft.requestKeyframe()
		}
	case webrtc.PeerConnectionStateClosed:
		p.room.remove(p, true)
	}
}

// startSubscriptions asks for a keyframe for each track forwarded to p that can
// now carry one: negotiated (bound) while p's connection is up. Whichever of the
// two comes last asks; a keyframe asked for earlier would be lost, and would
// make the publisher's browser ignore the next request for 300 ms.
func (p *Participant) startSubscriptions() {
	if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		return
	}
	for _, s := range p.subs {
		if !s.started && s.track.binding(s.ssrc) != nil {
			s.started = true
			s.track.requestKeyframe()
		}
	}
}

// flushCandidates adds the pending candidates that match the current remote
// description; the others wait (they may belong to an ICE restart whose
// offer has not arrived yet).
func (p *Participant) flushCandidates() error {
	rd := p.pc.RemoteDescription()
	if rd == nil {
		return nil
	}
	ufrag := iceUfrag(rd.SDP)
	var firstErr error
	kept := p.candidates[:0]
	for _, c := range p.candidates {
		if c.UsernameFragment != nil && *c.UsernameFragment != "" && *c.UsernameFragment != ufrag {
			kept = append(kept, c)
			continue
		}
		if err := p.pc.AddICECandidate(c); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("add ICE candidate: %w", err)
		}
	}
	p.candidates = kept
	return firstErr
}

// iceUfrag returns the first a=ice-ufrag value of an SDP.
func iceUfrag(sdp string) string {
	const key = "a=ice-ufrag:"
	i := strings.Index(sdp, key)
	if i < 0 {
		return ""
	}
	v := sdp[i+len(key):]
	if j := strings.IndexAny(v, "\r\n"); j >= 0 {
		v = v[:j]
	}
	return v
}

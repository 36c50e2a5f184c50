package sfu

import (
	"balcao/internal/mailbox"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// rembInterval is how often each publisher is sent its bitrate cap.
const rembInterval = time.Second

// ParticipantInfo identifies a participant. ID must be unique in the room:
// joining with an ID already present replaces that participant (a reload).
type ParticipantInfo struct {
	ID      string
	Role    string  // "agent", "citizen", "interpreter"...
	Profile Profile // zero means ProfileNormal
}

// Room is one call. One goroutine owns its participants and tracks; the
// methods of Room and Participant send it messages.
type Room struct {
	id  string
	sfu *SFU
	log *slog.Logger

	// Guarded by sfu.mu.
	members int  // participants joined or joining
	started bool // the loop goroutine was started
	dead    bool // removed from the SFU; Join goes to a new Room

	inbox *mailbox.Mailbox
	done  chan struct{} // closed when the loop has exited

	// Owned by the loop goroutine.
	participants []*Participant
	stopping     bool
}

func newRoom(s *SFU, id string) *Room {
	return &Room{
		id:    id,
		sfu:   s,
		log:   s.log.With("room", id),
		inbox: mailbox.New(),
		done:  make(chan struct{}),
	}
}

// ID returns the room's id.
func (r *Room) ID() string { return r.id }

// Join adds a participant and creates its PeerConnection. The client then
// makes the first offer, with what it publishes ([Participant.HandleOffer]);
// once that is answered the server offers the others' tracks on its own
// ([Signaler.SendOffer]).
func (r *Room) Join(info ParticipantInfo, sig Signaler) (*Participant, error) {
	if info.ID == "" {
		return nil, errors.New("sfu: join: empty participant id")
	}
	if info.Profile == (Profile{}) {
		info.Profile = ProfileNormal
	}
	s := r.sfu
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if r.dead {
		s.mu.Unlock()
		return s.Room(r.id).Join(info, sig)
	}
	r.members++
	if !r.started {
		r.started = true
		s.closeWG.Add(1)
		go r.loop()
	}
	s.mu.Unlock()

	p, err := newParticipant(r, info, sig)
	if err != nil {
		r.release()
		return nil, fmt.Errorf("join room %s: %w", r.id, err)
	}
	if err := r.call(func() error { r.add(p); return nil }); err != nil {
		s.closeLater(p.pc, p.log)
		return nil, err
	}
	return p, nil
}

// release drops one member; the last one out removes the room.
func (r *Room) release() {
	s := r.sfu
	s.mu.Lock()
	defer s.mu.Unlock()
	r.members--
	if r.members > 0 {
		return
	}
	r.dead = true
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	r.post(func() { r.stopping = true })
}

// shutdown closes every PeerConnection and stops the loop (SFU.Close).
func (r *Room) shutdown() {
	r.post(func() {
		for _, p := range append([]*Participant(nil), r.participants...) {
			r.remove(p, false)
		}
		r.stopping = true
	})
}

// post queues fn for the room goroutine. It never blocks; it reports false
// if the room has stopped.
func (r *Room) post(fn func()) bool { return r.inbox.Post(fn) }

// call runs fn on the room goroutine and waits for its result.
func (r *Room) call(fn func() error) error {
	res := make(chan error, 1)
	if !r.post(func() { res <- fn() }) {
		return ErrClosed
	}
	select {
	case err := <-res:
		return err
	case <-r.done:
		select {
		case err := <-res:
			return err
		default:
			return ErrClosed
		}
	}
}

func (r *Room) loop() {
	defer r.sfu.closeWG.Done()
	defer close(r.done)
	ticker := time.NewTicker(rembInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.inbox.Wake():
			for _, fn := range r.inbox.Take() {
				fn()
			}
			for _, p := range r.participants {
				p.maybeOffer()
			}
			if r.stopping {
				r.inbox.Close()
				// Run what raced in before the close, then stop.
				for _, fn := range r.inbox.Take() {
					fn()
				}
				return
			}
		case <-ticker.C:
			r.sendREMB()
		}
	}
}

// add puts p in the room: it tells everyone, and subscribes p to every
// published track.
func (r *Room) add(p *Participant) {
	for _, old := range r.participants {
		if old.info.ID == p.info.ID {
			r.log.Info("participant replaced", "participant", p.info.ID)
			r.remove(old, true)
			break
		}
	}
	for _, o := range r.participants {
		o.send(Event{Kind: EventJoined, ParticipantID: p.info.ID, Role: p.info.Role})
		p.send(Event{Kind: EventJoined, ParticipantID: o.info.ID, Role: o.info.Role})
	}
	r.participants = append(r.participants, p)
	for _, o := range r.participants {
		for _, ft := range o.published {
			if o != p {
				r.subscribe(p, ft)
			}
		}
	}
	r.log.Info("participant joined", "participant", p.info.ID, "role", p.info.Role, "participants", len(r.participants))
}

// remove takes p out of the room, unsubscribes the others from its tracks
// and closes its PeerConnection. release says whether p's membership ends
// here (false only when the whole SFU shuts down).
func (r *Room) remove(p *Participant, release bool) {
	i := indexOf(r.participants, p)
	if i < 0 {
		return
	}
	r.participants = append(r.participants[:i], r.participants[i+1:]...)
	p.left = true
	for _, ft := range p.published {
		r.unpublish(ft)
	}
	p.published = nil
	for _, o := range r.participants {
		o.send(Event{Kind: EventLeft, ParticipantID: p.info.ID, Role: p.info.Role})
	}
	r.sfu.closeLater(p.pc, p.log)
	close(p.gone)
	r.log.Info("participant left", "participant", p.info.ID, "participants", len(r.participants))
	if release {
		r.release()
	}
}

// publish starts forwarding a track p publishes.
func (r *Room) publish(p *Participant, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	if p.left {
		return
	}
	source := p.sourceOf(remote, receiver)
	id := string(source)
	for n := 2; p.hasTrackID(id); n++ {
		id = fmt.Sprintf("%s-%d", source, n)
	}
	ft := newForwardTrack(p, remote, receiver, source, id)
	p.published = append(p.published, ft)
	go ft.readLoop()
	go drainReceiverRTCP(receiver)
	for _, o := range r.participants {
		if o != p {
			r.subscribe(o, ft)
		}
	}
	p.log.Info("track published", "track", id, "codec", ft.codec.MimeType, "ssrc", ft.ssrc)
}

// trackEnded is called when a publisher's track stops (removed by
// renegotiation or the PeerConnection closed).
func (r *Room) trackEnded(ft *forwardTrack) {
	p := ft.pub
	i := indexOf(p.published, ft)
	if i < 0 {
		return
	}
	p.published = append(p.published[:i], p.published[i+1:]...)
	r.unpublish(ft)
	p.log.Info("track ended", "track", ft.id)
}

// unpublish removes ft from every subscriber.
func (r *Room) unpublish(ft *forwardTrack) {
	for _, o := range r.participants {
		o.unsubscribe(ft)
	}
}

// subscribe adds ft to sub's PeerConnection; the next offer carries it.
func (r *Room) subscribe(sub *Participant, ft *forwardTrack) {
	if err := sub.subscribe(ft); err != nil {
		sub.log.Warn("subscribe", "track", ft.id, "publisher", ft.pub.info.ID, "err", err)
	}
}

// sendREMB sends each publisher the bitrate its video may use: the lowest of
// its own profile and, for each participant receiving it, that participant's
// profile and its share of the last REMB it sent.
func (r *Room) sendREMB() {
	for _, pub := range r.participants {
		var ssrcs []uint32
		for _, ft := range pub.published {
			if ft.kind == webrtc.RTPCodecTypeVideo {
				ssrcs = append(ssrcs, ft.ssrc)
			}
		}
		if len(ssrcs) == 0 {
			continue
		}
		perTrack := uint64(max(pub.info.Profile.MaxVideoBitrate, 0))
		for _, sub := range r.participants {
			if sub == pub {
				continue
			}
			c := uint64(max(sub.info.Profile.MaxVideoBitrate, 0))
			if remb, n := sub.remb.Load(), sub.videoSubscriptions(); remb > 0 && n > 0 {
				c = minNonZero(c, remb/uint64(n))
			}
			perTrack = minNonZero(perTrack, c)
		}
		if perTrack == 0 {
			continue
		}
		pkt := &rtcp.ReceiverEstimatedMaximumBitrate{
			Bitrate: float32(perTrack * uint64(len(ssrcs))),
			SSRCs:   ssrcs,
		}
		if err := pub.pc.WriteRTCP([]rtcp.Packet{pkt}); err != nil {
			pub.log.Debug("send REMB", "err", err)
		}
	}
}

func minNonZero(a, b uint64) uint64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	default:
		return min(a, b)
	}
}

func indexOf[T comparable](s []T, v T) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

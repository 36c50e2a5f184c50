package sfu

import "time"

// Stats is a participant's call quality, for the agent's live panel.
type Stats struct {
	ParticipantID string `json:"participantId"`
	// State is the PeerConnection state ("connected", "disconnected"...).
	State string `json:"state"`
	// RTT is the last round-trip time computed from the participant's
	// receiver reports (RFC 3550 §6.4.1); 0 until it has received media.
	RTT time.Duration `json:"rtt"`
	// EstimatedBitrate is the last REMB the participant sent, bit/s; 0 if none.
	EstimatedBitrate uint64 `json:"estimatedBitrate"`
	// Published are the tracks the server receives from the participant.
	Published []TrackStats `json:"published"`
	// Received are the tracks the server forwards to the participant.
	Received []TrackStats `json:"received"`
}

// TrackStats counts one track in one direction.
type TrackStats struct {
	ParticipantID string `json:"participantId"` // the publisher
	Source        Source `json:"source"`
	Kind          string `json:"kind"`
	Packets       uint64 `json:"packets"`
	Bytes         uint64 `json:"bytes"`
	// PacketsLost: for a published track, the gaps in the sequence numbers
	// that reached the server; for a received track, the cumulative loss the
	// participant reported.
	PacketsLost int64 `json:"packetsLost"`
	// FractionLost is the loss in the participant's last receiver report,
	// 0 to 1 (received tracks only).
	FractionLost float64 `json:"fractionLost"`
	// Jitter is the interarrival jitter in the last receiver report
	// (received tracks only).
	Jitter time.Duration `json:"jitter"`
	// KeyframeRequests counts the PLIs the server sent the publisher
	// (published video only).
	KeyframeRequests uint64 `json:"keyframeRequests"`
}

// Stats returns the participant's counters.
func (p *Participant) Stats() (Stats, error) {
	var st Stats
	err := p.room.call(func() error {
		st = p.stats()
		return nil
	})
	return st, err
}

func (p *Participant) stats() Stats {
	st := Stats{
		ParticipantID:    p.info.ID,
		State:            p.pc.ConnectionState().String(),
		RTT:              time.Duration(p.rtt.Load()),
		EstimatedBitrate: p.remb.Load(),
	}
	for _, ft := range p.published {
		st.Published = append(st.Published, TrackStats{
			ParticipantID:    p.info.ID,
			Source:           ft.source,
			Kind:             ft.kind.String(),
			Packets:          ft.packets.Load(),
			Bytes:            ft.bytes.Load(),
			PacketsLost:      ft.lost.Load(),
			KeyframeRequests: ft.keyframeReqs.Load(),
		})
	}
	for _, s := range p.subs {
		ts := TrackStats{
			ParticipantID: s.track.pub.info.ID,
			Source:        s.track.source,
			Kind:          s.track.kind.String(),
			PacketsLost:   s.totalLost.Load(),
			FractionLost:  float64(s.fractionLost.Load()) / 256,
		}
		if b := s.track.binding(s.ssrc); b != nil {
			ts.Packets, ts.Bytes = b.packets.Load(), b.bytes.Load()
		}
		if rate := s.track.codec.ClockRate; rate > 0 {
			ts.Jitter = time.Duration(uint64(s.jitter.Load()) * uint64(time.Second) / uint64(rate))
		}
		st.Received = append(st.Received, ts)
	}
	return st
}

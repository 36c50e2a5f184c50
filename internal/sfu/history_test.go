package sfu

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// recordingWriter is a subscriber's end of a binding that keeps what is written.
type recordingWriter struct{ pkts []rtp.Packet }

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.pkts = append(w.pkts, rtp.Packet{Header: *h, Payload: bytes.Clone(payload)})
	return len(payload), nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

// arrive puts a publisher's packet in the history as the read loop does.
func arrive(t *testing.T, h *history, seq uint16, at time.Time) {
	t.Helper()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: 1}, Payload: []byte{byte(seq), byte(seq >> 8), 0xAB}}
	n, err := pkt.MarshalTo(h.slot())
	if err != nil {
		t.Fatal(err)
	}
	h.commit(n, seq, at.UnixNano())
}

func nackFor(seqs ...uint16) *rtcp.TransportLayerNack {
	return &rtcp.TransportLayerNack{MediaSSRC: 7, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
}

func resentSeqs(w *recordingWriter) []uint16 {
	var out []uint16
	for _, p := range w.pkts {
		out = append(out, p.SequenceNumber)
	}
	w.pkts = nil
	return out
}

// TestHistoryResend: a subscriber's NACK is answered from the track's history with
// the packets it still has, arrived less than maxResendAge ago, rewritten for the
// subscriber; a packet resent within the round trip is not resent again.
func TestHistoryResend(t *testing.T) {
	ft := &forwardTrack{history: newHistory()}
	w := &recordingWriter{}
	b := &binding{ssrc: 7, payloadType: 100, w: w}
	var r resender
	now := time.Now()

	// Packets 10..20 arrive, without 15; 11 arrived long ago.
	for seq := uint16(10); seq <= 20; seq++ {
		switch seq {
		case 11:
			arrive(t, ft.history, seq, now.Add(-2*maxResendAge))
		case 15:
		default:
			arrive(t, ft.history, seq, now)
		}
	}
	r.resend(ft, b, nackFor(11, 12, 15, 19, 500), 100*time.Millisecond)
	if len(w.pkts) != 2 {
		t.Fatalf("resent %v, want 12 and 19", resentSeqs(w))
	}
	p := w.pkts[0]
	if p.SequenceNumber != 12 || p.SSRC != 7 || p.PayloadType != 100 || !bytes.Equal(p.Payload, []byte{12, 0, 0xAB}) {
		t.Errorf("resent %+v, want packet 12 on SSRC 7, payload type 100", p)
	}
	if got := resentSeqs(w); !slices.Equal(got, []uint16{12, 19}) {
		t.Errorf("resent %v, want [12 19]", got)
	}

	// Asked again within the round trip: not resent; later, resent.
	r.resend(ft, b, nackFor(12), 100*time.Millisecond)
	if got := resentSeqs(w); len(got) != 0 {
		t.Errorf("resent %v again within the round trip", got)
	}
	r.at[12%64] -= int64(time.Second)
	r.resend(ft, b, nackFor(12), 100*time.Millisecond)
	if got := resentSeqs(w); !slices.Equal(got, []uint16{12}) {
		t.Errorf("resent %v after the round trip, want [12]", got)
	}

	// 15 arrives late, out of order; then the history wraps and forgets the oldest.
	arrive(t, ft.history, 15, now)
	r.resend(ft, b, nackFor(15), 0)
	if got := resentSeqs(w); !slices.Equal(got, []uint16{15}) {
		t.Errorf("resent %v, want the late packet 15", got)
	}
	for seq := uint16(21); seq < 21+historySize; seq++ {
		arrive(t, ft.history, seq, now)
	}
	r.resend(ft, b, nackFor(19, 20+historySize), 0)
	if got := resentSeqs(w); !slices.Equal(got, []uint16{20 + historySize}) {
		t.Errorf("resent %v after wrapping, want only [%d]", got, 20+historySize)
	}

	// Audio keeps no history.
	r.resend(&forwardTrack{}, b, nackFor(20+historySize), 0)
	if got := resentSeqs(w); len(got) != 0 {
		t.Errorf("resent %v for a track without history", got)
	}
}

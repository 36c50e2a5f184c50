package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// historySize is how many of a video track's last packets are kept for
// retransmission: more than maxResendAge of video at the profiles' highest
// bitrate (1.2 Mbit/s is about 140 packets a second).
const historySize = 256

// maxPacket is the largest packet kept: an Ethernet MTU.
const maxPacket = 1500

// maxResendAge is the oldest packet worth resending: a frame this late is of no use.
const maxResendAge = time.Second

// history keeps a video track's last packets as they came from the publisher,
// to answer the subscribers' NACKs (RFC 4585 §6.2.1). One copy serves every
// subscriber, and it costs no copy at all: the read loop reads each packet
// straight into the slot that keeps it. (Pion's NACK responder copies every
// packet again for every subscriber, under a lock of its own.)
type history struct {
	buf []byte // historySize slots of maxPacket bytes

	mu    sync.Mutex
	slots [historySize]histSlot
	next  int // the slot the read loop reads into; always empty
}

type histSlot struct {
	n   int // bytes; 0 if empty
	seq uint16
	at  int64 // arrival, unix nanoseconds
}

func newHistory() *history {
	return &history{buf: make([]byte, historySize*maxPacket)}
}

// slot returns the buffer the next packet is to be read into. Only the read
// loop calls it, and commit.
func (h *history) slot() []byte {
	return h.buf[h.next*maxPacket : (h.next+1)*maxPacket]
}

// commit keeps the n bytes just read into slot() as packet seq, and empties the
// slot the next packet goes to.
func (h *history) commit(n int, seq uint16, at int64) {
	h.mu.Lock()
	h.slots[h.next] = histSlot{n: n, seq: seq, at: at}
	h.next = (h.next + 1) % historySize
	h.slots[h.next].n = 0
	h.mu.Unlock()
}

// get copies packet seq into dst and returns its length, or 0 if it is not
// kept or arrived before notBefore (unix nanoseconds).
func (h *history) get(seq uint16, notBefore int64, dst []byte) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	last := (h.next + historySize - 1) % historySize
	i := -1
	// Packets mostly arrive in order, one slot per number.
	if back := int(h.slots[last].seq - seq); h.slots[last].n > 0 && back < historySize {
		if j := (last - back + historySize) % historySize; h.slots[j].n > 0 && h.slots[j].seq == seq {
			i = j
		}
	}
	if i < 0 { // lost or reordered on the way in
		for j := range h.slots {
			if h.slots[j].n > 0 && h.slots[j].seq == seq {
				i = j
				break
			}
		}
	}
	if i < 0 || h.slots[i].at < notBefore {
		return 0
	}
	return copy(dst, h.buf[i*maxPacket:i*maxPacket+h.slots[i].n])
}

// resender answers one subscriber's NACKs for one track. It belongs to the
// subscription's RTCP loop.
type resender struct {
	buf []byte
	seq [64]uint16 // last packets resent, by sequence number modulo 64
	at  [64]int64
}

// resend sends again the packets nack asks for that the track still has,
// arrived less than maxResendAge ago, and were not resent within the last
// round trip (rtt, plus 5 ms): a second request that soon crossed the first
// resend on its way.
func (r *resender) resend(ft *forwardTrack, b *binding, nack *rtcp.TransportLayerNack, rtt time.Duration) {
	h := ft.history
	if h == nil || b == nil {
		return
	}
	if r.buf == nil {
		r.buf = make([]byte, maxPacket)
	}
	now := time.Now().UnixNano()
	gap := int64(rtt + 5*time.Millisecond)
	for i := range nack.Nacks {
		nack.Nacks[i].Range(func(seq uint16) bool {
			k := seq % uint16(len(r.seq))
			if r.at[k] != 0 && r.seq[k] == seq && now-r.at[k] < gap {
				return true
			}
			n := h.get(seq, now-int64(maxResendAge), r.buf)
			var pkt rtp.Packet
			if n == 0 || pkt.Unmarshal(r.buf[:n]) != nil {
				return true
			}
			var hdr rtp.Header
			outHeader(&hdr, &pkt, b)
			if _, err := b.w.WriteRTP(&hdr, pkt.Payload); err == nil {
				r.seq[k], r.at[k] = seq, now
			}
			return true
		})
	}
}

package sfu

import (
	"encoding/binary"
	"slices"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// Retransmissions (NACK, RFC 4585 §6.2.1) repair random loss; after an outage they
// do harm: the packets lost meanwhile belong to frames nobody will show, and
// resending them delays and confuses the receivers' jitter buffers while everyone
// waits for the keyframe that starts the picture again. Reported as lost in
// transport-wide feedback, the same packets make the publisher's congestion control
// fall to a few kbit/s, as if the network were congested, and that keyframe then
// takes seconds to arrive. nackFilter, one per PeerConnection, keeps an outage (a
// jump of more than outageGap in a publisher's sequence numbers) from doing either
// towards a publisher: the NACK generator's requests lose every packet from before
// an outage, and a transport-wide feedback that starts with more than outageGap lost
// packets is not sent. (Towards subscribers, packets that arrived more than
// maxResendAge ago are not resent: see [history].)
type nackFilter struct {
	interceptor.NoOp

	mu sync.Mutex
	in map[uint32]*inStream // publisher's streams, by media SSRC
}

type inStream struct {
	started        bool
	highest, floor uint16 // nothing before floor is asked for again
}

type nackFilterFactory struct{}

// NewInterceptor implements interceptor.Factory.
func (nackFilterFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &nackFilter{in: map[uint32]*inStream{}}, nil
}

// BindRemoteStream follows the sequence numbers of a stream the participant publishes.
func (f *nackFilter) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	f.mu.Lock()
	st := &inStream{}
	f.in[info.SSRC] = st
	f.mu.Unlock()
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err == nil && n >= 4 {
			seq := binary.BigEndian.Uint16(b[2:4])
			f.mu.Lock()
			switch {
			case !st.started:
				st.started, st.highest, st.floor = true, seq, seq
			case outage(st.highest, seq):
				st.highest, st.floor = seq, seq
			case int16(seq-st.highest) > 0:
				st.highest = seq
			}
			f.mu.Unlock()
		}
		return n, a, err
	})
}

// UnbindRemoteStream implements interceptor.Interceptor.
func (f *nackFilter) UnbindRemoteStream(info *interceptor.StreamInfo) {
	f.mu.Lock()
	delete(f.in, info.SSRC)
	f.mu.Unlock()
}

// BindRTCPWriter removes from outgoing NACKs what was lost before an outage, and
// drops the transport-wide feedback that would report an outage's packets as lost.
// The NACK generator and the TWCC feedback interceptor must come after this one in
// the registry, so that they write through it.
func (f *nackFilter) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		if !slices.ContainsFunc(pkts, func(p rtcp.Packet) bool {
			switch p.(type) {
			case *rtcp.TransportLayerNack, *rtcp.TransportLayerCC:
				return true
			}
			return false
		}) {
			return writer.Write(pkts, a)
		}
		out := make([]rtcp.Packet, 0, len(pkts))
		for _, p := range pkts {
			if cc, ok := p.(*rtcp.TransportLayerCC); ok && leadingLost(cc) > outageGap {
				// An outage is no congestion: reported as loss, it would make the
				// publisher's congestion control drop to a trickle just when it has
				// a keyframe to send. Its packets stay unreported instead.
				continue
			}
			if nack, ok := p.(*rtcp.TransportLayerNack); ok {
				f.mu.Lock()
				st := f.in[nack.MediaSSRC]
				keep := func(seq uint16) bool { return st == nil || int16(seq-st.floor) >= 0 }
				nack = &rtcp.TransportLayerNack{SenderSSRC: nack.SenderSSRC, MediaSSRC: nack.MediaSSRC, Nacks: filterNacks(nack.Nacks, keep)}
				f.mu.Unlock()
				if len(nack.Nacks) == 0 {
					continue
				}
				p = nack
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return 0, nil
		}
		return writer.Write(out, a)
	})
}

// leadingLost counts the packets a transport-wide feedback (draft-holmer-rmcat-
// transport-wide-cc-extensions-01 §3.1) reports as not received before the first one
// received.
func leadingLost(cc *rtcp.TransportLayerCC) int {
	n := 0
	for _, c := range cc.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			if c.PacketStatusSymbol != rtcp.TypeTCCPacketNotReceived {
				return n
			}
			n += int(c.RunLength)
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if sym != rtcp.TypeTCCPacketNotReceived {
					return n
				}
				n++
			}
		default:
			return n
		}
	}
	return n
}

// filterNacks returns the NACK pairs for the sequence numbers of pairs that keep
// accepts.
func filterNacks(pairs []rtcp.NackPair, keep func(uint16) bool) []rtcp.NackPair {
	var seqs []uint16
	dropped := false
	for i := range pairs {
		for _, seq := range pairs[i].PacketList() {
			if keep(seq) {
				seqs = append(seqs, seq)
			} else {
				dropped = true
			}
		}
	}
	if !dropped {
		return pairs
	}
	if len(seqs) == 0 {
		return nil
	}
	return rtcp.NackPairsFromSequenceNumbers(seqs)
}

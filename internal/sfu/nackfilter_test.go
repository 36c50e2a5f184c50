package sfu

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// TestNackFilterAfterAnOutage: once a publisher's sequence numbers jump (an outage),
// the server asks again only for packets after the jump, and sends no transport-wide
// feedback that starts with the outage's packets.
func TestNackFilterAfterAnOutage(t *testing.T) {
	i, _ := nackFilterFactory{}.NewInterceptor("")
	f := i.(*nackFilter)
	const ssrc = 1234

	// The publisher's packets: 1..10, then, after an outage, 300..305.
	var seqs []uint16
	for s := uint16(1); s <= 10; s++ {
		seqs = append(seqs, s)
	}
	for s := uint16(300); s <= 305; s++ {
		seqs = append(seqs, s)
	}
	next := 0
	reader := f.BindRemoteStream(&interceptor.StreamInfo{SSRC: ssrc}, interceptor.RTPReaderFunc(
		func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
			binary.BigEndian.PutUint16(b[2:4], seqs[next])
			next++
			return 12, a, nil
		}))
	buf := make([]byte, 1500)
	var written []rtcp.Packet
	writer := f.BindRTCPWriter(interceptor.RTCPWriterFunc(func(p []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		written = append(written, p...)
		return 0, nil
	}))
	nacked := func() []uint16 {
		var out []uint16
		for _, p := range written {
			if n, ok := p.(*rtcp.TransportLayerNack); ok {
				for _, pair := range n.Nacks {
					out = append(out, pair.PacketList()...)
				}
			}
		}
		written = nil
		return out
	}
	for range 10 {
		reader.Read(buf, nil)
	}
	writer.Write([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{4, 7})}}, nil)
	if got := nacked(); !slices.Equal(got, []uint16{4, 7}) {
		t.Errorf("before the outage the server asks for %v, want [4 7]", got)
	}
	for range 6 {
		reader.Read(buf, nil)
	}
	writer.Write([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{9, 150, 299, 302})}}, nil)
	if got := nacked(); !slices.Equal(got, []uint16{302}) {
		t.Errorf("after the outage the server asks for %v, want only [302]", got)
	}
	writer.Write([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{150})}}, nil)
	if len(written) != 0 {
		t.Errorf("a NACK for the outage alone was sent: %v", written)
	}

	// Transport-wide feedback: one that starts with the outage's packets is not sent.
	outage := &rtcp.TransportLayerCC{PacketChunks: []rtcp.PacketStatusChunk{
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 200},
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 5},
	}}
	lossy := &rtcp.TransportLayerCC{PacketChunks: []rtcp.PacketStatusChunk{
		&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: []uint16{
			rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketNotReceived, rtcp.TypeTCCPacketReceivedSmallDelta}},
	}}
	writer.Write([]rtcp.Packet{outage, lossy, &rtcp.PictureLossIndication{MediaSSRC: ssrc}}, nil)
	if len(written) != 2 || written[0] != lossy {
		t.Errorf("feedback written: %v; want the lossy one and the PLI, not the outage's", written)
	}
	if n := leadingLost(outage); n != 200 {
		t.Errorf("leadingLost = %d, want 200", n)
	}
}

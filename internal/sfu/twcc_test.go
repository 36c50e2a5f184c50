package sfu

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"balcao/internal/pionlog"
)

// TestTWCCFeedback: the packets of a stream with transport-wide sequence numbers
// are reported in the next feedback, the missing one as not received; a stream
// without them is left alone.
func TestTWCCFeedback(t *testing.T) {
	i, err := twccFeedbackFactory{pionlog.Factory(slog.New(slog.DiscardHandler))}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	var mu sync.Mutex
	var feedback []*rtcp.TransportLayerCC
	i.BindRTCPWriter(interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pkts {
			if cc, ok := p.(*rtcp.TransportLayerCC); ok {
				feedback = append(feedback, cc)
			}
		}
		return 0, nil
	}))

	const extID = 5
	// Transport-wide numbers 100..109, without 105.
	var sent []uint16
	for seq := uint16(100); seq < 110; seq++ {
		if seq != 105 {
			sent = append(sent, seq)
		}
	}
	next := 0
	source := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		h := rtp.Header{Version: 2, SSRC: 77, SequenceNumber: uint16(next)}
		ext, _ := (&rtp.TransportCCExtension{TransportSequence: sent[next]}).Marshal()
		if err := h.SetExtension(extID, ext); err != nil {
			t.Fatal(err)
		}
		next++
		n, err := h.MarshalTo(b)
		return n, a, err
	})
	withTWCC := &interceptor.StreamInfo{SSRC: 77, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: extID}}}
	i.BindRemoteStream(&interceptor.StreamInfo{SSRC: 78}, source)
	if i.(*twccFeedback).running {
		t.Error("feedback started for a stream without transport-wide numbers")
	}
	r := i.BindRemoteStream(withTWCC, source)
	buf := make([]byte, 1500)
	for range sent {
		if _, _, err := r.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}

	deadline := time.Now().Add(3 * time.Second)
	for {
		mu.Lock()
		got := append([]*rtcp.TransportLayerCC(nil), feedback...)
		mu.Unlock()
		if len(got) > 0 {
			cc := got[0]
			if cc.MediaSSRC != 77 || cc.BaseSequenceNumber != 100 || cc.PacketStatusCount != 10 {
				t.Fatalf("feedback for SSRC %d from %d, %d packets; want 77 from 100, 10 packets", cc.MediaSSRC, cc.BaseSequenceNumber, cc.PacketStatusCount)
			}
			if len(cc.RecvDeltas) != len(sent) {
				t.Errorf("feedback reports %d packets received, want %d", len(cc.RecvDeltas), len(sent))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no transport-wide feedback after 3 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

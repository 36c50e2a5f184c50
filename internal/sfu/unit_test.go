package sfu

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

const sampleSDP = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:2000\r\na=mid:1\r\n" +
	"a=rtpmap:96 VP8/90000\r\n"

func TestApplyProfile(t *testing.T) {
	tests := []struct {
		name    string
		profile Profile
		want    []string
		notWant []string
	}{
		{
			name:    "low bandwidth",
			profile: ProfileLowBandwidth,
			want: []string{
				"a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=24000\r\n",
				"c=IN IP4 0.0.0.0\r\nb=AS:24\r\nb=TIAS:24000\r\na=mid:0",
				"c=IN IP4 0.0.0.0\r\nb=AS:300\r\nb=TIAS:300000\r\na=mid:1",
			},
			notWant: []string{"b=AS:2000"},
		},
		{
			name:    "no caps",
			profile: Profile{},
			want:    []string{"b=AS:2000\r\n", "a=fmtp:111 minptime=10;useinbandfec=1\r\n"},
			notWant: []string{"TIAS", "maxaveragebitrate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := applyProfile(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sampleSDP}, tt.profile)
			if got.Type != webrtc.SDPTypeAnswer {
				t.Errorf("type = %s", got.Type)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.SDP, w) {
					t.Errorf("SDP lacks %q:\n%s", w, got.SDP)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.SDP, w) {
					t.Errorf("SDP has %q:\n%s", w, got.SDP)
				}
			}
		})
	}
}

func TestSeqTrackerLoss(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		want int64
	}{
		{"in order", []uint16{1, 2, 3, 4}, 0},
		{"gap", []uint16{1, 2, 5, 6}, 2},
		{"reordered", []uint16{1, 3, 2, 4}, 0},
		{"wraparound", []uint16{65534, 65535, 0, 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqTracker
			var lost int64
			for _, q := range tt.seqs {
				lost, _ = s.update(q)
			}
			if lost != tt.want {
				t.Errorf("lost = %d, want %d", lost, tt.want)
			}
		})
	}
}

func TestOutage(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		want []bool // outage at each packet after the first
	}{
		{"in order", []uint16{1, 2, 3}, []bool{false, false}},
		{"random loss", []uint16{1, 2, 20, 21}, []bool{false, false, false}},
		{"an outage", []uint16{1, 2, 200, 201}, []bool{false, true, false}},
		{"across the wrap", []uint16{65530, 100}, []bool{true}},
		{"a late retransmission is no outage", []uint16{500, 501, 300, 502}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqTracker
			s.update(tt.seqs[0])
			for i, q := range tt.seqs[1:] {
				if got := outage(s.highest, q); got != tt.want[i] {
					t.Errorf("packet %d (%d after highest %d): outage = %v, want %v", i+1, q, s.highest, got, tt.want[i])
				}
				s.update(q)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	sent := now.Add(-150 * time.Millisecond)
	dlsr := uint32(100 * 65536 / 1000) // the receiver held the report 100 ms
	rtt, ok := roundTrip(now, ntpMiddle(sent), dlsr)
	if !ok || rtt < 49*time.Millisecond || rtt > 51*time.Millisecond {
		t.Errorf("roundTrip = %v, %v; want 50ms", rtt, ok)
	}
	if _, ok := roundTrip(now, 0, 0); ok {
		t.Error("roundTrip with no sender report is ok")
	}
}

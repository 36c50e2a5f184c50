package call

import (
	"math"
	"time"
)

// minQualityInterval is the least time between two quality reports a connection may
// send; the page sends one every 2 s.
const minQualityInterval = time.Second

// Quality is a participant's call quality as its browser measures it from
// RTCPeerConnection.getStats() (https://w3c.github.io/webrtc-stats/) over the last
// couple of seconds: the citizen's page sends it and the agent's page shows it next to
// its own, as text.
type Quality struct {
	// RTT is the round trip to the media server, in milliseconds, from the selected
	// ICE candidate pair's currentRoundTripTime.
	RTT float64 `json:"rtt"`
	// LossIn is the share of packets lost on their way to this participant, in
	// percent, from inbound-rtp packetsLost and packetsReceived.
	LossIn float64 `json:"lossIn"`
	// LossOut is the share lost on the way from this participant to the server, in
	// percent, from remote-inbound-rtp fractionLost (the server's receiver reports).
	LossOut float64 `json:"lossOut"`
	// KbpsIn and KbpsOut are the bitrates received and sent, in kbit/s.
	KbpsIn  float64 `json:"kbpsIn"`
	KbpsOut float64 `json:"kbpsOut"`
	// FPS is the frame rate of the best video received.
	FPS float64 `json:"fps"`
}

// clean bounds every figure, so that the agent's page only ever gets plausible
// numbers whatever a page sends.
func (q Quality) clean() Quality {
	bound := func(v, hi float64) float64 {
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		return math.Round(min(v, hi)*10) / 10
	}
	return Quality{RTT: bound(q.RTT, 60_000), LossIn: bound(q.LossIn, 100), LossOut: bound(q.LossOut, 100),
		KbpsIn: bound(q.KbpsIn, 1e6), KbpsOut: bound(q.KbpsOut, 1e6), FPS: bound(q.FPS, 240)}
}

package sfu

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Profile caps what a participant sends, in bit/s per track; 0 means no cap.
//
// The SFU cannot transcode, so a cap works at the source:
//   - every SDP the server sends to the participant carries b=AS (RFC 4566
//     §5.8, kbit/s, read by Chrome) and b=TIAS (RFC 3890, bit/s, read by
//     Firefox) on its audio and video m-lines, and the Opus fmtp gets
//     maxaveragebitrate (RFC 7587 §6.1);
//   - [Participant.Profile] returns it so the signalling layer can tell the
//     client to call RTCRtpSender.setParameters with maxBitrate;
//   - the REMB the server sends each publisher is capped by the profiles of
//     everyone who receives its video, so a participant on 3G also slows
//     down what the others send to it.
type Profile struct {
	MaxVideoBitrate int `json:"maxVideoBitrate"`
	MaxAudioBitrate int `json:"maxAudioBitrate"`
}

// The profiles.
var (
	// ProfileNormal suits a fixed or 4G connection: 640x480 at about 25 fps.
	ProfileNormal = Profile{MaxVideoBitrate: 1_200_000, MaxAudioBitrate: 48_000}
	// ProfileLowBandwidth suits 3G: small video, Opus at 24 kbit/s.
	ProfileLowBandwidth = Profile{MaxVideoBitrate: 300_000, MaxAudioBitrate: 24_000}
)

// applyProfile returns desc with the profile's bandwidth lines added. It
// returns desc unchanged if the profile has no caps or the SDP does not parse.
func applyProfile(desc webrtc.SessionDescription, prof Profile) webrtc.SessionDescription {
	if prof.MaxVideoBitrate <= 0 && prof.MaxAudioBitrate <= 0 {
		return desc
	}
	var s sdp.SessionDescription
	if err := s.UnmarshalString(desc.SDP); err != nil {
		return desc
	}
	for _, m := range s.MediaDescriptions {
		var bps int
		switch m.MediaName.Media {
		case "audio":
			bps = prof.MaxAudioBitrate
		case "video":
			bps = prof.MaxVideoBitrate
		}
		if bps <= 0 {
			continue
		}
		bw := m.Bandwidth[:0]
		for _, b := range m.Bandwidth {
			if b.Type != "AS" && b.Type != "TIAS" {
				bw = append(bw, b)
			}
		}
		m.Bandwidth = append(bw,
			sdp.Bandwidth{Type: "AS", Bandwidth: uint64((bps + 999) / 1000)},
			sdp.Bandwidth{Type: "TIAS", Bandwidth: uint64(bps)})
		if m.MediaName.Media == "audio" {
			capOpus(m, bps)
		}
	}
	out, err := s.Marshal()
	if err != nil {
		return desc
	}
	return webrtc.SessionDescription{Type: desc.Type, SDP: string(out)}
}

// capOpus sets maxaveragebitrate on the Opus fmtp lines of m.
func capOpus(m *sdp.MediaDescription, bps int) {
	opus := map[string]bool{}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, codec, ok := strings.Cut(a.Value, " ")
		if ok && strings.HasPrefix(strings.ToLower(codec), "opus/") {
			opus[pt] = true
		}
	}
	for i, a := range m.Attributes {
		if a.Key != "fmtp" {
			continue
		}
		pt, params, _ := strings.Cut(a.Value, " ")
		if !opus[pt] {
			continue
		}
		var kept []string
		for _, p := range strings.Split(params, ";") {
			if p != "" && !strings.HasPrefix(strings.TrimSpace(p), "maxaveragebitrate=") {
				kept = append(kept, p)
			}
		}
		kept = append(kept, "maxaveragebitrate="+strconv.Itoa(bps))
		m.Attributes[i].Value = pt + " " + strings.Join(kept, ";")
	}
}

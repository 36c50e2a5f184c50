package sfu

import "github.com/pion/webrtc/v4"

// Signaler carries the SFU's messages to one participant's client. The
// signalling layer implements it, typically over that client's WebSocket.
//
// The methods are called from the room's goroutine, one at a time and in the
// order the client must see them (an offer or answer before the candidates
// gathered for it). They must not block for long and must not call back into
// the Participant synchronously: queue the message, as a WebSocket writer does.
// An error is logged and otherwise ignored; the signalling layer decides
// whether a broken channel means the participant has left.
type Signaler interface {
	// SendOffer sends a server-led offer; the client answers with
	// [Participant.HandleAnswer].
	SendOffer(offer webrtc.SessionDescription) error
	// SendAnswer sends the answer to an offer from [Participant.HandleOffer].
	SendAnswer(answer webrtc.SessionDescription) error
	// SendCandidate sends one of the server's ICE candidates (trickle ICE).
	SendCandidate(c webrtc.ICECandidateInit) error
	// SendEvent tells the client about the room.
	SendEvent(e Event) error
}

// Source tells what a track carries.
type Source string

// The sources of a participant's tracks.
const (
	SourceAudio  Source = "audio"
	SourceCamera Source = "camera"
	SourceScreen Source = "screen"
)

// EventKind names an [Event].
type EventKind string

// The events sent to participants.
const (
	// EventJoined: another participant is in the room (sent to the newcomer
	// for each participant already there, and to them about the newcomer).
	EventJoined EventKind = "participant-joined"
	// EventLeft: another participant has left; its tracks are being removed.
	EventLeft EventKind = "participant-left"
	// EventTracks: the complete list of tracks forwarded to this participant,
	// by mid. Sent right before each server offer.
	EventTracks EventKind = "tracks"
	// EventConnectionState: this participant's own PeerConnection changed
	// state ("connected", "disconnected", "failed", ...). On "disconnected"
	// or "failed" the client should restart ICE.
	EventConnectionState EventKind = "connection-state"
)

// Event is a room event for one participant's client.
type Event struct {
	Kind EventKind `json:"kind"`
	// ParticipantID and Role name the participant who joined or left.
	ParticipantID string `json:"participantId,omitempty"`
	Role          string `json:"role,omitempty"`
	// Tracks is set for EventTracks.
	Tracks []TrackInfo `json:"tracks,omitempty"`
	// State is set for EventConnectionState.
	State string `json:"state,omitempty"`
}

// TrackInfo describes one track forwarded to a participant. A browser cannot
// read the track id the server put in the SDP (its MediaStreamTrack ids are
// random), so it matches RTCRtpTransceiver.mid against Mid; the stream id is
// ParticipantID.
type TrackInfo struct {
	Mid           string `json:"mid"`
	ParticipantID string `json:"participantId"`
	Source        Source `json:"source"`
	Kind          string `json:"kind"` // "audio" or "video"
}

package sfu_test

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"balcao/internal/sfu"
)

var (
	agentInfo       = sfu.ParticipantInfo{ID: "agent-1", Role: "agent"}
	citizenInfo     = sfu.ParticipantInfo{ID: "citizen-1", Role: "citizen"}
	interpreterInfo = sfu.ParticipantInfo{ID: "interp-1", Role: "interpreter", Profile: sfu.ProfileLowBandwidth}
)

// startCall joins an agent and a citizen who both publish audio and camera,
// and waits until each receives the other.
func startCall(t *testing.T) (*sfu.SFU, *sfu.Room, *client, *client) {
	t.Helper()
	s := newSFU(t)
	api := clientAPI(t)
	room := s.Room("call-1")
	agent := join(t, api, room, agentInfo, false)
	agent.publish("audio", "camera")
	agent.negotiate(nil)
	citizen := join(t, api, room, citizenInfo, false)
	citizen.publish("audio", "camera")
	citizen.negotiate(nil)
	agent.waitReceiving(20, "citizen-1/audio", "citizen-1/camera")
	citizen.waitReceiving(20, "agent-1/audio", "agent-1/camera")
	return s, room, agent, citizen
}

func TestTwoParticipantsExchangeMedia(t *testing.T) {
	_, _, agent, citizen := startCall(t)

	if got := agent.eventsOf(sfu.EventJoined); len(got) != 1 || got[0].ParticipantID != "citizen-1" || got[0].Role != "citizen" {
		t.Errorf("agent's joined events = %+v, want one for citizen-1", got)
	}
	if got := citizen.eventsOf(sfu.EventJoined); len(got) != 1 || got[0].ParticipantID != "agent-1" {
		t.Errorf("citizen's joined events = %+v, want one for agent-1", got)
	}

	// The tracks event names each forwarded m-line, as a browser needs.
	evs := citizen.eventsOf(sfu.EventTracks)
	if len(evs) == 0 {
		t.Fatal("citizen got no tracks event")
	}
	var got []string
	for _, tr := range evs[len(evs)-1].Tracks {
		got = append(got, tr.ParticipantID+"/"+string(tr.Source)+"/"+tr.Kind)
		if tr.Mid == "" {
			t.Errorf("track %+v has no mid", tr)
		}
	}
	slices.Sort(got)
	if want := []string{"agent-1/audio/audio", "agent-1/camera/video"}; !slices.Equal(got, want) {
		t.Errorf("tracks event = %v, want %v", got, want)
	}

	// Stats count what flows and, once the receiver reports are in, the RTT.
	waitFor(t, 5*time.Second, func() error {
		st, err := agent.p.Stats()
		if err != nil {
			return err
		}
		if st.State != "connected" || st.RTT <= 0 || len(st.Published) != 2 || len(st.Received) != 2 {
			return fmt.Errorf("agent stats %+v", st)
		}
		for _, ts := range append(st.Published, st.Received...) {
			if ts.Packets == 0 || ts.Bytes == 0 {
				return fmt.Errorf("no packets in %+v", ts)
			}
		}
		return nil
	})
}

// TestNACKResend: a subscriber's NACK brings the packet again, on the SSRC the
// subscriber receives it on; a NACK for a packet that reached the server more
// than a second ago does not.
func TestNACKResend(t *testing.T) {
	s := newSFU(t)
	// The citizen asks for packets it has: without replay protection it sees the
	// copies (a real receiver asks only for packets it lacks).
	api := clientAPI(t, func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) })
	room := s.Room("call-1")
	agent := join(t, api, room, agentInfo, false)
	agent.publish("audio", "camera")
	agent.negotiate(nil)
	citizen := join(t, api, room, citizenInfo, false)
	citizen.publish("audio")
	citizen.negotiate(nil)
	citizen.waitReceiving(20, "agent-1/camera")

	rt := citizen.track("agent-1", "camera")
	old := rt.latest()
	waitFor(t, 5*time.Second, func() error {
		if rt.latest() == old {
			return errors.New("no new packet")
		}
		return nil
	})
	recent := rt.latest()
	nack := func(seq uint16) {
		t.Helper()
		err := citizen.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: rt.ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{seq})}})
		if err != nil {
			t.Fatal(err)
		}
	}
	nack(recent)
	waitFor(t, 5*time.Second, func() error {
		if n := rt.times(recent); n < 2 {
			return fmt.Errorf("packet %d received %d times", recent, n)
		}
		return nil
	})

	time.Sleep(1200 * time.Millisecond)
	nack(old)
	time.Sleep(500 * time.Millisecond)
	if n := rt.times(old); n != 1 {
		t.Errorf("packet %d, asked for after more than a second, received %d times, want 1", old, n)
	}
}

func TestScreenShareMidCall(t *testing.T) {
	_, _, agent, citizen := startCall(t)

	agent.publish("screen")
	agent.negotiate(nil)
	citizen.waitReceiving(20, "agent-1/screen")
	citizen.waitMore(10, "agent-1/audio", "agent-1/camera")

	evs := citizen.eventsOf(sfu.EventTracks)
	last := evs[len(evs)-1].Tracks
	if !slices.ContainsFunc(last, func(tr sfu.TrackInfo) bool {
		return tr.ParticipantID == "agent-1" && tr.Source == sfu.SourceScreen && tr.Kind == "video"
	}) {
		t.Errorf("last tracks event %+v has no agent screen", last)
	}

	// Stopping the share removes the track from the citizen.
	agent.unpublish("screen")
	agent.negotiate(nil)
	waitFor(t, 5*time.Second, func() error {
		if n := citizen.received("agent-1", "screen"); n >= 0 {
			return fmt.Errorf("citizen still receives the screen (%d packets)", n)
		}
		return nil
	})
	citizen.waitMore(10, "agent-1/audio", "agent-1/camera")
	agent.waitMore(10, "citizen-1/audio", "citizen-1/camera")

	// Sharing again works.
	agent.publish("screen")
	agent.negotiate(nil)
	citizen.waitReceiving(10, "agent-1/screen")
}

func TestLateJoinerGetsKeyframes(t *testing.T) {
	s, room, agent, citizen := startCall(t)
	api := clientAPI(t)
	agentPLI, citizenPLI := agent.plis.Load(), citizen.plis.Load()

	interp := join(t, api, room, interpreterInfo, false)
	interp.publish("audio", "camera")
	interp.negotiate(nil)
	interp.waitReceiving(20, "agent-1/audio", "agent-1/camera", "citizen-1/audio", "citizen-1/camera")
	agent.waitReceiving(20, "interp-1/audio", "interp-1/camera")
	citizen.waitReceiving(20, "interp-1/audio", "interp-1/camera")

	waitFor(t, 2*time.Second, func() error {
		if agent.plis.Load() <= agentPLI || citizen.plis.Load() <= citizenPLI {
			return fmt.Errorf("PLIs: agent %d→%d, citizen %d→%d", agentPLI, agent.plis.Load(), citizenPLI, citizen.plis.Load())
		}
		return nil
	})

	// The interpreter is on the low-bandwidth profile: the server's SDP caps
	// what it sends.
	if got := interp.p.Profile(); got != sfu.ProfileLowBandwidth {
		t.Errorf("Profile() = %+v", got)
	}
	sdp := interp.lastRemoteSDP()
	for _, want := range []string{"b=AS:300\r\n", "b=TIAS:300000\r\n", "b=AS:24\r\n", "maxaveragebitrate=24000"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("interpreter's SDP lacks %q", want)
		}
	}
	if strings.Contains(agent.lastRemoteSDP(), "b=AS:300\r\n") {
		t.Error("agent's SDP carries the low-bandwidth cap")
	}
	_ = s
}

func TestLeaveRemovesTracks(t *testing.T) {
	_, room, agent, citizen := startCall(t)
	api := clientAPI(t)
	interp := join(t, api, room, interpreterInfo, false)
	interp.publish("audio", "camera")
	interp.negotiate(nil)
	agent.waitReceiving(10, "interp-1/audio", "interp-1/camera")
	citizen.waitReceiving(10, "interp-1/audio", "interp-1/camera")

	interp.p.Leave()
	interp.p.Leave() // idempotent
	<-interp.p.Done()

	for _, c := range []*client{agent, citizen} {
		waitFor(t, 5*time.Second, func() error {
			left := c.eventsOf(sfu.EventLeft)
			if len(left) != 1 || left[0].ParticipantID != "interp-1" {
				return fmt.Errorf("%s left events %+v", c.name, left)
			}
			for _, tr := range c.liveTracks() {
				if strings.HasPrefix(tr, "interp-1/") {
					return fmt.Errorf("%s still receives %s", c.name, tr)
				}
			}
			st, err := c.p.Stats()
			if err != nil {
				return err
			}
			if len(st.Received) != 2 {
				return fmt.Errorf("%s stats list %d received tracks", c.name, len(st.Received))
			}
			return nil
		})
	}
	agent.waitMore(20, "citizen-1/audio", "citizen-1/camera")
	citizen.waitMore(20, "agent-1/audio", "agent-1/camera")
	if err := interp.p.HandleAnswer(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer}); !errors.Is(err, sfu.ErrLeft) {
		t.Errorf("HandleAnswer after Leave = %v, want ErrLeft", err)
	}
}

func TestICERestart(t *testing.T) {
	_, _, agent, citizen := startCall(t)

	// The client restarts ICE: the server answers with new credentials.
	before := ufrag(agent.lastRemoteSDP())
	agent.negotiate(&webrtc.OfferOptions{ICERestart: true})
	if after := ufrag(agent.lastRemoteSDP()); after == before || after == "" {
		t.Errorf("server ufrag %q → %q after client ICE restart", before, after)
	}
	agent.waitMore(20, "citizen-1/audio", "citizen-1/camera")
	citizen.waitMore(20, "agent-1/audio", "agent-1/camera")

	// The server restarts ICE: it offers with new credentials.
	before = ufrag(citizen.lastRemoteSDP())
	if err := citizen.p.RestartICE(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() error {
		if after := ufrag(citizen.lastRemoteSDP()); after == before {
			return errors.New("no server offer with new credentials")
		}
		return nil
	})
	agent.waitMore(20, "citizen-1/audio", "citizen-1/camera")
	citizen.waitMore(20, "agent-1/audio", "agent-1/camera")
}

func TestGlareServerIsImpolite(t *testing.T) {
	_, room, agent, citizen := startCall(t)
	api := clientAPI(t)

	// The citizen's client holds the server's next offer (the interpreter's
	// tracks) while it starts a screen share: the offers cross.
	citizen.mu.Lock()
	citizen.paused = true
	citizen.mu.Unlock()
	interp := join(t, api, room, interpreterInfo, false)
	interp.publish("audio", "camera")
	interp.negotiate(nil)
	waitFor(t, 5*time.Second, func() error {
		citizen.mu.Lock()
		defer citizen.mu.Unlock()
		if len(citizen.queue) == 0 {
			return errors.New("no server offer yet")
		}
		return nil
	})
	citizen.publish("screen")
	if err := citizen.offerNow(nil); !errors.Is(err, sfu.ErrGlare) {
		t.Fatalf("crossing offer: HandleOffer = %v, want ErrGlare", err)
	}
	citizen.resume()
	citizen.negotiate(nil) // answers the server's offer first, then offers again

	citizen.waitReceiving(20, "interp-1/audio", "interp-1/camera")
	agent.waitReceiving(20, "citizen-1/screen")
	interp.waitReceiving(20, "citizen-1/screen", "citizen-1/camera", "agent-1/camera")
	citizen.mu.Lock()
	defer citizen.mu.Unlock()
	if citizen.ignoredOffers != 0 {
		t.Errorf("citizen ignored %d server offers, want 0", citizen.ignoredOffers)
	}
}

func TestRejoinReplacesParticipant(t *testing.T) {
	s, room, agent, citizen := startCall(t)
	api := clientAPI(t)
	// The citizen reloads the page: a new connection with the same id.
	n := agent.trackCount()
	again := join(t, api, room, citizenInfo, false)
	again.publish("audio", "camera")
	again.negotiate(nil)
	<-citizen.p.Done()
	again.waitReceiving(20, "agent-1/audio", "agent-1/camera")
	waitFor(t, 5*time.Second, func() error {
		for _, id := range []string{"audio", "camera"} {
			if got := agent.receivedSince(n, "citizen-1", id); got < 20 {
				return fmt.Errorf("agent has %d packets on the new citizen's %s", got, id)
			}
		}
		if len(agent.liveTracks()) != 2 {
			return fmt.Errorf("agent receives %v", agent.liveTracks())
		}
		return nil
	})
	if left := agent.eventsOf(sfu.EventLeft); len(left) != 1 {
		t.Errorf("agent got %d left events, want 1", len(left))
	}
	_ = s
}

func TestRoomRemovedWhenEmpty(t *testing.T) {
	s := newSFU(t)
	api := clientAPI(t)
	room := s.Room("call-empty")
	c := join(t, api, room, agentInfo, false)
	c.p.Leave()
	if s.Room("call-empty") == room {
		t.Error("empty room still registered")
	}
	// The old handle still works: it joins the room's new incarnation.
	c2 := join(t, api, room, citizenInfo, false)
	if c2.p.ID() != "citizen-1" {
		t.Errorf("ID() = %q", c2.p.ID())
	}
}

// TestNoRecording guards the package's promise: media only, never written
// anywhere but to the participants. No file, HTTP or database package, and
// no Pion media writer, may be imported outside tests.
func TestNoRecording(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"os", "io/ioutil", "net/http", "database/sql", "github.com/pion/webrtc/v4/pkg/media"}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasPrefix(path, b+"/") {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}

func ufrag(sdp string) string {
	for _, line := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}

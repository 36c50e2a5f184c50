package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/call/calltest"
)

// The network tests put the citizen behind an emulated network (calltest.Link): the
// citizen's browser may use only a TURN relay on loopback whose client side crosses
// the link, so its whole media path, and nobody else's, is delayed, rate-limited,
// made lossy or cut. The kernel here has no netem; the emulation is in user space and
// needs neither root nor tc.

// relayedCitizen opens a browser for the citizen whose media goes only through a
// relay behind link, and whose pages come from base.
func relayedCitizen(t *testing.T, link *calltest.Link, base string) *tab {
	t.Helper()
	relay, err := calltest.NewTURN(link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	c := newCallTab(t, base, 120*time.Second)
	c.do("relay every connection", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: relay.ForceRelay()})
		return err
	}))
	return c
}

// progress is how far a page's media from one participant has come: video frames
// decoded from its camera and audio packets received.
type progress struct{ frames, packets int64 }

func (b *tab) progress(participant string) progress {
	b.t.Helper()
	return progressIn(b.stats(), participant)
}

// progressIn reads from a page's stats how far its media from participant has come.
func progressIn(stats []trackStats, participant string) progress {
	var p progress
	for _, s := range stats {
		if !strings.HasPrefix(s.Participant, participant) {
			continue
		}
		switch {
		case s.Kind == "video" && s.Source == "camera":
			p.frames = s.Frames
		case s.Kind == "audio":
			p.packets = s.Packets
		}
	}
	return p
}

// selectedCandidate is the type of the local candidate of the page's selected pair.
const selectedCandidate = `(async () => {
	const r = await window.balcaoCall.pc.getStats();
	let pair = '', local = '';
	r.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = s.selectedCandidatePairId; });
	r.forEach((s) => { if (s.id === pair) local = s.localCandidateId; });
	let type = '';
	r.forEach((s) => { if (s.id === local) type = s.candidateType; });
	return type;
})()`

// startCall books, opens both pages, admits the citizen and waits for media both ways.
func startCall(t *testing.T, s *calltest.Site, citizen, agent *tab, limit time.Duration) {
	t.Helper()
	b := book(t, s)
	citizen.navigate(calltest.JoinPath(b))
	citizen.tap("#enter-call")
	agent.navigate(calltest.AgentPath(b))
	agent.waitText("#waiting", "Ana", 15*time.Second)
	agent.click("button.admit")
	agent.waitMedia("agent receives the citizen", limit, flowing("citizen", "camera"))
	citizen.waitMedia("citizen receives the agent", limit, flowing("agent", "camera"))
	if typ := eval[string](citizen, selectedCandidate); typ != "relay" {
		citizen.fatalf("the citizen's media goes through a %q candidate, want the relay", typ)
	}
}

// TestCallSurvivesNetworkCut cuts the citizen's network (media and signalling) for 5
// seconds mid-call: media must flow again both ways within 3 seconds of the network's
// return, in the same call and page, without the citizen doing anything. Then a reset
// of the citizen's connections (as a change of network does) is survived too.
func TestCallSurvivesNetworkCut(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	link := &calltest.Link{}
	proxy, err := calltest.NewProxy(strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	citizen := relayedCitizen(t, link, proxy.URL)
	agent := newCallTab(t, s.URL, 120*time.Second)
	startCall(t, s, citizen, agent, 20*time.Second)
	citizen.do("chat", chromedp.SendKeys(chromedp.CSS("#chat-text"), "Antes do corte."+kb.Enter))
	agent.waitText("#chat-log", "Antes do corte.", 10*time.Second)
	eval[bool](citizen, `window.balcaoCutMarker = true`)

	// The cut: nothing crosses the citizen's network for 5 s.
	link.Cut(true)
	proxy.Cut(true)
	cutAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	agentSaw, citizenSaw := agent.progress("citizen"), citizen.progress("agent")
	time.Sleep(time.Until(cutAt.Add(5 * time.Second)))
	agentCut, citizenCut := agent.progress("citizen"), citizen.progress("agent")
	link.Cut(false)
	proxy.Cut(false)
	back := time.Now()
	up, down := link.Dropped()
	t.Logf("the cut dropped %d packets from the citizen and %d to them; frames decoded during its last 3.5 s: agent %d, citizen %d",
		up, down, agentCut.frames-agentSaw.frames, citizenCut.frames-citizenSaw.frames)
	if agentCut.frames-agentSaw.frames > 3 || citizenCut.frames-citizenSaw.frames > 3 {
		t.Fatalf("media kept flowing through the cut (agent %+v → %+v, citizen %+v → %+v): the cut does not work",
			agentSaw, agentCut, citizenSaw, citizenCut)
	}

	// Back: new frames and audio both ways, counted from the end of the cut. Both
	// pages are read every 100 ms; the table is logged with -v.
	var agentBack, citizenBack time.Duration
	var lines []string
	for agentBack == 0 || citizenBack == 0 {
		since := time.Since(back)
		if since > 10*time.Second {
			t.Fatalf("no media 10 s after the network came back:\n%s", strings.Join(lines, "\n"))
		}
		a, c := agent.progress("citizen"), citizen.progress("agent")
		if agentBack == 0 && a.frames >= agentCut.frames+5 && a.packets >= agentCut.packets+10 {
			agentBack = since
		}
		if citizenBack == 0 && c.frames >= citizenCut.frames+5 && c.packets >= citizenCut.packets+10 {
			citizenBack = since
		}
		line := fmt.Sprintf("%5dms  agent decoded %d frames, %d audio packets; citizen %d frames, %d packets", since.Milliseconds(),
			a.frames-agentCut.frames, a.packets-agentCut.packets, c.frames-citizenCut.frames, c.packets-citizenCut.packets)
		if testing.Verbose() {
			line += "\n         citizen sends" + eval[string](citizen, debugOut) + "\n         agent receives" + eval[string](agent, debugIn)
		}
		lines = append(lines, line)
		time.Sleep(100 * time.Millisecond)
	}
	if testing.Verbose() {
		t.Logf("since the network's return:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("after the network's return, media flows again: agent sees the citizen after %s, citizen sees the agent after %s",
		agentBack.Round(time.Millisecond), citizenBack.Round(time.Millisecond))
	noted := fmt.Sprintf("the citizen's page noted (ms since it loaded): %s; the cut was from %.0f to %.0f",
		strings.Join(eval[[]string](citizen, `window.balcaoCall.log`), "; "),
		eval[float64](citizen, `performance.now()`)-float64(time.Since(cutAt).Milliseconds()),
		eval[float64](citizen, `performance.now()`)-float64(time.Since(back).Milliseconds()))
	if worst := max(agentBack, citizenBack); worst > 3*time.Second {
		t.Errorf("media flowed again %s after the network came back, want within 3 s\n%s", worst.Round(time.Millisecond), noted)
	} else if testing.Verbose() {
		t.Log(noted)
	}
	if !eval[bool](citizen, `window.balcaoCutMarker === true`) {
		citizen.fatalf("the citizen's page was reloaded")
	}
	citizen.waitText("#chat-log", "Antes do corte.", time.Second)
	if p := citizen.path(); !strings.HasSuffix(p, "/call") {
		citizen.fatalf("the citizen is at %s", p)
	}

	// A change of network: every connection of the citizen is reset. The page
	// reconnects on its own, with a new connection to the media server (new mids),
	// and media flows again.
	oldMids := map[string]bool{}
	for _, s := range agent.stats() {
		oldMids[s.Mid] = true
	}
	proxy.Reset()
	reset := time.Now()
	agent.waitMedia("agent receives the citizen after the reset", 15*time.Second, func(ts []trackStats) bool {
		for _, s := range ts {
			if oldMids[s.Mid] {
				return false
			}
		}
		return flowing("citizen", "camera")(ts)
	})
	citizen.waitMedia("citizen receives the agent after the reset", 15*time.Second, flowing("agent", "camera"))
	t.Logf("after a reset of the citizen's connections, media flows again both ways within %s", time.Since(reset).Round(time.Millisecond))
	if !eval[bool](citizen, `window.balcaoCutMarker === true`) {
		citizen.fatalf("the citizen's page was reloaded")
	}
}

// TestCallOnPoorNetwork runs a call with the citizen on a poor network: 250 kbit/s each
// way, 300 ms round trip and 3% loss each way. Audio must be continuous (packets every
// second, little of it concealed) and video must keep decoding, both ways, read from
// getStats over 10 seconds.
func TestCallOnPoorNetwork(t *testing.T) {
	needBrowser(t)
	s := newCallSite(t)
	link := &calltest.Link{}
	// A deep queue, as netem's (1000 packets by default): what the rate cannot carry at
	// once waits, and the senders see it in the delay.
	poor := calltest.Shape{Rate: 250_000, Delay: 150 * time.Millisecond, Loss: 0.03, Queue: time.Second}
	link.SetShape(poor, poor)
	citizen := relayedCitizen(t, link, s.URL)
	agent := newCallTab(t, s.URL, 120*time.Second)
	startCall(t, s, citizen, agent, 30*time.Second)
	time.Sleep(3 * time.Second) // let the bitrate settle to the link
	rtt := eval[float64](citizen, `(async () => {
		let rtt = 0;
		(await window.balcaoCall.pc.getStats()).forEach((s) => {
			if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime) rtt = s.currentRoundTripTime;
		});
		return rtt * 1000;
	})()`)
	t.Logf("the citizen's round trip to the media server: %.0f ms", rtt)
	if rtt < 280 {
		t.Errorf("the emulated network gives a round trip of %.0f ms, want at least 300 (more when its queue fills)", rtt)
	}
	bytesIn := func() float64 {
		return eval[float64](citizen, `(async () => {
			let b = 0;
			(await window.balcaoCall.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') b += s.bytesReceived; });
			return b;
		})()`)
	}
	b0 := bytesIn()

	type sample struct {
		at         time.Time
		agent, cit []trackStats
	}
	var samples []sample
	for i := 0; i <= 10; i++ {
		if testing.Verbose() {
			t.Logf("agent sends%s", eval[string](agent, debugOut))
		}
		samples = append(samples, sample{time.Now(), agent.stats(), citizen.stats()})
		time.Sleep(time.Second)
	}
	kbps := (bytesIn() - b0) * 8 / 1000 / time.Since(samples[0].at).Seconds()
	t.Logf("the citizen receives %.0f kbit/s of media (the link carries 250)", kbps)
	if kbps > 260 {
		t.Errorf("the citizen receives %.0f kbit/s through a 250 kbit/s link: the emulation does not limit", kbps)
	}
	pick := func(ts []trackStats, participant, kind string) trackStats {
		for _, s := range ts {
			if strings.HasPrefix(s.Participant, participant) && s.Kind == kind && (kind == "audio" || s.Source == "camera") {
				return s
			}
		}
		return trackStats{}
	}
	for _, side := range []struct {
		name, from string
		get        func(sample) []trackStats
	}{
		{"the citizen hears and sees the agent", "agent", func(s sample) []trackStats { return s.cit }},
		{"the agent hears and sees the citizen", "citizen", func(s sample) []trackStats { return s.agent }},
	} {
		var gaps []string
		first, last := side.get(samples[0]), side.get(samples[len(samples)-1])
		for i := 1; i < len(samples); i++ {
			a0, a1 := pick(side.get(samples[i-1]), side.from, "audio"), pick(side.get(samples[i]), side.from, "audio")
			if a1.Packets-a0.Packets < 20 { // Opus sends 50 a second
				gaps = append(gaps, fmt.Sprintf("second %d: %d audio packets", i, a1.Packets-a0.Packets))
			}
		}
		fa, la := pick(first, side.from, "audio"), pick(last, side.from, "audio")
		fv, lv := pick(first, side.from, "video"), pick(last, side.from, "video")
		secs := samples[len(samples)-1].at.Sub(samples[0].at).Seconds()
		concealed := 0.0
		if la.Samples > fa.Samples {
			concealed = 100 * (la.Concealed - fa.Concealed) / (la.Samples - fa.Samples)
		}
		fps := float64(lv.Frames-fv.Frames) / secs
		t.Logf("%s: audio %.0f packets/s (%.1f%% concealed), video %.1f frames/s at %d px wide, %d packets lost in all",
			side.name, float64(la.Packets-fa.Packets)/secs, concealed, fps, lv.Width, la.Lost+lv.Lost)
		if len(gaps) > 0 {
			t.Errorf("%s: the audio is not continuous: %s", side.name, strings.Join(gaps, "; "))
		}
		if concealed > 15 {
			t.Errorf("%s: %.1f%% of the audio was concealed (made up for lost packets), want under 15%%", side.name, concealed)
		}
		// The issue asks that video keep decoding; how many frames a second depends on how
		// loaded the machine emulating the link is (1-17 seen), so only a stall fails.
		if fps < 1 {
			t.Errorf("%s: video decodes %.1f frames/s, want it to keep decoding (at least 1/s)", side.name, fps)
		}
	}
}

// debugOut and debugIn describe the video a page sends and receives, for -v.
const debugOut = `(async () => {
	let o = '';
	(await window.balcaoCall.pc.getStats()).forEach((s) => {
		if (s.type === 'outbound-rtp' && s.kind === 'video') o += ' enc=' + s.framesEncoded + ' sent=' + s.framesSent + ' tgt=' + Math.round((s.targetBitrate||0)/1000) + ' lim=' + s.qualityLimitationReason + ' kf=' + s.keyFramesEncoded + ' pli=' + s.pliCount + ' nack=' + s.nackCount + ' rtx=' + s.retransmittedPacketsSent + ' w=' + s.frameWidth;
		if (s.type === 'candidate-pair' && s.nominated) o += ' aob=' + Math.round((s.availableOutgoingBitrate||0)/1000);
	});
	return o;
})()`

const debugIn = `(async () => {
	let o = '';
	(await window.balcaoCall.pc.getStats()).forEach((s) => {
		if (s.type === 'inbound-rtp' && s.kind === 'video') o += ' [rcv=' + s.framesReceived + ' dec=' + s.framesDecoded + ' drop=' + s.framesDropped + ' kf=' + s.keyFramesDecoded + ' pli=' + s.pliCount + ' nack=' + s.nackCount + ' pk=' + s.packetsReceived + ' lost=' + s.packetsLost + ' jb=' + Math.round(1000*s.jitterBufferDelay/Math.max(1,s.jitterBufferEmittedCount)) + ' jbt=' + Math.round(1000*(s.jitterBufferTargetDelay||0)/Math.max(1,s.jitterBufferEmittedCount)) + ' fr=' + s.freezeCount + ']';
	});
	return o;
})()`

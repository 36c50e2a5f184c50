package calltest

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// FindBrowser looks for Chromium: BALCAO_CHROMIUM, then the usual names on PATH.
func FindBrowser() (string, error) {
	if p := os.Getenv("BALCAO_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BALCAO_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (apt-get install chromium, or set BALCAO_CHROMIUM)")
}

// Flags are what TESTING.md found a call needs in headless Chromium on these machines:
// no sandbox (root), nothing that reaches the internet at start, no throttling of
// background tabs, a fake camera, microphone and screen without prompts, and loopback
// ICE candidates.
var Flags = []chromedp.ExecAllocatorOption{
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.Flag("headless", "new"),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("disable-background-timer-throttling", true),
	chromedp.Flag("disable-renderer-backgrounding", true),
	chromedp.Flag("disable-backgrounding-occluded-windows", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
}

// NewBrowser starts a browser of its own (its own profile, in chromedp's temporary
// folder) and returns a context for its first tab. Cancel it to close the browser.
func NewBrowser(parent context.Context, path string, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path))
	opts = append(append(opts, Flags...), extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() { cancel(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return ctx, stop, nil
}

// TrackStats is one remote track in a call page: the call's "tracks" event joined with
// RTCPeerConnection.getStats() by mid.
type TrackStats struct {
	Mid         string  `json:"mid"`
	Participant string  `json:"participant"`
	Source      string  `json:"source"`
	Kind        string  `json:"kind"`
	Frames      int64   `json:"frames"`  // video: framesDecoded
	Packets     int64   `json:"packets"` // packetsReceived
	Lost        int64   `json:"lost"`    // packetsLost
	Concealed   float64 `json:"concealed"`
	Samples     float64 `json:"samples"` // audio: totalSamplesReceived
	Width       int64   `json:"width"`
}

// ReadStats is evaluated in a call page (with chromedp.EvalAwaitPromise): a
// []TrackStats of every remote track.
const ReadStats = `(async () => {
	const c = window.balcaoCall;
	if (!c || !c.pc) return [];
	const byMid = {};
	(await c.pc.getStats()).forEach((s) => {
		if (s.type === 'inbound-rtp') byMid[s.mid] = s;
	});
	return c.tracks.map((t) => {
		const s = byMid[t.mid] || {};
		return { mid: t.mid, participant: t.participantId, source: t.source, kind: t.kind,
			frames: s.framesDecoded || 0, packets: s.packetsReceived || 0, lost: s.packetsLost || 0,
			concealed: s.concealedSamples || 0, samples: s.totalSamplesReceived || 0, width: s.frameWidth || 0 };
	});
})()`

// Package firefox drives Debian's Firefox ESR from the end-to-end tests over WebDriver
// BiDi, the W3C protocol Firefox speaks natively: no geckodriver, no browser build of its
// own, nothing downloaded. It holds what balcao's browser tests need and no more: start
// a headless Firefox with a fake camera and microphone and no first-run pages or calls
// home, load a page, evaluate JavaScript, and click and type as a person would (real
// pointer and key events, which carry the user activation a page may require).
//
// It is test support: nothing in the product imports it.
package firefox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"balcao/internal/e2e/browsertest"
)

// Find looks for Firefox: BALCAO_FIREFOX, then the usual names on PATH.
func Find() (string, error) {
	if p := os.Getenv("BALCAO_FIREFOX"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BALCAO_FIREFOX=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Firefox found (apt-get install firefox-esr, or set BALCAO_FIREFOX)")
}

// Prefs are written to the profile's user.js before Firefox starts. Firefox's remote
// agent already applies its own "recommended" automation prefs; these add what a call
// test needs and stop what would otherwise reach for the internet at every start
// (first-run pages, telemetry, studies, safe browsing lists, the OpenH264 download,
// captive-portal and connectivity probes, DNS over HTTPS).
var Prefs = map[string]any{
	"browser.shell.checkDefaultBrowser":                 false,
	"browser.startup.homepage_override.mstone":          "ignore",
	"browser.startup.page":                              0,
	"startup.homepage_welcome_url":                      "about:blank",
	"browser.aboutwelcome.enabled":                      false,
	"browser.newtabpage.enabled":                        false,
	"browser.topsites.contile.enabled":                  false,
	"browser.places.speculativeConnect.enabled":         false,
	"browser.region.network.url":                        "",
	"browser.region.update.enabled":                     false,
	"browser.search.update":                             false,
	"datareporting.policy.dataSubmissionEnabled":        false,
	"datareporting.healthreport.uploadEnabled":          false,
	"toolkit.telemetry.reportingpolicy.firstRun":        false,
	"toolkit.telemetry.enabled":                         false,
	"app.update.auto":                                   false,
	"app.normandy.enabled":                              false,
	"app.shield.optoutstudies.enabled":                  false,
	"messaging-system.rsexperimentloader.enabled":       false,
	"extensions.update.enabled":                         false,
	"extensions.getAddons.cache.enabled":                false,
	"extensions.blocklist.enabled":                      false,
	"identity.fxaccounts.enabled":                       false,
	"geo.provider.network.url":                          "",
	"network.captive-portal-service.enabled":            false,
	"network.connectivity-service.enabled":              false,
	"network.dns.disablePrefetch":                       true,
	"network.prefetch-next":                             false,
	"network.predictor.enabled":                         false,
	"network.http.speculative-parallel-limit":           0,
	"network.trr.mode":                                  5,
	"browser.safebrowsing.malware.enabled":              false,
	"browser.safebrowsing.phishing.enabled":             false,
	"browser.safebrowsing.downloads.enabled":            false,
	"browser.safebrowsing.blockedURIs.enabled":          false,
	"browser.safebrowsing.provider.google4.updateURL":   "",
	"browser.safebrowsing.provider.google.updateURL":    "",
	"browser.safebrowsing.provider.mozilla.updateURL":   "",
	"media.gmp-manager.url":                             "",
	"media.gmp-provider.enabled":                        false,
	"security.remote_settings.crlite_filters.enabled":   false,
	"security.remote_settings.intermediates.enabled":    false,
	"services.settings.server":                          "data:,#remote-settings-dummy/v1",
	"media.navigator.streams.fake":                      true, // a synthetic camera and a tone
	"media.navigator.permission.disabled":               true, // no prompt for them
	"media.peerconnection.ice.loopback":                 true, // the SFU listens on 127.0.0.1 only
	"media.peerconnection.ice.no_host":                  false,
	"media.peerconnection.ice.obfuscate_host_addresses": false, // the SFU resolves no mDNS names
	"intl.accept_languages":                             "pt-PT, pt, en",
}

// MockAudio stands in for a sound card, which these machines lack: with no audio device
// an AudioContext never leaves "suspended" (its resume() never settles), so a page that
// measures the microphone or plays a tone with WebAudio needs it. It has a cost: the
// mock's clock also drives the microphone's capture, and the audio Firefox then sends
// in a call arrives uneven (a quarter of it concealed by the receiver, against a few
// per cent without it), so call tests go without.
var MockAudio = map[string]any{"media.cubeb.force_mock_context": true}

// Options change how Firefox starts.
type Options struct {
	// Prefs are added to Prefs, and win over them.
	Prefs map[string]any
	// Screen runs Firefox in a window on a virtual X screen of its own (Xvfb) instead
	// of headless: headless Firefox has no screen to capture, so getDisplayMedia fails
	// with NotFoundError (it has no fake screen, unlike its camera and microphone).
	Screen bool
}

// HaveScreen tells whether Options.Screen can be had: Xvfb is on PATH.
func HaveScreen() bool {
	_, err := exec.LookPath("Xvfb")
	return err == nil
}

// Browser is a running Firefox and its BiDi session.
type Browser struct {
	Version string

	cmd     *exec.Cmd
	exited  chan struct{}
	screen  *browsertest.Xvfb // when Options.Screen
	profile string
	stderr  *browsertest.Tail
	bidi    *conn
}

// Start starts Firefox at path with a new profile holding Prefs and opts.Prefs, and
// opens a BiDi session with it. Close it when done.
func Start(ctx context.Context, path string, opts Options) (_ *Browser, err error) {
	dir, err := os.MkdirTemp("", "balcao-firefox-")
	if err != nil {
		return nil, fmt.Errorf("firefox profile: %w", err)
	}
	b := &Browser{profile: dir, stderr: &browsertest.Tail{}, exited: make(chan struct{})}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if err := writePrefs(filepath.Join(dir, "user.js"), Prefs, opts.Prefs); err != nil {
		return nil, err
	}
	// Port 0: Firefox picks a free one and says which on its standard error.
	args := []string{"--no-remote", "--profile", dir, "--remote-debugging-port=0", "about:blank"}
	env := os.Environ()
	if opts.Screen {
		xvfb, err := exec.LookPath("Xvfb")
		if err != nil {
			return nil, fmt.Errorf("a screen for firefox: %w (apt-get install xvfb)", err)
		}
		b.screen, err = browsertest.StartXvfb(ctx, xvfb, b.stderr)
		if err != nil {
			return nil, err
		}
		env = append(env, "DISPLAY="+b.screen.Display)
	} else {
		args = append([]string{"--headless"}, args...)
	}
	b.cmd = exec.Command(path, args...)
	// MOZ_DISABLE_NONLOCAL_CONNECTIONS is what Firefox's own test harnesses set: it
	// refuses connections beyond loopback, and only with it does a release build take
	// the remote-settings server pref above (otherwise it asks DNS for Mozilla's).
	b.cmd.Env = append(env, "MOZ_CRASHREPORTER_DISABLE=1", "MOZ_DISABLE_NONLOCAL_CONNECTIONS=1")
	found := make(chan string, 1)
	b.cmd.Stderr = &announce{tail: b.stderr, found: found}
	b.cmd.Stdout = b.stderr
	// Content processes inherit the output: do not wait for them to close it.
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() {
		b.cmd.Wait()
		close(b.exited)
	}()
	var addr string
	select {
	case addr = <-found:
	case <-b.exited:
		return nil, fmt.Errorf("firefox exited at start: %s", b.stderr)
	case <-ctx.Done():
		return nil, fmt.Errorf("firefox did not open its BiDi port: %w; it said: %s", ctx.Err(), b.stderr)
	}
	b.bidi, err = dial(ctx, addr+"/session")
	if err != nil {
		return nil, err
	}
	var session struct {
		Capabilities struct {
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	if err := b.bidi.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{}}, &session); err != nil {
		return nil, err
	}
	b.Version = session.Capabilities.BrowserVersion
	// The page's console, kept for failure messages.
	if err := b.bidi.call(ctx, "session.subscribe", map[string]any{"events": []string{"log.entryAdded"}}, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// writePrefs writes user.js with the prefs of each map in turn (later ones win).
func writePrefs(path string, maps ...map[string]any) error {
	all := map[string]any{}
	for _, m := range maps {
		for k, v := range m {
			all[k] = v
		}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		v, err := json.Marshal(all[k])
		if err != nil {
			return fmt.Errorf("pref %s: %w", k, err)
		}
		fmt.Fprintf(&sb, "user_pref(%q, %s);\n", k, v)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		return fmt.Errorf("write firefox prefs: %w", err)
	}
	return nil
}

// Tab returns the browser's first tab.
func (b *Browser) Tab(ctx context.Context) (*Tab, error) {
	var tree struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := b.bidi.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0}, &tree); err != nil {
		return nil, err
	}
	if len(tree.Contexts) == 0 {
		return nil, errors.New("firefox has no tab")
	}
	return &Tab{b: b, id: tree.Contexts[0].Context}, nil
}

// Console returns the last messages of the pages' consoles and uncaught errors.
func (b *Browser) Console() []string { return b.bidi.console() }

// Close ends the session, closes Firefox (killing it if it does not go within a few
// seconds) and removes its profile.
func (b *Browser) Close() {
	if b.bidi != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b.bidi.call(ctx, "browser.close", map[string]any{}, nil) // the answer may never come
		cancel()
		b.bidi.close()
	}
	if b.cmd != nil && b.cmd.Process != nil {
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
			<-b.exited
		}
	}
	if b.screen != nil {
		b.screen.Close()
	}
	os.RemoveAll(b.profile)
}

// announce passes Firefox's standard error on to a tail and sends the BiDi address
// when Firefox announces it.
type announce struct {
	tail    *browsertest.Tail
	found   chan string
	partial []byte
}

var listening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

func (a *announce) Write(p []byte) (int, error) {
	a.tail.Write(p)
	if a.found == nil {
		return len(p), nil
	}
	a.partial = append(a.partial, p...)
	for {
		i := bytes.IndexByte(a.partial, '\n')
		if i < 0 {
			break
		}
		if m := listening.FindSubmatch(a.partial[:i]); m != nil {
			a.found <- string(m[1])
			a.found = nil
			a.partial = nil
			break
		}
		a.partial = a.partial[i+1:]
	}
	return len(p), nil
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/app"
	"balcao/internal/config"
)

// One headless Chromium serves the whole package; each test opens its own tab in its own
// browser context (cookies and cache of its own).
var (
	browserCtx  context.Context // nil when the tests cannot run a browser
	browserWhy  string          // why there is no browser (missing: skip, or fail in CI)
	browserErr  error           // the browser is there but did not start: always a failure
	userAgent   string          // the browser's own, for the Accept-Language override
	browserPath string
)

// browserFlags are the ones TESTING.md found to matter on these machines: no sandbox
// (root), nothing that reaches the internet at start, no throttling of background tabs.
var browserFlags = []chromedp.ExecAllocatorOption{
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
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	path, why := findBrowser()
	if path == "" {
		browserWhy = why
		return m.Run()
	}
	browserPath = path
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path))
	opts = append(opts, browserFlags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// Start the browser now, with no deadline on this first call (it binds the
	// browser's life), then bound the start with a timer of our own.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			browserErr = fmt.Errorf("start %s: %w", path, err)
			return m.Run()
		}
	case <-time.After(30 * time.Second):
		browserErr = fmt.Errorf("start %s: no answer in 30 s", path)
		return m.Run()
	}
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		browserErr = fmt.Errorf("browser version: %w", err)
		return m.Run()
	}
	userAgent = strings.Replace(v.UserAgent, "HeadlessChrome", "Chrome", 1)
	browserCtx = ctx
	return m.Run()
}

// findBrowser looks for Chromium: BALCAO_CHROMIUM, then the usual names on PATH.
func findBrowser() (path, why string) {
	if p := os.Getenv("BALCAO_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("BALCAO_CHROMIUM=%s: %v", p, err)
		}
		return p, ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "no Chromium found (apt-get install chromium, or set BALCAO_CHROMIUM)"
}

// inCI tells whether a missing tool is a failure rather than a reason to skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// needBrowser skips the test (or fails it in CI) when there is no browser.
func needBrowser(t *testing.T) {
	t.Helper()
	switch {
	case browserErr != nil:
		t.Fatalf("browser: %v", browserErr)
	case browserCtx == nil && inCI():
		t.Fatalf("browser tests cannot run in CI: %s", browserWhy)
	case browserCtx == nil:
		t.Skipf("skipping browser test: %s", browserWhy)
	}
}

// repoRoot is the folder of go.mod, where node_modules lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// site is balcao served on a loopback port, with the demo agency on a fresh SQLite file.
type site struct {
	app *app.App
	URL string
}

func newSite(t *testing.T) *site {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(t.Context(), config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "info"}, logger, app.Options{})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &site{app: a, URL: srv.URL}
}

// catalogue returns the messages of one language, to compare pages with.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "web", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// tab is one browser tab, in a browser context of its own, shaped like a phone.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// phone is the device the tests emulate: a 360x740 CSS-pixel portrait screen at 2x,
// with touch, as a small Android phone.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile,
		chromedp.EmulatePortrait, chromedp.EmulateTouch)
}

// newTab opens a tab for s, as a citizen in Portugal (Portuguese, Lisbon time) unless zone
// says otherwise. Every step of the tab is bounded by limit.
func newTab(t *testing.T, s *site, zone string, limit time.Duration) *tab {
	t.Helper()
	needBrowser(t)
	tabCtx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	err := chromedp.Do(tabCtx, phone(),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: userAgent, AcceptLanguage: "pt-PT,pt;q=0.9,en;q=0.5"})
			return err
		}))
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, limit)
	t.Cleanup(cancelTimeout)
	return &tab{t: t, ctx: ctx, base: s.URL}
}

// fatalf stops the test with what the page shows, to make a failure readable.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if b.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText : document.body.innerText`))
		if len(text) > 1500 {
			text = text[:1500] + "…"
		}
		msg += fmt.Sprintf("\n  page: %s\n  shows: %s", loc, strings.ReplaceAll(text, "\n", "\n         "))
	}
	b.t.Fatal(msg)
}

// do runs actions that return nothing.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// navigate loads path (on the site) as if typed in the address bar, and returns the
// status of the document.
func (b *tab) navigate(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// follow runs the action (a tap, a key press) that leaves the page, waits for the next
// page to load, and checks it answered without an error status.
func (b *tab) follow(what string, action chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, action)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	if resp.Status >= 400 && resp.Status != 422 {
		b.fatalf("%s: answered %d", what, resp.Status)
	}
	return resp
}

// tap touches the first element that sel matches and waits for the page it leads to.
func (b *tab) tap(sel string) *network.Response {
	b.t.Helper()
	return b.follow("tap "+sel, chromedp.Tap(chromedp.CSS(sel)))
}

// eval runs JavaScript in the page and returns its value.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// text is the visible text of the first element that sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	return eval[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText.trim() : "" })()`, q))
}

// attr is an attribute of the first element that sel matches ("" when none).
func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	n, _ := json.Marshal(name)
	return eval[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return (e && e.getAttribute(%s)) || "" })()`, q, n))
}

// path is the page's path and query.
func (b *tab) path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// focused describes the element that has the keyboard focus: its id; for a link
// without one, "a " and its href; otherwise its tag.
func (b *tab) focused() string {
	b.t.Helper()
	return eval[string](b, `(() => {
		const e = document.activeElement;
		if (!e) return "";
		if (e.id) return e.id;
		if (e.tagName === "A") return "a " + e.getAttribute("href");
		return e.tagName.toLowerCase();
	})()`)
}

// press sends keys to whatever has the focus, as a keyboard would.
func (b *tab) press(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.do(fmt.Sprintf("press %q", keys), chromedp.KeyEvent(keys, opts...))
}

// Enter and Space as a keyboard sends them: one keyDown that carries the text, so that
// the browser drops the character when the key down did something (chromedp's KeyEvent
// sends the character as an event of its own, which then reaches whatever took the
// focus: Enter on a link to a field would also submit the field's form).
var (
	enterKey = realKey("Enter", "Enter", 13, "\r")
	spaceKey = realKey(" ", "Space", 32, " ")
)

func realKey(key, code string, vk int64, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Code: code,
			WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk, Text: text, UnmodifiedText: text}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: key, Code: code,
			WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
		return err
	})
}

// tabTo presses Tab until the element that focused describes as id has the focus, at most max times, and
// fails if the keyboard cannot reach it.
func (b *tab) tabTo(id string, max int) int {
	b.t.Helper()
	var seen []string
	for i := 1; i <= max; i++ {
		b.press(kb.Tab)
		f := b.focused()
		if f == id {
			return i
		}
		seen = append(seen, f)
	}
	b.fatalf("%d presses of Tab never reached #%s; focus went through %v", max, id, seen)
	return 0
}

// expectFocus checks that Tab has moved the focus to id.
func (b *tab) expectFocus(id string) {
	b.t.Helper()
	if f := b.focused(); f != id {
		b.fatalf("focus is on %q, want #%s", f, id)
	}
}

// mustContain fails unless the page's main text contains every want.
func (b *tab) mustContain(what string, wants ...string) {
	b.t.Helper()
	body := b.text("main")
	for _, w := range wants {
		if !strings.Contains(body, w) {
			b.fatalf("%s: the page does not say %q", what, w)
		}
	}
}

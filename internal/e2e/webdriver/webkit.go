package webdriver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"balcao/internal/e2e/browsertest"
)

// WebKitGTK is found as Debian installs it: WebKitWebDriver on PATH (package
// webkit2gtk-driver) and the MiniBrowser that libwebkit2gtk-4.1-0 ships in its library
// folder. BALCAO_WEBKIT_DRIVER and BALCAO_WEBKIT_BROWSER name others.
var browserGlobs = []string{
	"/usr/lib/*/webkit2gtk-4.1/MiniBrowser",
	"/usr/libexec/webkit2gtk-4.1/MiniBrowser",
	"/usr/lib/*/webkitgtk-6.0/MiniBrowser",
	"/usr/libexec/webkitgtk-6.0/MiniBrowser",
}

// Paths are the programs a WebKit session needs.
type Paths struct {
	Driver  string // WebKitWebDriver
	Browser string // MiniBrowser
	Xvfb    string // WebKitGTK draws into a real X screen, even for automation
}

// FindWebKit looks for WebKitWebDriver, MiniBrowser and Xvfb, and says what to install
// when one is missing.
func FindWebKit() (Paths, error) {
	var p Paths
	var missing []string
	if v := os.Getenv("BALCAO_WEBKIT_DRIVER"); v != "" {
		p.Driver = v
	} else if v, err := exec.LookPath("WebKitWebDriver"); err == nil {
		p.Driver = v
	} else {
		missing = append(missing, "WebKitWebDriver (apt-get install webkit2gtk-driver)")
	}
	if v := os.Getenv("BALCAO_WEBKIT_BROWSER"); v != "" {
		p.Browser = v
	} else {
		for _, g := range browserGlobs {
			if m, _ := filepath.Glob(g); len(m) > 0 {
				p.Browser = m[0]
				break
			}
		}
		if p.Browser == "" {
			missing = append(missing, "MiniBrowser (apt-get install libwebkit2gtk-4.1-0)")
		}
	}
	if v, err := exec.LookPath("Xvfb"); err == nil {
		p.Xvfb = v
	} else {
		missing = append(missing, "Xvfb (apt-get install xvfb)")
	}
	for _, f := range []string{p.Driver, p.Browser} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", f, err))
		}
	}
	if len(missing) > 0 {
		return p, errors.New("no WebKit: missing " + strings.Join(missing, ", "))
	}
	return p, nil
}

// MediaArgs are MiniBrowser's switches for the WebKitSettings of a call: capture
// allowed, WebKit's mock camera, microphones and screen instead of real devices (and no
// prompt for them), WebRTC on where the build has it, and media that may play without
// a click (as a phone's browser lets a page that already captures).
var MediaArgs = []string{
	"--enable-media-stream=true",
	"--enable-mock-capture-devices=true",
	"--enable-webrtc=true",
	"--autoplay-policy=allow",
}

// Options change how WebKit starts.
type Options struct {
	// Args are added to MiniBrowser's command line (see MiniBrowser --help-all).
	Args []string
}

// WebKit is a WebKitGTK browser in a session of its own: its Xvfb, its
// WebKitWebDriver (which starts and ends MiniBrowser) and its data folder.
type WebKit struct {
	*Session

	dir    string
	screen *browsertest.Xvfb
	driver *exec.Cmd
	exited chan struct{}
	output *browsertest.Tail
}

// StartWebKit starts Xvfb, WebKitWebDriver on a free loopback port, and a MiniBrowser
// session with opts. Close it when done.
func StartWebKit(ctx context.Context, p Paths, opts Options) (_ *WebKit, err error) {
	dir, err := os.MkdirTemp("", "balcao-webkit-")
	if err != nil {
		return nil, fmt.Errorf("webkit data folder: %w", err)
	}
	w := &WebKit{dir: dir, output: &browsertest.Tail{}}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	w.screen, err = browsertest.StartXvfb(ctx, p.Xvfb, w.output)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"DISPLAY="+w.screen.Display,
		// The browser's caches, cookies and settings stay in the test's own folder.
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		// No session bus here: WebKit would try to start one with dbus-launch.
		"DBUS_SESSION_BUS_ADDRESS=disabled:",
		"GTK_A11Y=none",
		"NO_AT_BRIDGE=1",
	)
	// GStreamer scans every plugin when its registry is missing; keep the usual one
	// rather than a new one in the test's cache folder at every start.
	if os.Getenv("GST_REGISTRY") == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			env = append(env, "GST_REGISTRY="+filepath.Join(cache, "gstreamer-1.0", "registry.balcao-webkit.bin"))
		}
	}
	// A free port is known only by trying it: another process may take it between
	// the check and the driver's start, and then the driver exits at once.
	var addr string
	for try := 0; ; try++ {
		addr, err = w.startDriver(ctx, p.Driver, env)
		if err == nil {
			break
		}
		if try == 2 || ctx.Err() != nil {
			return nil, err
		}
	}
	caps := map[string]any{
		"webkitgtk:browserOptions": map[string]any{
			"binary": p.Browser,
			"args":   append(append([]string{"--automation"}, MediaArgs...), opts.Args...),
		},
	}
	w.Session, err = NewSession(ctx, addr, caps)
	if err != nil {
		return nil, fmt.Errorf("%w; the driver said: %s", err, w.output)
	}
	return w, nil
}

func (w *WebKit) startDriver(ctx context.Context, path string, env []string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("a port for WebKitWebDriver: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "--host=127.0.0.1", "--port="+strconv.Itoa(port))
	cmd.Env = env
	cmd.Stdout = w.output
	cmd.Stderr = w.output
	// Its own process group: MiniBrowser and WebKit's processes are the driver's
	// children, and Close ends them all even if the session could not be deleted.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", path, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	addr := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := ready(ctx, addr, exited); err != nil {
		killGroup(cmd, exited)
		return "", fmt.Errorf("WebKitWebDriver on port %d: %w: %s", port, err, w.output)
	}
	w.driver, w.exited = cmd, exited
	return addr, nil
}

// Output is the end of what the driver, MiniBrowser and WebKit's processes printed,
// for failure messages.
func (w *WebKit) Output() string { return w.output.String() }

// Close ends the session (MiniBrowser closes), then the driver, then Xvfb, and removes
// the data folder.
func (w *WebKit) Close() {
	if w.Session != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		w.Session.Delete(ctx)
		cancel()
	}
	if w.driver != nil {
		killGroup(w.driver, w.exited)
	}
	if w.screen != nil {
		w.screen.Close()
	}
	os.RemoveAll(w.dir)
}

// killGroup ends a process started with Setpgid and every process of its group: asked
// first, then killed if still there after two seconds.
func killGroup(cmd *exec.Cmd, exited <-chan struct{}) {
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
}

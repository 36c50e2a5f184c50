// Package webdriver drives a browser over W3C WebDriver "classic" (HTTP and JSON), the
// protocol of WebKitGTK's WebKitWebDriver, which is how balcao's tests reach the WebKit
// engine (Safari's) on Linux: Debian's WebKitGTK with its MiniBrowser, under a virtual
// X screen (Xvfb), with WebKit's mock camera, microphone and screen. It holds the few
// commands the end-to-end tests need: open a session, load a page, run a script
// (synchronous or with a callback), click an element, size the window, and end.
//
// It is test support: nothing in the product imports it.
package webdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Error is an error answer of the WebDriver server.
type Error struct {
	Code    string // "javascript error", "no such element", ...
	Message string
}

func (e *Error) Error() string { return "webdriver: " + e.Code + ": " + e.Message }

// ErrScript matches (with errors.Is) an exception thrown by the page's script.
var ErrScript = errors.New("script threw")

func (e *Error) Is(target error) bool { return target == ErrScript && e.Code == "javascript error" }

// elementKey is the key under which WebDriver names an element in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Session is one WebDriver session, on the server at base.
type Session struct {
	ID      string
	Browser string // browserName and browserVersion, as the server says
	Version string

	base string // http://host:port/session/ID
	http *http.Client
}

// NewSession opens a session on the server at addr (http://host:port) with the given
// capabilities ("alwaysMatch").
func NewSession(ctx context.Context, addr string, caps map[string]any) (*Session, error) {
	c := &http.Client{}
	var got struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	body := map[string]any{"capabilities": map[string]any{"alwaysMatch": caps}}
	if err := do(ctx, c, http.MethodPost, addr+"/session", body, &got); err != nil {
		return nil, fmt.Errorf("new webdriver session: %w", err)
	}
	return &Session{
		ID:      got.SessionID,
		Browser: got.Capabilities.BrowserName,
		Version: got.Capabilities.BrowserVersion,
		base:    addr + "/session/" + got.SessionID,
		http:    c,
	}, nil
}

// Navigate loads url and waits for its load event.
func (s *Session) Navigate(ctx context.Context, url string) error {
	if err := s.call(ctx, http.MethodPost, "/url", map[string]any{"url": url}, nil); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// Refresh reloads the page.
func (s *Session) Refresh(ctx context.Context) error {
	return s.call(ctx, http.MethodPost, "/refresh", map[string]any{}, nil)
}

// Execute runs script as the body of a function, with args as its arguments, and
// decodes what it returns into out (which may be nil). A promise returned is awaited.
func (s *Session) Execute(ctx context.Context, script string, out any, args ...any) error {
	return s.execute(ctx, "/execute/sync", script, out, args)
}

// Eval evaluates the JavaScript expression js, awaits it if it is a promise, and
// decodes its value into out (which may be nil): the same as firefox.Tab.Eval, so
// that a test's steps can be written once for both browsers.
func (s *Session) Eval(ctx context.Context, js string, out any) error {
	return s.Execute(ctx, "return ("+js+")", out)
}

// ExecuteAsync runs script as the body of a function whose last argument is a callback,
// and decodes the value passed to it into out.
func (s *Session) ExecuteAsync(ctx context.Context, script string, out any, args ...any) error {
	return s.execute(ctx, "/execute/async", script, out, args)
}

func (s *Session) execute(ctx context.Context, path, script string, out any, args []any) error {
	if args == nil {
		args = []any{}
	}
	return s.call(ctx, http.MethodPost, path, map[string]any{"script": script, "args": args}, out)
}

// Click finds the first element that matches the CSS selector, scrolls it into view
// and clicks it with the pointer, as a person would: the page gets real mouse events,
// which carry the user activation that getDisplayMedia or audio playback may require.
func (s *Session) Click(ctx context.Context, selector string) error {
	id, err := s.find(ctx, selector)
	if err != nil {
		return err
	}
	if err := s.call(ctx, http.MethodPost, "/element/"+id+"/click", map[string]any{}, nil); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	return nil
}

// Type sends text as key presses to the element that matches the selector.
func (s *Session) Type(ctx context.Context, selector, text string) error {
	id, err := s.find(ctx, selector)
	if err != nil {
		return err
	}
	if err := s.call(ctx, http.MethodPost, "/element/"+id+"/value", map[string]any{"text": text}, nil); err != nil {
		return fmt.Errorf("type into %s: %w", selector, err)
	}
	return nil
}

func (s *Session) find(ctx context.Context, selector string) (string, error) {
	var el map[string]string
	if err := s.call(ctx, http.MethodPost, "/element", map[string]any{"using": "css selector", "value": selector}, &el); err != nil {
		return "", fmt.Errorf("find %s: %w", selector, err)
	}
	id := el[elementKey]
	if id == "" {
		return "", fmt.Errorf("find %s: no element reference in %v", selector, el)
	}
	return id, nil
}

// SetWindowSize asks for an outer window of width × height pixels and returns the size
// the window got (a browser may keep a minimum width for its toolbar).
func (s *Session) SetWindowSize(ctx context.Context, width, height int) (gotWidth, gotHeight int, err error) {
	var r struct{ Width, Height int }
	if err := s.call(ctx, http.MethodPost, "/window/rect", map[string]any{"width": width, "height": height}, &r); err != nil {
		return 0, 0, fmt.Errorf("window size: %w", err)
	}
	return r.Width, r.Height, nil
}

// Delete ends the session; the server closes its browser.
func (s *Session) Delete(ctx context.Context) error {
	return s.call(ctx, http.MethodDelete, "", nil, nil)
}

func (s *Session) call(ctx context.Context, method, path string, body, out any) error {
	return do(ctx, s.http, method, s.base+path, body, out)
}

// do sends one command and decodes the answer's "value" into out.
func do(ctx context.Context, c *http.Client, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode command: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("webdriver request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("webdriver answer: %w", err)
	}
	var answer struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("webdriver answer (HTTP %d) %.200q: %w", resp.StatusCode, data, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(answer.Value, &e)
		if e.Error == "" {
			e.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return &Error{Code: e.Error, Message: strings.TrimSpace(e.Message)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer.Value, out); err != nil {
		return fmt.Errorf("decode %.200s: %w", answer.Value, err)
	}
	return nil
}

// ready waits until the server at addr answers /status with ready, or until exited is
// closed or ctx ends.
func ready(ctx context.Context, addr string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	for {
		var st struct {
			Ready bool `json:"ready"`
		}
		err := do(ctx, c, http.MethodGet, addr+"/status", nil, &st)
		if err == nil && st.Ready {
			return nil
		}
		select {
		case <-exited:
			return errors.New("the driver exited")
		case <-ctx.Done():
			return fmt.Errorf("the driver did not answer at %s: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

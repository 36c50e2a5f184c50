package firefox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// conn is a WebDriver BiDi session's WebSocket: commands go out with an id, and one
// reader hands each answer to the command that waits for it. Of the events, only the
// console's are kept.
type conn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan message
	err     error // why the reader stopped
	logs    []string
	done    chan struct{}
}

// message is anything Firefox sends: a command's answer ("success" or "error") or an
// event.
type message struct {
	Type    string          `json:"type"`
	ID      int64           `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

func dial(ctx context.Context, addr string) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, addr, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to firefox at %s: %w", addr, err)
	}
	ws.SetReadLimit(64 << 20) // a large evaluation's result
	c := &conn{ws: ws, pending: map[int64]chan message{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *conn) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("firefox connection: %w", err)
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		if m.Type == "event" {
			if m.Method == "log.entryAdded" {
				c.logEntry(m.Params)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func (c *conn) logEntry(raw json.RawMessage) {
	var e struct {
		Level string `json:"level"`
		Text  string `json:"text"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return
	}
	c.mu.Lock()
	c.logs = append(c.logs, e.Level+": "+e.Text)
	if len(c.logs) > 50 {
		c.logs = c.logs[len(c.logs)-50:]
	}
	c.mu.Unlock()
}

func (c *conn) console() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.logs...)
}

// call sends a command and decodes its result into out (unless out is nil).
func (c *conn) call(ctx context.Context, method string, params, out any) error {
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	req, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, req); err != nil {
		c.forget(id)
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return fmt.Errorf("%s: %w", method, c.err)
		}
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, out); err != nil {
			return fmt.Errorf("%s: decode %s: %w", method, m.Result, err)
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func (c *conn) close() {
	c.ws.CloseNow()
	<-c.done
}

// Tab is one of Firefox's top-level browsing contexts.
type Tab struct {
	b  *Browser
	id string
}

// Navigate loads url and waits for the page's load event.
func (t *Tab) Navigate(ctx context.Context, url string) error {
	return t.b.bidi.call(ctx, "browsingContext.navigate", map[string]any{"context": t.id, "url": url, "wait": "complete"}, nil)
}

// Reload reloads the page and waits for its load event.
func (t *Tab) Reload(ctx context.Context) error {
	return t.b.bidi.call(ctx, "browsingContext.reload", map[string]any{"context": t.id, "wait": "complete"}, nil)
}

// ErrScript is the page's exception in an evaluation.
var ErrScript = errors.New("script threw")

// Eval evaluates the JavaScript expression expr in the page, awaits it if it is a
// promise, and decodes its value into out (unless out is nil) through JSON: the page
// stringifies it, which spares decoding BiDi's typed remote values.
func (t *Tab) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Type   string `json:"type"`
		Result struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	wrapped := "(async () => { const v = await (" + expr + "\n); return v === undefined ? 'null' : JSON.stringify(v); })()"
	err := t.b.bidi.call(ctx, "script.evaluate", map[string]any{
		"expression": wrapped, "target": map[string]any{"context": t.id}, "awaitPromise": true, "resultOwnership": "none",
	}, &res)
	if err != nil {
		return err
	}
	if res.Type == "exception" {
		return fmt.Errorf("%w: %s", ErrScript, res.ExceptionDetails.Text)
	}
	if out == nil {
		return nil
	}
	if res.Result.Type != "string" {
		return fmt.Errorf("evaluation gave a %s, not JSON", res.Result.Type)
	}
	if err := json.Unmarshal([]byte(res.Result.Value), out); err != nil {
		return fmt.Errorf("decode %s: %w", res.Result.Value, err)
	}
	return nil
}

// Click moves the mouse to the middle of the first element that selector matches
// (scrolled into view) and clicks it: real input events, with user activation.
func (t *Tab) Click(ctx context.Context, selector string) error {
	sel, _ := json.Marshal(selector)
	var at *struct{ X, Y float64 }
	err := t.Eval(ctx, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e) return null;
		e.scrollIntoView({ block: 'center', inline: 'center' });
		const r = e.getBoundingClientRect();
		return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
	})()`, sel), &at)
	if err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	if at == nil {
		return fmt.Errorf("click %s: no such element", selector)
	}
	return t.b.bidi.call(ctx, "input.performActions", map[string]any{"context": t.id, "actions": []any{
		map[string]any{"type": "pointer", "id": "mouse", "parameters": map[string]any{"pointerType": "mouse"}, "actions": []any{
			map[string]any{"type": "pointerMove", "x": int(at.X), "y": int(at.Y), "origin": "viewport"},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pointerUp", "button": 0},
		}},
	}}, nil)
}

// Enter is the Enter key, for Type.
const Enter = "\uE007"

// Type presses and releases a key for each character of text, into whatever has the
// focus.
func (t *Tab) Type(ctx context.Context, text string) error {
	var keys []any
	for _, r := range text {
		keys = append(keys, map[string]any{"type": "keyDown", "value": string(r)}, map[string]any{"type": "keyUp", "value": string(r)})
	}
	return t.b.bidi.call(ctx, "input.performActions", map[string]any{"context": t.id, "actions": []any{
		map[string]any{"type": "key", "id": "keyboard", "actions": keys},
	}}, nil)
}

// SetViewport sizes the page's viewport in CSS pixels, at ratio device pixels each, as a
// phone's or a computer's screen.
func (t *Tab) SetViewport(ctx context.Context, width, height int, ratio float64) error {
	return t.b.bidi.call(ctx, "browsingContext.setViewport", map[string]any{"context": t.id,
		"viewport": map[string]any{"width": width, "height": height}, "devicePixelRatio": ratio}, nil)
}

// Screenshot returns a PNG of the tab's viewport.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := t.b.bidi.call(ctx, "browsingContext.captureScreenshot", map[string]any{"context": t.id}, &res); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return png, nil
}

// AddPreloadScript runs the JavaScript statements js in every page the browser loads
// from now on, before the page's own scripts.
func (b *Browser) AddPreloadScript(ctx context.Context, js string) error {
	return b.bidi.call(ctx, "script.addPreloadScript", map[string]any{"functionDeclaration": "() => {\n" + js + "\n}"}, nil)
}

// Package sms sends the outbox's text messages through an HTTP provider: the URL,
// credentials and request body template are configured, so that most providers' REST
// APIs fit without code. It also counts the segments a message is billed as.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode/utf16"

	"balcao/internal/outbox"
)

// Config describes the provider's API.
type Config struct {
	URL          string // endpoint receiving one message per request
	Method       string // POST by default
	User         string // HTTP basic authentication, if set
	Password     string
	Token        string // "Authorization: Bearer <token>", if set
	ContentType  string // application/json by default
	BodyTemplate string // text/template over {{.To}} {{.From}} {{.Body}} {{.Key}}; values are JSON-escaped with {{json .Body}}
	From         string // sender name or number
	IDField      string // field of the JSON answer holding the provider's message id, e.g. "id"
	CentsPerPart int    // cost of one segment, in cents
}

// DefaultBody is the body sent when no template is configured.
const DefaultBody = `{"to":{{json .To}},"from":{{json .From}},"text":{{json .Body}},"reference":{{json .Key}}}`

// Provider sends text messages over HTTP.
type Provider struct {
	cfg    Config
	body   *template.Template
	client *http.Client
}

// New returns a provider for cfg.
func New(cfg Config, client *http.Client) (*Provider, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sms url %q: want an http(s) URL", cfg.URL)
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/json"
	}
	if cfg.BodyTemplate == "" {
		cfg.BodyTemplate = DefaultBody
	}
	tmpl, err := template.New("sms").Funcs(template.FuncMap{
		"json":  func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err },
		"query": url.QueryEscape,
	}).Option("missingkey=error").Parse(cfg.BodyTemplate)
	if err != nil {
		return nil, fmt.Errorf("sms body template: %w", err)
	}
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	return &Provider{cfg: cfg, body: tmpl, client: client}, nil
}

// Send posts one message to the provider. 4xx answers (but 408 and 429) are permanent.
func (p *Provider) Send(ctx context.Context, key string, m outbox.Message) (outbox.Receipt, error) {
	if m.Text == nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: errors.New("not a text message")}
	}
	var body bytes.Buffer
	if err := p.body.Execute(&body, struct{ To, From, Body, Key string }{m.Text.To, p.cfg.From, m.Text.Body, key}); err != nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: fmt.Errorf("sms body: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, p.cfg.Method, p.cfg.URL, &body)
	if err != nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: err}
	}
	req.Header.Set("Content-Type", p.cfg.ContentType)
	req.Header.Set("Idempotency-Key", key)
	if p.cfg.User != "" {
		req.SetBasicAuth(p.cfg.User, p.cfg.Password)
	}
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	res, err := p.client.Do(req)
	if err != nil {
		return outbox.Receipt{}, fmt.Errorf("sms provider: %w", errors.Unwrap(err))
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		err := fmt.Errorf("sms provider answered %d", res.StatusCode)
		if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests {
			return outbox.Receipt{}, &outbox.PermanentError{Err: err}
		}
		return outbox.Receipt{}, err
	}
	parts := Segments(m.Text.Body)
	receipt := outbox.Receipt{Segments: parts, CostCents: parts * p.cfg.CentsPerPart}
	if p.cfg.IDField != "" {
		var fields map[string]any
		if json.Unmarshal(answer, &fields) == nil {
			if id, ok := fields[p.cfg.IDField]; ok {
				receipt.ProviderRef = fmt.Sprint(id)
			}
		}
	}
	return receipt, nil
}

// gsm7 holds the characters of the GSM 03.38 basic set; gsm7Ext those that take two
// septets (escape + character).
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

// Segments counts the SMS parts a text is billed as: 160 GSM-7 septets in one part or 153
// per part when split; any other character makes the whole text UCS-2, 70 or 67 per part.
func Segments(text string) int {
	septets, ucs2 := 0, false
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			ucs2 = true
		}
	}
	if ucs2 {
		units := len(utf16.Encode([]rune(text)))
		return parts(units, 70, 67)
	}
	return parts(septets, 160, 153)
}

func parts(n, single, multi int) int {
	if n == 0 {
		return 1
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

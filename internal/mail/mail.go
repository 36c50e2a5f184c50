// Package mail sends the outbox's e-mails over SMTP (plain, STARTTLS or implicit TLS,
// with authentication), as MIME messages with a text and an HTML body and attachments
// such as calendar invitations.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"balcao/internal/outbox"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Config says how to reach the SMTP server.
type Config struct {
	Addr     string // host:port
	User     string
	Password string
	From     string // "Agency <noreply@agency.pt>"
	TLS      string // none, starttls or tls
	// TLSConfig overrides the TLS settings (tests trust their own certificate with it).
	TLSConfig *tls.Config
}

// Validate reports what is wrong with the settings.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("smtp address %q: want host:port", c.Addr))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp from %q: %w", c.From, err))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("smtp tls %q: want none, starttls or tls", c.TLS))
	}
	if c.User != "" && c.TLS == TLSNone && !isLoopback(c.Addr) {
		errs = append(errs, errors.New("smtp: refusing to send a password without TLS to a remote server"))
	}
	return errors.Join(errs...)
}

func isLoopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Sender delivers e-mails over SMTP. It keeps its connection open between messages for a
// while, so that a batch goes out over one session.
type Sender struct {
	cfg     Config
	timeout time.Duration
	idle    time.Duration
	now     func() time.Time

	mu       sync.Mutex
	client   *smtp.Client
	conn     net.Conn
	lastUsed time.Time
}

// NewSender returns an SMTP sender.
func NewSender(cfg Config) (*Sender, error) {
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sender{cfg: cfg, timeout: 30 * time.Second, idle: 10 * time.Second, now: time.Now}, nil
}

// Send delivers one message; its idempotency key becomes the Message-ID, so that a
// message delivered twice after a crash is recognisably the same one.
func (s *Sender) Send(ctx context.Context, key string, m outbox.Message) (outbox.Receipt, error) {
	if m.Mail == nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: errors.New("not an e-mail")}
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	to, err := mail.ParseAddress(m.Mail.To)
	if err != nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: errors.New("recipient address does not parse")}
	}
	msgID := MessageID(key, from.Address)
	body, err := Build(s.cfg.From, msgID, s.now(), m.Mail)
	if err != nil {
		return outbox.Receipt{}, &outbox.PermanentError{Err: err}
	}
	if err := s.transmit(ctx, from.Address, to.Address, body); err != nil {
		return outbox.Receipt{}, err
	}
	return outbox.Receipt{ProviderRef: msgID}, nil
}

// transmit runs one SMTP transaction, on the open session when there is one. A session
// that has gone stale is replaced, once, before anything of the message was sent. Errors
// name the stage and the server's code, not its text, which can echo the recipient.
func (s *Sender) transmit(ctx context.Context, from, to string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	reused := s.client != nil && time.Since(s.lastUsed) < s.idle
	if s.client != nil && !reused {
		s.hangUp()
	}
	for attempt := 0; ; attempt++ {
		if s.client == nil {
			if err := s.dial(ctx); err != nil {
				return err
			}
			reused = false
		}
		deadline, _ := ctx.Deadline()
		s.conn.SetDeadline(deadline)
		err := s.client.Mail(from)
		if err != nil && reused && attempt == 0 {
			s.drop() // the server closed the idle session; start a new one
			continue
		}
		if err != nil {
			s.drop()
			return stage("mail from", err)
		}
		break
	}
	if err := s.client.Rcpt(to); err != nil {
		s.reset()
		return stage("rcpt to", err)
	}
	w, err := s.client.Data()
	if err != nil {
		s.drop()
		return stage("data", err)
	}
	if _, err := w.Write(body); err != nil {
		s.drop()
		return stage("data", err)
	}
	if err := w.Close(); err != nil {
		s.drop()
		return stage("data end", err)
	}
	// Accepted. The session stays open for the next message: no QUIT round trip stands
	// between the server's acceptance and the outbox recording it.
	s.lastUsed = time.Now()
	return nil
}

func (s *Sender) dial(ctx context.Context) error {
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if s.cfg.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", s.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("smtp connect: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return stage("greeting", err)
	}
	fail := func(name string, err error) error { c.Close(); return stage(name, err) }
	if err := c.Hello("localhost"); err != nil {
		return fail("helo", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			c.Close()
			return &outbox.PermanentError{Err: errors.New("smtp server does not offer STARTTLS")}
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail("starttls", err)
		}
	}
	if s.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, host)); err != nil {
			return fail("auth", err)
		}
	}
	s.client, s.conn = c, conn
	return nil
}

// reset abandons the current message but keeps the session.
func (s *Sender) reset() {
	if err := s.client.Reset(); err != nil {
		s.drop()
	}
}

// drop closes the session without a goodbye (it is broken or in an unknown state).
func (s *Sender) drop() {
	if s.client != nil {
		s.client.Close()
	}
	s.client, s.conn = nil, nil
}

// hangUp ends an idle session politely.
func (s *Sender) hangUp() {
	if s.client != nil {
		s.conn.SetDeadline(time.Now().Add(5 * time.Second))
		s.client.Quit()
	}
	s.drop()
}

// Close ends the open session, if any.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangUp()
	return nil
}

// stage wraps an SMTP failure: 5xx answers are permanent, everything else is retried.
func stage(name string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e := fmt.Errorf("smtp %s: server answered %d", name, tp.Code)
		if tp.Code >= 500 {
			return &outbox.PermanentError{Err: e}
		}
		return e
	}
	return fmt.Errorf("smtp %s: %w", name, err)
}

// MessageID derives a stable Message-ID from the idempotency key.
func MessageID(key, from string) string {
	domain := "balcao.invalid"
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = from[at+1:]
	}
	return "<" + hex.EncodeToString([]byte(key)) + "@" + domain + ">"
}

// Build renders the MIME message: multipart/mixed holding a multipart/alternative (text
// and HTML) and the attachments; a calendar invitation also goes inline in the
// alternative part, where calendar programs look for it (RFC 6047).
func Build(from, messageID string, date time.Time, m *outbox.Mail) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", encodeAddress(from))
	header("To", encodeAddress(m.To))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	if m.Language != "" {
		header("Content-Language", m.Language)
	}
	mixed := multipart.NewWriter(&b)
	header("Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
	b.WriteString("\r\n")

	altBoundary := randomBoundary()
	altHeader := textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + altBoundary + `"`}}
	altPart, err := mixed.CreatePart(altHeader)
	if err != nil {
		return nil, err
	}
	alt := multipart.NewWriter(altPart)
	if err := alt.SetBoundary(altBoundary); err != nil {
		return nil, err
	}
	if err := writeQP(alt, "text/plain; charset=utf-8", m.TextBody); err != nil {
		return nil, err
	}
	if m.HTMLBody != "" {
		if err := writeQP(alt, "text/html; charset=utf-8", m.HTMLBody); err != nil {
			return nil, err
		}
	}
	for _, a := range m.Attachments {
		if strings.HasPrefix(a.ContentType, "text/calendar") {
			if err := writeQP(alt, a.ContentType+"; charset=utf-8", string(a.Data)); err != nil {
				return nil, err
			}
		}
	}
	if err := alt.Close(); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", a.ContentType+`; name="`+a.Name+`"`)
		h.Set("Content-Disposition", `attachment; filename="`+a.Name+`"`)
		h.Set("Content-Transfer-Encoding", "base64")
		w, err := mixed.CreatePart(h)
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			fmt.Fprintf(w, "%s\r\n", enc[:76])
			enc = enc[76:]
		}
		fmt.Fprintf(w, "%s\r\n", enc)
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeQP(w *multipart.Writer, contentType, body string) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	part, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(part)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return err
	}
	return qp.Close()
}

func encodeAddress(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return s
	}
	return a.String()
}

func randomBoundary() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return "alt-" + hex.EncodeToString(b)
}

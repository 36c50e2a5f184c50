// Package config reads balcao's settings: flags override BALCAO_* environment variables,
// which override the defaults, and Validate reports every problem at once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config holds the settings of `balcao serve`.
type Config struct {
	Addr       string // listen address
	DataDir    string // folder of the SQLite file
	DB         string // postgres:// URL; empty for the embedded SQLite file
	NoDemo     bool   // start empty instead of loading the demo agency
	ConfigFile string // agency configuration (JSON) applied at start
	BaseURL    string // public URL of the site, for links in API answers
	TLSCert    string
	TLSKey     string
	LogLevel   string

	TrustedProxies []netip.Prefix // reverse proxies whose X-Forwarded-For is believed

	SMTP      SMTP
	SMS       SMS
	Reminders []time.Duration // before each appointment
	Media     Media
}

// Media is how the embedded media server is reached.
type Media struct {
	UDPPort   int      // one UDP port for all calls; 0 picks a free one
	TCPPort   int      // ICE over TCP, for networks that block UDP; 0 for none
	PublicIPs []string // the server's public addresses behind a 1:1 NAT
	STUN      []string // stun: URLs handed to browsers
	TURN      []string // turn: URLs handed to browsers, with TURNUser and TURNPassword
	TURNUser  string
	TURNPass  string
	Loopback  bool // only 127.0.0.1 (tests, and a demo on one machine)

	// The embedded TURN server, for browsers whose network blocks the media port.
	TURNPort       int    // its UDP and TCP port; 0 for none
	TURNSecret     string // keys its credentials; empty: a random one at each start
	TURNRelayPorts [2]int // first and last port of its relayed addresses
}

// DefaultTURNRelayPorts is the relay port range unless configured: 256 ports, about two
// for each relayed participant (a browser allocates once over UDP and once over TCP).
const DefaultTURNRelayPorts = "49152-49407"

// SMTP is how e-mail leaves; with no address, messages go to the log.
type SMTP struct {
	Addr, User, Password, From, TLS string
}

// SMS is the HTTP text-message provider; with no URL, messages go to the log.
type SMS struct {
	URL, User, Password, Token, ContentType, Body, From, IDField string
	CentsPerPart                                                 int
}

// Parse reads the settings from args (after the subcommand) and the environment.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envInt := func(key string) int {
		n, _ := strconv.Atoi(getenv(key))
		return n
	}
	envIntDefault := func(key string, def int) int {
		if v := getenv(key); v != "" {
			n, _ := strconv.Atoi(v)
			return n
		}
		return def
	}
	envBool := func(key string) bool {
		b, _ := strconv.ParseBool(getenv(key))
		return b
	}
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("BALCAO_ADDR", ":8080"), "listen address (BALCAO_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("BALCAO_DATA", "data"), "data folder for the SQLite file (BALCAO_DATA)")
	fs.StringVar(&c.DB, "db", env("BALCAO_DB", ""), "PostgreSQL URL, postgres://...; empty for embedded SQLite (BALCAO_DB)")
	fs.BoolVar(&c.NoDemo, "no-demo", envBool("BALCAO_NO_DEMO"), "start empty, without the demo agency (BALCAO_NO_DEMO)")
	fs.StringVar(&c.ConfigFile, "config", env("BALCAO_CONFIG", ""), "agency configuration file (JSON) to apply at start (BALCAO_CONFIG)")
	fs.StringVar(&c.BaseURL, "base-url", env("BALCAO_BASE_URL", ""), "public URL of the site, e.g. https://balcao.example.pt (BALCAO_BASE_URL)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("BALCAO_TLS_CERT", ""), "TLS certificate file, to serve HTTPS (BALCAO_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("BALCAO_TLS_KEY", ""), "TLS key file (BALCAO_TLS_KEY)")
	fs.StringVar(&c.LogLevel, "log-level", env("BALCAO_LOG_LEVEL", "info"), "debug, info, warn or error (BALCAO_LOG_LEVEL)")
	fs.StringVar(&c.SMTP.Addr, "smtp-addr", env("BALCAO_SMTP_ADDR", ""), "SMTP server host:port; empty: e-mails go to the log (BALCAO_SMTP_ADDR)")
	fs.StringVar(&c.SMTP.User, "smtp-user", env("BALCAO_SMTP_USER", ""), "SMTP user (BALCAO_SMTP_USER)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("BALCAO_SMTP_PASSWORD", ""), "SMTP password (BALCAO_SMTP_PASSWORD)")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("BALCAO_SMTP_FROM", "balcao <noreply@localhost>"), "sender address of e-mails (BALCAO_SMTP_FROM)")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", env("BALCAO_SMTP_TLS", "starttls"), "none, starttls or tls (BALCAO_SMTP_TLS)")
	fs.StringVar(&c.SMS.URL, "sms-url", env("BALCAO_SMS_URL", ""), "SMS provider endpoint; empty: text messages go to the log (BALCAO_SMS_URL)")
	fs.StringVar(&c.SMS.User, "sms-user", env("BALCAO_SMS_USER", ""), "SMS provider user, for basic authentication (BALCAO_SMS_USER)")
	fs.StringVar(&c.SMS.Password, "sms-password", env("BALCAO_SMS_PASSWORD", ""), "SMS provider password (BALCAO_SMS_PASSWORD)")
	fs.StringVar(&c.SMS.Token, "sms-token", env("BALCAO_SMS_TOKEN", ""), "SMS provider bearer token (BALCAO_SMS_TOKEN)")
	fs.StringVar(&c.SMS.ContentType, "sms-content-type", env("BALCAO_SMS_CONTENT_TYPE", ""), "content type of the provider request (BALCAO_SMS_CONTENT_TYPE)")
	fs.StringVar(&c.SMS.Body, "sms-body", env("BALCAO_SMS_BODY", ""), "request body template over .To .From .Body .Key (BALCAO_SMS_BODY)")
	fs.StringVar(&c.SMS.From, "sms-from", env("BALCAO_SMS_FROM", ""), "sender name or number (BALCAO_SMS_FROM)")
	fs.StringVar(&c.SMS.IDField, "sms-id-field", env("BALCAO_SMS_ID_FIELD", ""), "field of the provider's JSON answer holding its message id (BALCAO_SMS_ID_FIELD)")
	fs.IntVar(&c.SMS.CentsPerPart, "sms-cents", envInt("BALCAO_SMS_CENTS"), "cost of one SMS segment in cents (BALCAO_SMS_CENTS)")
	fs.IntVar(&c.Media.UDPPort, "media-udp-port", envIntDefault("BALCAO_MEDIA_UDP_PORT", 7882), "UDP port of the media server, for every call (BALCAO_MEDIA_UDP_PORT)")
	fs.IntVar(&c.Media.TCPPort, "media-tcp-port", envInt("BALCAO_MEDIA_TCP_PORT"), "TCP port for media when UDP is blocked; 0 for none (BALCAO_MEDIA_TCP_PORT)")
	publicIPs := fs.String("public-ip", env("BALCAO_PUBLIC_IP", ""), "public IP addresses of this server behind a 1:1 NAT, comma-separated (BALCAO_PUBLIC_IP)")
	stun := fs.String("stun", env("BALCAO_STUN", ""), "STUN server URLs for browsers, comma-separated (BALCAO_STUN)")
	turn := fs.String("turn", env("BALCAO_TURN", ""), "TURN server URLs for browsers, comma-separated (BALCAO_TURN)")
	fs.StringVar(&c.Media.TURNUser, "turn-user", env("BALCAO_TURN_USER", ""), "TURN user (BALCAO_TURN_USER)")
	fs.StringVar(&c.Media.TURNPass, "turn-password", env("BALCAO_TURN_PASSWORD", ""), "TURN password (BALCAO_TURN_PASSWORD)")
	fs.IntVar(&c.Media.TURNPort, "turn-port", envInt("BALCAO_TURN_PORT"), "UDP and TCP port of the embedded TURN server; 0 for none (BALCAO_TURN_PORT)")
	fs.StringVar(&c.Media.TURNSecret, "turn-secret", env("BALCAO_TURN_SECRET", ""), "secret of the embedded TURN server's credentials, at least 16 characters; empty: a random one at each start (BALCAO_TURN_SECRET)")
	relayPorts := fs.String("turn-relay-ports", env("BALCAO_TURN_RELAY_PORTS", DefaultTURNRelayPorts), "UDP ports of the embedded TURN server's relayed addresses, first-last (BALCAO_TURN_RELAY_PORTS)")
	fs.BoolVar(&c.Media.Loopback, "media-loopback", envBool("BALCAO_MEDIA_LOOPBACK"), "media over 127.0.0.1 only, for tests on one machine (BALCAO_MEDIA_LOOPBACK)")
	proxies := fs.String("trusted-proxies", env("BALCAO_TRUSTED_PROXIES", ""), "reverse proxies in front of balcao, as addresses or CIDR ranges, comma-separated (BALCAO_TRUSTED_PROXIES)")
	reminders := fs.String("reminders", env("BALCAO_REMINDERS", "24h,1h"), "when to remind before an appointment, e.g. 24h,1h; none for no reminders (BALCAO_REMINDERS)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	var err error
	if c.Reminders, err = parseDurations(*reminders); err != nil {
		return Config{}, fmt.Errorf("reminders: %w", err)
	}
	if c.Media.TURNRelayPorts, err = parsePortRange(*relayPorts); err != nil {
		return Config{}, fmt.Errorf("turn-relay-ports: %w", err)
	}
	c.Media.PublicIPs, c.Media.STUN, c.Media.TURN = list(*publicIPs), list(*stun), list(*turn)
	for _, p := range list(*proxies) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return Config{}, fmt.Errorf("trusted-proxies: %q is not an address or CIDR range", p)
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.Validate()
}

// Validate reports every problem in the settings.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port or :port", c.Addr))
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, errors.New("db: want a postgres:// URL"))
	}
	if c.DB == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data: a folder is needed for the SQLite file"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("base-url %q: want http(s)://host", c.BaseURL))
		}
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		errs = append(errs, fmt.Errorf("smtp-tls %q: want none, starttls or tls", c.SMTP.TLS))
	}
	if c.Media.UDPPort < 0 || c.Media.UDPPort > 65535 || c.Media.TCPPort < 0 || c.Media.TCPPort > 65535 {
		errs = append(errs, errors.New("media ports: want 0 to 65535"))
	}
	for _, ip := range c.Media.PublicIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("public-ip %q: not an IP address", ip))
		}
	}
	for _, u := range c.Media.STUN {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") {
			errs = append(errs, fmt.Errorf("stun %q: want stun:host:port", u))
		}
	}
	for _, u := range c.Media.TURN {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			errs = append(errs, fmt.Errorf("turn %q: want turn:host:port", u))
		}
	}
	errs = append(errs, c.Media.validateTURN()...)
	if c.SMS.CentsPerPart < 0 {
		errs = append(errs, errors.New("sms-cents: must not be negative"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.ConfigFile != "" {
		if _, err := os.Stat(c.ConfigFile); err != nil {
			errs = append(errs, fmt.Errorf("config: %w", err))
		}
	}
	return errors.Join(errs...)
}

// validateTURN checks the embedded TURN server's settings against each other and the
// media ports: a port used twice fails only at start, with a less helpful message.
func (m Media) validateTURN() []error {
	var errs []error
	if m.TURNPort < 0 || m.TURNPort > 65535 {
		errs = append(errs, errors.New("turn-port: want 0 to 65535"))
	}
	if m.TURNPort == 0 {
		return errs
	}
	lo, hi := m.TURNRelayPorts[0], m.TURNRelayPorts[1]
	if lo < 1024 || hi > 65535 || lo > hi {
		errs = append(errs, fmt.Errorf("turn-relay-ports %d-%d: want a range within 1024-65535", lo, hi))
	}
	inRange := func(p int) bool { return p >= lo && p <= hi }
	switch {
	case m.TURNPort == m.UDPPort:
		errs = append(errs, fmt.Errorf("turn-port %d is also the media UDP port", m.TURNPort))
	case m.TURNPort == m.TCPPort:
		errs = append(errs, fmt.Errorf("turn-port %d is also the media TCP port", m.TURNPort))
	case inRange(m.TURNPort):
		errs = append(errs, fmt.Errorf("turn-port %d is inside turn-relay-ports", m.TURNPort))
	}
	if inRange(m.UDPPort) {
		errs = append(errs, fmt.Errorf("media UDP port %d is inside turn-relay-ports", m.UDPPort))
	}
	if m.TURNSecret != "" && len(m.TURNSecret) < 16 {
		errs = append(errs, errors.New("turn-secret: want at least 16 characters"))
	}
	return errs
}

// parsePortRange reads "first-last".
func parsePortRange(s string) ([2]int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return [2]int{}, fmt.Errorf("%q is not a port range such as %s", s, DefaultTURNRelayPorts)
	}
	return [2]int{lo, hi}, nil
}

func list(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func parseDurations(s string) ([]time.Duration, error) {
	out := []time.Duration{}
	if s == "" || s == "none" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration such as 24h or 90m", part)
		}
		out = append(out, d)
	}
	return out, nil
}

// TLS tells whether balcao serves HTTPS itself.
func (c Config) TLS() bool { return c.TLSCert != "" }

// HTTPS tells whether browsers reach balcao over HTTPS: served directly, or by a reverse
// proxy in front of it whose public address (the base URL) is https. Cookies are then
// Secure and HSTS is sent.
func (c Config) HTTPS() bool { return c.TLS() || strings.HasPrefix(c.BaseURL, "https://") }

// ParseStore reads only the settings that name the database (--data and --db, with
// their BALCAO_* variables), for commands other than serve that open the same database;
// extra, if not nil, adds the command's own flags to the set before parsing.
func ParseStore(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	c := Config{Addr: ":0", LogLevel: "info", SMTP: SMTP{TLS: "starttls"}}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.DataDir, "data", env("BALCAO_DATA", "data"), "data folder for the SQLite file (BALCAO_DATA)")
	fs.StringVar(&c.DB, "db", env("BALCAO_DB", ""), "PostgreSQL URL, postgres://...; empty for embedded SQLite (BALCAO_DB)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.Validate()
}

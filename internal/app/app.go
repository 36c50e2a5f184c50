// Package app wires balcao together: settings, database, domain services, routes and the
// HTTP server with its graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"balcao/internal/admin"
	"balcao/internal/api"
	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/call"
	"balcao/internal/config"
	"balcao/internal/console"
	"balcao/internal/demo"
	"balcao/internal/directory"
	"balcao/internal/events"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/mail"
	"balcao/internal/notify"
	"balcao/internal/outbox"
	"balcao/internal/portal"
	"balcao/internal/queue"
	"balcao/internal/relay"
	"balcao/internal/sfu"
	"balcao/internal/sms"
	"balcao/internal/store"
	"balcao/internal/view"
	"balcao/web"

	"github.com/pion/webrtc/v4"
)

// Run runs the command line: `balcao serve [flags]`, `balcao user ...`, `balcao help`.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := config.Parse("balcao serve", args, getenv, stderr)
		if err != nil {
			return err
		}
		return Serve(ctx, cfg, stdout, stderr)
	case "user":
		return RunUser(ctx, args, getenv, os.Stdin, stdout, stderr)
	case "outbox":
		return runOutbox(ctx, args, getenv, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: balcao serve [flags]   (balcao serve --help lists the flags)")
		fmt.Fprintln(stdout, "       balcao user COMMAND   (staff accounts; balcao user help lists the commands)")
		fmt.Fprintln(stdout, "       balcao outbox dead | balcao outbox retry ID   (messages that could not be delivered)")
		fmt.Fprintln(stdout, "       balcao audit COMMAND  (verify or export the audit log; balcao audit help lists the commands)")
		return nil
	}
	return fmt.Errorf("unknown command %q (try: balcao serve)", cmd)
}

// App is balcao assembled: its database, services, background workers and HTTP handler.
type App struct {
	DB      *store.DB
	Booking *booking.Service
	Queue   *queue.Service
	Events  events.Bus
	Outbox  *outbox.Worker
	stop    context.CancelFunc // stops the background work New started
	media   *sfu.SFU
	relay   *relay.Server // the embedded TURN server, when configured
	calls   *call.Server
	Console *console.Service
	Auth    *auth.Service
	Audit   *audit.Log
	handler http.Handler
	mux     *http.ServeMux
	Demo    bool // the demo agency was loaded at this start
	// demoLogins are the demo staff accounts, while the database has them.
	demoLogins []demoLogin
}

// Options change how New builds the app; tests set a clock.
type Options struct {
	Now func() time.Time
	// ListenAddr is the address actually listened on, for links in messages when no
	// base URL is configured (the configured port may be 0).
	ListenAddr net.Addr
}

// New opens the database, applies migrations and configuration, and builds the routes.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options) (*App, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a, err := build(ctx, db, cfg, logger, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// openStore opens the configured database: PostgreSQL, or the SQLite file in the data folder.
func openStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	dsn := cfg.DB
	if dsn == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		dsn = filepath.Join(cfg.DataDir, "balcao.db")
	}
	return store.Open(ctx, dsn)
}

func build(ctx context.Context, db *store.DB, cfg config.Config, logger *slog.Logger, opts Options) (*App, error) {
	applied, err := db.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	logger.Info("database ready", "engine", db.Dialect().String(), "migrations_applied", applied)
	if cfg.ConfigFile != "" {
		f, err := os.Open(cfg.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("open configuration: %w", err)
		}
		parsed, err := directory.ParseConfig(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if err := directory.Apply(ctx, db, parsed); err != nil {
			return nil, err
		}
		logger.Info("agency configuration applied", "file", cfg.ConfigFile)
	}
	a := &App{DB: db}
	if !cfg.NoDemo {
		if a.Demo, err = demo.LoadIfEmpty(ctx, db); err != nil {
			return nil, err
		}
	}
	a.Auth = auth.NewService(db, opts.Now, logger)
	a.Audit = audit.New(db, opts.Now, logger)
	a.Auth.SetAuditor(signIns{a.Audit})
	if !cfg.NoDemo {
		if a.demoLogins, err = demoLogins(ctx, a.Auth, a.Demo); err != nil {
			return nil, err
		}
	}
	catalog, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		return nil, err
	}
	rd, err := view.New(web.FS, catalog)
	if err != nil {
		return nil, err
	}
	a.Booking = booking.NewService(db, opts.Now)
	a.Queue = queue.NewService(db, opts.Now)
	if a.Outbox, err = newOutbox(db, cfg, logger, opts.Now); err != nil {
		return nil, err
	}
	if db.Dialect() == store.SQLite {
		// One process owns an SQLite file: whatever was claimed was claimed by a
		// predecessor that is gone.
		if err := outbox.ReleaseLeases(ctx, db); err != nil {
			return nil, err
		}
	}
	notifier, err := notify.New(catalog, notify.Options{BaseURL: publicURL(cfg, opts.ListenAddr), FromEmail: fromAddress(cfg.SMTP.From),
		Reminders: cfg.Reminders, Now: opts.Now, Enqueued: a.Outbox.Poke})
	if err != nil {
		return nil, err
	}
	a.Booking.SetNotifier(notifier)
	a.Events = newEvents(ctx, a, cfg, logger)
	a.Queue.SetHooks(queue.Hooks{Bus: a.Events, Messages: notifier, Poke: a.Outbox.Poke, BaseURL: publicURL(cfg, opts.ListenAddr)})
	live := queue.NewLive(a.Queue, a.Events, logger)
	a.Console = console.NewService(db, a.Booking, a.Queue, console.Options{Bus: a.Events, Links: notifier,
		BaseURL: publicURL(cfg, opts.ListenAddr), Now: opts.Now, Logger: logger.With("part", "console")})
	mux := http.NewServeMux()
	a.mux = mux
	portal.New(db, a.Booking, rd, logger, cfg.HTTPS()).WithQueue(a.Queue, live).Routes(mux)
	api.New(db, a.Booking, a.Queue, catalog, logger, cfg.BaseURL).Routes(mux)
	staff := auth.NewWeb(a.Auth, db, rd, logger, cfg.HTTPS())
	staff.Routes(mux)
	backOffice := admin.New(admin.Config{DB: db, View: rd, Logger: logger.With("part", "admin"), Audit: a.Audit, Auth: a.Auth,
		Booking: a.Booking, Now: opts.Now})
	backOffice.Routes(mux)
	rd.SetBrand(backOffice.Brand)
	if err := a.startCalls(ctx, cfg, opts, rd, logger, mux); err != nil {
		return nil, err
	}
	mux.Handle("GET /static/", rd.Assets())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ping(ctx); err != nil {
			logger.Error("not ready", "error", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// Forms are posted only from our own pages; the public API is for other sites' apps
	// and is authenticated by tokens, never by cookies.
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("/api/")
	a.handler = httpx.Chain(mux, httpx.TrustProxies(cfg.TrustedProxies), httpx.Observe(logger), httpx.SecureHeaders(cfg.HTTPS()), httpx.Compress, csrf.Handler, staff.LoadSession,
		a.Audit.Middleware(staffID))
	return a, nil
}

// newOutbox builds the worker that delivers e-mails and text messages, through the
// configured providers or, without one, to the log.
func newOutbox(db *store.DB, cfg config.Config, logger *slog.Logger, now func() time.Time) (*outbox.Worker, error) {
	senders := map[string]outbox.Sender{outbox.Email: outbox.LogSender{Logger: logger}, outbox.SMS: outbox.LogSender{Logger: logger}}
	if cfg.SMTP.Addr != "" {
		s, err := mail.NewSender(mail.Config{Addr: cfg.SMTP.Addr, User: cfg.SMTP.User, Password: cfg.SMTP.Password,
			From: cfg.SMTP.From, TLS: cfg.SMTP.TLS})
		if err != nil {
			return nil, err
		}
		senders[outbox.Email] = s
	}
	if cfg.SMS.URL != "" {
		p, err := sms.New(sms.Config{URL: cfg.SMS.URL, User: cfg.SMS.User, Password: cfg.SMS.Password, Token: cfg.SMS.Token,
			ContentType: cfg.SMS.ContentType, BodyTemplate: cfg.SMS.Body, From: cfg.SMS.From, IDField: cfg.SMS.IDField,
			CentsPerPart: cfg.SMS.CentsPerPart}, nil)
		if err != nil {
			return nil, err
		}
		senders[outbox.SMS] = p
	}
	return outbox.NewWorker(db, senders, logger, now), nil
}

// publicURL is the site's address in links sent by e-mail: the configured one, or this
// machine's listen address.
func publicURL(cfg config.Config, listening net.Addr) string {
	if cfg.BaseURL != "" {
		return strings.TrimSuffix(cfg.BaseURL, "/")
	}
	addr := cfg.Addr
	if listening != nil {
		addr = listening.String()
	}
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func fromAddress(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		return a.Address
	}
	return ""
}

// Handler is the whole site.
func (a *App) Handler() http.Handler { return a.handler }

// Route returns the pattern of the route that serves r, "" for none (the test that walks
// every route with every role checks its list against it).
func (a *App) Route(r *http.Request) string {
	_, pattern := a.mux.Handler(r)
	return pattern
}

// Close closes the database.
func (a *App) Close() error {
	if a.calls != nil {
		a.calls.Close()
	}
	if a.media != nil {
		a.media.Close()
	}
	if a.relay != nil {
		a.relay.Close()
	}
	if a.stop != nil {
		a.stop()
	}
	return a.DB.Close()
}

// startCalls starts the media server and the video-call pages and signalling.
func (a *App) startCalls(ctx context.Context, cfg config.Config, opts Options, rd *view.Renderer, logger *slog.Logger, mux *http.ServeMux) error {
	var ice []webrtc.ICEServer
	if len(cfg.Media.STUN) > 0 {
		ice = append(ice, webrtc.ICEServer{URLs: cfg.Media.STUN})
	}
	if len(cfg.Media.TURN) > 0 {
		ice = append(ice, webrtc.ICEServer{URLs: cfg.Media.TURN, Username: cfg.Media.TURNUser, Credential: cfg.Media.TURNPass})
	}
	var clientICE func(room, participant string, until time.Time) []webrtc.ICEServer
	if cfg.Media.TURNPort != 0 {
		// Set before the first participant can arrive: the relay starts right after the
		// media server, whose addresses it needs.
		clientICE = func(room, participant string, until time.Time) []webrtc.ICEServer {
			s := a.relay.ICEServer(room+"/"+participant, until)
			return []webrtc.ICEServer{{URLs: s.URLs, Username: s.Username, Credential: s.Credential}}
		}
	}
	media, err := sfu.New(sfu.Config{UDPPort: cfg.Media.UDPPort, TCPPort: cfg.Media.TCPPort, PublicIPs: cfg.Media.PublicIPs,
		ICEServers: ice, ClientICE: clientICE, Loopback: cfg.Media.Loopback}, logger.With("part", "sfu"))
	if err != nil {
		return fmt.Errorf("start the media server: %w", err)
	}
	a.media = media
	if cfg.Media.TURNPort != 0 {
		if a.relay, err = startRelay(cfg, media, opts.Now, logger.With("part", "relay")); err != nil {
			media.Close()
			a.media = nil
			return err
		}
	}
	secret, err := call.LoadSecret(ctx, a.DB)
	if err != nil {
		return err
	}
	staffAuth := func(r *http.Request) (string, string, bool) {
		st, ok := auth.StaffFromRequest(r)
		return st.ID, st.Name, ok
	}
	a.calls, err = call.New(call.Config{DB: a.DB, Booking: a.Booking, SFU: media, View: rd, Logger: logger.With("part", "call"),
		Secret: secret, Staff: staffAuth})
	if err != nil {
		return err
	}
	a.calls.Routes(mux)
	a.calls.OnPresence(func(room, role string, state call.State) { a.Console.Presence(room, role, state == call.StateAdmitted) })
	a.calls.OnKeepChat(a.Console.KeepChat)
	console.NewWeb(a.Console, a.Events, a.calls, rd, logger.With("part", "console"), portal.TicketCookie).Routes(mux)
	return nil
}

// startRelay starts the embedded TURN server in front of the media server.
func startRelay(cfg config.Config, media *sfu.SFU, now func() time.Time, logger *slog.Logger) (*relay.Server, error) {
	local := media.UDPAddrs()
	relayIP, err := relay.PickAddress(local, cfg.Media.PublicIPs)
	if err != nil {
		return nil, fmt.Errorf("embedded TURN server: %w", err)
	}
	var listen netip.Addr // every interface
	if cfg.Media.Loopback {
		listen = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	srv, err := relay.Start(relay.Config{Port: cfg.Media.TURNPort, ListenIP: listen, RelayIP: relayIP,
		RelayPorts: cfg.Media.TURNRelayPorts, Secret: []byte(cfg.Media.TURNSecret),
		Routes: relay.MediaRoutes(local, cfg.Media.PublicIPs), Now: now, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("embedded TURN server: %w", err)
	}
	return srv, nil
}

// Relay is the embedded TURN server, nil when not configured.
func (a *App) Relay() *relay.Server { return a.relay }

// upkeep does the periodic work of the queues (calls that went unanswered) and of the
// console (no-shows at the end of their slots, wrap-ups that have lasted their time).
func (a *App) upkeep(ctx context.Context, logger *slog.Logger) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.Queue.ExpireCalls(ctx); err != nil && ctx.Err() == nil {
				logger.Error("queue upkeep", "error", err)
			}
			if err := a.Console.Upkeep(ctx); err != nil && ctx.Err() == nil {
				logger.Error("console upkeep", "error", err)
			}
		}
	}
}

// newEvents picks the event bus: in-process on SQLite (one server), PostgreSQL
// LISTEN/NOTIFY when servers share a database. Its listener runs until Close.
func newEvents(ctx context.Context, a *App, cfg config.Config, logger *slog.Logger) events.Bus {
	if cfg.DB == "" {
		return events.NewLocal()
	}
	bus := events.NewPostgres(cfg.DB, logger)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	go bus.Run(runCtx)
	select {
	case <-bus.Ready():
	case <-time.After(5 * time.Second):
		logger.Warn("events: PostgreSQL listener not ready yet; events stay local until it is")
	}
	return bus
}

// Serve runs the server until ctx is cancelled, then shuts down gracefully.
func Serve(ctx context.Context, cfg config.Config, stdout, stderr io.Writer) error {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a, err := New(ctx, cfg, logger, Options{ListenAddr: ln.Addr()})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	printWelcome(stdout, cfg, ln.Addr(), a.Demo, a.demoLogins)
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workersDone := make(chan struct{})
	go func() { defer close(workersDone); a.Outbox.Run(workers) }()
	go a.upkeep(workers, logger)
	defer func() { stopWorkers(); <-workersDone }()
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS() {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func printWelcome(w io.Writer, cfg config.Config, addr net.Addr, demoLoaded bool, logins []demoLogin) {
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	host := "localhost"
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	port := addr.(*net.TCPAddr).Port
	url := fmt.Sprintf("%s://%s:%d/", scheme, host, port)
	if cfg.BaseURL != "" {
		url = cfg.BaseURL
	}
	store := "PostgreSQL"
	if cfg.DB == "" {
		store = "SQLite " + filepath.Join(cfg.DataDir, "balcao.db")
	}
	fmt.Fprintf(w, "balcao is serving %s (store: %s)\n", url, store)
	fmt.Fprintf(w, "  booking portal:  %s\n  public API:      %sapi/v1/openapi.json\n", url, url)
	if demoLoaded {
		fmt.Fprintln(w, "  demo agency loaded: 4 services, 7 themes, 2 locations, 5 agents and a sign-language interpreter")
	}
	printLogins(w, url, logins)
}

// Package calltest serves balcao's call pages for browser tests and benchmarks: the
// portal and the call on one mux, the media server on loopback, a fresh SQLite file
// with the demo agency, a clock that can be moved to an appointment's time, and a
// test-only staff sign-in (a cookie naming the staff member), so that a test needs no
// password. It also starts the browsers (Chromium with a fake camera, microphone and
// screen) and emulates a participant's network in user space: a TURN relay whose
// client side is delayed, rate-limited, made lossy or cut (Link, TURN), and a TCP
// proxy for the same participant's pages and WebSocket (Proxy).
//
// It is test support: the end-to-end tests and bench/call use it, nothing in the
// product imports it.
package calltest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/call"
	"balcao/internal/demo"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/portal"
	"balcao/internal/sfu"
	"balcao/internal/store"
	"balcao/internal/view"
	"balcao/web"
)

const staffCookie = "test-staff"

// StaffName is the name every member of staff signed in through the test login has.
const StaffName = "Rui Agente"

// Site is the call pages served on a loopback port.
type Site struct {
	URL     string
	DB      *store.DB
	Booking *booking.Service
	SFU     *sfu.SFU

	mu     sync.Mutex
	offset time.Duration
	close  []func()
}

// Options change a Site.
type Options struct {
	// SFU is the media server's configuration; Loopback is always set.
	SFU    sfu.Config
	Logger *slog.Logger // nil logs nothing
}

// New starts a site with its database in dir.
func New(ctx context.Context, dir string, opts Options) (*Site, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Site{}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	db, err := store.Open(ctx, filepath.Join(dir, "balcao.db"))
	if err != nil {
		return nil, err
	}
	s.DB = db
	s.close = append(s.close, func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := demo.LoadIfEmpty(ctx, db); err != nil {
		return nil, err
	}
	catalog, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		return nil, err
	}
	rd, err := view.New(web.FS, catalog)
	if err != nil {
		return nil, err
	}
	s.Booking = booking.NewService(db, s.Now)
	cfg := opts.SFU
	cfg.Loopback = true
	media, err := sfu.New(cfg, logger)
	if err != nil {
		return nil, err
	}
	s.SFU = media
	s.close = append(s.close, func() { media.Close() })
	secret, err := call.LoadSecret(ctx, db)
	if err != nil {
		return nil, err
	}
	calls, err := call.New(call.Config{DB: db, Booking: s.Booking, SFU: media, View: rd, Logger: logger, Secret: secret,
		Staff: func(r *http.Request) (string, string, bool) {
			c, err := r.Cookie(staffCookie)
			if err != nil || c.Value == "" {
				return "", "", false
			}
			return c.Value, StaffName, true
		}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	portal.New(db, s.Booking, rd, logger, false).Routes(mux)
	calls.Routes(mux)
	mux.Handle("GET /static/", rd.Assets())
	mux.HandleFunc("GET /test/staff-login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: staffCookie, Value: r.URL.Query().Get("id"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
	})
	csrf := http.NewCrossOriginProtection()
	srv := httptest.NewServer(httpx.Chain(mux, httpx.Observe(logger), httpx.SecureHeaders(false), httpx.Compress, csrf.Handler,
		audit.New(db, nil, logger).Middleware(nil)))
	// Stop the signalling first (its WebSockets are hijacked: the HTTP server's Close
	// leaves them), then the HTTP server, then the media, then the database.
	s.close = append(s.close, srv.Close, calls.Close)
	s.URL = srv.URL
	ok = true
	return s, nil
}

// Close stops everything the site started.
func (s *Site) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]()
	}
	s.close = nil
}

// Now is the site's clock.
func (s *Site) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// SetNow moves the site's clock to at.
func (s *Site) SetNow(at time.Time) {
	s.mu.Lock()
	s.offset = time.Until(at)
	s.mu.Unlock()
}

// Book books the first free time of the first theme and moves the clock to five
// minutes before it, when the waiting room is open.
func (s *Site) Book(ctx context.Context) (booking.Booked, error) {
	var themeID string
	if err := s.DB.QueryRow(ctx, "SELECT id FROM themes WHERE active ORDER BY service_id, position LIMIT 1").Scan(&themeID); err != nil {
		return booking.Booked{}, err
	}
	today := calendar.DateOf(s.Now().In(s.Booking.Location()))
	slots, err := s.Booking.Availability(ctx, themeID, today, today.AddDays(booking.MaxRangeDays-1), false)
	if err != nil || len(slots) == 0 {
		return booking.Booked{}, fmt.Errorf("no free time for theme %s: %v", themeID, err)
	}
	b, err := s.Booking.Book(ctx, booking.Request{ThemeID: themeID, Start: slots[0].Start,
		Citizen: booking.Citizen{Name: "Ana Conceição", Email: "ana@example.com", Language: "pt-PT"}})
	if err != nil {
		return booking.Booked{}, fmt.Errorf("book: %w", err)
	}
	s.SetNow(b.Start.Add(-5 * time.Minute))
	return b, nil
}

// JoinPath is the citizen's join link of b.
func JoinPath(b booking.Booked) string { return "/join/" + b.ID + "?t=" + url.QueryEscape(b.JoinToken) }

// AgentPath signs the agent of b in (test login) and leads to their call page.
func AgentPath(b booking.Booked) string {
	return "/test/staff-login?id=" + url.QueryEscape(b.AgentID) + "&next=" + url.QueryEscape("/staff/call/"+b.ID)
}

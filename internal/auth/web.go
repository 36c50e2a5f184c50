package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/store"
	"balcao/internal/view"
)

// Paths of the staff pages.
const (
	homePath        = "/staff/"
	totpLoginPath   = "/staff/login/totp"
	totpAccountPath = "/staff/account/totp"
)

// maxFormBody bounds the size of a staff form.
const maxFormBody = 16 << 10

// Web serves the staff sign-in pages and loads the session of every request.
type Web struct {
	svc    *Service
	db     *store.DB
	view   *view.Renderer
	logger *slog.Logger
	secure bool // served over HTTPS: __Host- cookies, Secure
}

// NewWeb returns the staff sign-in pages over svc.
func NewWeb(svc *Service, db *store.DB, rd *view.Renderer, logger *slog.Logger, secure bool) *Web {
	return &Web{svc: svc, db: db, view: rd, logger: logger, secure: secure}
}

// Routes lists the staff sign-in pages.
func (h *Web) Routes(mux *http.ServeMux) {
	handle := func(pattern string, fn httpx.Handler) { mux.Handle(pattern, httpx.Serve(h.logger, fn, h.renderError)) }
	handle("GET /staff", func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, homePath, http.StatusMovedPermanently)
		return nil
	})
	handle("GET /staff/{$}", RequireRole()(h.home))
	handle("GET /staff/login", h.loginForm)
	handle("POST /staff/login", h.login)
	handle("GET /staff/login/totp", h.totpForm)
	handle("POST /staff/login/totp", h.totp)
	handle("POST /staff/logout", h.logout)
	handle("POST /staff/logout-everywhere", RequireRole()(h.logoutEverywhere))
	handle("GET /staff/account/totp", h.accountTOTP)
	handle("POST /staff/account/totp", h.changeTOTP)
}

// SessionCookie is the name of the session cookie: with the __Host- prefix over HTTPS,
// which binds it to this host and path /, and a plain name over HTTP, where browsers
// refuse the prefix.
func (h *Web) SessionCookie() string {
	if h.secure {
		return "__Host-balcao"
	}
	return "balcao_session"
}

// loginCookie holds the random value that the login form's CSRF token is bound to,
// before there is a session.
func (h *Web) loginCookie() string {
	if h.secure {
		return "__Host-balcao-login"
	}
	return "balcao_login"
}

func (h *Web) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

func (h *Web) setSession(w http.ResponseWriter, token string) {
	h.setCookie(w, h.SessionCookie(), token, 0)
}

func (h *Web) clearSession(w http.ResponseWriter) { h.setCookie(w, h.SessionCookie(), "", -1) }

// LoadSession finds the session of each request that carries a session cookie and puts
// it in the request's context, for StaffFromRequest and RequireRole. A cookie whose
// session has ended is removed.
func (h *Web) LoadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(h.SessionCookie())
		if err != nil || c.Value == "" || strings.HasPrefix(r.URL.Path, "/static/") || strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		sess, staff, err := h.svc.Authenticate(r.Context(), c.Value)
		switch {
		case errors.Is(err, ErrNoSession):
			h.clearSession(w)
		case err != nil:
			h.logger.Error("load staff session", "request_id", httpx.RequestID(r.Context()), "error", err)
		default:
			r = r.WithContext(NewContext(r.Context(), sess, staff))
		}
		next.ServeHTTP(w, r)
	})
}

// clientOf is where a request comes from, for throttling and the list of sessions.
func clientOf(r *http.Request) Client {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return Client{IP: host, UserAgent: r.UserAgent()}
}

// staffPage is what every staff page's data has.
type staffPage struct {
	view.Page
	CSRF   string
	Notice string
	Errors view.FormErrors
}

func (h *Web) page(r *http.Request, titleKey string) view.Page {
	pg := h.view.NewPage(r, titleKey)
	if name, err := directory.AgencyName(r.Context(), h.db); err == nil {
		pg.Agency = name.In(pg.Lang)
	}
	return pg
}

func (h *Web) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	h.view.RenderError(w, r, h.page(r, "error.title"), e, h.logger)
}

// parseForm reads a staff form's body, bounded in size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	return nil
}

// nextPath keeps the page to return to after login on this site, and off the login pages.
func nextPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.Contains(next, `\`) || strings.HasPrefix(u.Path, LoginPath) {
		return homePath
	}
	return next
}

type sessionItem struct {
	Browser, IP, Since string
	Current            bool
}

type homePage struct {
	staffPage
	Name, Role  string
	TOTPEnabled bool
	Configure   bool // a supervisor or administrator: link the configuration pages
	Console     bool // an agent or supervisor: link the agent console
	Board       bool // a supervisor or administrator: link the supervisor board
	Interpreter bool // an interpreter: link their bookings
	Sessions    []sessionItem
}

// home is the staff landing page: who is signed in, and their sessions.
func (h *Web) home(w http.ResponseWriter, r *http.Request) error {
	staff, _ := StaffFromRequest(r)
	sess, _ := SessionFromRequest(r)
	pg := h.page(r, "auth.home.title")
	data := homePage{staffPage: staffPage{Page: pg, CSRF: sess.CSRF}, Name: staff.Name, Role: pg.T("auth.role." + staff.Role),
		TOTPEnabled: staff.TOTPEnabled, Configure: staff.Role == RoleSupervisor || staff.Role == RoleAdministrator,
		Console: staff.Role == RoleAgent || staff.Role == RoleSupervisor, Board: staff.Role == RoleSupervisor || staff.Role == RoleAdministrator,
		Interpreter: staff.Role == RoleInterpreter}
	if r.URL.Query().Get("totp") == "on" {
		data.Notice = pg.T("auth.totp.enabled_notice")
	}
	list, err := h.svc.Sessions(r.Context(), staff.ID)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Stage != StageFull {
			continue
		}
		browser := s.UserAgent
		if browser == "" {
			browser = pg.T("auth.home.unknown_browser")
		}
		data.Sessions = append(data.Sessions, sessionItem{Browser: browser, IP: s.IP,
			Since: pg.ShortDate(s.CreatedAt.In(calendar.Lisbon())) + " " + pg.Clock(s.CreatedAt.In(calendar.Lisbon())), Current: s.ID == sess.ID})
	}
	return h.view.Render(w, http.StatusOK, "staff_home", data)
}

// logout ends the request's session, at whatever step of the login it is.
func (h *Web) logout(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c, ok := fromContext(r.Context())
	if !ok {
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
		return nil
	}
	if !csrfMatches(r, c.session.CSRF) {
		return errCSRF()
	}
	if err := h.svc.RevokeSession(r.Context(), c.session.ID); err != nil {
		return err
	}
	h.clearSession(w)
	h.logger.Info("staff signed out", "staff", c.staff.ID)
	h.svc.auditBestEffort(r.Context(), AuditEvent{Actor: c.staff.ID, Action: EventLogout, IP: clientOf(r).IP})
	http.Redirect(w, r, LoginPath+"?out=1", http.StatusSeeOther)
	return nil
}

// logoutEverywhere ends every session of the signed-in staff member.
func (h *Web) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	staff, _ := StaffFromRequest(r)
	n, err := h.svc.RevokeAll(r.Context(), staff.ID)
	if err != nil {
		return err
	}
	h.clearSession(w)
	h.svc.auditBestEffort(r.Context(), AuditEvent{Actor: staff.ID, Action: EventLogoutEverywhere, IP: clientOf(r).IP, Details: fmt.Sprintf("sessions=%d", n)})
	http.Redirect(w, r, LoginPath+"?out=all", http.StatusSeeOther)
	return nil
}

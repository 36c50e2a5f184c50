// Package portal is the citizens' booking portal: choose a service, a theme, a day and a
// time, give contact details, and manage the appointment afterwards (cancel, reschedule,
// calendar file, join link); and the contact-request form. Pages are server-rendered and
// work without JavaScript on a small phone.
package portal

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/view"
)

// Portal serves the citizens' pages.
type Portal struct {
	db     *store.DB
	svc    *booking.Service
	view   *view.Renderer
	logger *slog.Logger
	secure bool // cookies only over HTTPS
	queue  *queue.Service
	live   *queue.Live
}

// New returns the portal.
func New(db *store.DB, svc *booking.Service, rd *view.Renderer, logger *slog.Logger, secure bool) *Portal {
	return &Portal{db: db, svc: svc, view: rd, logger: logger, secure: secure}
}

// Routes lists every page of the portal.
func (p *Portal) Routes(mux *http.ServeMux) {
	handle := func(pattern string, h httpx.Handler) { mux.Handle(pattern, httpx.Serve(p.logger, h, p.renderError)) }
	handle("GET /{$}", p.home)
	handle("GET /lang", p.switchLanguage)
	handle("GET /book/{service}", p.service)
	handle("GET /book/{service}/{theme}", p.days)
	handle("GET /book/{service}/{theme}/{day}", p.slots)
	handle("GET /book/{service}/{theme}/details", p.details)
	handle("POST /book/{service}/{theme}/details", p.book)
	handle("GET /a/{id}", p.appointment)
	handle("GET /a/{id}/ics", p.calendarFile)
	handle("GET /a/{id}/cancel", p.cancelForm)
	handle("POST /a/{id}/cancel", p.cancel)
	handle("GET /a/{id}/reschedule", p.rescheduleDays)
	handle("GET /a/{id}/reschedule/{day}", p.rescheduleSlots)
	handle("GET /a/{id}/reschedule/confirm", p.rescheduleConfirm)
	handle("POST /a/{id}/reschedule", p.reschedule)
	handle("GET /join/{id}", p.join)
	handle("GET /contact", p.contactForm)
	handle("POST /contact", p.contact)
	p.queueRoutes(handle)
	handle("/", func(w http.ResponseWriter, r *http.Request) error { return notFound(nil) })
}

// page starts a page's data with the agency's name filled in.
func (p *Portal) page(r *http.Request, titleKey string, args ...any) view.Page {
	pg := p.view.NewPage(r, titleKey, args...)
	if name, err := directory.AgencyName(r.Context(), p.db); err == nil {
		pg.Agency = name.In(pg.Lang)
	}
	return pg
}

func (p *Portal) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	p.view.RenderError(w, r, p.page(r, "error.title"), e, p.logger)
}

// notFound is the answer for anything the visitor may not see or that does not exist.
func notFound(cause error) error {
	return httpx.Errorf(http.StatusNotFound, "not_found", "error.not_found", cause)
}

// serviceError maps domain errors to answers; anything unexpected is internal.
func serviceError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(err)
	case errors.Is(err, booking.ErrNotCancellable):
		return httpx.Errorf(http.StatusConflict, "not_cancellable", "error.not_cancellable", err)
	case errors.Is(err, booking.ErrRangeTooLong):
		return httpx.Errorf(http.StatusBadRequest, "invalid", "error.range_too_long", err)
	}
	return httpx.Internal(err)
}

// switchLanguage remembers the visitor's language and returns to the page they were on.
func (p *Portal) switchLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := i18n.Supported(r.URL.Query().Get("to"))
	if lang == "" {
		lang = i18n.Default
	}
	http.SetCookie(w, &http.Cookie{Name: i18n.LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
	return nil
}

// localPath keeps a redirect target on this site.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

const zoneCookie = "tz"

var zonePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$`)

// zone returns the time zone the visitor sees times in: the one they picked (which is
// then remembered), the one their browser reported, or Lisbon.
func (p *Portal) zone(w http.ResponseWriter, r *http.Request) *time.Location {
	if name := r.URL.Query().Get("tz"); name != "" {
		if loc := loadZone(name); loc != nil {
			http.SetCookie(w, &http.Cookie{Name: zoneCookie, Value: name, Path: "/", MaxAge: 365 * 24 * 3600,
				Secure: p.secure, SameSite: http.SameSiteLaxMode})
			return loc
		}
	}
	if c, err := r.Cookie(zoneCookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			if loc := loadZone(v); loc != nil {
				return loc
			}
		}
	}
	return calendar.Lisbon()
}

func loadZone(name string) *time.Location {
	if len(name) > 64 || !zonePattern.MatchString(name) || name == "Local" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

// zones are offered in the time-zone list: where Portuguese citizens abroad live most.
var zones = []string{
	"Europe/Lisbon", "Atlantic/Azores", "Atlantic/Madeira", "Europe/London", "Europe/Dublin", "Europe/Paris",
	"Europe/Brussels", "Europe/Luxembourg", "Europe/Amsterdam", "Europe/Zurich", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Andorra", "Europe/Stockholm", "Europe/Warsaw", "Africa/Luanda", "Africa/Maputo",
	"Africa/Johannesburg", "Atlantic/Cape_Verde", "Africa/Bissau", "Africa/Sao_Tome", "America/Sao_Paulo",
	"America/Caracas", "America/New_York", "America/Toronto", "America/Montreal", "America/Los_Angeles",
	"America/Bogota", "America/Argentina/Buenos_Aires", "Asia/Macau", "Asia/Dili", "Asia/Dubai", "Asia/Kolkata",
	"Australia/Sydney", "Pacific/Auckland", "UTC",
}

// zoneOption is a time zone in the list: its IANA name and a label such as
// "Sao Paulo (UTC−03:00)".
type zoneOption struct{ Value, Label string }

func zoneChoices(current string, now time.Time) []zoneOption {
	names := zones
	if !slices.Contains(zones, current) {
		names = append([]string{current}, zones...)
	}
	out := make([]zoneOption, 0, len(names))
	for _, name := range names {
		loc := loadZone(name)
		if loc == nil {
			continue
		}
		_, offset := now.In(loc).Zone()
		sign := "+"
		if offset < 0 {
			sign, offset = "−", -offset
		}
		city := name[strings.LastIndex(name, "/")+1:]
		out = append(out, zoneOption{Value: name, Label: fmt.Sprintf("%s (UTC%s%02d:%02d)", strings.ReplaceAll(city, "_", " "), sign, offset/3600, offset%3600/60)})
	}
	return out
}

func setTokenCookie(w http.ResponseWriter, name, path, token string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: token, Path: path, MaxAge: int(tokenCookieAge / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// tokenCookieAge is how long a link's token is remembered after the link was opened.
const tokenCookieAge = 2 * time.Hour

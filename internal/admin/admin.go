// Package admin is the back office's configuration pages, under /staff/admin/: services
// and themes, the services' walk-in tickets, locations and their opening hours, staff
// (themes served, languages, location, weekly hours, absences), holidays and closures,
// branding, retention periods and sign-in rules, and the audit log's search and export.
//
// Supervisors configure their own location and the services; administrators everything
// (package access holds the rules). Every change is written in one transaction with its
// audit entry, and availability reads the database, so a change takes effect at once. A
// change that would leave booked appointments without an agent able to serve them is
// refused with the number of appointments and a choice: keep them (and the old
// configuration), or cancel them — the citizens are told — and save. Ending a walk-in
// queue in which citizens still wait is refused likewise, with the offer to close it to
// new tickets instead.
//
// The pages are server-rendered from one template, admin_page, whose data is a list of
// blocks (text, lists, tables and forms).
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"balcao/internal/access"
	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/store"
	"balcao/internal/view"
)

// Config is what the pages need.
type Config struct {
	DB      *store.DB
	View    *view.Renderer
	Logger  *slog.Logger
	Audit   *audit.Log
	Auth    *auth.Service    // staff accounts and the sign-in rules
	Booking *booking.Service // cancels the appointments a change would orphan, when asked to
	Now     func() time.Time // nil for the real clock
}

// Admin serves the configuration pages.
type Admin struct {
	db      *store.DB
	view    *view.Renderer
	log     *slog.Logger
	audit   *audit.Log
	auth    *auth.Service
	booking *booking.Service
	now     func() time.Time
	brand   *brandCache
}

// New returns the configuration pages.
func New(cfg Config) *Admin {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Admin{db: cfg.DB, view: cfg.View, log: cfg.Logger, audit: cfg.Audit, auth: cfg.Auth, booking: cfg.Booking,
		now: cfg.Now, brand: newBrandCache(cfg.DB, cfg.Logger)}
}

// Body limits of the forms.
const (
	maxForm   = 64 << 10
	maxUpload = 2 << 20 // the branding form, with its logo (at most maxLogo: a larger one gets a message)
)

// Routes lists the configuration pages, and the branding files every page links to.
func (h *Admin) Routes(mux *http.ServeMux) {
	staff := auth.RequireRole(auth.RoleSupervisor, auth.RoleAdministrator)
	admins := auth.RequireRole(auth.RoleAdministrator)
	handle := func(pattern string, guard func(httpx.Handler) httpx.Handler, fn httpx.Handler) {
		post := strings.HasPrefix(pattern, "POST ")
		if post {
			fn = storableForm(fn)
		}
		next := guard(fn)
		if post {
			limit := int64(maxForm)
			if pattern == "POST /staff/admin/branding" {
				limit = maxUpload
			}
			next = limitBody(limit, next)
		}
		mux.Handle(pattern, httpx.Serve(h.log, next, h.renderError))
	}
	public := func(next httpx.Handler) httpx.Handler { return next }
	handle("GET /staff/admin", public, func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/staff/admin/", http.StatusMovedPermanently)
		return nil
	})
	handle("GET /staff/admin/{$}", staff, h.home)
	handle("GET /staff/admin/services", staff, h.services)
	handle("GET /staff/admin/services/new", staff, h.newService)
	handle("POST /staff/admin/services", staff, h.createService)
	handle("GET /staff/admin/services/{id}", staff, h.editService)
	handle("POST /staff/admin/services/{id}", staff, h.saveService)
	handle("GET /staff/admin/services/{id}/themes/new", staff, h.newTheme)
	handle("POST /staff/admin/services/{id}/themes", staff, h.createTheme)
	handle("GET /staff/admin/services/{id}/walk-in", staff, h.editWalkIn)
	handle("POST /staff/admin/services/{id}/walk-in", staff, h.saveWalkIn)
	handle("GET /staff/admin/themes/{id}", staff, h.editTheme)
	handle("POST /staff/admin/themes/{id}", staff, h.saveTheme)
	handle("GET /staff/admin/locations", staff, h.locations)
	handle("GET /staff/admin/locations/new", admins, h.newLocation)
	handle("POST /staff/admin/locations", admins, h.createLocation)
	handle("GET /staff/admin/locations/{id}", staff, h.editLocation)
	handle("POST /staff/admin/locations/{id}", staff, h.saveLocation)
	handle("POST /staff/admin/locations/{id}/delete", admins, h.deleteLocation)
	handle("GET /staff/admin/closures", staff, h.closures)
	handle("POST /staff/admin/closures", staff, h.changeClosures)
	handle("GET /staff/admin/staff", staff, h.staffList)
	handle("GET /staff/admin/staff/new", staff, h.newStaff)
	handle("POST /staff/admin/staff", staff, h.createStaff)
	handle("GET /staff/admin/staff/{id}", staff, h.editStaff)
	handle("POST /staff/admin/staff/{id}", staff, h.saveStaff)
	handle("POST /staff/admin/staff/{id}/absences", staff, h.changeAbsences)
	handle("GET /staff/admin/branding", admins, h.branding)
	handle("POST /staff/admin/branding", admins, h.saveBranding)
	handle("GET /staff/admin/settings", admins, h.settings)
	handle("POST /staff/admin/settings", admins, h.saveSettings)
	handle("GET /staff/admin/audit", admins, h.auditLog)
	handle("GET /staff/admin/audit.csv", admins, h.auditExport)
	handle("GET /branding/logo", public, h.logo)
	handle("GET /branding.css", public, h.brandStyle)
}

// limitBody bounds the size of a request's body, before anything reads it (the CSRF
// check reads the form).
func limitBody(n int64, next httpx.Handler) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		return next(w, r)
	}
}

// me is the signed-in staff member as the access rules see them.
func (h *Admin) me(r *http.Request) (access.Staff, error) {
	st, ok := auth.StaffFromRequest(r)
	if !ok {
		return access.Staff{}, httpx.Errorf(http.StatusForbidden, "forbidden", "auth.error.forbidden", nil)
	}
	me, err := access.LoadStaff(r.Context(), h.db, st.ID)
	if err != nil {
		return access.Staff{}, err
	}
	return me, nil
}

// allowed is the signed-in staff member, if they may open area of the configuration
// pages; 403 otherwise.
func (h *Admin) allowed(r *http.Request, area string) (access.Staff, error) {
	me, err := h.me(r)
	if err != nil {
		return me, err
	}
	return me, need(access.CanConfigure(me, area))
}

// need answers 403 unless ok: the staff member may not do this.
func need(ok bool) error {
	if !ok {
		return httpx.Errorf(http.StatusForbidden, "forbidden", "auth.error.forbidden", nil)
	}
	return nil
}

// notFound is the answer for an object that does not exist, or that the staff member
// may not see.
func notFound(cause error) error {
	return httpx.Errorf(http.StatusNotFound, "not_found", "error.not_found", cause)
}

// orNotFound turns store.ErrNotFound into a 404.
func orNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err)
	}
	return err
}

// storableForm parses the form of every POST before its handler runs, and refuses one
// with a value that cannot be stored (see httpx.StorableForm): handlers read r.PostForm.
func storableForm(next httpx.Handler) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := parseForm(r); err != nil {
			return err
		}
		if err := httpx.StorableForm(r.PostForm); err != nil {
			return err
		}
		return next(w, r)
	}
}

// parseForm reads a posted form (its size was bounded by limitBody).
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	return nil
}

// seeOther sends the browser to path after a change, with a notice for the next page.
func seeOther(w http.ResponseWriter, r *http.Request, path, notice string, args ...string) error {
	q := url.Values{"done": {notice}}
	for i := 0; i+1 < len(args); i += 2 {
		q.Set(args[i], args[i+1])
	}
	http.Redirect(w, r, path+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// record is the audit entry of a configuration change made by the request's staff member.
func record(r *http.Request, me access.Staff, object, details string) audit.Entry {
	return audit.Entry{Actor: me.ID, Action: audit.ConfigChange, Object: object, IP: audit.ClientIP(r), Details: details}
}

// inTx runs a configuration change and its audit entry in one transaction.
func (h *Admin) inTx(ctx context.Context, entry audit.Entry, fn func(tx *store.Tx) error) error {
	return h.db.InTx(ctx, func(tx *store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := h.audit.AppendTx(ctx, tx, entry)
		return err
	})
}

// createNew adds, unless its form has problems, an entity under the id the form chose,
// with its audit entry: fn, which answers directory.ErrDuplicateID when the id is taken,
// which becomes a problem of the form's id field.
func (h *Admin) createNew(r *http.Request, me access.Staff, probs problems, object, details string, fn func(tx *store.Tx) error) error {
	if len(probs) > 0 {
		return nil
	}
	err := h.inTx(r.Context(), record(r, me, object, details), fn)
	if errors.Is(err, directory.ErrDuplicateID) {
		probs.add("id", "admin.error.id_taken")
		return nil
	}
	return err
}

// saveEdit saves the change of an existing entity with fn and its audit entry, which
// names the fields the posted form changed from old; 404 if the entity went meanwhile.
func (h *Admin) saveEdit(r *http.Request, me access.Staff, object string, old url.Values, fn func(tx *store.Tx) error) error {
	details := "op=update fields=" + changed(old, r.PostForm)
	return orNotFound(h.inTx(r.Context(), record(r, me, object, details), fn))
}

func (h *Admin) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	h.view.RenderError(w, r, h.basePage(r, "error.title"), e, h.log)
}

// basePage starts a page's data with the agency's name.
func (h *Admin) basePage(r *http.Request, titleKey string, args ...any) view.Page {
	pg := h.view.NewPage(r, titleKey, args...)
	if name, err := directory.AgencyName(r.Context(), h.db); err == nil {
		pg.Agency = name.In(pg.Lang)
	}
	return pg
}

// errorf is an error answer with a message key and no cause.
func errorf(status int, code, key string) error { return httpx.Errorf(status, code, key, nil) }

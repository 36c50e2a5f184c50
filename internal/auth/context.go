package auth

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"

	"balcao/internal/httpx"
)

type contextKey struct{}

type current struct {
	session Session
	staff   Staff
}

// NewContext returns ctx carrying a session and its staff member, as the session
// middleware (Web.LoadSession) sets it for each request with a valid session cookie.
func NewContext(ctx context.Context, sess Session, staff Staff) context.Context {
	return context.WithValue(ctx, contextKey{}, current{session: sess, staff: staff})
}

func fromContext(ctx context.Context) (current, bool) {
	c, ok := ctx.Value(contextKey{}).(current)
	return c, ok
}

// StaffFromRequest returns the staff member signed in on r: only with a session that has
// passed every step of the login (password and, where needed, the second factor).
func StaffFromRequest(r *http.Request) (Staff, bool) {
	c, ok := fromContext(r.Context())
	if !ok || c.session.Stage != StageFull {
		return Staff{}, false
	}
	return c.staff, true
}

// SessionFromRequest returns the signed-in session of r; its CSRF field is the token
// that staff forms put in their hidden csrf field.
func SessionFromRequest(r *http.Request) (Session, bool) {
	c, ok := fromContext(r.Context())
	if !ok || c.session.Stage != StageFull {
		return Session{}, false
	}
	return c.session, true
}

// CSRFField is the name of the hidden form field that carries the synchronizer token;
// scripts may send it in the X-CSRF-Token header instead.
const CSRFField = "csrf"

// csrfMatches tells whether r carries want as its synchronizer token.
func csrfMatches(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// ErrCSRF is the answer to a state-changing request without the session's token.
func errCSRF() *httpx.Error {
	return httpx.Errorf(http.StatusForbidden, "csrf", "auth.error.csrf", nil)
}

// CheckCSRF verifies that a state-changing request (anything but GET, HEAD, OPTIONS)
// carries the synchronizer token of its signed-in session.
func CheckCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	c, ok := fromContext(r.Context())
	if !ok || !csrfMatches(r, c.session.CSRF) {
		return errCSRF()
	}
	return nil
}

// LoginPath is the staff login page.
const LoginPath = "/staff/login"

// RequireRole guards a staff page: a visitor who is not signed in is sent to the login
// page (and back here after it), one half-way through the login to its next step; a staff
// member whose role is not among roles gets 403 (any role will do when roles is empty);
// and a state-changing request must carry the session's CSRF token.
func RequireRole(roles ...string) func(httpx.Handler) httpx.Handler {
	return func(next httpx.Handler) httpx.Handler {
		return func(w http.ResponseWriter, r *http.Request) error {
			c, ok := fromContext(r.Context())
			switch {
			case ok && c.session.Stage == StageTOTP:
				http.Redirect(w, r, totpLoginPath, http.StatusSeeOther)
				return nil
			case ok && c.session.Stage == StageEnrol:
				http.Redirect(w, r, totpAccountPath, http.StatusSeeOther)
				return nil
			case !ok:
				target := LoginPath
				if r.Method == http.MethodGet {
					target += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return nil
			}
			if len(roles) > 0 && !slices.Contains(roles, c.staff.Role) {
				return httpx.Errorf(http.StatusForbidden, "forbidden", "auth.error.forbidden", nil)
			}
			if err := CheckCSRF(r); err != nil {
				return err
			}
			return next(w, r)
		}
	}
}

package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"balcao/internal/view"
)

type loginPage struct {
	staffPage
	Email string
	Next  string
}

// loginFields are the login form's inputs, in order, for its error summary.
var loginFields = []view.Field{{Name: "email", LabelKey: "auth.field.email"}, {Name: "password", LabelKey: "auth.field.password"}}

// loginToken returns the value the login form's CSRF token is bound to: the one in the
// visitor's login cookie, or a new one, set in the cookie.
func (h *Web) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.loginCookie()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	h.setCookie(w, h.loginCookie(), v, 2*3600)
	return v
}

// renderLogin shows the login form with a status, the problems found and a notice.
func (h *Web) renderLogin(w http.ResponseWriter, r *http.Request, status int, email, next string, problems map[string]string, fields []view.Field) error {
	pg := h.page(r, "auth.login.title")
	data := loginPage{staffPage: staffPage{Page: pg, CSRF: CSRFToken(h.loginToken(w, r))}, Email: email, Next: next}
	switch r.URL.Query().Get("out") {
	case "1":
		data.Notice = pg.T("auth.login.signed_out")
	case "all":
		data.Notice = pg.T("auth.login.signed_out_everywhere")
	}
	if len(problems) > 0 {
		data.Errors = pg.Errors(problems, fields)
	}
	return h.view.Render(w, status, "staff_login", data)
}

func (h *Web) loginForm(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if c, ok := fromContext(r.Context()); ok {
		switch c.session.Stage {
		case StageFull:
			http.Redirect(w, r, nextPath(next), http.StatusSeeOther)
			return nil
		case StageTOTP:
			http.Redirect(w, r, totpLoginPath, http.StatusSeeOther)
			return nil
		case StageEnrol:
			http.Redirect(w, r, totpAccountPath, http.StatusSeeOther)
			return nil
		}
	}
	return h.renderLogin(w, r, http.StatusOK, "", next, nil, nil)
}

func (h *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	email, password, next := r.PostForm.Get("email"), r.PostForm.Get("password"), r.PostForm.Get("next")
	if len(email) > 254 {
		email = email[:254]
	}
	// The login form has no session yet: its token is bound to the login cookie instead.
	c, err := r.Cookie(h.loginCookie())
	if err != nil || !csrfMatches(r, CSRFToken(c.Value)) {
		return h.renderLogin(w, r, http.StatusForbidden, email, next, map[string]string{"email": "auth.error.form_expired"}, nil)
	}
	problems := map[string]string{}
	if email == "" {
		problems["email"] = "error.required"
	}
	if password == "" {
		problems["password"] = "error.required"
	}
	if len(problems) > 0 {
		return h.renderLogin(w, r, http.StatusUnprocessableEntity, email, next, problems, loginFields)
	}
	res, err := h.svc.Login(r.Context(), email, password, clientOf(r))
	switch {
	case errors.Is(err, ErrThrottled):
		return h.renderLogin(w, r, http.StatusTooManyRequests, email, next, map[string]string{"email": "auth.error.throttled"}, nil)
	case errors.Is(err, ErrInvalidLogin):
		return h.renderLogin(w, r, http.StatusUnprocessableEntity, email, next, map[string]string{"email": "auth.error.invalid_login"}, nil)
	case err != nil:
		return err
	}
	h.setSession(w, res.Token)
	h.setCookie(w, h.loginCookie(), "", -1)
	switch res.Session.Stage {
	case StageTOTP:
		target := totpLoginPath
		if next != "" {
			target += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	case StageEnrol:
		http.Redirect(w, r, totpAccountPath, http.StatusSeeOther)
	default:
		http.Redirect(w, r, nextPath(next), http.StatusSeeOther)
	}
	return nil
}

type totpLoginPage struct {
	staffPage
	Next string
}

func (h *Web) renderTOTPLogin(w http.ResponseWriter, r *http.Request, status int, sess Session, next, problem string) error {
	pg := h.page(r, "auth.totp.title")
	data := totpLoginPage{staffPage: staffPage{Page: pg, CSRF: sess.CSRF}, Next: next}
	if problem != "" {
		data.Errors = pg.Errors(map[string]string{"code": problem}, []view.Field{{Name: "code", LabelKey: "auth.field.code"}})
	}
	return h.view.Render(w, status, "staff_totp", data)
}

// pending returns the request's session if it waits for stage; otherwise it sends the
// visitor to the login page and reports false.
func pending(w http.ResponseWriter, r *http.Request, stage string) (Session, bool) {
	c, ok := fromContext(r.Context())
	if !ok || c.session.Stage != stage {
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
		return Session{}, false
	}
	return c.session, true
}

func (h *Web) totpForm(w http.ResponseWriter, r *http.Request) error {
	sess, ok := pending(w, r, StageTOTP)
	if !ok {
		return nil
	}
	return h.renderTOTPLogin(w, r, http.StatusOK, sess, r.URL.Query().Get("next"), "")
}

func (h *Web) totp(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	sess, ok := pending(w, r, StageTOTP)
	if !ok {
		return nil
	}
	if !csrfMatches(r, sess.CSRF) {
		return errCSRF()
	}
	next := r.PostForm.Get("next")
	code := r.PostForm.Get("code")
	if code == "" {
		return h.renderTOTPLogin(w, r, http.StatusUnprocessableEntity, sess, next, "error.required")
	}
	c, _ := r.Cookie(h.SessionCookie())
	res, err := h.svc.VerifyTOTPLogin(r.Context(), c.Value, code, clientOf(r))
	switch {
	case errors.Is(err, ErrInvalidCode):
		return h.renderTOTPLogin(w, r, http.StatusUnprocessableEntity, sess, next, "auth.error.invalid_code")
	case errors.Is(err, ErrInvalidLogin), errors.Is(err, ErrNoSession), errors.Is(err, ErrWrongStage):
		h.clearSession(w)
		return h.renderLogin(w, r, http.StatusUnprocessableEntity, "", "", map[string]string{"email": "auth.error.invalid_login"}, nil)
	case err != nil:
		return err
	}
	h.setSession(w, res.Token)
	http.Redirect(w, r, nextPath(next), http.StatusSeeOther)
	return nil
}

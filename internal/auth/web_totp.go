package auth

import (
	"errors"
	"html/template"
	"net/http"

	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/view"
)

type accountTOTPPage struct {
	staffPage
	Enabled  bool          // the second factor is on
	Required bool          // the role requires it
	Forced   bool          // half-way through the login: enrol before going on
	Secret   string        // in groups of four, to type in
	URI      string        // otpauth:// URI
	QR       template.HTML // the URI as an SVG QR code, made here
}

// accountSession is the request's session for the account's second-factor page: a
// signed-in one, or one that must enrol before it is signed in.
func accountSession(w http.ResponseWriter, r *http.Request) (current, bool) {
	c, ok := fromContext(r.Context())
	switch {
	case ok && (c.session.Stage == StageFull || c.session.Stage == StageEnrol):
		return c, true
	case ok && c.session.Stage == StageTOTP:
		http.Redirect(w, r, totpLoginPath, http.StatusSeeOther)
	default:
		http.Redirect(w, r, LoginPath+"?next="+totpAccountPath, http.StatusSeeOther)
	}
	return current{}, false
}

func (h *Web) renderAccountTOTP(w http.ResponseWriter, r *http.Request, status int, c current, problems map[string]string) error {
	ctx := r.Context()
	pg := h.page(r, "auth.account_totp.title")
	staff, err := h.svc.StaffByID(ctx, c.staff.ID)
	if err != nil {
		return err
	}
	required, err := h.svc.TOTPRequired(ctx, staff.Role)
	if err != nil {
		return err
	}
	data := accountTOTPPage{staffPage: staffPage{Page: pg, CSRF: c.session.CSRF}, Enabled: staff.TOTPEnabled,
		Required: required, Forced: c.session.Stage == StageEnrol}
	if len(problems) > 0 {
		data.Errors = pg.Errors(problems, []view.Field{{Name: "code", LabelKey: "auth.field.code"},
			{Name: "password", LabelKey: "auth.field.password"}})
	}
	if !staff.TOTPEnabled {
		secret, err := h.svc.BeginTOTP(ctx, staff.ID)
		if err != nil {
			return err
		}
		issuer := pg.Agency
		if name, err := directory.AgencyName(ctx, h.db); err == nil && name.In(directory.DefaultLanguage) != "" {
			issuer = name.In(directory.DefaultLanguage)
		}
		if issuer == "" {
			issuer = "balcao"
		}
		data.Secret = GroupSecret(secret)
		data.URI = TOTPURI(issuer, staff.Email, secret)
		if data.QR, err = QRCodeSVG(data.URI, pg.T("auth.account_totp.qr_label")); err != nil {
			return err
		}
	}
	return h.view.Render(w, status, "staff_account_totp", data)
}

func (h *Web) accountTOTP(w http.ResponseWriter, r *http.Request) error {
	c, ok := accountSession(w, r)
	if !ok {
		return nil
	}
	return h.renderAccountTOTP(w, r, http.StatusOK, c, nil)
}

// changeTOTP confirms an enrolment with a code (action=confirm) or turns the second factor
// off with the password (action=disable).
func (h *Web) changeTOTP(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c, ok := accountSession(w, r)
	if !ok {
		return nil
	}
	if !csrfMatches(r, c.session.CSRF) {
		return errCSRF()
	}
	ctx := r.Context()
	switch r.PostForm.Get("action") {
	case "confirm":
		code := r.PostForm.Get("code")
		if code == "" {
			return h.renderAccountTOTP(w, r, http.StatusUnprocessableEntity, c, map[string]string{"code": "error.required"})
		}
		token, err := h.svc.ConfirmTOTP(ctx, c.session, code, clientOf(r))
		switch {
		case errors.Is(err, ErrInvalidCode):
			return h.renderAccountTOTP(w, r, http.StatusUnprocessableEntity, c, map[string]string{"code": "auth.error.invalid_code"})
		case errors.Is(err, ErrTOTPEnabled):
		case err != nil:
			return err
		}
		if token != "" {
			h.setSession(w, token)
		}
		http.Redirect(w, r, homePath+"?totp=on", http.StatusSeeOther)
		return nil
	case "disable":
		if c.session.Stage != StageFull {
			return httpx.Errorf(http.StatusForbidden, "forbidden", "auth.error.forbidden", nil)
		}
		password := r.PostForm.Get("password")
		if password == "" {
			return h.renderAccountTOTP(w, r, http.StatusUnprocessableEntity, c, map[string]string{"password": "error.required"})
		}
		err := h.svc.DisableTOTP(ctx, c.staff.ID, password)
		switch {
		case errors.Is(err, ErrInvalidPassword):
			return h.renderAccountTOTP(w, r, http.StatusUnprocessableEntity, c, map[string]string{"password": "auth.error.wrong_password"})
		case errors.Is(err, ErrTOTPRequired):
			return h.renderAccountTOTP(w, r, http.StatusConflict, c, map[string]string{"password": "auth.error.totp_required"})
		case errors.Is(err, ErrTOTPNotEnabled):
		case err != nil:
			return err
		}
		http.Redirect(w, r, totpAccountPath, http.StatusSeeOther)
		return nil
	}
	return h.renderAccountTOTP(w, r, http.StatusBadRequest, c, nil)
}

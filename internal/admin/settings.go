package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"balcao/internal/access"
	"balcao/internal/auth"
	"balcao/internal/store"
)

// Retention is how long personal data is kept, in days, as the settings page sets it.
type Retention struct {
	AppointmentDays    int // after the appointment
	TicketDays         int // after the ticket's day
	ContactRequestDays int // after the request
}

// retentionSettings are the settings keys of Retention's fields and their form names.
var retentionSettings = []struct{ key, field, label string }{
	{"retention.appointments_days", "appointments_days", "admin.field.retention_appointments"},
	{"retention.tickets_days", "tickets_days", "admin.field.retention_tickets"},
	{"retention.contact_requests_days", "contact_requests_days", "admin.field.retention_contact_requests"},
}

// RetentionPeriods reads the retention periods.
func RetentionPeriods(ctx context.Context, q store.Queryer) (Retention, error) {
	var out [3]int
	for i, s := range retentionSettings {
		v, err := readSetting(ctx, q, s.key)
		if err != nil {
			return Retention{}, err
		}
		out[i], _ = strconv.Atoi(v)
	}
	return Retention{AppointmentDays: out[0], TicketDays: out[1], ContactRequestDays: out[2]}, nil
}

func (h *Admin) settingsValues(ctx context.Context) (url.Values, error) {
	v := url.Values{}
	for _, s := range retentionSettings {
		days, err := readSetting(ctx, h.db, s.key)
		if err != nil {
			return nil, err
		}
		v.Set(s.field, days)
	}
	for _, role := range auth.Roles {
		on, err := h.auth.TOTPRequired(ctx, role)
		if err != nil {
			return nil, err
		}
		if on {
			v.Add("totp_roles", role)
		}
	}
	return v, nil
}

func (h *Admin) settingsPage(r *http.Request, me access.Staff, values url.Values, probs problems) *page {
	p := h.newPage(r, me, "admin.settings.title")
	pg := p.Page
	b := newBuilder(pg, values, probs)
	var retention []field
	for _, s := range retentionSettings {
		retention = append(retention, b.field("number", s.field, s.label, required, numberRange(1, 3650, 1)))
	}
	retention[0].Hint = pg.T("admin.field.retention_hint")
	labels := make([]string, len(auth.Roles))
	for i, role := range auth.Roles {
		labels[i] = pg.T("auth.role." + role)
	}
	totp := b.choice("checks", "totp_roles", "admin.field.totp_roles", auth.Roles, labels)
	totp.Hint = pg.T("admin.field.totp_roles_hint")
	p.Errors = b.errors()
	p.Blocks = []block{{Form: &form{Action: "/staff/admin/settings", CSRF: p.CSRF, Sections: []section{
		{Legend: pg.T("admin.settings.retention"), Fields: retention},
		{Legend: pg.T("admin.settings.sign_in"), Fields: []field{totp}},
	}, Submit: saveButton(pg, "admin.save")}}}
	return p
}

func (h *Admin) settings(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaSettings)
	if err != nil {
		return err
	}
	v, err := h.settingsValues(r.Context())
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, h.settingsPage(r, me, v, nil))
}

// saveSettings saves the retention periods and the roles that must sign in with a second
// factor.
func (h *Admin) saveSettings(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaSettings)
	if err != nil {
		return err
	}
	ctx := r.Context()
	probs := problems{}
	days := make([]int, len(retentionSettings))
	for i, s := range retentionSettings {
		days[i] = probs.number(r.PostForm, s.field, 1, 3650, 1)
	}
	for _, role := range r.PostForm["totp_roles"] {
		if !auth.ValidRole(role) {
			probs.add("totp_roles", "admin.error.choice")
		}
	}
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.settingsPage(r, me, r.PostForm, probs))
	}
	old, err := h.settingsValues(ctx)
	if err != nil {
		return err
	}
	if err := h.inTx(ctx, record(r, me, "settings", "op=update fields="+changed(old, r.PostForm)), func(tx *store.Tx) error {
		for i, s := range retentionSettings {
			if err := writeSetting(ctx, tx, s.key, strconv.Itoa(days[i])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, role := range auth.Roles {
		if err := h.auth.SetTOTPRequired(ctx, role, slices.Contains(r.PostForm["totp_roles"], role)); err != nil {
			return err
		}
	}
	return seeOther(w, r, "/staff/admin/settings", "saved")
}

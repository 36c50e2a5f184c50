package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"balcao/internal/access"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// home lists the areas the staff member may configure.
func (h *Admin) home(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	p := h.newPage(r, me, "admin.home.title")
	var items []item
	for _, l := range p.Nav[1:] {
		items = append(items, item{Label: l.Label, Href: l.Href})
	}
	p.Blocks = []block{{Text: p.T("admin.home.lead"), Items: items}}
	return h.render(w, http.StatusOK, p)
}

// services lists the services and their themes.
func (h *Admin) services(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	services, err := directory.Services(r.Context(), h.db)
	if err != nil {
		return err
	}
	p := h.newPage(r, me, "admin.services.title")
	var items []item
	for _, s := range services {
		var names []string
		for _, th := range s.Themes {
			names = append(names, th.Name.In(p.Lang))
		}
		meta := p.T("admin.services.no_themes")
		if len(names) > 0 {
			meta = p.T("admin.services.themes", strings.Join(names, ", "))
		}
		items = append(items, item{Label: s.Name.In(p.Lang), Href: "/staff/admin/services/" + s.ID, Meta: meta})
	}
	p.Blocks = []block{{Text: p.T("admin.services.lead"), Items: items, Empty: p.T("admin.services.empty"),
		Links: []link{{Href: "/staff/admin/services/new", Label: p.T("admin.services.new")}}}}
	return h.render(w, http.StatusOK, p)
}

// serviceForm is the form of a service, new (with its id) or not.
func (h *Admin) serviceForm(r *http.Request, me access.Staff, values url.Values, probs problems, id string) *page {
	action := "/staff/admin/services/" + id
	if id == "" {
		action = "/staff/admin/services"
	}
	p, b, fields := h.entityForm(r, me, values, probs, id == "", "admin.service.new_title", "admin.service.title")
	fields = append(fields, b.texts("textarea", "description", "admin.field.description", false)...)
	p.Errors = b.errors()
	p.Blocks = []block{{Form: &form{Action: action, CSRF: p.CSRF, Sections: []section{{Fields: fields}}, Submit: saveButton(p.Page, "admin.save")}}}
	return p
}

func (h *Admin) newService(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, h.serviceForm(r, me, nil, nil, ""))
}

func readService(v url.Values, probs problems, isNew bool) directory.ServiceConfig {
	s := directory.ServiceConfig{Name: probs.text(v, "name", true, 200), Description: probs.text(v, "description", false, 2000)}
	if isNew {
		s.ID = probs.id(v, "id")
	}
	return s
}

func (h *Admin) createService(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	probs := problems{}
	s := readService(r.PostForm, probs, true)
	if err := h.createNew(r, me, probs, "service:"+s.ID, "op=create", func(tx *store.Tx) error {
		return directory.CreateService(r.Context(), tx, s)
	}); err != nil {
		return err
	}
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.serviceForm(r, me, r.PostForm, probs, ""))
	}
	return seeOther(w, r, "/staff/admin/services/"+s.ID, "created")
}

func serviceValues(s directory.Service) url.Values {
	v := url.Values{}
	setText(v, "name", s.Name)
	setText(v, "description", s.Description)
	return v
}

// editService shows a service's form, its themes and the way to withdraw it.
func (h *Admin) editService(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	s, err := h.service(r)
	if err != nil {
		return err
	}
	p, err := h.servicePage(r, me, s, serviceValues(s), nil)
	return h.show(w, http.StatusOK, p, err)
}

func (h *Admin) servicePage(r *http.Request, me access.Staff, s directory.Service, values url.Values, probs problems) (*page, error) {
	p := h.serviceForm(r, me, values, probs, s.ID)
	pg := p.Page
	walkIn, err := h.walkInSummary(r, p, s.ID)
	if err != nil {
		return nil, err
	}
	var items []item
	for _, th := range s.Themes {
		items = append(items, item{Label: th.Name.In(pg.Lang), Href: "/staff/admin/themes/" + th.ID,
			Meta: pg.T("admin.theme.summary", int(th.Duration.Minutes()), pg.T("admin.auth_level."+string(th.AuthLevel)))})
	}
	p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.service.themes"), Items: items, Empty: pg.T("admin.service.no_themes"),
		Links: []link{{Href: "/staff/admin/services/" + s.ID + "/themes/new", Label: pg.T("admin.theme.new")}}})
	p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.walk_in.heading"), Text: walkIn,
		Links: []link{{Href: walkInPath(s.ID), Label: pg.T("admin.walk_in.change")}}})
	if len(s.Themes) == 0 {
		p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.service.withdraw_heading"), Text: pg.T("admin.service.withdraw_lead"),
			Form: &form{Action: "/staff/admin/services/" + s.ID, CSRF: p.CSRF,
				Submit: button{ID: "withdraw", Name: "action", Value: "withdraw", Label: pg.T("admin.service.withdraw"), Danger: true}}})
	} else {
		p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.service.withdraw_heading"), Text: pg.T("admin.service.withdraw_themes_first")})
	}
	return p, nil
}

func (h *Admin) saveService(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old, err := h.service(r)
	if err != nil {
		return err
	}
	switch r.PostForm.Get("action") {
	case "withdraw":
		err := h.inTx(ctx, record(r, me, "service:"+old.ID, "op=withdraw"), func(tx *store.Tx) error {
			return directory.DeactivateService(ctx, tx, old.ID)
		})
		var busy *directory.TicketsWaitingError
		if errors.Is(err, directory.ErrServiceHasThemes) {
			p, err := h.servicePage(r, me, old, serviceValues(old), problems{"name_pt": "admin.service.withdraw_themes_first"})
			return h.show(w, http.StatusConflict, p, err)
		} else if errors.As(err, &busy) {
			return h.walkInBusy(w, r, me, old, busy.Tickets, "/staff/admin/services/"+old.ID)
		} else if err != nil {
			return err
		}
		return seeOther(w, r, "/staff/admin/services", "withdrawn")
	case "save":
	default:
		return badAction()
	}
	probs := problems{}
	s := readService(r.PostForm, probs, false)
	s.ID = old.ID
	if len(probs) > 0 {
		p, err := h.servicePage(r, me, old, r.PostForm, probs)
		return h.show(w, http.StatusUnprocessableEntity, p, err)
	}
	if err := h.saveEdit(r, me, "service:"+s.ID, serviceValues(old), func(tx *store.Tx) error {
		return directory.UpdateService(ctx, tx, s)
	}); err != nil {
		return err
	}
	return seeOther(w, r, "/staff/admin/services/"+s.ID, "saved")
}

// badAction answers a form posted without one of its buttons' actions.
func badAction() error {
	return errorf(http.StatusBadRequest, "bad_action", "admin.error.action")
}

// changed lists the fields whose values differ, for the audit log (names, not values).
func changed(old, new url.Values) string {
	var names []string
	for _, k := range sortedKeys(old) {
		a, b := slices.Clone(old[k]), slices.Clone(new[k])
		slices.Sort(a)
		slices.Sort(b)
		if strings.Join(a, "\x00") != strings.Join(b, "\x00") {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Themes.

func themeValues(th directory.Theme) url.Values {
	v := url.Values{}
	setText(v, "name", th.Name)
	setText(v, "description", th.Description)
	setText(v, "instructions", th.Instructions)
	v.Set("duration", strconv.Itoa(int(th.Duration.Minutes())))
	v.Set("buffer", strconv.Itoa(int(th.Buffer.Minutes())))
	v.Set("auth_level", string(th.AuthLevel))
	v.Set("min_notice", strconv.Itoa(int(th.MinNotice.Minutes())))
	v.Set("horizon", strconv.Itoa(th.HorizonDays))
	return v
}

func readTheme(v url.Values, probs problems, isNew bool) directory.ThemeConfig {
	th := directory.ThemeConfig{
		Name:            probs.text(v, "name", true, 200),
		Description:     probs.text(v, "description", false, 2000),
		Instructions:    probs.text(v, "instructions", false, 2000),
		DurationMinutes: probs.number(v, "duration", 5, 480, 5),
		BufferMinutes:   probs.number(v, "buffer", 0, 120, 5),
		AuthLevel:       directory.AuthLevel(probs.oneOf(v, "auth_level", "none", "weak", "strong")),
		HorizonDays:     probs.number(v, "horizon", 1, 366, 1),
	}
	notice := probs.number(v, "min_notice", 0, 43200, 5)
	th.MinNoticeMinutes = &notice
	if isNew {
		th.ID = probs.id(v, "id")
	}
	return th
}

// themeForm is the form of a theme: new (with its id, under a service) or not.
func (h *Admin) themeForm(r *http.Request, me access.Staff, values url.Values, probs problems, serviceID, id string) *page {
	action := "/staff/admin/themes/" + id
	if id == "" {
		action = "/staff/admin/services/" + serviceID + "/themes"
	}
	p, b, about := h.entityForm(r, me, values, probs, id == "", "admin.theme.new_title", "admin.theme.title")
	pg := p.Page
	about = append(about, b.texts("textarea", "description", "admin.field.public_description", false)...)
	about = append(about, b.texts("textarea", "instructions", "admin.field.instructions", false)...)
	levels := []string{"none", "weak", "strong"}
	rules := []field{
		b.hinted("number", "duration", "admin.field.duration", "admin.field.duration_hint", required, numberRange(5, 480, 5)),
		b.hinted("number", "buffer", "admin.field.buffer", "admin.field.buffer_hint", required, numberRange(0, 120, 5)),
		b.choice("radios", "auth_level", "admin.field.auth_level", levels,
			[]string{pg.T("admin.auth_level.none"), pg.T("admin.auth_level.weak"), pg.T("admin.auth_level.strong")}),
		b.hinted("number", "min_notice", "admin.field.min_notice", "admin.field.min_notice_hint", required, numberRange(0, 43200, 5)),
		b.hinted("number", "horizon", "admin.field.horizon", "admin.field.horizon_hint", required, numberRange(1, 366, 1)),
	}
	p.Errors = b.errors()
	p.Blocks = []block{{Form: &form{Action: action, CSRF: p.CSRF, Sections: []section{
		{Legend: pg.T("admin.theme.about"), Fields: about},
		{Legend: pg.T("admin.theme.rules"), Fields: rules},
	}, Submit: saveButton(pg, "admin.save")}}}
	if id != "" {
		p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.theme.withdraw_heading"), Text: pg.T("admin.theme.withdraw_lead"),
			Form: &form{Action: action, CSRF: p.CSRF, Submit: button{ID: "withdraw", Name: "action", Value: "withdraw",
				Label: pg.T("admin.theme.withdraw"), Danger: true}}})
	}
	p.Blocks = append(p.Blocks, block{Links: []link{{Href: "/staff/admin/services/" + serviceID, Label: pg.T("admin.theme.back")}}})
	return p
}

func (h *Admin) newTheme(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	s, err := h.service(r)
	if err != nil {
		return err
	}
	v := url.Values{"duration": {"30"}, "buffer": {"0"}, "auth_level": {"weak"}, "min_notice": {strconv.Itoa(directory.DefaultMinNoticeMinutes)},
		"horizon": {strconv.Itoa(directory.DefaultHorizonDays)}}
	return h.render(w, http.StatusOK, h.themeForm(r, me, v, nil, s.ID, ""))
}

func (h *Admin) createTheme(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	ctx := r.Context()
	s, err := h.service(r)
	if err != nil {
		return err
	}
	probs := problems{}
	th := readTheme(r.PostForm, probs, true)
	if err := h.createNew(r, me, probs, "theme:"+th.ID, "op=create service="+s.ID, func(tx *store.Tx) error {
		return directory.CreateTheme(ctx, tx, s.ID, th)
	}); err != nil {
		return err
	}
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.themeForm(r, me, r.PostForm, probs, s.ID, ""))
	}
	return seeOther(w, r, "/staff/admin/themes/"+th.ID, "created")
}

func (h *Admin) editTheme(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	th, err := h.theme(r)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, h.themeForm(r, me, themeValues(th), nil, th.ServiceID, th.ID))
}

// saveTheme saves a theme's texts and rules, or withdraws it. A theme with appointments
// to come is withdrawn only once they are cancelled (resolve=cancel).
func (h *Admin) saveTheme(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old, err := h.theme(r)
	if err != nil {
		return err
	}
	back := "/staff/admin/themes/" + old.ID
	switch r.PostForm.Get("action") {
	case "withdraw":
		check := func(ctx context.Context, q store.Queryer) ([]booked, error) {
			return futureBooked(ctx, q, h.now(), "a.theme_id = ?", old.ID)
		}
		cancelled := 0
		if resolve(r) {
			if cancelled, err = h.cancelOrphans(r, me, "theme:"+old.ID, check); err != nil {
				return err
			}
		}
		err := h.inTx(ctx, record(r, me, "theme:"+old.ID, fmt.Sprintf("op=withdraw cancelled=%d", cancelled)), func(tx *store.Tx) error {
			if err := refuseOrphans(check(ctx, tx)); err != nil {
				return err
			}
			return directory.DeactivateTheme(ctx, tx, old.ID)
		})
		var orphans *orphanError
		if errors.As(err, &orphans) {
			return h.conflict(w, r, me, orphans, back)
		} else if err != nil {
			return orNotFound(err)
		}
		return seeOther(w, r, "/staff/admin/services/"+old.ServiceID, "withdrawn", "cancelled", strconv.Itoa(cancelled))
	case "save":
	default:
		return badAction()
	}
	probs := problems{}
	th := readTheme(r.PostForm, probs, false)
	th.ID = old.ID
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.themeForm(r, me, r.PostForm, probs, old.ServiceID, old.ID))
	}
	if err := h.saveEdit(r, me, "theme:"+th.ID, themeValues(old), func(tx *store.Tx) error {
		return directory.UpdateTheme(ctx, tx, th)
	}); err != nil {
		return err
	}
	return seeOther(w, r, back, "saved")
}

// service is the active service the request's path names; 404 if there is none.
func (h *Admin) service(r *http.Request) (directory.Service, error) {
	s, err := directory.ServiceByID(r.Context(), h.db, r.PathValue("id"))
	return s, orNotFound(err)
}

// theme is the active theme the request's path names; 404 if there is none.
func (h *Admin) theme(r *http.Request) (directory.Theme, error) {
	th, err := directory.ThemeByID(r.Context(), h.db, r.PathValue("id"))
	return th, orNotFound(err)
}

// localDay is the day of t in the agency's time zone, for inputs of type date.
func localDay(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

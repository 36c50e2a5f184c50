package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"balcao/internal/access"
	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/store"
	"balcao/internal/view"
)

// staffList lists the staff members the signed-in one may manage.
func (h *Admin) staffList(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaStaff)
	if err != nil {
		return err
	}
	ctx := r.Context()
	list, err := directory.StaffList(ctx, h.db)
	if err != nil {
		return err
	}
	names, err := h.locationNames(ctx)
	if err != nil {
		return err
	}
	p := h.newPage(r, me, "admin.staff.title")
	var items []item
	for _, s := range list {
		if !access.CanManageStaff(me, access.Staff{ID: s.ID, Role: s.Role, LocationID: s.LocationID}) {
			continue
		}
		meta := p.T("auth.role."+s.Role) + " · " + names[p.Lang][s.LocationID]
		if !s.Active {
			meta += " · " + p.T("admin.staff.inactive")
		}
		items = append(items, item{Label: s.Name, Href: "/staff/admin/staff/" + s.ID, Meta: meta})
	}
	p.Blocks = []block{{Text: p.T("admin.staff.lead"), Items: items, Empty: p.T("admin.staff.empty"),
		Links: []link{{Href: "/staff/admin/staff/new", Label: p.T("admin.staff.new")}}}}
	return h.render(w, http.StatusOK, p)
}

// locationNames maps language -> location id -> name.
func (h *Admin) locationNames(ctx context.Context) (map[string]map[string]string, error) {
	list, err := directory.Locations(ctx, h.db)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{"pt-PT": {}, "en": {}}
	for _, l := range list {
		for lang := range out {
			out[lang][l.ID] = l.Name.In(lang)
		}
	}
	return out, nil
}

func staffValues(s directory.StaffEntry) url.Values {
	v := url.Values{"name": {s.Name}, "email": {s.Email}, "role": {s.Role}, "location": {s.LocationID},
		"languages": s.Languages, "themes": s.Themes}
	setWeekly(v, s.Hours)
	return v
}

var languages = []string{directory.LangPT, directory.LangEN, directory.LangLGP}

// readStaff reads the staff form; themes are the ids of the active themes.
func readStaff(v url.Values, probs problems, me access.Staff, themes map[string]bool, locations map[string]string) directory.StaffConfig {
	s := directory.StaffConfig{Name: strings.TrimSpace(v.Get("name")), Email: strings.TrimSpace(v.Get("email")),
		Role: probs.oneOf(v, "role", auth.Roles...), Location: v.Get("location"), Hours: probs.weekly(v)}
	switch {
	case s.Name == "":
		probs.add("name", "error.required")
	case len(s.Name) > 200:
		probs.add("name", "error.too_long")
	}
	if addr, err := mail.ParseAddress(s.Email); s.Email == "" {
		probs.add("email", "error.required")
	} else if err != nil || addr.Address != s.Email || len(s.Email) > 254 {
		probs.add("email", "error.email")
	}
	if _, ok := locations[s.Location]; !ok {
		probs.add("location", "admin.error.choice")
	} else if s.Role != "" && !access.CanGiveRole(me, s.Role, s.Location) {
		probs.add("role", "admin.error.role_not_yours")
	}
	for _, l := range v["languages"] {
		if !slices.Contains(languages, l) {
			probs.add("languages", "admin.error.choice")
		} else if !slices.Contains(s.Languages, l) {
			s.Languages = append(s.Languages, l)
		}
	}
	for _, th := range v["themes"] {
		if themes[th] && !slices.Contains(s.Themes, th) {
			s.Themes = append(s.Themes, th)
		}
	}
	return s
}

// staffForm is the form of a staff member, new (with a first password) or not, with their
// absences and the way to disable them.
func (h *Admin) staffForm(r *http.Request, me access.Staff, values url.Values, probs problems, s *directory.StaffEntry) (*page, error) {
	return h.staffFormWith(r, me, values, probs, s, nil, nil)
}

// staffFormWith is staffForm with the absence form's values and problems.
func (h *Admin) staffFormWith(r *http.Request, me access.Staff, values url.Values, probs problems, s *directory.StaffEntry,
	absValues url.Values, absProbs problems) (*page, error) {
	ctx := r.Context()
	titleKey, action := "admin.staff.new_title", "/staff/admin/staff"
	var args []any
	if s != nil {
		titleKey, action, args = "admin.staff.edit_title", "/staff/admin/staff/"+s.ID, []any{s.Name}
	}
	p := h.newPage(r, me, titleKey, args...)
	pg := p.Page
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return nil, err
	}
	locations, err := directory.Locations(ctx, h.db)
	if err != nil {
		return nil, err
	}
	var roles, roleLabels, locIDs, locLabels []string
	for _, role := range auth.Roles {
		if access.CanGiveRole(me, role, me.LocationID) {
			roles, roleLabels = append(roles, role), append(roleLabels, pg.T("auth.role."+role))
		}
	}
	for _, l := range locations {
		if me.Role == access.Administrator || l.ID == me.LocationID {
			locIDs, locLabels = append(locIDs, l.ID), append(locLabels, l.Name.In(pg.Lang))
		}
	}
	b := newBuilder(pg, values, probs)
	about := []field{
		b.field("text", "name", "admin.field.full_name", required, maxlength(200), autocomplete("off")),
		b.hinted("email", "email", "admin.field.email", "admin.field.email_hint", required, maxlength(254), autocomplete("off")),
	}
	if s == nil {
		pw := b.hinted("password", "password", "admin.field.first_password", "admin.field.first_password_hint", required, autocomplete("new-password"))
		about = append(about, pw)
	}
	about = append(about,
		b.choice("select", "role", "admin.field.role", roles, roleLabels),
		b.choice("select", "location", "admin.field.location", locIDs, locLabels),
		b.choice("checks", "languages", "admin.field.languages", languages,
			[]string{pg.T("admin.language.pt"), pg.T("admin.language.en"), pg.T("admin.language.lgp")}),
	)
	var themeFields []field
	for _, svc := range services {
		var ids, labels []string
		for _, th := range svc.Themes {
			ids, labels = append(ids, th.ID), append(labels, th.Name.In(pg.Lang))
		}
		if len(ids) == 0 {
			continue
		}
		f := b.choice("checks", "themes", "admin.field.themes", ids, labels)
		f.ID, f.Label = "f-themes-"+svc.ID, svc.Name.In(pg.Lang)
		themeFields = append(themeFields, f)
	}
	p.Errors = b.errors()
	p.Blocks = []block{{Form: &form{Action: action, CSRF: p.CSRF, Sections: []section{
		{Legend: pg.T("admin.staff.about"), Fields: about},
		{Legend: pg.T("admin.staff.themes"), Fields: themeFields},
		{Legend: pg.T("admin.staff.hours"), Fields: b.weekFields()},
	}, Submit: saveButton(pg, "admin.save")}}}
	if s != nil {
		blocks, errs := absenceBlocks(p, s, absValues, absProbs)
		p.Blocks = append(p.Blocks, blocks...)
		if len(absProbs) > 0 {
			p.Errors = errs
		}
		if s.Active && s.ID != me.ID {
			p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.staff.disable_heading"), Text: pg.T("admin.staff.disable_lead"),
				Form: &form{Action: action, CSRF: p.CSRF, Submit: button{ID: "disable", Name: "action", Value: "disable",
					Label: pg.T("admin.staff.disable"), Danger: true}}})
		} else if !s.Active {
			p.Blocks = append(p.Blocks, block{Heading: pg.T("admin.staff.enable_heading"), Text: pg.T("admin.staff.enable_lead"),
				Form: &form{Action: action, CSRF: p.CSRF, Submit: button{ID: "enable", Name: "action", Value: "enable",
					Label: pg.T("admin.staff.enable")}}})
		}
	}
	p.Blocks = append(p.Blocks, block{Links: []link{{Href: "/staff/admin/staff", Label: pg.T("admin.staff.back")}}})
	return p, nil
}

// absenceBlocks are a staff member's absences to come, each with a button to remove it,
// and the form to add one.
func absenceBlocks(p *page, s *directory.StaffEntry, values url.Values, probs problems) ([]block, view.FormErrors) {
	pg := p.Page
	loc := calendar.Lisbon()
	var items []item
	for _, a := range s.Absences {
		label := pg.T("admin.absence.span", pg.ShortDate(a.Start.In(loc))+" "+pg.Clock(a.Start.In(loc)),
			pg.ShortDate(a.End.In(loc))+" "+pg.Clock(a.End.In(loc)))
		items = append(items, item{Label: label, Meta: a.Reason, Button: &form{Action: "/staff/admin/staff/" + s.ID + "/absences",
			CSRF: p.CSRF, Hidden: []hidden{{"action", "remove"}, {"absence", a.ID}},
			Submit: button{Label: pg.T("admin.absence.remove"), Context: label, Secondary: true}}})
	}
	b := newBuilder(pg, values, probs)
	fields := []field{
		b.field("date", "from_day", "admin.field.from_day", required),
		b.hinted("time", "from_time", "admin.field.from_time", "admin.field.time_hint"),
		b.field("date", "to_day", "admin.field.to_day", required),
		b.hinted("time", "to_time", "admin.field.to_time", "admin.field.time_hint"),
		b.field("text", "reason", "admin.field.reason", maxlength(200)),
	}
	return []block{
		{Heading: pg.T("admin.absence.heading"), Items: items, Empty: pg.T("admin.absence.empty")},
		{Heading: pg.T("admin.absence.add_heading"), Form: &form{Action: "/staff/admin/staff/" + s.ID + "/absences", CSRF: p.CSRF,
			Hidden: []hidden{{"action", "add"}}, Sections: []section{{Fields: fields}},
			Submit: button{ID: "add-absence", Label: pg.T("admin.absence.add")}}},
	}, b.errors()
}

func (h *Admin) newStaff(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaStaff)
	if err != nil {
		return err
	}
	p, err := h.staffForm(r, me, url.Values{"role": {access.Agent}, "location": {me.LocationID}, "languages": {directory.LangPT}}, nil, nil)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, p)
}

// known reads the ids of the active themes and the locations' names.
func (h *Admin) known(ctx context.Context) (map[string]bool, map[string]string, error) {
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return nil, nil, err
	}
	themes := map[string]bool{}
	for _, s := range services {
		for _, th := range s.Themes {
			themes[th.ID] = true
		}
	}
	locations, err := directory.Locations(ctx, h.db)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, l := range locations {
		names[l.ID] = l.Name.In(directory.DefaultLanguage)
	}
	return themes, names, nil
}

// passwordProblems maps the password policy's errors to messages.
var passwordProblems = map[error]string{
	auth.ErrPasswordTooShort: "admin.error.password_short",
	auth.ErrPasswordTooLong:  "admin.error.password_long",
	auth.ErrPasswordOneClass: "admin.error.password_one_class",
	auth.ErrPasswordPersonal: "admin.error.password_personal",
}

// createStaff adds a staff member who can sign in with the first password given (their
// role may require them to set up two-step verification then).
func (h *Admin) createStaff(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaStaff)
	if err != nil {
		return err
	}
	ctx := r.Context()
	themes, locations, err := h.known(ctx)
	if err != nil {
		return err
	}
	probs := problems{}
	s := readStaff(r.PostForm, probs, me, themes, locations)
	password := r.PostForm.Get("password")
	if password == "" {
		probs.add("password", "error.required")
	} else if err := auth.CheckPasswordPolicy(password, s.Email, s.Name); err != nil {
		probs.add("password", passwordProblems[err])
	}
	if len(probs) == 0 {
		created, err := h.auth.CreateStaff(ctx, auth.NewStaff{Email: s.Email, Name: s.Name, Role: s.Role, LocationID: s.Location, Password: password})
		switch {
		case errors.Is(err, auth.ErrEmailTaken):
			probs.add("email", "admin.error.email_taken")
		case errors.Is(err, auth.ErrInvalidEmail):
			probs.add("email", "error.email")
		case err != nil:
			return err
		default:
			s.ID = created.ID
			if err := h.inTx(ctx, record(r, me, "staff:"+s.ID, "op=create role="+s.Role+" location="+s.Location), func(tx *store.Tx) error {
				return directory.SaveStaff(ctx, tx, s)
			}); err != nil {
				return err
			}
			return seeOther(w, r, "/staff/admin/staff/"+s.ID, "created")
		}
	}
	r.PostForm.Del("password")
	p, err := h.staffForm(r, me, r.PostForm, probs, nil)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusUnprocessableEntity, p)
}

// staffFor reads the staff member of the request's path, if the signed-in one may manage
// them; 404 otherwise.
func (h *Admin) staffFor(r *http.Request, me access.Staff) (directory.StaffEntry, error) {
	s, err := directory.StaffByID(r.Context(), h.db, r.PathValue("id"), h.now())
	if err != nil {
		return s, orNotFound(err)
	}
	if !access.CanManageStaff(me, access.Staff{ID: s.ID, Role: s.Role, LocationID: s.LocationID}) {
		return s, notFound(nil)
	}
	return s, nil
}

func (h *Admin) editStaff(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	s, err := h.staffFor(r, me)
	if err != nil {
		return err
	}
	p, err := h.staffForm(r, me, staffValues(s), nil, &s)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, p)
}

func servantOf(s directory.StaffEntry) servant {
	return servant{Active: s.Active, Role: s.Role, Location: s.LocationID, Languages: s.Languages, Themes: s.Themes, Hours: s.Hours}
}

// saveStaff saves a staff member, disables or enables them. A change that leaves them
// unable to serve appointments booked with them is refused unless those are cancelled
// (resolve=cancel).
func (h *Admin) saveStaff(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old, err := h.staffFor(r, me)
	if err != nil {
		return err
	}
	back := "/staff/admin/staff/" + old.ID
	before := servantOf(old)
	var after servant
	var s directory.StaffConfig
	switch r.PostForm.Get("action") {
	case "enable":
		return h.enableStaff(w, r, me, old)
	case "disable":
		if old.ID == me.ID {
			return need(false)
		}
		after = before
		after.Active = false
	case "save":
		themes, locations, err := h.known(ctx)
		if err != nil {
			return err
		}
		probs := problems{}
		s = readStaff(r.PostForm, probs, me, themes, locations)
		s.ID = old.ID
		if old.ID == me.ID && s.Role != old.Role {
			probs.add("role", "admin.error.own_role")
		}
		if len(probs) > 0 {
			p, err := h.staffForm(r, me, r.PostForm, probs, &old)
			if err != nil {
				return err
			}
			return h.render(w, http.StatusUnprocessableEntity, p)
		}
		hours, _ := directory.ParseWeekly(s.Hours)
		after = servant{Active: old.Active, Role: s.Role, Location: s.Location, Languages: s.Languages, Themes: s.Themes, Hours: hours}
	default:
		return badAction()
	}
	check := func(ctx context.Context, q store.Queryer) ([]booked, error) {
		return staffOrphans(ctx, q, h.now(), old.ID, before, after)
	}
	cancelled := 0
	if resolve(r) {
		if cancelled, err = h.cancelOrphans(r, me, "staff:"+old.ID, check); err != nil {
			return err
		}
	}
	var orphans *orphanError
	if r.PostForm.Get("action") == "disable" {
		if err := refuseOrphans(check(ctx, h.db)); errors.As(err, &orphans) {
			return h.conflict(w, r, me, orphans, back)
		} else if err != nil {
			return err
		}
		if err := h.auth.Disable(ctx, old.ID); err != nil {
			return err
		}
		if _, err := h.audit.Append(ctx, audit.Entry{Actor: me.ID, Action: audit.AccountChange, Object: "staff:" + old.ID,
			IP: audit.ClientIP(r), Details: fmt.Sprintf("op=disable cancelled=%d", cancelled)}); err != nil {
			return err
		}
		return seeOther(w, r, "/staff/admin/staff", "disabled", "cancelled", strconv.Itoa(cancelled))
	}
	details := fmt.Sprintf("op=update fields=%s cancelled=%d", changed(staffValues(old), r.PostForm), cancelled)
	err = h.inTx(ctx, record(r, me, "staff:"+old.ID, details), func(tx *store.Tx) error {
		if err := refuseOrphans(check(ctx, tx)); err != nil {
			return err
		}
		return directory.SaveStaff(ctx, tx, s)
	})
	if errors.As(err, &orphans) {
		return h.conflict(w, r, me, orphans, back)
	}
	if errors.Is(err, directory.ErrEmailTaken) {
		p, perr := h.staffForm(r, me, r.PostForm, problems{"email": "admin.error.email_taken"}, &old)
		if perr != nil {
			return perr
		}
		return h.render(w, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	return seeOther(w, r, back, "saved", "cancelled", strconv.Itoa(cancelled))
}

// enableStaff lets a disabled staff member sign in and be booked again. Their sessions
// ended when they were disabled; they sign in anew with the password they had.
func (h *Admin) enableStaff(w http.ResponseWriter, r *http.Request, me access.Staff, s directory.StaffEntry) error {
	back := "/staff/admin/staff/" + s.ID
	if s.Active {
		return seeOther(w, r, back, "enabled")
	}
	ctx := r.Context()
	entry := audit.Entry{Actor: me.ID, Action: audit.AccountChange, Object: "staff:" + s.ID, IP: audit.ClientIP(r), Details: "op=enable"}
	if err := h.inTx(ctx, entry, func(tx *store.Tx) error {
		return directory.EnableStaff(ctx, tx, s.ID)
	}); err != nil {
		return orNotFound(err)
	}
	return seeOther(w, r, back, "enabled")
}

// changeAbsences adds an absence (refused over booked appointments unless they are
// cancelled) or removes one.
func (h *Admin) changeAbsences(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	s, err := h.staffFor(r, me)
	if err != nil {
		return err
	}
	back := "/staff/admin/staff/" + s.ID
	switch r.PostForm.Get("action") {
	case "remove":
		id := r.PostForm.Get("absence")
		if err := h.inTx(ctx, record(r, me, "staff:"+s.ID, "op=remove_absence absence="+id), func(tx *store.Tx) error {
			return directory.DeleteAbsence(ctx, tx, s.ID, id)
		}); err != nil {
			return orNotFound(err)
		}
		return seeOther(w, r, back, "removed")
	case "add":
	default:
		return badAction()
	}
	probs := problems{}
	loc := calendar.Lisbon()
	fromDay, ok1 := probs.day(r.PostForm, "from_day")
	toDay, ok2 := probs.day(r.PostForm, "to_day")
	fromMin, toMin := probs.clock(r.PostForm, "from_time", 0), probs.clock(r.PostForm, "to_time", 1440)
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if len(reason) > 200 {
		probs.add("reason", "error.too_long")
	}
	at := func(d time.Time, min int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).Add(time.Duration(min) * time.Minute)
	}
	from, to := at(fromDay, fromMin), at(toDay, toMin)
	if ok1 && ok2 && len(probs) == 0 && !to.After(from) {
		probs.add("to_day", "admin.error.absence_order")
	}
	if len(probs) > 0 {
		p, err := h.staffFormWith(r, me, staffValues(s), nil, &s, r.PostForm, probs)
		if err != nil {
			return err
		}
		return h.render(w, http.StatusUnprocessableEntity, p)
	}
	check := func(ctx context.Context, q store.Queryer) ([]booked, error) {
		return futureBooked(ctx, q, h.now(), "(a.agent_id = ? OR a.interpreter_id = ?) AND a.starts_at < ? AND a.ends_at > ?",
			s.ID, s.ID, to.Unix(), from.Unix())
	}
	cancelled := 0
	if resolve(r) {
		if cancelled, err = h.cancelOrphans(r, me, "staff:"+s.ID, check); err != nil {
			return err
		}
	}
	err = h.inTx(ctx, record(r, me, "staff:"+s.ID, fmt.Sprintf("op=add_absence cancelled=%d", cancelled)), func(tx *store.Tx) error {
		if err := refuseOrphans(check(ctx, tx)); err != nil {
			return err
		}
		_, err := directory.AddAbsence(ctx, tx, s.ID, from, to, reason)
		return err
	})
	var orphans *orphanError
	if errors.As(err, &orphans) {
		return h.conflict(w, r, me, orphans, back)
	} else if err != nil {
		return err
	}
	return seeOther(w, r, back, "added", "cancelled", strconv.Itoa(cancelled))
}

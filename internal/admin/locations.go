package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"balcao/internal/access"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// locations lists the locations and their opening hours.
func (h *Admin) locations(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaLocations)
	if err != nil {
		return err
	}
	list, err := directory.Locations(r.Context(), h.db)
	if err != nil {
		return err
	}
	p := h.newPage(r, me, "admin.locations.title")
	var items []item
	for _, l := range list {
		it := item{Label: l.Name.In(p.Lang), Meta: weekSummary(p, l.OpeningHours)}
		if access.CanManageLocation(me, l.ID) {
			it.Href = "/staff/admin/locations/" + l.ID
		}
		items = append(items, it)
	}
	b := block{Text: p.T("admin.locations.lead"), Items: items, Empty: p.T("admin.locations.empty")}
	if access.CanManageLocation(me, "") {
		b.Links = []link{{Href: "/staff/admin/locations/new", Label: p.T("admin.locations.new")}}
	}
	p.Blocks = []block{b}
	return h.render(w, http.StatusOK, p)
}

// weekSummary writes a week's hours on one line: "seg. 09:00-17:30; ter. ...".
func weekSummary(p *page, ranges []directory.WeeklyRange) string {
	var parts []string
	for _, d := range weekdays {
		if s := directory.FormatWeekly(ranges, d); s != "" {
			parts = append(parts, p.T("admin.weekday_short."+directory.WeekdayKey(d))+" "+s)
		}
	}
	if len(parts) == 0 {
		return p.T("admin.hours.none")
	}
	return strings.Join(parts, "; ")
}

func locationValues(l directory.Location) url.Values {
	v := url.Values{"region": {l.Region}}
	setText(v, "name", l.Name)
	setWeekly(v, l.OpeningHours)
	return v
}

func readLocation(v url.Values, probs problems, isNew bool) directory.LocationConfig {
	l := directory.LocationConfig{Name: probs.text(v, "name", true, 200), Region: strings.TrimSpace(v.Get("region")),
		OpeningHours: probs.weekly(v)}
	if len(l.Region) > 100 {
		probs.add("region", "error.too_long")
	}
	if isNew {
		l.ID = probs.id(v, "id")
	}
	return l
}

func (h *Admin) locationForm(r *http.Request, me access.Staff, values url.Values, probs problems, id string) *page {
	action := "/staff/admin/locations/" + id
	if id == "" {
		action = "/staff/admin/locations"
	}
	p, b, about := h.entityForm(r, me, values, probs, id == "", "admin.location.new_title", "admin.location.title")
	about = append(about, b.field("text", "region", "admin.field.region", maxlength(100)))
	p.Blocks = []block{
		{Form: &form{Action: action, CSRF: p.CSRF, Sections: []section{{Legend: p.T("admin.location.about"), Fields: about},
			{Legend: p.T("admin.location.opening_hours"), Fields: b.weekFields()}}, Submit: saveButton(p.Page, "admin.save")}},
	}
	if id != "" && access.CanManageLocation(me, "") {
		p.Blocks = append(p.Blocks, block{Heading: p.T("admin.location.delete_heading"), Text: p.T("admin.location.delete_lead"),
			Form: &form{Action: action + "/delete", CSRF: p.CSRF, Hidden: []hidden{{"action", "delete"}},
				Submit: button{ID: "delete", Label: p.T("admin.location.delete"), Danger: true}}})
	}
	p.Blocks = append(p.Blocks, block{Links: []link{{Href: "/staff/admin/locations", Label: p.T("admin.location.back")}}})
	p.Errors = b.errors()
	return p
}

func (h *Admin) newLocation(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	if err := need(access.CanManageLocation(me, "")); err != nil {
		return err
	}
	return h.render(w, http.StatusOK, h.locationForm(r, me, nil, nil, ""))
}

func (h *Admin) createLocation(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	if err := need(access.CanManageLocation(me, "")); err != nil {
		return err
	}
	ctx := r.Context()
	probs := problems{}
	l := readLocation(r.PostForm, probs, true)
	if len(probs) == 0 {
		var n int
		if err := h.db.QueryRow(ctx, "SELECT COUNT(*) FROM locations WHERE id = ?", l.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			probs.add("id", "admin.error.id_taken")
		}
	}
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.locationForm(r, me, r.PostForm, probs, ""))
	}
	if err := h.inTx(ctx, record(r, me, "location:"+l.ID, "op=create"), func(tx *store.Tx) error {
		return directory.SaveLocation(ctx, tx, l)
	}); err != nil {
		return err
	}
	return seeOther(w, r, "/staff/admin/locations/"+l.ID, "created")
}

func (h *Admin) editLocation(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	l, err := directory.LocationByID(r.Context(), h.db, r.PathValue("id"))
	if err != nil {
		return orNotFound(err)
	}
	if !access.CanManageLocation(me, l.ID) {
		return notFound(nil)
	}
	return h.render(w, http.StatusOK, h.locationForm(r, me, locationValues(l), nil, l.ID))
}

// locationOrphans lists the appointments to come of the location's agents that its
// current opening hours allow and the new ones would not.
func locationOrphans(ctx context.Context, q store.Queryer, now time.Time, id string, before, after []directory.WeeklyRange) ([]booked, error) {
	appts, err := futureBooked(ctx, q, now, "s.location_id = ?", id)
	if err != nil {
		return nil, err
	}
	var out []booked
	for _, a := range appts {
		if covered(before, a.Start, a.End) && !covered(after, a.Start, a.End) {
			out = append(out, a)
		}
	}
	return out, nil
}

// saveLocation saves a location's name and opening hours, refusing hours that would
// leave appointments outside them unless they are cancelled (resolve=cancel).
func (h *Admin) saveLocation(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	old, err := directory.LocationByID(ctx, h.db, r.PathValue("id"))
	if err != nil {
		return orNotFound(err)
	}
	if !access.CanManageLocation(me, old.ID) {
		return notFound(nil)
	}
	if r.PostForm.Get("action") != "save" {
		return badAction()
	}
	probs := problems{}
	l := readLocation(r.PostForm, probs, false)
	l.ID = old.ID
	if len(probs) > 0 {
		return h.render(w, http.StatusUnprocessableEntity, h.locationForm(r, me, r.PostForm, probs, old.ID))
	}
	hours, _ := directory.ParseWeekly(l.OpeningHours)
	check := func(ctx context.Context, q store.Queryer) ([]booked, error) {
		return locationOrphans(ctx, q, h.now(), old.ID, old.OpeningHours, hours)
	}
	cancelled := 0
	if resolve(r) {
		if cancelled, err = h.cancelOrphans(r, me, "location:"+old.ID, check); err != nil {
			return err
		}
	}
	details := fmt.Sprintf("op=update fields=%s cancelled=%d", changed(locationValues(old), r.PostForm), cancelled)
	err = h.inTx(ctx, record(r, me, "location:"+old.ID, details), func(tx *store.Tx) error {
		if err := refuseOrphans(check(ctx, tx)); err != nil {
			return err
		}
		return directory.SaveLocation(ctx, tx, l)
	})
	var orphans *orphanError
	if errors.As(err, &orphans) {
		return h.conflict(w, r, me, orphans, "/staff/admin/locations/"+old.ID)
	} else if err != nil {
		return err
	}
	return seeOther(w, r, "/staff/admin/locations/"+old.ID, "saved", "cancelled", strconv.Itoa(cancelled))
}

// deleteLocation deletes a location nothing refers to any more; otherwise it says what
// still does. Only administrators, who create locations, delete them.
func (h *Admin) deleteLocation(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	if err := need(access.CanManageLocation(me, "")); err != nil {
		return err
	}
	ctx := r.Context()
	l, err := directory.LocationByID(ctx, h.db, r.PathValue("id"))
	if err != nil {
		return orNotFound(err)
	}
	if r.PostForm.Get("action") != "delete" {
		return badAction()
	}
	err = h.inTx(ctx, record(r, me, "location:"+l.ID, "op=delete"), func(tx *store.Tx) error {
		return directory.DeleteLocation(ctx, tx, l.ID, h.now())
	})
	var inUse *directory.LocationInUseError
	if errors.As(err, &inUse) {
		return h.locationInUse(w, r, me, l, inUse.Uses)
	} else if err != nil {
		return orNotFound(err)
	}
	return seeOther(w, r, "/staff/admin/locations", "deleted")
}

// locationInUse answers a deletion refused: what still refers to the location, and where
// to change it.
func (h *Admin) locationInUse(w http.ResponseWriter, r *http.Request, me access.Staff, l directory.Location, u directory.LocationUses) error {
	p := h.newPage(r, me, "admin.location.in_use_title")
	pg := p.Page
	var items []item
	for _, use := range []struct {
		n         int
		key, href string
	}{
		{u.Staff, "admin.location.uses.staff", "/staff/admin/staff"},
		{u.Appointments, "admin.location.uses.appointments", ""},
		{u.Closures, "admin.location.uses.closures", "/staff/admin/closures"},
		{u.Visitors, "admin.location.uses.visitors", "/staff/board"},
	} {
		if use.n > 0 {
			items = append(items, item{Label: pg.T(use.key, use.n), Href: use.href})
		}
	}
	p.Blocks = []block{
		{Alert: pg.T("admin.location.in_use_alert", l.Name.In(pg.Lang))},
		{Text: pg.T("admin.location.in_use_list"), Items: items},
		{Text: pg.T("admin.location.in_use_lead"), Links: []link{{Href: "/staff/admin/locations/" + l.ID, Label: pg.T("admin.location.in_use_back")}}},
	}
	return h.render(w, http.StatusConflict, p)
}

// Closures.

// closures lists the closures to come, each with a button to remove it, and a form to
// add one.
func (h *Admin) closures(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaClosures)
	if err != nil {
		return err
	}
	return h.renderClosures(w, r, me, http.StatusOK, url.Values{}, nil)
}

func (h *Admin) renderClosures(w http.ResponseWriter, r *http.Request, me access.Staff, status int, values url.Values, probs problems) error {
	ctx := r.Context()
	loc := calendar.Lisbon()
	today := localDay(h.now(), loc)
	list, err := directory.UpcomingClosures(ctx, h.db, today)
	if err != nil {
		return err
	}
	locations, err := directory.Locations(ctx, h.db)
	if err != nil {
		return err
	}
	p := h.newPage(r, me, "admin.closures.title")
	names := map[string]string{"": p.T("admin.closures.whole_agency")}
	var locIDs, locLabels []string
	if access.CanManageClosure(me, "") {
		locIDs, locLabels = append(locIDs, ""), append(locLabels, names[""])
	}
	for _, l := range locations {
		names[l.ID] = l.Name.In(p.Lang)
		if access.CanManageClosure(me, l.ID) {
			locIDs, locLabels = append(locIDs, l.ID), append(locLabels, names[l.ID])
		}
	}
	var items []item
	for _, c := range list {
		day, _ := calendar.ParseDate(c.Day)
		label := p.LongDate(day.Start(loc))
		meta := names[c.LocationID]
		if n := c.Name.In(p.Lang); n != "" {
			meta += " — " + n
		}
		it := item{Label: label, Meta: meta}
		if access.CanManageClosure(me, c.LocationID) {
			it.Button = &form{Action: "/staff/admin/closures", CSRF: p.CSRF,
				Hidden: []hidden{{"action", "remove"}, {"location", c.LocationID}, {"day", c.Day}},
				Submit: button{Label: p.T("admin.closures.remove"), Context: label + ", " + meta, Secondary: true}}
		}
		items = append(items, it)
	}
	if values.Get("location") == "" && len(locIDs) > 0 && len(probs) == 0 {
		values.Set("location", me.LocationID)
	}
	b := newBuilder(p.Page, values, probs)
	fields := []field{
		b.field("date", "day", "admin.field.day", required, func(f *field) { f.Min = today }),
		b.choice("select", "location", "admin.field.closure_location", locIDs, locLabels),
	}
	fields = append(fields, b.texts("text", "name", "admin.field.closure_name", false)...)
	p.Errors = b.errors()
	p.Blocks = []block{
		{Text: p.T("admin.closures.lead"), Items: items, Empty: p.T("admin.closures.empty")},
		{Heading: p.T("admin.closures.add_heading"), Form: &form{Action: "/staff/admin/closures", CSRF: p.CSRF,
			Hidden: []hidden{{"action", "add"}}, Sections: []section{{Fields: fields}},
			Submit: button{ID: "save", Label: p.T("admin.closures.add")}}},
	}
	return h.render(w, status, p)
}

// changeClosures adds a closure (refused while appointments are booked that day, unless
// they are cancelled) or removes one.
func (h *Admin) changeClosures(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaClosures)
	if err != nil {
		return err
	}
	ctx := r.Context()
	locationID, day := r.PostForm.Get("location"), strings.TrimSpace(r.PostForm.Get("day"))
	switch r.PostForm.Get("action") {
	case "remove":
		if !access.CanManageClosure(me, locationID) {
			return notFound(nil)
		}
		err := h.inTx(ctx, record(r, me, "closure:"+locationID+":"+day, "op=remove"), func(tx *store.Tx) error {
			return directory.DeleteClosure(ctx, tx, locationID, day)
		})
		if err != nil {
			return orNotFound(err)
		}
		return seeOther(w, r, "/staff/admin/closures", "removed")
	case "add":
	default:
		return badAction()
	}
	probs := problems{}
	d, ok := probs.day(r.PostForm, "day")
	if ok {
		day = d.Format(time.DateOnly)
		if localDay(h.now(), calendar.Lisbon()) > day {
			probs.add("day", "admin.error.past_day")
		}
	}
	name := probs.text(r.PostForm, "name", false, 200)
	if !access.CanManageClosure(me, locationID) {
		probs.add("location", "admin.error.choice")
	}
	if len(probs) > 0 {
		return h.renderClosures(w, r, me, http.StatusUnprocessableEntity, r.PostForm, probs)
	}
	check := func(ctx context.Context, q store.Queryer) ([]booked, error) {
		date, _ := calendar.ParseDate(day)
		from, to := date.Start(calendar.Lisbon()), date.AddDays(1).Start(calendar.Lisbon())
		cond, args := "a.starts_at < ? AND a.ends_at > ?", []any{to.Unix(), from.Unix()}
		if locationID != "" {
			cond, args = cond+" AND s.location_id = ?", append(args, locationID)
		}
		return futureBooked(ctx, q, h.now(), cond, args...)
	}
	cancelled := 0
	if resolve(r) {
		if cancelled, err = h.cancelOrphans(r, me, "closure:"+locationID+":"+day, check); err != nil {
			return err
		}
	}
	err = h.inTx(ctx, record(r, me, "closure:"+locationID+":"+day, fmt.Sprintf("op=add cancelled=%d", cancelled)), func(tx *store.Tx) error {
		if err := refuseOrphans(check(ctx, tx)); err != nil {
			return err
		}
		return directory.SaveClosure(ctx, tx, directory.Closure{LocationID: locationID, Day: day, Name: name})
	})
	var orphans *orphanError
	if errors.As(err, &orphans) {
		return h.conflict(w, r, me, orphans, "/staff/admin/closures")
	} else if err != nil {
		return err
	}
	return seeOther(w, r, "/staff/admin/closures", "added", "cancelled", strconv.Itoa(cancelled))
}

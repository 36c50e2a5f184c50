package portal

import (
	"balcao/internal/audit"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/ics"
	"balcao/internal/view"
)

// Cookies that hold a link's token once the link has been opened, scoped to the
// appointment's own pages. JoinCookie (path /join/{id}) also opens the call's pages
// below it (package call).
const (
	manageCookie = "m"
	JoinCookie   = "j"
)

// appointmentFor finds the appointment a manage or join page is about. A link with its
// token (?t=) is exchanged for a cookie and redirected to the same page without it, so the
// token does not linger in the address bar or the history; done reports that redirect.
func (p *Portal) appointmentFor(w http.ResponseWriter, r *http.Request, kind string) (a booking.Appointment, token string, done bool, err error) {
	id := r.PathValue("id")
	cookie, path := manageCookie, "/a/"+id
	if kind == booking.JoinToken {
		cookie, path = JoinCookie, "/join/"+id
	}
	if t := r.URL.Query().Get("t"); t != "" {
		if _, err := p.svc.Get(r.Context(), id, t, kind); err != nil {
			return a, "", false, serviceError(err)
		}
		setTokenCookie(w, cookie, path, t, p.secure)
		q := r.URL.Query()
		q.Del("t")
		target := r.URL.Path
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return a, "", true, nil
	}
	c, err := r.Cookie(cookie)
	if err != nil {
		return a, "", false, httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	}
	a, err = p.svc.Get(r.Context(), id, c.Value, kind)
	if err != nil {
		return a, "", false, serviceError(err)
	}
	return a, c.Value, false, nil
}

// managedWithTheme is appointmentFor a manage page, with the appointment's theme.
func (p *Portal) managedWithTheme(w http.ResponseWriter, r *http.Request) (a booking.Appointment, th directory.Theme, token string, done bool, err error) {
	a, token, done, err = p.appointmentFor(w, r, booking.ManageToken)
	if err != nil || done {
		return a, th, token, done, err
	}
	if th, err = directory.ThemeByID(r.Context(), p.db, a.ThemeID); err != nil {
		return a, th, token, false, serviceError(err)
	}
	return a, th, token, false, nil
}

type appointmentPage struct {
	view.Page
	Banner        string
	ThemeName     string
	When          string
	WhenLisbon    string
	Abroad        bool
	Status        string
	SignLanguage  bool
	Name, Email   string
	Active        bool
	JoinURL       string
	ManageURL     string
	ICSURL        string
	RescheduleURL string
	CancelURL     string
	OpensMinutes  int
	CanEnter      bool   // the lobby is open (join page)
	CallURL       string // the lobby and call (join page)
}

func (p *Portal) appointmentData(w http.ResponseWriter, r *http.Request, a booking.Appointment, titleKey string) (appointmentPage, error) {
	th, err := directory.ThemeByID(r.Context(), p.db, a.ThemeID)
	if err != nil {
		return appointmentPage{}, serviceError(err)
	}
	loc := p.zone(w, r)
	pg := p.page(r, titleKey)
	return appointmentPage{Page: pg, ThemeName: th.Name.In(pg.Lang),
		When:       pg.LongDate(a.Start.In(loc)) + ", " + a.Start.In(loc).Format("15:04"),
		WhenLisbon: a.Start.In(p.svc.Location()).Format("15:04"), Abroad: loc.String() != p.svc.Location().String(),
		Status: pg.T("status." + a.Status), SignLanguage: a.SignLanguage, Name: a.Citizen.Name, Email: a.Citizen.Email,
		Active: a.Status == booking.StatusBooked && a.End.After(p.svc.Now()), OpensMinutes: int(JoinOpensBefore.Minutes()),
	}, nil
}

// JoinOpensBefore is how early before the start the call can be entered.
const JoinOpensBefore = 15 * time.Minute

func (p *Portal) appointment(w http.ResponseWriter, r *http.Request) error {
	a, token, done, err := p.appointmentFor(w, r, booking.ManageToken)
	if err != nil || done {
		return err
	}
	data, err := p.appointmentData(w, r, a, "appointment.title")
	if err != nil {
		return err
	}
	switch {
	case r.URL.Query().Get("booked") == "1":
		data.Banner = data.T("appointment.booked")
	case r.URL.Query().Get("moved") == "1":
		data.Banner = data.T("appointment.moved")
	case r.URL.Query().Get("cancelled") == "1":
		data.Banner = data.T("appointment.cancelled")
	}
	base := "/a/" + a.ID
	data.JoinURL = "/join/" + a.ID + "?t=" + url.QueryEscape(booking.JoinTokenFor(token))
	data.ManageURL = base + "?t=" + url.QueryEscape(token)
	data.ICSURL, data.RescheduleURL, data.CancelURL = base+"/ics", base+"/reschedule", base+"/cancel"
	return p.view.Render(w, http.StatusOK, "appointment", data)
}

func (p *Portal) calendarFile(w http.ResponseWriter, r *http.Request) error {
	a, th, token, done, err := p.managedWithTheme(w, r)
	if err != nil || done {
		return err
	}
	pg := p.page(r, "")
	joinURL := absoluteURL(r, "/join/"+a.ID+"?t="+url.QueryEscape(booking.JoinTokenFor(token)))
	cal := ics.Calendar{ProdID: "-//balcao//" + pg.Agency + "//PT", Method: "PUBLISH", Events: []ics.Event{{
		UID: a.ID + "@balcao", Sequence: a.Sequence, Stamp: p.svc.Now(), Start: a.Start, End: a.End,
		Summary:     pg.T("ics.summary", th.Name.In(pg.Lang), pg.Agency),
		Description: pg.T("ics.description", joinURL), URL: joinURL, Cancelled: a.Status == booking.StatusCancelled,
		Alarm: time.Hour, AlarmText: pg.T("ics.alarm", th.Name.In(pg.Lang)),
	}}}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="marcacao.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(cal.Bytes())
	return err
}

// absoluteURL makes a link for use outside the browser (a calendar entry).
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

type cancelPage struct {
	view.Page
	BackURL   string
	Action    string
	ThemeName string
	When      string
}

func (p *Portal) cancelForm(w http.ResponseWriter, r *http.Request) error {
	a, _, done, err := p.appointmentFor(w, r, booking.ManageToken)
	if err != nil || done {
		return err
	}
	data, err := p.appointmentData(w, r, a, "cancel.title")
	if err != nil {
		return err
	}
	if !data.Active {
		return httpx.Errorf(http.StatusConflict, "not_cancellable", "error.not_cancellable", nil)
	}
	return p.view.Render(w, http.StatusOK, "cancel", cancelPage{Page: data.Page, BackURL: "/a/" + a.ID,
		Action: "/a/" + a.ID + "/cancel", ThemeName: data.ThemeName, When: data.When})
}

func (p *Portal) cancel(w http.ResponseWriter, r *http.Request) error {
	a, token, done, err := p.appointmentFor(w, r, booking.ManageToken)
	if err != nil || done {
		return err
	}
	if _, err := p.svc.Cancel(r.Context(), a.ID, token); err != nil {
		return serviceError(err)
	}
	p.audited(r, a.ID, "cancelled")
	http.Redirect(w, r, "/a/"+a.ID+"?cancelled=1", http.StatusSeeOther)
	return nil
}

func (p *Portal) rescheduleDays(w http.ResponseWriter, r *http.Request) error {
	a, th, _, done, err := p.managedWithTheme(w, r)
	if err != nil || done {
		return err
	}
	loc := p.zone(w, r)
	pg := p.page(r, "reschedule.title")
	base := "/a/" + a.ID + "/reschedule"
	data := daysPage{Page: pg, Heading: pg.T("reschedule.heading", th.Name.In(pg.Lang)), BackURL: "/a/" + a.ID,
		FormAction: base, Zone: loc.String(), Zones: zoneChoices(loc.String(), p.svc.Now()), Current: p.when(pg, a.Start, loc)}
	data.Days, err = p.dayItems(r, th, a.SignLanguage, func(day calendar.Date) string { return base + "/" + day.String() })
	if err != nil {
		return err
	}
	return p.view.Render(w, http.StatusOK, "days", data)
}

func (p *Portal) rescheduleSlots(w http.ResponseWriter, r *http.Request) error {
	a, th, _, done, err := p.managedWithTheme(w, r)
	if err != nil || done {
		return err
	}
	day, err := calendar.ParseDate(r.PathValue("day"))
	if err != nil {
		return notFound(err)
	}
	pg := p.page(r, "reschedule.title")
	data, err := p.slotsData(w, r, pg, th, day, a.SignLanguage, func(start time.Time) string {
		return "/a/" + a.ID + "/reschedule/confirm?" + url.Values{"start": {start.Format(time.RFC3339)}}.Encode()
	})
	if err != nil {
		return err
	}
	// The present time is not a move: it is left out of the choices.
	data.Slots = slices.DeleteFunc(data.Slots, func(s slotItem) bool { return s.Start == a.Start.Format(time.RFC3339) })
	data.Heading = pg.T("reschedule.heading", th.Name.In(pg.Lang))
	data.BackURL, data.Current = "/a/"+a.ID+"/reschedule", p.when(pg, a.Start, p.zone(w, r))
	if r.URL.Query().Get("taken") == "1" {
		data.Notice = pg.T("slots.taken")
	}
	return p.view.Render(w, http.StatusOK, "slots", data)
}

type rescheduleConfirmPage struct {
	view.Page
	BackURL   string
	Action    string
	ThemeName string
	Current   string
	New       string
	Start     string
}

// rescheduleConfirm asks before moving, so that a mis-tap on a phone moves nothing.
func (p *Portal) rescheduleConfirm(w http.ResponseWriter, r *http.Request) error {
	a, th, _, done, err := p.managedWithTheme(w, r)
	if err != nil || done {
		return err
	}
	start, err := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	if err != nil {
		return notFound(err)
	}
	loc := p.zone(w, r)
	pg := p.page(r, "reschedule.title")
	day := calendar.DateOf(start.In(p.svc.Location()))
	return p.view.Render(w, http.StatusOK, "reschedule_confirm", rescheduleConfirmPage{Page: pg,
		BackURL: fmt.Sprintf("/a/%s/reschedule/%s", a.ID, day), Action: "/a/" + a.ID + "/reschedule",
		ThemeName: th.Name.In(pg.Lang), Current: p.when(pg, a.Start, loc), New: p.when(pg, start, loc),
		Start: start.UTC().Format(time.RFC3339)})
}

// when shows an instant in the visitor's zone, with Lisbon time beside it when they differ.
func (p *Portal) when(pg view.Page, t time.Time, loc *time.Location) string {
	s := pg.LongDate(t.In(loc)) + ", " + t.In(loc).Format("15:04")
	if loc.String() != p.svc.Location().String() {
		s += " (" + pg.T("slots.lisbon_time", t.In(p.svc.Location()).Format("15:04")) + ")"
	}
	return s
}

func (p *Portal) reschedule(w http.ResponseWriter, r *http.Request) error {
	a, token, done, err := p.appointmentFor(w, r, booking.ManageToken)
	if err != nil || done {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	start, err := time.Parse(time.RFC3339, r.PostForm.Get("start"))
	if err != nil {
		return httpx.Errorf(http.StatusBadRequest, "invalid", "error.bad_start", err)
	}
	_, err = p.svc.Reschedule(r.Context(), a.ID, token, start)
	var invalid *booking.InvalidError
	switch {
	case err == nil:
		p.audited(r, a.ID, "rescheduled")
		http.Redirect(w, r, "/a/"+a.ID+"?moved=1", http.StatusSeeOther)
		return nil
	case errors.As(err, &invalid), errors.Is(err, booking.ErrSlotTaken), errors.Is(err, booking.ErrNoSuchSlot):
		day := calendar.DateOf(start.In(p.svc.Location()))
		http.Redirect(w, r, fmt.Sprintf("/a/%s/reschedule/%s?taken=1", a.ID, day), http.StatusSeeOther)
		return nil
	}
	return serviceError(err)
}

func (p *Portal) join(w http.ResponseWriter, r *http.Request) error {
	a, _, done, err := p.appointmentFor(w, r, booking.JoinToken)
	if err != nil || done {
		return err
	}
	data, err := p.appointmentData(w, r, a, "join.title")
	if err != nil {
		return err
	}
	// The call's pages (package call) are below this path, where the join cookie goes.
	data.CallURL = "/join/" + a.ID + "/call"
	data.CanEnter = data.Active && !p.svc.Now().Before(a.Start.Add(-JoinOpensBefore))
	return p.view.Render(w, http.StatusOK, "join", data)
}

// audited records in the audit log that the citizen changed their appointment. The change
// has committed: a failure to record it is logged, not shown to the citizen.
func (p *Portal) audited(r *http.Request, appointmentID, what string) {
	ref := "appointment:" + appointmentID
	if err := audit.Record(r.Context(), audit.ChangePersonalData, ref, ref, what); err != nil {
		p.logger.Error("audit a citizen's change", "appointment", appointmentID, "error", err)
	}
}

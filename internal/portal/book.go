package portal

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/view"
)

type serviceItem struct {
	ID, Name, Description string
	Themes                []themeItem
}

type themeItem struct {
	ID, Name, Description, URL string
	Minutes                    int
}

type homePage struct {
	view.Page
	Services []serviceItem
}

func (p *Portal) home(w http.ResponseWriter, r *http.Request) error {
	pg := p.page(r, "home.title")
	services, err := p.serviceItems(r, pg.Lang)
	if err != nil {
		return err
	}
	return p.view.Render(w, http.StatusOK, "home", homePage{Page: pg, Services: services})
}

func (p *Portal) serviceItems(r *http.Request, lang string) ([]serviceItem, error) {
	services, err := directory.Services(r.Context(), p.db)
	if err != nil {
		return nil, err
	}
	out := make([]serviceItem, 0, len(services))
	for _, s := range services {
		item := serviceItem{ID: s.ID, Name: s.Name.In(lang), Description: s.Description.In(lang)}
		for _, th := range s.Themes {
			item.Themes = append(item.Themes, themeItem{ID: th.ID, Name: th.Name.In(lang), Description: th.Description.In(lang),
				Minutes: int(th.Duration.Minutes()), URL: "/book/" + s.ID + "/" + th.ID})
		}
		out = append(out, item)
	}
	return out, nil
}

type servicePage struct {
	view.Page
	Step    int
	Service string
	Themes  []themeItem
}

func (p *Portal) service(w http.ResponseWriter, r *http.Request) error {
	s, err := directory.ServiceByID(r.Context(), p.db, r.PathValue("service"))
	if err != nil {
		return serviceError(err)
	}
	pg := p.page(r, "service.title", "")
	pg.Title = s.Name.In(pg.Lang)
	data := servicePage{Page: pg, Step: 1, Service: s.Name.In(pg.Lang)}
	for _, th := range s.Themes {
		data.Themes = append(data.Themes, themeItem{ID: th.ID, Name: th.Name.In(pg.Lang), Description: th.Description.In(pg.Lang),
			Minutes: int(th.Duration.Minutes()), URL: "/book/" + s.ID + "/" + th.ID})
	}
	return p.view.Render(w, http.StatusOK, "service", data)
}

// flowTheme finds the theme of a booking-flow URL and checks it belongs to the service.
func (p *Portal) flowTheme(r *http.Request) (directory.Service, directory.Theme, error) {
	s, err := directory.ServiceByID(r.Context(), p.db, r.PathValue("service"))
	if err != nil {
		return s, directory.Theme{}, serviceError(err)
	}
	for _, th := range s.Themes {
		if th.ID == r.PathValue("theme") {
			return s, th, nil
		}
	}
	return s, directory.Theme{}, notFound(nil)
}

type dayItem struct {
	Date time.Time
	Free int
	URL  string
}

type daysPage struct {
	view.Page
	Step              int
	Heading           string
	BackURL           string
	FormAction        string
	Notice            string
	AllowSignLanguage bool
	SignLanguage      bool
	Zone              string
	Zones             []zoneOption
	Current           string // on a reschedule: the appointment's present time
	Days              []dayItem
}

// flowQuery carries the visitor's choices from page to page.
func flowQuery(signLanguage bool) string {
	if signLanguage {
		return "?lgp=1"
	}
	return ""
}

func (p *Portal) days(w http.ResponseWriter, r *http.Request) error {
	s, th, err := p.flowTheme(r)
	if err != nil {
		return err
	}
	loc := p.zone(w, r)
	sign := r.URL.Query().Get("lgp") == "1"
	pg := p.page(r, "days.title")
	base := "/book/" + s.ID + "/" + th.ID
	data := daysPage{Page: pg, Step: 2, Heading: th.Name.In(pg.Lang), BackURL: "/book/" + s.ID, FormAction: base,
		AllowSignLanguage: true, SignLanguage: sign, Zone: loc.String(), Zones: zoneChoices(loc.String(), p.svc.Now())}
	data.Days, err = p.dayItems(r, th, sign, func(day calendar.Date) string { return base + "/" + day.String() + flowQuery(sign) })
	if err != nil {
		return err
	}
	return p.view.Render(w, http.StatusOK, "days", data)
}

// dayItems lists the days with free slots, as far as one availability query reaches.
func (p *Portal) dayItems(r *http.Request, th directory.Theme, sign bool, link func(calendar.Date) string) ([]dayItem, error) {
	today := calendar.DateOf(p.svc.Now().In(p.svc.Location()))
	slots, err := p.svc.Availability(r.Context(), th.ID, today, today.AddDays(booking.MaxRangeDays-1), sign)
	if err != nil {
		return nil, serviceError(err)
	}
	var days []dayItem
	for _, s := range slots {
		local := s.Start.In(p.svc.Location())
		day := calendar.DateOf(local)
		if n := len(days); n > 0 && calendar.DateOf(days[n-1].Date) == day {
			days[n-1].Free += s.Free
			continue
		}
		days = append(days, dayItem{Date: day.Start(p.svc.Location()), Free: s.Free, URL: link(day)})
	}
	return days, nil
}

type slotItem struct {
	Start  string // RFC 3339, as posted back
	Local  string // in the visitor's zone
	Lisbon string // in the agency's zone
	URL    string
}

type slotsPage struct {
	view.Page
	Step    int
	Heading string
	BackURL string
	Notice  string
	Day     time.Time
	Zone    string
	Abroad  bool
	Slots   []slotItem
	Current string // on a reschedule: the appointment's present time
}

func (p *Portal) slots(w http.ResponseWriter, r *http.Request) error {
	s, th, err := p.flowTheme(r)
	if err != nil {
		return err
	}
	day, err := calendar.ParseDate(r.PathValue("day"))
	if err != nil {
		return notFound(err)
	}
	sign := r.URL.Query().Get("lgp") == "1"
	base := "/book/" + s.ID + "/" + th.ID
	pg := p.page(r, "slots.title")
	data, err := p.slotsData(w, r, pg, th, day, sign, func(start time.Time) string {
		q := url.Values{"start": {start.Format(time.RFC3339)}}
		if sign {
			q.Set("lgp", "1")
		}
		return base + "/details?" + q.Encode()
	})
	if err != nil {
		return err
	}
	data.Step, data.Heading, data.BackURL = 3, th.Name.In(pg.Lang), base+flowQuery(sign)
	if r.URL.Query().Get("taken") == "1" {
		data.Notice = pg.T("slots.taken")
	}
	return p.view.Render(w, http.StatusOK, "slots", data)
}

func (p *Portal) slotsData(w http.ResponseWriter, r *http.Request, pg view.Page, th directory.Theme, day calendar.Date, sign bool, link func(time.Time) string) (slotsPage, error) {
	loc := p.zone(w, r)
	slots, err := p.svc.Availability(r.Context(), th.ID, day, day, sign)
	if err != nil {
		return slotsPage{}, serviceError(err)
	}
	data := slotsPage{Page: pg, Day: day.Start(p.svc.Location()), Zone: loc.String(), Abroad: loc.String() != p.svc.Location().String()}
	for _, s := range slots {
		data.Slots = append(data.Slots, slotItem{Start: s.Start.Format(time.RFC3339), Local: localTime(s.Start, loc, day),
			Lisbon: s.Start.In(p.svc.Location()).Format("15:04"), URL: link(s.Start)})
	}
	return data, nil
}

// localTime shows a slot's time in the visitor's zone, with the date when it falls on
// another day there than in Lisbon.
func localTime(t time.Time, loc *time.Location, lisbonDay calendar.Date) string {
	local := t.In(loc)
	if calendar.DateOf(local) != lisbonDay {
		return local.Format("2006-01-02 15:04")
	}
	return local.Format("15:04")
}

type detailsForm struct {
	Name, Email, Phone, NISS, NIF, Language, Notes string
}

type detailsPage struct {
	view.Page
	Step         int
	BackURL      string
	Action       string
	ThemeName    string
	Start        string
	When         string
	WhenLisbon   string
	Abroad       bool
	Zone         string
	SignLanguage bool
	Form         detailsForm
	Errors       view.FormErrors
}

// detailsFields are the details form's inputs, in order, for its error summary.
var detailsFields = []view.Field{{Name: "citizen.name", LabelKey: "field.name"}, {Name: "citizen.email", LabelKey: "field.email"},
	{Name: "citizen.phone", LabelKey: "field.phone"}, {Name: "citizen.niss", LabelKey: "field.niss"},
	{Name: "citizen.nif", LabelKey: "field.nif"}, {Name: "citizen.language", LabelKey: "field.language"},
	{Name: "needs.notes", LabelKey: "field.notes"}}

func (p *Portal) detailsData(w http.ResponseWriter, r *http.Request, s directory.Service, th directory.Theme, start time.Time, sign bool) detailsPage {
	loc := p.zone(w, r)
	pg := p.page(r, "details.title")
	day := calendar.DateOf(start.In(p.svc.Location()))
	base := "/book/" + s.ID + "/" + th.ID
	data := detailsPage{Page: pg, Step: 4, BackURL: base + "/" + day.String() + flowQuery(sign), Action: base + "/details",
		ThemeName: th.Name.In(pg.Lang), Start: start.UTC().Format(time.RFC3339), Zone: loc.String(),
		Abroad: loc.String() != p.svc.Location().String(), SignLanguage: sign,
		When:       pg.LongDate(start.In(loc)) + ", " + start.In(loc).Format("15:04"),
		WhenLisbon: start.In(p.svc.Location()).Format("15:04"),
		Form:       detailsForm{Language: langChoice(pg.Lang)}}
	return data
}

func langChoice(pageLang string) string {
	if pageLang == "en" {
		return "en"
	}
	return "pt"
}

func (p *Portal) details(w http.ResponseWriter, r *http.Request) error {
	s, th, err := p.flowTheme(r)
	if err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, r.URL.Query().Get("start"))
	if err != nil {
		return notFound(err)
	}
	data := p.detailsData(w, r, s, th, start, r.URL.Query().Get("lgp") == "1")
	return p.view.Render(w, http.StatusOK, "details", data)
}

// maxFormBody bounds a form post.
const maxFormBody = 32 << 10

func (p *Portal) book(w http.ResponseWriter, r *http.Request) error {
	s, th, err := p.flowTheme(r)
	if err != nil {
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
	sign := r.PostForm.Get("lgp") == "1"
	form := detailsForm{Name: r.PostForm.Get("citizen.name"), Email: r.PostForm.Get("citizen.email"),
		Phone: r.PostForm.Get("citizen.phone"), NISS: r.PostForm.Get("citizen.niss"), NIF: r.PostForm.Get("citizen.nif"),
		Language: r.PostForm.Get("citizen.language"), Notes: r.PostForm.Get("needs.notes")}
	req := booking.Request{ThemeID: th.ID, Start: start, SignLanguage: sign, Notes: form.Notes, Channel: "portal",
		TimeZone: p.zone(w, r).String(),
		Citizen: booking.Citizen{Name: form.Name, Email: form.Email, Phone: form.Phone, NISS: form.NISS, NIF: form.NIF,
			Language: form.Language}}
	booked, err := p.svc.Book(r.Context(), req)
	var invalid *booking.InvalidError
	switch {
	case err == nil:
		setTokenCookie(w, manageCookie, "/a/"+booked.ID, booked.ManageToken, p.secure)
		http.Redirect(w, r, "/a/"+booked.ID+"?booked=1", http.StatusSeeOther)
		return nil
	case errors.As(err, &invalid) && invalid.Fields["start"] == "":
		data := p.detailsData(w, r, s, th, start, sign)
		data.Form = form
		data.Errors = data.Page.Errors(invalid.Fields, detailsFields)
		return p.view.Render(w, http.StatusUnprocessableEntity, "details", data)
	case errors.As(err, &invalid), errors.Is(err, booking.ErrSlotTaken), errors.Is(err, booking.ErrNoSuchSlot):
		// The time itself can no longer be booked: back to the day's times, with a notice.
		day := calendar.DateOf(start.In(p.svc.Location()))
		q := url.Values{"taken": {"1"}}
		if sign {
			q.Set("lgp", "1")
		}
		http.Redirect(w, r, "/book/"+s.ID+"/"+th.ID+"/"+day.String()+"?"+q.Encode(), http.StatusSeeOther)
		return nil
	}
	return serviceError(err)
}

package console

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/i18n"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/view"
)

// consolePage is the agent's console.
type consolePage struct {
	staffPage
	AgentName    string
	Status       string // the status's label
	StatusKey    string
	Since        string
	ServesAt     string
	StatusChoice []option // the statuses the agent may choose
	Serving      *servingView
	Agenda       []agendaRow
	Queues       []queueRow
	LiveURL      string
	Assignment   string // "kind:id" or "": the page reloads when it changes
}

type agendaRow struct {
	ID, Time, End, Citizen, Theme, State, StateKey string
	CallURL                                        string // while the appointment can be joined
	Current                                        bool   // the one being served
}

type queueRow struct {
	ServiceID, Name   string
	Waiting, Priority int
	Longest           string
}

type servingView struct {
	Kind, ID    string
	Subject     string // whom the forms are about: Progress.Subject
	Title       string
	Citizen     booking.Citizen
	Language    string // the citizen's language, for the phrases
	CallURL     string
	Presence    string
	PresenceKey string
	Joined      bool
	CanChase    bool
	CanRelease  bool
	EndsAt      string
	PhoneURL    template.URL // tel: link of the citizen's number
	SendLabel   string       // e-mail or text message
	Attempts    []string
	// The instructions of the theme chosen in the outcome form (the appointment's or
	// ticket's until the agent picks another); for a ticket taken for a whole service,
	// the instructions of each of the service's themes besides, until one is picked.
	ThemeName     string
	Instructions  string
	ChooseTheme   bool // a ticket for a whole service, no theme picked yet
	ServiceName   string
	ServiceThemes []themeNote
	AuthRequired  string
	Saved         string // when the progress was last saved, or ""
	History       []historyRow
	Contacts      []contactRow
	KeptChat      int // messages of the call's chat the agent kept for the contact record
	Script        []stepView
	Form          outcomeForm
	Themes        []option
	Outcomes      []option
	Levels        []option
	Persons       []option
	Stages        []option
	Results       []option
}

// contactRow is an earlier contact of the citizen, with its chat when one was kept.
type contactRow struct {
	Summary string
	Chat    []chatLine
}

type chatLine struct{ When, Who, Text string }

type historyRow struct {
	ID, When, Theme, Status string
	Changeable              bool
}

type stepView struct {
	Number   int
	Title    string
	Hint     string
	Phrases  []string
	Identity bool
	Done     bool // ticked
	Current  bool
}

// themeNote is a theme's instructions, folded away under its name.
type themeNote struct {
	ID, Name, Instructions string
	Open                   bool // the theme picked in the outcome form
}

// outcomeForm is the outcome form as saved or typed, to show again.
type outcomeForm struct {
	Reason, Theme, Outcome, Notes, FollowUp, AuthLevel, Person, Representative string
	Stage, Current                                                             int
}

// finishFields are the outcome form's inputs, in order, for its error summary.
var finishFields = []view.Field{{Name: "reason", LabelKey: "console.outcome.reason"}, {Name: "theme", LabelKey: "console.outcome.theme"},
	{Name: "auth_level", LabelKey: "console.identity.level"}, {Name: "person", LabelKey: "console.identity.person"},
	{Name: "representative", LabelKey: "console.identity.representative"}, {Name: "outcome", LabelKey: "console.outcome.code"},
	{Name: "follow_up", LabelKey: "console.outcome.follow_up"}, {Name: "notes", LabelKey: "console.outcome.notes"},
	{Name: "stage", LabelKey: "console.outcome.stage"}}

// console is the agent's console, GET /staff/console. Opening it makes an agent who
// was offline available.
func (h *Web) console(w http.ResponseWriter, r *http.Request) error {
	staff, _ := auth.StaffFromRequest(r)
	st, err := h.svc.Arrive(r.Context(), staff.ID)
	if err != nil {
		return err
	}
	data, err := h.consoleData(r, staff, st, nil)
	if err != nil {
		return err
	}
	return h.view.Render(w, http.StatusOK, "console_agent", data)
}

// consoleData gathers the console; posted is the progress a refused form carried, to
// show again instead of the one saved.
func (h *Web) consoleData(r *http.Request, staff auth.Staff, st State, posted *Progress) (consolePage, error) {
	ctx := r.Context()
	// A ticket whose citizen did not answer in time is no longer the agent's.
	if st.TicketID != "" {
		if err := h.svc.clearStale(ctx, staff.ID); err != nil {
			return consolePage{}, err
		}
		var err error
		if st, err = h.svc.State(ctx, staff.ID); err != nil {
			return consolePage{}, err
		}
	}
	sp := h.page(r, "console.title")
	pg := sp.Page
	data := consolePage{staffPage: sp, AgentName: staff.Name, StatusKey: st.Status, Status: pg.T("console.status." + st.Status),
		Since: h.clock(st.Since), LiveURL: "/staff/console/live"}
	places, err := h.placeNames(r, pg.Lang)
	if err != nil {
		return data, err
	}
	serves := st.Pool
	if serves == "" {
		serves = staff.LocationID
	}
	data.ServesAt = places[serves]
	for _, s := range []string{StatusAvailable, StatusBreak, StatusOffline} {
		if s != st.Status {
			data.StatusChoice = append(data.StatusChoice, option{Value: s, Label: pg.T("console.status.set_" + s)})
		}
	}
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return data, err
	}
	serviceName := map[string]string{}
	themeName := map[string]string{}
	for _, s := range services {
		serviceName[s.ID] = s.Name.In(pg.Lang)
		for _, th := range s.Themes {
			themeName[th.ID] = th.Name.In(pg.Lang)
		}
	}
	if st.Serving() {
		data.Assignment = st.Subject()
		sv, err := h.svc.Serving(ctx, st)
		if err != nil {
			return data, err
		}
		sview, err := h.servingView(r, pg, staff, sv, services, serviceName, themeName, posted)
		if err != nil {
			return data, err
		}
		data.Serving = &sview
	}
	agenda, err := h.svc.Agenda(ctx, staff.ID)
	if err != nil {
		return data, err
	}
	shown := make([]string, 0, len(agenda))
	for _, a := range agenda {
		shown = append(shown, KindAppointment+":"+a.ID)
		row := agendaRow{ID: a.ID, Time: h.clock(a.Start), End: h.clock(a.End), Citizen: a.Citizen.Name, Theme: themeName[a.ThemeID],
			StateKey: a.State, State: pg.T("console.presence." + a.State), Current: a.ID == st.AppointmentID}
		if a.Status == booking.StatusBooked {
			row.CallURL = "/staff/call/" + a.ID
		}
		data.Agenda = append(data.Agenda, row)
	}
	if err := h.recordReads(r, staff.ID, ReadAgenda, shown); err != nil {
		return data, err
	}
	mine, err := h.svc.ServicesOf(ctx, staff.ID)
	if err != nil {
		return data, err
	}
	boards, err := h.queue.Boards(ctx)
	if err != nil {
		return data, err
	}
	for _, b := range boards {
		if st.Pool != PoolNational && !slices.Contains(mine, b.ServiceID) {
			continue
		}
		data.Queues = append(data.Queues, queueRow{ServiceID: b.ServiceID, Name: serviceName[b.ServiceID], Waiting: b.Waiting,
			Priority: b.Priority, Longest: pg.T("console.minutes", minutes(b.LongestWait))})
	}
	return data, nil
}

// placeNames names the places an agent can serve at: the locations and the national pool.
func (h *Web) placeNames(r *http.Request, lang string) (map[string]string, error) {
	locs, err := h.svc.Locations(r.Context())
	if err != nil {
		return nil, err
	}
	out := map[string]string{PoolNational: h.view.Catalog().T(lang, "console.pool.national")}
	for _, l := range locs {
		out[l.ID] = l.Name.In(lang)
	}
	return out, nil
}

func (h *Web) servingView(r *http.Request, pg view.Page, staff auth.Staff, sv Serving, services []directory.Service,
	serviceName, themeName map[string]string, posted *Progress) (servingView, error) {
	ctx := r.Context()
	subject := KindAppointment + ":" + sv.Appointment.ID
	if sv.Kind == KindTicket {
		subject = KindTicket + ":" + sv.Ticket.ID
	}
	// The panel shows the citizen's details, history and contacts: a read of personal
	// data, recorded before it is shown (once a day, not at each live refresh).
	if err := h.recordReads(r, staff.ID, ReadServing, []string{subject}); err != nil {
		return servingView{}, err
	}
	now := h.svc.now()
	v := servingView{Kind: sv.Kind, Subject: subject, Citizen: sv.Citizen, Joined: sv.Joined, CanChase: sv.CanChase}
	v.Language = i18n.Supported(sv.Citizen.Language)
	if v.Language == "" {
		v.Language = i18n.Default
	}
	themeID := ""
	if sv.Theme != nil {
		themeID = sv.Theme.ID
	}
	switch sv.Kind {
	case KindAppointment:
		a := sv.Appointment
		v.ID = a.ID
		v.Title = pg.T("console.serving.appointment", h.clock(a.Start), themeName[a.ThemeID])
		v.CallURL = "/staff/call/" + a.ID
		v.PresenceKey = sv.Presence
		v.Presence = pg.T("console.presence." + sv.Presence)
		v.EndsAt = h.clock(a.End)
		if a.Citizen.Phone != "" && strings.Trim(a.Citizen.Phone, "+0123456789") == "" {
			v.PhoneURL = template.URL("tel:" + a.Citizen.Phone) // digits and a leading + only
		}
		v.SendLabel = pg.T("console.noshow.send")
		if a.Citizen.Email == "" {
			v.SendLabel = pg.T("console.noshow.send_sms")
		}
		for _, at := range sv.Attempts {
			v.Attempts = append(v.Attempts, pg.T("console.attempt.item", h.clock(at.At), pg.T("console.channel."+at.Channel),
				pg.T("console.result."+at.Result)))
		}
	case KindTicket:
		t := sv.Ticket
		v.ID = t.ID
		v.Title = pg.T("console.serving.ticket", t.Code, serviceName[t.ServiceID])
		v.CallURL = "/staff/console/tickets/" + t.ID + "/call"
		v.PresenceKey = "ticket_" + t.Status
		v.Presence = pg.T("console.presence.ticket_" + t.Status)
		v.CanRelease = t.Status == queue.StatusCalled
	}
	for _, a := range sv.History {
		v.History = append(v.History, historyRow{ID: a.ID, When: pg.ShortDate(a.Start.In(h.svc.loc)) + " " + h.clock(a.Start),
			Theme: themeName[a.ThemeID], Status: pg.T("console.appointment." + a.Status),
			Changeable: a.Status == booking.StatusBooked && a.Start.After(now)})
	}
	for _, c := range sv.Contacts {
		about := themeName[c.ThemeID]
		if about == "" {
			about = serviceName[c.ServiceID]
		}
		row := contactRow{Summary: pg.T("console.prep.contact_item", pg.ShortDate(c.Started.In(h.svc.loc)), about,
			pg.T("console.outcome."+c.Outcome), c.Reason)}
		for _, m := range c.Chat {
			who := m.Name
			if who == "" {
				who = pg.T("console.chat.role." + m.Role)
			}
			row.Chat = append(row.Chat, chatLine{When: h.clock(m.At), Who: who, Text: m.Text})
		}
		v.Contacts = append(v.Contacts, row)
	}
	room := sv.Appointment.ID
	if sv.Kind == KindTicket {
		room = TicketRoom(sv.Ticket.ID)
	}
	var err error
	if v.KeptChat, err = h.svc.KeptChat(ctx, room); err != nil {
		return servingView{}, err
	}

	// The outcome form and the script's ticks: as refused, else as saved, else the
	// defaults.
	p, found, err := h.svc.ProgressOf(ctx, staff.ID, subject)
	if err != nil {
		return v, err
	}
	if posted != nil && posted.Subject == subject {
		p, found = *posted, true
	}
	f := outcomeForm{Theme: themeID, Outcome: OutcomeResolved, AuthLevel: "none", Person: PersonSelf, Stage: 1, Current: 1}
	if found {
		d := p.Draft
		f.Reason, f.Notes, f.FollowUp, f.Representative = d.Reason, d.Notes, d.FollowUp, d.Representative
		if d.ThemeID != "" {
			f.Theme = d.ThemeID
		}
		if d.Code != "" {
			f.Outcome = d.Code
		}
		if d.AuthLevel != "" {
			f.AuthLevel = d.AuthLevel
		}
		if d.Person != "" {
			f.Person = d.Person
		}
		if d.Stage > 0 {
			f.Stage = d.Stage
		}
		if p.Current >= 1 && p.Current <= len(Script) {
			f.Current = p.Current
		}
		if posted == nil && !p.Updated.IsZero() {
			v.Saved = pg.T("console.progress.saved", h.clock(p.Updated))
		}
	}
	v.Form = f
	h.instructions(&v, pg, sv, services, f.Theme)

	// The script, its phrases in the citizen's language with the names filled in.
	cat := h.view.Catalog()
	greeting := cat.T(v.Language, GreetingKey(now.In(h.svc.loc)))
	args := PhraseArgs(greeting, staff.Name, sv.Citizen.Name)
	for _, s := range Script {
		step := stepView{Number: s.Number, Title: pg.T("console.script." + s.Key + ".title"),
			Hint: pg.T("console.script." + s.Key + ".hint"), Identity: s.Identity, Done: found && p.Done(s.Number),
			Current: s.Number == f.Current}
		for _, key := range s.Phrases {
			ph := cat.T(v.Language, key)
			if strings.Contains(ph, "%[") {
				ph = cat.T(v.Language, key, args...)
			}
			step.Phrases = append(step.Phrases, ph)
		}
		v.Script = append(v.Script, step)
	}
	for _, s := range services {
		for _, th := range s.Themes {
			v.Themes = append(v.Themes, option{Value: th.ID, Label: s.Name.In(pg.Lang) + " · " + th.Name.In(pg.Lang), Selected: th.ID == f.Theme})
		}
	}
	for _, o := range Outcomes {
		v.Outcomes = append(v.Outcomes, option{Value: o, Label: pg.T("console.outcome." + o), Selected: o == f.Outcome})
	}
	for _, l := range AuthLevels {
		v.Levels = append(v.Levels, option{Value: l, Label: pg.T("console.level." + l), Selected: l == f.AuthLevel})
	}
	for _, p := range []string{PersonSelf, PersonThirdParty} {
		v.Persons = append(v.Persons, option{Value: p, Label: pg.T("console.person." + p), Selected: p == f.Person})
	}
	for _, s := range Script {
		v.Stages = append(v.Stages, option{Value: strconv.Itoa(s.Number), Label: pg.T("console.stage.option", s.Number,
			pg.T("console.script."+s.Key+".title")), Selected: s.Number == f.Stage})
	}
	for _, res := range PhoneResults {
		v.Results = append(v.Results, option{Value: res, Label: pg.T("console.result." + res)})
	}
	return v, nil
}

// instructions fills in the theme instructions the preparation shows: those of the
// theme chosen (the appointment's or ticket's, or the one picked in the outcome form)
// and, for a ticket taken for a whole service, those of each of the service's themes.
func (h *Web) instructions(v *servingView, pg view.Page, sv Serving, services []directory.Service, chosen string) {
	for _, s := range services {
		for _, th := range s.Themes {
			if th.ID == chosen {
				v.ThemeName = th.Name.In(pg.Lang)
				v.Instructions = th.Instructions.In(pg.Lang)
				v.AuthRequired = pg.T("console.level." + string(th.AuthLevel))
			}
		}
	}
	if sv.Theme != nil || sv.Kind != KindTicket {
		return
	}
	v.ChooseTheme = chosen == ""
	for _, s := range services {
		if s.ID != sv.ServiceID {
			continue
		}
		v.ServiceName = s.Name.In(pg.Lang)
		for _, th := range s.Themes {
			v.ServiceThemes = append(v.ServiceThemes, themeNote{ID: th.ID, Name: th.Name.In(pg.Lang),
				Instructions: th.Instructions.In(pg.Lang), Open: th.ID == chosen})
		}
	}
}

func (h *Web) setStatus(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	staff, _ := auth.StaffFromRequest(r)
	err := h.svc.SetStatus(r.Context(), staff.ID, r.PostForm.Get("status"))
	var invalid *InvalidError
	if errors.As(err, &invalid) {
		return httpx.Errorf(http.StatusUnprocessableEntity, "invalid", "console.error.status", err)
	}
	return toConsole(w, r, err, "status")
}

func (h *Web) callNext(w http.ResponseWriter, r *http.Request) error {
	staff, _ := auth.StaffFromRequest(r)
	_, err := h.svc.CallNext(r.Context(), staff.ID)
	if n := noticeOf(err); n != "" {
		return back(w, r, "/staff/console", n)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/console#serving", http.StatusSeeOther)
	return nil
}

// finish is POST /staff/console/finish: the outcome form, which writes the contact
// record. What the form carries is saved as the progress first, so that a refused form
// loses nothing on a reload either.
func (h *Web) finish(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	staff, _ := auth.StaffFromRequest(r)
	st, err := h.svc.State(ctx, staff.ID)
	if err != nil {
		return err
	}
	p := progressFromForm(r)
	switch {
	case p.Subject == "":
		p.Subject = st.Subject() // a form from before the progress was kept
	case p.Subject != st.Subject():
		return back(w, r, "/staff/console", "stale") // a tab left open on an earlier contact
	}
	var invalid *InvalidError
	if _, err := h.svc.SaveProgress(ctx, staff.ID, p); err != nil && !errors.As(err, &invalid) && !errors.Is(err, ErrNotServing) {
		return err
	}
	_, err = h.svc.Finish(ctx, staff.ID, p.Draft)
	if errors.As(err, &invalid) {
		data, derr := h.consoleData(r, staff, st, &p)
		if derr != nil {
			return derr
		}
		data.Errors = data.Page.Errors(invalid.Fields, finishFields)
		return h.view.Render(w, http.StatusUnprocessableEntity, "console_agent", data)
	}
	return toConsole(w, r, err, "finished")
}

// toConsole answers a console action: back to the console with the notice done, or
// with the notice that names why it was refused; any other error as itself.
func toConsole(w http.ResponseWriter, r *http.Request, err error, done string) error {
	if n := noticeOf(err); n != "" {
		return back(w, r, "/staff/console", n)
	}
	if err != nil {
		return err
	}
	return back(w, r, "/staff/console", done)
}

func (h *Web) release(w http.ResponseWriter, r *http.Request) error {
	staff, _ := auth.StaffFromRequest(r)
	err := h.svc.Release(r.Context(), staff.ID)
	return toConsole(w, r, err, "released")
}

func (h *Web) recordCall(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	staff, _ := auth.StaffFromRequest(r)
	_, err := h.svc.RecordCall(r.Context(), staff.ID, r.PostForm.Get("appointment"), r.PostForm.Get("result"))
	var invalid *InvalidError
	if errors.As(err, &invalid) {
		return httpx.Errorf(http.StatusUnprocessableEntity, "invalid", "console.error.result", err)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err)
	}
	return toConsole(w, r, err, "call_recorded")
}

func (h *Web) sendJoinLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	staff, _ := auth.StaffFromRequest(r)
	_, err := h.svc.SendJoinLink(r.Context(), staff.ID, r.PostForm.Get("appointment"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound(err)
	}
	return toConsole(w, r, err, "link_sent")
}

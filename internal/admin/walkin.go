package admin

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"balcao/internal/access"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// A service's walk-in tickets (senhas): on or off, the letter, when tickets can be taken
// and the queue's rules. Turning them off while citizens wait is refused, since no agent
// could call those citizens any more; the refusal offers to close the queue to new
// tickets instead, so that it empties and can be turned off afterwards.

// Opening modes of the form's "opening" field.
const (
	openAlways = "always" // tickets around the clock
	openHours  = "hours"  // on the weekly hours
	openClosed = "closed" // no new tickets; those taken are still called
)

// walkInNumbers are the queue's numbers on the form, in order, named as in
// directory.WalkInLimits; each hint is given the range.
var walkInNumbers = []struct{ name, label, hint string }{
	{"max_waiting", "admin.field.max_waiting", "admin.field.max_waiting_hint"},
	{"max_priority_run", "admin.field.max_priority_run", "admin.field.max_priority_run_hint"},
	{"answer_seconds", "admin.field.answer_seconds", "admin.field.answer_seconds_hint"},
	{"recall_minutes", "admin.field.recall_minutes", "admin.field.recall_minutes_hint"},
	{"near_position", "admin.field.near_position", "admin.field.near_position_hint"},
}

// walkInValues are a queue's settings as the form has them; on is false for a service
// that takes no tickets (w then gives the defaults shown).
func walkInValues(w directory.WalkIn, on bool) url.Values {
	v := url.Values{"walk_in": {"off"}, "letter": {w.Letter}, "opening": {openHours}}
	if on {
		v.Set("walk_in", "on")
	}
	switch {
	case w.AlwaysOpen:
		v.Set("opening", openAlways)
	case w.ClosedToNew() && on:
		v.Set("opening", openClosed)
	}
	setWeekly(v, w.Hours)
	for name, n := range w.Numbers() {
		v.Set(name, strconv.Itoa(n))
	}
	return v
}

// readWalkIn reads the form: whether the service takes tickets and, if so, under which
// settings. The hours are read as the location hours are; they are kept when the queue
// is always open (for when it is not any more) and dropped when it is closed to new
// tickets.
func readWalkIn(v url.Values, probs problems) (bool, directory.WalkIn) {
	var w directory.WalkIn
	if probs.oneOf(v, "walk_in", "on", "off") != "on" {
		return false, w
	}
	w.Letter = strings.ToUpper(strings.TrimSpace(v.Get("letter")))
	switch {
	case w.Letter == "":
		probs.add("letter", "error.required")
	case !directory.ValidLetter(w.Letter):
		probs.add("letter", "admin.error.letter")
	}
	opening := probs.oneOf(v, "opening", openAlways, openHours, openClosed)
	if opening != openClosed {
		w.Hours, _ = directory.ParseWeekly(probs.weekly(v))
	}
	w.AlwaysOpen = opening == openAlways
	if opening == openHours && len(w.Hours) == 0 && !probs.anyPrefixed("hours_") {
		probs.add("hours_mon", "admin.error.walk_in_no_hours")
	}
	n := map[string]int{}
	for _, f := range walkInNumbers {
		lim := directory.WalkInLimits[f.name]
		n[f.name] = probs.number(v, f.name, lim.Min, lim.Max, 1)
	}
	w.MaxWaiting, w.MaxPriorityRun, w.AnswerSeconds = n["max_waiting"], n["max_priority_run"], n["answer_seconds"]
	w.RecallMinutes, w.NearPosition = n["recall_minutes"], n["near_position"]
	return true, w
}

// walkInPath is the address of a service's walk-in page.
func walkInPath(serviceID string) string { return "/staff/admin/services/" + serviceID + "/walk-in" }

// walkInPage is the form of a service's walk-in tickets.
func (h *Admin) walkInPage(r *http.Request, me access.Staff, s directory.Service, values url.Values, probs problems) (*page, error) {
	ctx := r.Context()
	letters, err := directory.WalkInLetters(ctx, h.db)
	if err != nil {
		return nil, err
	}
	waiting, err := directory.WaitingTickets(ctx, h.db, s.ID)
	if err != nil {
		return nil, err
	}
	services, err := directory.Services(ctx, h.db)
	if err != nil {
		return nil, err
	}
	p := h.newPage(r, me, "admin.walk_in.title", s.Name.In(directory.DefaultLanguage))
	p.Title = p.T("admin.walk_in.title", s.Name.In(p.Lang))
	p.Heading = p.Title
	pg := p.Page
	names := map[string]string{}
	for _, other := range services {
		names[other.ID] = other.Name.In(pg.Lang)
	}
	var used []string
	for letter, id := range letters {
		if id != s.ID {
			used = append(used, letter+" ("+names[id]+")")
		}
	}
	sort.Strings(used)
	b := newBuilder(pg, values, probs)
	onOff := b.choice("radios", "walk_in", "admin.field.walk_in", []string{"on", "off"},
		[]string{pg.T("admin.walk_in.on"), pg.T("admin.walk_in.off")})
	letter := b.field("text", "letter", "admin.field.letter", required, maxlength(1), autocomplete("off"))
	letter.Hint = pg.T("admin.field.letter_hint")
	if len(used) > 0 {
		letter.Hint += " " + pg.T("admin.field.letters_used", strings.Join(used, ", "))
	}
	opening := b.choice("radios", "opening", "admin.field.opening", []string{openAlways, openHours, openClosed},
		[]string{pg.T("admin.walk_in.always"), pg.T("admin.walk_in.hours"), pg.T("admin.walk_in.closed")})
	opening.Hint = pg.T("admin.field.opening_hint")
	var rules []field
	for _, f := range walkInNumbers {
		lim := directory.WalkInLimits[f.name]
		field := b.field("number", f.name, f.label, required, numberRange(lim.Min, lim.Max, 1))
		field.Hint = pg.T(f.hint, lim.Min, lim.Max)
		rules = append(rules, field)
	}
	p.Blocks = []block{
		{Text: pg.T("admin.walk_in.lead")},
		{Text: pg.T("admin.walk_in.waiting_now", waiting)},
		{Form: &form{Action: walkInPath(s.ID), CSRF: p.CSRF, Sections: []section{
			{Legend: pg.T("admin.walk_in.about"), Fields: []field{onOff, letter}},
			{Legend: pg.T("admin.walk_in.when"), Fields: append([]field{opening}, b.weekFields()...)},
			{Legend: pg.T("admin.walk_in.rules"), Fields: rules},
		}, Submit: saveButton(pg, "admin.save")}},
		{Links: []link{{Href: "/staff/admin/services/" + s.ID, Label: pg.T("admin.theme.back")}}},
	}
	p.Errors = b.errors() // once every field is made: the summary follows their order
	return p, nil
}

// walkInOf reads a service's queue: its settings and whether it takes tickets.
func (h *Admin) walkInOf(r *http.Request, serviceID string) (directory.WalkIn, bool, error) {
	w, err := directory.WalkInOf(r.Context(), h.db, serviceID)
	if errors.Is(err, store.ErrNotFound) {
		return directory.NewWalkIn(), false, nil
	}
	return w, err == nil, err
}

// suggestLetter proposes a letter for a new queue: the service name's first, else the
// first that no other queue uses.
func (h *Admin) suggestLetter(r *http.Request, s directory.Service) (string, error) {
	letters, err := directory.WalkInLetters(r.Context(), h.db)
	if err != nil {
		return "", err
	}
	name := strings.ToUpper(s.Name.In(directory.DefaultLanguage))
	if name != "" && directory.ValidLetter(name[:1]) && letters[name[:1]] == "" {
		return name[:1], nil
	}
	for c := 'A'; c <= 'Z'; c++ {
		if letters[string(c)] == "" {
			return string(c), nil
		}
	}
	return "", nil
}

// editWalkIn shows a service's walk-in tickets.
func (h *Admin) editWalkIn(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	s, err := h.service(r)
	if err != nil {
		return err
	}
	q, on, err := h.walkInOf(r, s.ID)
	if err != nil {
		return err
	}
	if !on {
		if q.Letter, err = h.suggestLetter(r, s); err != nil {
			return err
		}
	}
	p, err := h.walkInPage(r, me, s, walkInValues(q, on), nil)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, p)
}

// saveWalkIn turns a service's walk-in tickets on or off, or changes their settings; with
// action=close it closes the queue to new tickets, keeping the rest.
func (h *Admin) saveWalkIn(w http.ResponseWriter, r *http.Request) error {
	me, err := h.allowed(r, access.AreaServices)
	if err != nil {
		return err
	}
	ctx := r.Context()
	s, err := h.service(r)
	if err != nil {
		return err
	}
	old, wasOn, err := h.walkInOf(r, s.ID)
	if err != nil {
		return err
	}
	object, back := "service:"+s.ID, walkInPath(s.ID)
	switch r.PostForm.Get("action") {
	case "close":
		if !wasOn {
			return seeOther(w, r, back, "saved")
		}
		closed := old
		closed.AlwaysOpen, closed.Hours = false, nil
		if err := h.inTx(ctx, record(r, me, object, "op=walk_in_close"), func(tx *store.Tx) error {
			return directory.SetWalkIn(ctx, tx, s.ID, closed)
		}); err != nil {
			return orNotFound(err)
		}
		return seeOther(w, r, back, "walk_in_closed")
	case "save":
	default:
		return badAction()
	}
	probs := problems{}
	on, q := readWalkIn(r.PostForm, probs)
	if len(probs) > 0 {
		return h.renderWalkIn(w, r, me, s, probs)
	}
	if !on {
		if !wasOn {
			return seeOther(w, r, back, "saved")
		}
		err := h.inTx(ctx, record(r, me, object, "op=walk_in_off"), func(tx *store.Tx) error {
			return directory.RemoveWalkIn(ctx, tx, s.ID)
		})
		var busy *directory.TicketsWaitingError
		if errors.As(err, &busy) {
			return h.walkInBusy(w, r, me, s, busy.Tickets, back)
		} else if err != nil {
			return err
		}
		return seeOther(w, r, back, "saved")
	}
	details := "op=walk_in_on"
	if wasOn {
		details = "op=walk_in_update fields=" + changed(walkInValues(old, true), walkInValues(q, true))
	}
	err = h.inTx(ctx, record(r, me, object, details), func(tx *store.Tx) error {
		return directory.SetWalkIn(ctx, tx, s.ID, q)
	})
	if errors.Is(err, directory.ErrLetterTaken) {
		return h.renderWalkIn(w, r, me, s, problems{"letter": "admin.error.letter_taken"})
	} else if err != nil {
		return orNotFound(err)
	}
	return seeOther(w, r, back, "saved")
}

// renderWalkIn answers the walk-in form sent with problems, showing what was sent.
func (h *Admin) renderWalkIn(w http.ResponseWriter, r *http.Request, me access.Staff, s directory.Service, probs problems) error {
	p, err := h.walkInPage(r, me, s, r.PostForm, probs)
	if err != nil {
		return err
	}
	return h.render(w, http.StatusUnprocessableEntity, p)
}

// walkInBusy answers a change refused because n tickets of the service still wait: why,
// and the two ways on: close the queue to new tickets now, or go back.
func (h *Admin) walkInBusy(w http.ResponseWriter, r *http.Request, me access.Staff, s directory.Service, n int, back string) error {
	p := h.newPage(r, me, "admin.walk_in.busy_title")
	pg := p.Page
	p.Blocks = []block{
		{Alert: pg.T("admin.walk_in.busy_alert", n)},
		{Heading: pg.T("admin.conflict.choose"), Text: pg.T("admin.walk_in.busy_close_lead"),
			Form: &form{Action: walkInPath(s.ID), CSRF: p.CSRF, Hidden: []hidden{{"action", "close"}},
				Submit: button{ID: "close-queue", Label: pg.T("admin.walk_in.busy_close")}}},
		{Text: pg.T("admin.walk_in.busy_keep_lead"), Links: []link{{Href: back, Label: pg.T("admin.walk_in.busy_keep")}}},
	}
	return h.render(w, http.StatusConflict, p)
}

// walkInSummary says in a line whether a service takes tickets, and how.
func (h *Admin) walkInSummary(r *http.Request, p *page, serviceID string) (string, error) {
	q, on, err := h.walkInOf(r, serviceID)
	if err != nil || !on {
		return p.T("admin.walk_in.summary_off"), err
	}
	when := weekSummary(p, q.Hours)
	switch {
	case q.AlwaysOpen:
		when = p.T("admin.walk_in.summary_always")
	case q.ClosedToNew():
		when = p.T("admin.walk_in.summary_closed")
	}
	return p.T("admin.walk_in.summary_on", q.Letter, when, q.MaxWaiting), nil
}

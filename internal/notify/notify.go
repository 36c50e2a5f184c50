// Package notify writes the messages that citizens are owed when their appointments
// change — confirmation with a calendar invitation, reminders, rescheduling,
// cancellation — and the acknowledgement of a contact request, in the citizen's language,
// into the outbox within the change's own transaction.
package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/i18n"
	"balcao/internal/ics"
	"balcao/internal/outbox"
	"balcao/internal/store"
)

//go:embed templates
var templates embed.FS

// DefaultReminders are sent before each appointment unless configured otherwise.
var DefaultReminders = []time.Duration{24 * time.Hour, time.Hour}

// Notifier renders messages and writes them into the outbox. It implements
// booking.Notifier.
type Notifier struct {
	catalog   *i18n.Catalog
	baseURL   string // absolute URL of the site, for links in messages
	fromEmail string // organizer of calendar invitations
	reminders []time.Duration
	now       func() time.Time
	text      *texttemplate.Template
	html      *htmltemplate.Template
	enqueued  func() // called after a transaction that enqueued commits (wakes the worker)
}

// Options configure a Notifier.
type Options struct {
	BaseURL   string
	FromEmail string
	Reminders []time.Duration // nil for DefaultReminders
	Now       func() time.Time
	Enqueued  func()
}

// New returns a notifier.
func New(catalog *i18n.Catalog, opts Options) (*Notifier, error) {
	text, err := texttemplate.ParseFS(templates, "templates/mail.txt")
	if err != nil {
		return nil, fmt.Errorf("parse mail templates: %w", err)
	}
	html, err := htmltemplate.ParseFS(templates, "templates/mail.html")
	if err != nil {
		return nil, fmt.Errorf("parse mail templates: %w", err)
	}
	if opts.Reminders == nil {
		opts.Reminders = DefaultReminders
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Enqueued == nil {
		opts.Enqueued = func() {}
	}
	return &Notifier{catalog: catalog, baseURL: strings.TrimSuffix(opts.BaseURL, "/"), fromEmail: opts.FromEmail,
		reminders: opts.Reminders, now: opts.Now, text: text, html: html, enqueued: opts.Enqueued}, nil
}

// content is what a message says, before it is laid out as text and HTML.
type content struct {
	Lang       string
	Subject    string
	Agency     string
	Greeting   string
	Paragraphs []string
	Facts      []fact
	Action     *link
	Links      []link
	After      []string
	Footer     string
}

type fact struct{ Label, Value string }
type link struct{ Label, URL string }

// appointmentView is an appointment as messages show it.
type appointmentView struct {
	a          booking.Appointment
	lang       string
	theme      string
	agency     string
	when       string // in the citizen's zone, with Lisbon time beside when it differs
	joinURL    string
	manageURL  string
	manageable bool
}

func (n *Notifier) view(ctx context.Context, q store.Queryer, ch booking.Change) (appointmentView, error) {
	a := ch.Appointment
	lang := a.Citizen.Language
	if i18n.Supported(lang) == "" {
		lang = i18n.Default
	}
	th, err := directory.ThemeByID(ctx, q, a.ThemeID)
	if err != nil {
		return appointmentView{}, err
	}
	agency, err := directory.AgencyName(ctx, q)
	if err != nil {
		return appointmentView{}, err
	}
	v := appointmentView{a: a, lang: lang, theme: th.Name.In(lang), agency: agency.In(lang), when: n.when(lang, a.Start, a.TimeZone)}
	if ch.ManageToken != "" {
		v.manageable = true
		v.joinURL = n.baseURL + "/join/" + a.ID + "?t=" + url.QueryEscape(booking.JoinTokenFor(ch.ManageToken))
		v.manageURL = n.baseURL + "/a/" + a.ID + "?t=" + url.QueryEscape(ch.ManageToken)
	}
	return v, nil
}

// when shows a time in the citizen's zone, with Lisbon time beside it when they differ.
func (n *Notifier) when(lang string, t time.Time, zone string) string {
	lisbon := calendar.Lisbon()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = lisbon
	}
	local := t.In(loc)
	s := n.catalog.LongDate(lang, local) + ", " + local.Format("15:04")
	if loc.String() != lisbon.String() {
		s += " (" + n.catalog.T(lang, "mail.zone", loc.String()) + "; " + n.catalog.T(lang, "slots.lisbon_time", t.In(lisbon).Format("15:04")) + ")"
	}
	return s
}

// prepared are a change's messages, rendered, with the reminders they replace.
type prepared struct {
	n               *Notifier
	subject         string
	cancelReminders bool
	msgs            []outbox.Message
}

// Prepare renders what a change owes the citizen, reading through q.
func (n *Notifier) Prepare(ctx context.Context, q store.Queryer, ch booking.Change) (booking.Prepared, error) {
	v, err := n.view(ctx, q, ch)
	if err != nil {
		return nil, err
	}
	a := v.a
	p := &prepared{n: n, subject: "appointment:" + a.ID}
	now := n.now()
	switch ch.Kind {
	case booking.ChangeBooked:
		p.msgs = append(p.msgs, n.changeMessage(v, "booked", fmt.Sprintf("appt:%s:booked", a.ID), "REQUEST"))
		p.msgs = append(p.msgs, n.reminderMessages(v, now)...)
	case booking.ChangeRescheduled:
		p.cancelReminders = true
		p.msgs = append(p.msgs, n.changeMessage(v, "moved", fmt.Sprintf("appt:%s:moved:%d", a.ID, a.Sequence), "REQUEST"))
		p.msgs = append(p.msgs, n.reminderMessages(v, now)...)
	case booking.ChangeCancelled:
		p.cancelReminders = true
		p.msgs = append(p.msgs, n.changeMessage(v, "cancelled", fmt.Sprintf("appt:%s:cancelled", a.ID), "CANCEL"))
	default:
		return nil, fmt.Errorf("notify: unknown change %q", ch.Kind)
	}
	p.msgs = slices.DeleteFunc(p.msgs, func(m outbox.Message) bool { return m.Channel == "" })
	for i := range p.msgs {
		p.msgs[i].SubjectRef = p.subject
	}
	return p, nil
}

// Write stores the messages in the change's transaction, withdrawing the reminders of the
// appointment's former time first.
func (p *prepared) Write(ctx context.Context, tx *store.Tx) error {
	if p.cancelReminders {
		if err := outbox.CancelPending(ctx, tx, p.subject, "appt:"+strings.TrimPrefix(p.subject, "appointment:")+":remind:"); err != nil {
			return err
		}
	}
	if err := outbox.Enqueue(ctx, tx, p.n.now(), p.msgs...); err != nil {
		return err
	}
	tx.AfterCommit(p.n.enqueued)
	return nil
}

// changeMessage is the e-mail for a booking, a move or a cancellation, with the calendar
// invitation that updates the citizen's calendar (same UID, higher SEQUENCE). Without an
// e-mail address it is a text message.
func (n *Notifier) changeMessage(v appointmentView, kind, key, method string) outbox.Message {
	T := func(k string, args ...any) string { return n.catalog.T(v.lang, k, args...) }
	c := n.baseContent(v)
	c.Subject = T("mail."+kind+".subject", v.theme, v.when)
	c.Paragraphs = []string{T("mail." + kind + ".intro")}
	c.Facts = n.facts(v)
	if kind != "cancelled" && v.manageable {
		c.Action = &link{Label: T("mail.join"), URL: v.joinURL}
		c.Links = []link{{Label: T("mail.manage"), URL: v.manageURL}}
		c.After = []string{T("mail.join_help"), T("mail.not_recorded")}
	}
	if kind == "cancelled" {
		c.After = []string{T("mail.book_again", n.baseURL+"/")}
	}
	if v.a.Citizen.Email == "" {
		return n.textMessage(v, key, T("sms."+kind, v.agency, v.theme, v.when))
	}
	cal := ics.Calendar{ProdID: "-//balcao//" + v.agency + "//PT", Method: method, Events: []ics.Event{{
		UID: v.a.ID + "@balcao", Sequence: v.a.Sequence, Stamp: n.now(), Start: v.a.Start, End: v.a.End,
		Summary: T("ics.summary", v.theme, v.agency), Description: T("ics.description", v.joinURL), URL: v.joinURL,
		Cancelled: method == "CANCEL", Alarm: time.Hour, AlarmText: T("ics.alarm", v.theme),
		Organizer: v.agency, OrganizerEmail: n.fromEmail, Attendee: v.a.Citizen.Name, AttendeeEmail: v.a.Citizen.Email,
	}}}
	if !v.manageable {
		cal.Events[0].Description, cal.Events[0].URL = "", ""
	}
	return n.mailMessage(v, key, c, []outbox.Attachment{{Name: "marcacao.ics", ContentType: "text/calendar; method=" + method, Data: cal.Bytes()}})
}

// reminderMessages are due before the start; each is skipped when its time has passed.
func (n *Notifier) reminderMessages(v appointmentView, now time.Time) []outbox.Message {
	var out []outbox.Message
	for _, before := range n.reminders {
		due := v.a.Start.Add(-before)
		if !due.After(now) {
			continue
		}
		key := fmt.Sprintf("appt:%s:remind:%d:%dm", v.a.ID, v.a.Sequence, int(before.Minutes()))
		T := func(k string, args ...any) string { return n.catalog.T(v.lang, k, args...) }
		var m outbox.Message
		if v.a.Citizen.Email == "" {
			m = n.textMessage(v, key, T("sms.reminder", v.agency, v.theme, v.when, v.joinURL))
		} else {
			c := n.baseContent(v)
			c.Subject = T("mail.reminder.subject", v.theme, v.when)
			c.Paragraphs = []string{T("mail.reminder.intro")}
			c.Facts = n.facts(v)
			if v.manageable {
				c.Action = &link{Label: T("mail.join"), URL: v.joinURL}
				c.Links = []link{{Label: T("mail.manage"), URL: v.manageURL}}
			}
			c.After = []string{T("mail.join_help"), T("mail.not_recorded")}
			m = n.mailMessage(v, key, c, nil)
		}
		m.NotBefore = due
		out = append(out, m)
	}
	return out
}

func (n *Notifier) baseContent(v appointmentView) content {
	return content{Lang: v.lang, Agency: v.agency, Greeting: n.catalog.T(v.lang, "mail.greeting", v.a.Citizen.Name),
		Footer: n.catalog.T(v.lang, "mail.footer")}
}

func (n *Notifier) facts(v appointmentView) []fact {
	T := func(k string, args ...any) string { return n.catalog.T(v.lang, k, args...) }
	f := []fact{{T("appointment.theme"), v.theme}, {T("appointment.when"), v.when}}
	if v.a.SignLanguage {
		f = append(f, fact{T("appointment.needs"), T("details.with_interpreter")})
	}
	return f
}

func (n *Notifier) mailMessage(v appointmentView, key string, c content, attachments []outbox.Attachment) outbox.Message {
	var text, html bytes.Buffer
	if err := n.text.Execute(&text, c); err != nil {
		panic(fmt.Sprintf("mail text template: %v", err)) // the template is embedded and tested
	}
	if err := n.html.Execute(&html, c); err != nil {
		panic(fmt.Sprintf("mail html template: %v", err))
	}
	return outbox.Message{Channel: outbox.Email, Key: key, Mail: &outbox.Mail{To: v.a.Citizen.Email, Subject: c.Subject,
		TextBody: text.String(), HTMLBody: html.String(), Language: v.lang, Attachments: attachments}}
}

func (n *Notifier) textMessage(v appointmentView, key, body string) outbox.Message {
	if v.a.Citizen.Phone == "" {
		return outbox.Message{}
	}
	return outbox.Message{Channel: outbox.SMS, Key: key, Text: &outbox.Text{To: v.a.Citizen.Phone, Body: body}}
}

// ContactRequested acknowledges a contact request.
func (n *Notifier) ContactRequested(ctx context.Context, tx *store.Tx, id string, req booking.ContactRequest) error {
	lang := req.Citizen.Language
	if i18n.Supported(lang) == "" {
		lang = i18n.Default
	}
	T := func(k string, args ...any) string { return n.catalog.T(lang, k, args...) }
	agency, err := directory.AgencyName(ctx, tx)
	if err != nil {
		return err
	}
	v := appointmentView{lang: lang, agency: agency.In(lang), a: booking.Appointment{Citizen: req.Citizen}}
	key := "contact:" + id + ":ack"
	var m outbox.Message
	if req.Citizen.Email != "" {
		c := n.baseContent(v)
		c.Subject = T("mail.contact.subject", req.Subject)
		c.Paragraphs = []string{T("mail.contact.intro")}
		c.Facts = []fact{{T("contact.subject"), req.Subject}}
		if req.PreferredTimes != "" {
			c.Facts = append(c.Facts, fact{T("contact.preferred_times"), req.PreferredTimes})
		}
		m = n.mailMessage(v, key, c, nil)
	} else {
		m = n.textMessage(v, key, T("sms.contact", v.agency))
	}
	if m.Channel == "" {
		return nil
	}
	m.SubjectRef = "contact:" + id
	if err := outbox.Enqueue(ctx, tx, n.now(), m); err != nil {
		return err
	}
	tx.AfterCommit(n.enqueued)
	return nil
}

// NoShowLink e-mails (or texts) a citizen who has not joined their call the link to join
// it, as the seed asks of the agent once the start has passed. joinURL is a fresh link the
// call service issued; the message is keyed by attempt, as an agent may send it again.
func (n *Notifier) NoShowLink(ctx context.Context, tx *store.Tx, a booking.Appointment, joinURL string, attempt int) error {
	v, err := n.view(ctx, tx, booking.Change{Appointment: a})
	if err != nil {
		return err
	}
	v.joinURL = joinURL
	T := func(k string, args ...any) string { return n.catalog.T(v.lang, k, args...) }
	key := fmt.Sprintf("appt:%s:noshow:%d", a.ID, attempt)
	var m outbox.Message
	if a.Citizen.Email != "" {
		c := n.baseContent(v)
		c.Subject = T("mail.noshow.subject", v.theme)
		c.Paragraphs = []string{T("mail.noshow.intro")}
		c.Facts = n.facts(v)
		c.Action = &link{Label: T("mail.join"), URL: joinURL}
		c.After = []string{T("mail.join_help"), T("mail.not_recorded")}
		m = n.mailMessage(v, key, c, nil)
	} else {
		m = n.textMessage(v, key, T("sms.noshow", v.agency, v.theme, joinURL))
	}
	if m.Channel == "" {
		return fmt.Errorf("no-show link for %s: the citizen left no e-mail or phone", a.ID)
	}
	m.SubjectRef = "appointment:" + a.ID
	if err := outbox.Enqueue(ctx, tx, n.now(), m); err != nil {
		return err
	}
	tx.AfterCommit(n.enqueued)
	return nil
}

// Turn is a walk-in ticket as the "your turn is near" message shows it.
type Turn struct {
	Key      string // stable per ticket and alert, e.g. "ticket:ID:near"
	Subject  string // what the message is about, e.g. "ticket:ID"
	Citizen  booking.Citizen
	Number   string // "A023"
	Position int
	URL      string // the ticket page
}

// TurnNearMessage renders the "your turn is near" message of a ticket, reading through q.
// The queue enqueues it when the ticket is taken, held back, and releases it when the
// ticket comes near the front (the link carries the ticket's token, known only at taking).
// Its Channel is empty when the citizen left no way to reach them.
func (n *Notifier) TurnNearMessage(ctx context.Context, q store.Queryer, t Turn) (outbox.Message, error) {
	lang := t.Citizen.Language
	if i18n.Supported(lang) == "" {
		lang = i18n.Default
	}
	agency, err := directory.AgencyName(ctx, q)
	if err != nil {
		return outbox.Message{}, err
	}
	v := appointmentView{lang: lang, agency: agency.In(lang), a: booking.Appointment{Citizen: t.Citizen}}
	T := func(k string, args ...any) string { return n.catalog.T(lang, k, args...) }
	var m outbox.Message
	if t.Citizen.Email != "" {
		c := n.baseContent(v)
		c.Subject = T("mail.turn.subject", t.Number)
		c.Paragraphs = []string{T("mail.turn.intro", t.Number, t.Position)}
		c.Action = &link{Label: T("mail.turn.open"), URL: t.URL}
		c.After = []string{T("mail.not_recorded")}
		m = n.mailMessage(v, t.Key, c, nil)
	} else {
		m = n.textMessage(v, t.Key, T("sms.turn", v.agency, t.Number, t.Position, t.URL))
	}
	m.SubjectRef = t.Subject
	return m, nil
}

// TurnNear tells a citizen waiting with a walk-in ticket, now, that their turn is near.
func (n *Notifier) TurnNear(ctx context.Context, tx *store.Tx, t Turn) error {
	m, err := n.TurnNearMessage(ctx, tx, t)
	if err != nil || m.Channel == "" {
		return err
	}
	if err := outbox.Enqueue(ctx, tx, n.now(), m); err != nil {
		return err
	}
	tx.AfterCommit(n.enqueued)
	return nil
}

// Poke wakes the delivery of messages, after a transaction released some.
func (n *Notifier) Poke() { n.enqueued() }

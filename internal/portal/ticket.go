package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"balcao/internal/booking"
	"balcao/internal/directory"
	"balcao/internal/httpx"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/view"
)

// WithQueue adds the walk-in queue pages: the list of queues, taking a ticket, and the
// live ticket page.
func (p *Portal) WithQueue(q *queue.Service, live *queue.Live) *Portal {
	p.queue, p.live = q, live
	return p
}

func (p *Portal) queueRoutes(handle func(string, httpx.Handler)) {
	if p.queue == nil {
		return
	}
	handle("GET /queue", p.queues)
	handle("POST /queue/{service}", p.takeTicket)
	handle("GET /ticket/{id}", p.ticket)
	handle("GET /ticket/{id}/status", p.ticketStatus)
	handle("GET /ticket/{id}/live", p.ticketLive)
	handle("POST /ticket/{id}/leave", p.leaveQueue)
}

// TicketCookie holds a ticket's token once its link was opened, on its own pages (path
// /ticket/{id}), the ticket's call page included (package console).
const TicketCookie = "tk"

type queueItem struct {
	ServiceID, Name, Description string
	Open                         bool
	OpensAt                      string
	Themes                       []themeItem
}

type takeForm struct {
	Service, Theme, Name, Email, Phone, Language string
	Priority                                     bool
}

type queuesPage struct {
	view.Page
	Queues []queueItem
	Form   takeForm
	Errors view.FormErrors
	Notice string
}

// takeFields are the take-a-ticket form's inputs, in order, for its error summary.
var takeFields = []view.Field{{Name: "theme", LabelKey: "queue.theme"}, {Name: "citizen.name", LabelKey: "field.name"},
	{Name: "citizen.email", LabelKey: "field.email"}, {Name: "citizen.phone", LabelKey: "field.phone"},
	{Name: "citizen.language", LabelKey: "field.language"}}

func (p *Portal) queuesData(w http.ResponseWriter, r *http.Request, pg view.Page) (queuesPage, error) {
	infos, err := p.queue.Queues(r.Context())
	if err != nil {
		return queuesPage{}, err
	}
	loc := p.zone(w, r)
	data := queuesPage{Page: pg, Form: takeForm{Language: langChoice(pg.Lang)}}
	for _, info := range infos {
		s, err := directory.ServiceByID(r.Context(), p.db, info.ServiceID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return queuesPage{}, err
		}
		item := queueItem{ServiceID: s.ID, Name: s.Name.In(pg.Lang), Description: s.Description.In(pg.Lang), Open: info.Open}
		if !info.Open && !info.OpensAt.IsZero() {
			item.OpensAt = p.when(pg, info.OpensAt, loc)
		}
		for _, th := range s.Themes {
			item.Themes = append(item.Themes, themeItem{ID: th.ID, Name: th.Name.In(pg.Lang)})
		}
		data.Queues = append(data.Queues, item)
	}
	return data, nil
}

func (p *Portal) queues(w http.ResponseWriter, r *http.Request) error {
	data, err := p.queuesData(w, r, p.page(r, "queue.title"))
	if err != nil {
		return err
	}
	return p.view.Render(w, http.StatusOK, "queue", data)
}

func (p *Portal) takeTicket(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	f := takeForm{Service: r.PathValue("service"), Theme: r.PostForm.Get("theme"), Name: r.PostForm.Get("citizen.name"),
		Email: r.PostForm.Get("citizen.email"), Phone: r.PostForm.Get("citizen.phone"),
		Language: r.PostForm.Get("citizen.language"), Priority: r.PostForm.Get("priority") == "1"}
	t, err := p.queue.Take(r.Context(), queue.Request{ServiceID: f.Service, ThemeID: f.Theme, Priority: f.Priority, Channel: "portal",
		Citizen: booking.Citizen{Name: f.Name, Email: f.Email, Phone: f.Phone, Language: f.Language}})
	var invalid *booking.InvalidError
	var closed *queue.ClosedError
	var full *queue.FullError
	switch {
	case err == nil:
		setTokenCookie(w, TicketCookie, "/ticket/"+t.ID, t.Token, p.secure)
		http.Redirect(w, r, "/ticket/"+t.ID, http.StatusSeeOther)
		return nil
	case errors.As(err, &invalid), errors.As(err, &closed), errors.As(err, &full):
		pg := p.page(r, "queue.title")
		data, derr := p.queuesData(w, r, pg)
		if derr != nil {
			return derr
		}
		data.Form = f
		status := http.StatusConflict
		switch {
		case invalid != nil:
			data.Errors, status = pg.Errors(invalid.Fields, takeFields), http.StatusUnprocessableEntity
		case closed != nil:
			data.Notice = pg.T("error.queue_closed")
		default:
			data.Notice = pg.T("error.queue_full")
		}
		return p.view.Render(w, status, "queue", data)
	case errors.Is(err, queue.ErrNotWalkIn):
		return notFound(err)
	}
	return serviceError(err)
}

// ticketFor finds the ticket a page is about, exchanging a link's token for a cookie.
func (p *Portal) ticketFor(w http.ResponseWriter, r *http.Request) (t queue.Ticket, token string, done bool, err error) {
	id := r.PathValue("id")
	if tok := r.URL.Query().Get("t"); tok != "" {
		if _, err := p.queue.Get(r.Context(), id, tok); err != nil {
			return t, "", false, serviceError(err)
		}
		setTokenCookie(w, TicketCookie, "/ticket/"+id, tok, p.secure)
		http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
		return t, "", true, nil
	}
	c, err := r.Cookie(TicketCookie)
	if err != nil {
		return t, "", false, httpx.Errorf(http.StatusNotFound, "not_found", "error.link_expired", err)
	}
	t, err = p.queue.Get(r.Context(), id, c.Value)
	if err != nil {
		return t, "", false, serviceError(err)
	}
	return t, c.Value, false, nil
}

type ticketPage struct {
	view.Page
	Ticket      queue.Ticket
	ServiceName string
	Waiting     bool
	WaitMinutes int
	Status      string
	LiveURL     string
	StatusURL   string
	LeaveURL    string
}

func (p *Portal) ticket(w http.ResponseWriter, r *http.Request) error {
	t, _, done, err := p.ticketFor(w, r)
	if err != nil || done {
		return err
	}
	pg := p.page(r, "ticket.title", t.Code)
	name := ""
	if s, err := directory.ServiceByID(r.Context(), p.db, t.ServiceID); err == nil {
		name = s.Name.In(pg.Lang)
	}
	base := "/ticket/" + t.ID
	return p.view.Render(w, http.StatusOK, "ticket", ticketPage{Page: pg, Ticket: t, ServiceName: name,
		Waiting: t.Status == queue.StatusWaiting, WaitMinutes: int((t.Wait + time.Minute - 1) / time.Minute),
		Status: pg.T("ticket.status." + t.Status), LiveURL: base + "/live", StatusURL: base + "/status", LeaveURL: base + "/leave"})
}

// ticketStatus is the polling fallback of the live page.
func (p *Portal) ticketStatus(w http.ResponseWriter, r *http.Request) error {
	t, _, done, err := p.ticketFor(w, r)
	if err != nil || done {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, queue.UpdateOf(t))
}

// ticketLive pushes the ticket's state over a WebSocket whenever the queue moves.
func (p *Portal) ticketLive(w http.ResponseWriter, r *http.Request) error {
	t, _, done, err := p.ticketFor(w, r)
	if err != nil || done {
		return err
	}
	c, err := websocket.Accept(w, r, nil) // the request's own host only
	if err != nil {
		return nil // Accept has answered
	}
	// The handler returns at once and the connection lives on in small goroutines of its
	// own: a request's goroutine has grown its stack serving the request, and ten
	// thousand waiting citizens would keep ten thousand of them.
	go p.pushTicket(c, t)
	return nil
}

// pushTicket sends the ticket's updates until the ticket leaves the queue or the
// connection fails. It runs in one goroutine and never reads: the page only listens, and
// a departed page is noticed when the next update cannot be written (or when the
// keep-alive below fails), which spares a reading goroutine per waiting citizen.
func (p *Portal) pushTicket(c *websocket.Conn, t queue.Ticket) {
	defer c.CloseNow()
	latest := make(chan queue.Update, 1)
	offer := func(u queue.Update) {
		for {
			select {
			case latest <- u:
				return
			default:
				select {
				case <-latest: // drop the stale update: only the newest matters
				default:
				}
			}
		}
	}
	offer(queue.UpdateOf(t))
	stop := p.live.Watch(t, offer)
	defer stop()
	keepAlive := time.NewTimer(keepAliveEvery)
	defer keepAlive.Stop()
	var last queue.Update
	for {
		select {
		case u := <-latest:
			last = u
		case <-keepAlive.C:
			// Resending the last state keeps proxies from closing an idle connection and
			// finds a dead one.
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := wsjson.Write(ctx, c, last)
		cancel()
		if err != nil {
			return
		}
		if last.Status != queue.StatusWaiting && last.Status != queue.StatusCalled {
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		keepAlive.Reset(keepAliveEvery)
	}
}

// keepAliveEvery is how often an idle ticket page is sent its state again.
const keepAliveEvery = 45 * time.Second

func (p *Portal) leaveQueue(w http.ResponseWriter, r *http.Request) error {
	t, token, done, err := p.ticketFor(w, r)
	if err != nil || done {
		return err
	}
	if _, err := p.queue.Abandon(r.Context(), t.ID, token); err != nil && !errors.Is(err, queue.ErrNotWaiting) {
		return serviceError(err)
	}
	http.Redirect(w, r, "/ticket/"+t.ID+"?"+url.Values{"left": {"1"}}.Encode(), http.StatusSeeOther)
	return nil
}

package console

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/call"
	"balcao/internal/directory"
	"balcao/internal/events"
	"balcao/internal/httpx"
	"balcao/internal/queue"
	"balcao/internal/store"
	"balcao/internal/view"
)

// CallPages renders the call page of a room; call.Server is one.
type CallPages interface {
	RenderRoom(w http.ResponseWriter, r *http.Request, p call.RoomPage) error
}

// Web serves the console's pages: the agent's console, the supervisor's board, the
// reschedule page, the call pages of walk-in tickets, the live WebSockets and the
// interpreters' page.
type Web struct {
	svc    *Service
	queue  *queue.Service
	bus    events.Bus
	calls  CallPages
	db     *store.DB
	view   *view.Renderer
	log    *slog.Logger
	cookie string // the cookie that holds a ticket's token on its pages
}

// NewWeb returns the console's pages. calls may be nil (no video calls for tickets);
// ticketCookie is the cookie the portal keeps a ticket's token in (portal.TicketCookie).
func NewWeb(svc *Service, bus events.Bus, calls CallPages, rd *view.Renderer, logger *slog.Logger, ticketCookie string) *Web {
	return &Web{svc: svc, queue: svc.queue, bus: bus, calls: calls, db: svc.db, view: rd, log: logger, cookie: ticketCookie}
}

// Routes lists the console's pages.
func (h *Web) Routes(mux *http.ServeMux) {
	handle := func(pattern string, fn httpx.Handler) { mux.Handle(pattern, httpx.Serve(h.log, fn, h.renderError)) }
	agents := auth.RequireRole(auth.RoleAgent, auth.RoleSupervisor)
	supervisors := auth.RequireRole(auth.RoleSupervisor, auth.RoleAdministrator)
	handle("GET /staff/console", agents(h.console))
	handle("GET /staff/console/live", agents(h.consoleLive))
	handle("POST /staff/console/status", agents(h.setStatus))
	handle("POST /staff/console/next", agents(h.callNext))
	handle("POST /staff/console/finish", agents(h.finish))
	handle("POST /staff/console/progress", agents(h.saveProgress))
	handle("POST /staff/console/release", agents(h.release))
	handle("POST /staff/console/attempts", agents(h.recordCall))
	handle("POST /staff/console/join-link", agents(h.sendJoinLink))
	handle("POST /staff/console/appointments/{id}/cancel", agents(h.cancel))
	handle("GET /staff/console/appointments/{id}/reschedule", agents(h.rescheduleForm))
	handle("POST /staff/console/appointments/{id}/reschedule", agents(h.reschedule))
	handle("GET /staff/console/tickets/{id}/call", agents(h.agentTicketCall))
	handle("GET /ticket/{id}/call", h.citizenTicketCall)
	handle("GET /staff/interpreter", auth.RequireRole(auth.RoleInterpreter)(h.interpreter))
	handle("GET /staff/interpreter/live", auth.RequireRole(auth.RoleInterpreter)(h.interpreterLive))
	handle("GET /staff/board", supervisors(h.board))
	handle("GET /staff/board/live", supervisors(h.boardLive))
	handle("POST /staff/board/move", supervisors(h.move))
}

// maxFormBody bounds a console form.
const maxFormBody = 32 << 10

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return httpx.Errorf(http.StatusRequestEntityTooLarge, "too_large", "error.too_large", err)
	}
	return httpx.StorableForm(r.PostForm)
}

// staffPage is what every page of the console has.
type staffPage struct {
	view.Page
	CSRF       string
	Notice     string
	Errors     view.FormErrors
	Supervisor bool // may open the board
	Agent      bool // may open the console
}

func (h *Web) page(r *http.Request, titleKey string, args ...any) staffPage {
	pg := h.view.NewPage(r, titleKey, args...)
	if name, err := directory.AgencyName(r.Context(), h.db); err == nil {
		pg.Agency = name.In(pg.Lang)
	}
	sess, _ := auth.SessionFromRequest(r)
	st, _ := auth.StaffFromRequest(r)
	sp := staffPage{Page: pg, CSRF: sess.CSRF,
		Supervisor: st.Role == auth.RoleSupervisor || st.Role == auth.RoleAdministrator,
		Agent:      st.Role == auth.RoleAgent || st.Role == auth.RoleSupervisor}
	if n := r.URL.Query().Get("notice"); notices[n] {
		sp.Notice = pg.T("console.notice." + n)
	}
	return sp
}

// notices are the messages a redirect may ask a page to show (?notice=).
var notices = map[string]bool{"nobody": true, "calling": true, "finished": true, "released": true, "call_recorded": true,
	"link_sent": true, "cancelled": true, "moved": true, "busy": true, "not_joined": true, "status": true, "came": true,
	"too_early": true, "no_contact": true, "already_finished": true, "not_yours": true, "agent_moved": true,
	"not_serving": true, "not_changeable": true, "stale": true, "progress_saved": true}

// back redirects to path with a notice.
func back(w http.ResponseWriter, r *http.Request, path, notice string) error {
	if notice != "" {
		path += "?" + url.Values{"notice": {notice}}.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// noticeOf maps the console's refusals to the notice that explains them, or "".
func noticeOf(err error) string {
	switch {
	case errors.Is(err, ErrNobody):
		return "nobody"
	case errors.Is(err, ErrCalling):
		return "calling"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, ErrNotJoined):
		return "not_joined"
	case errors.Is(err, ErrCitizenCame):
		return "came"
	case errors.Is(err, ErrTooEarly):
		return "too_early"
	case errors.Is(err, ErrNoContact):
		return "no_contact"
	case errors.Is(err, ErrFinished):
		return "already_finished"
	case errors.Is(err, ErrNotYours):
		return "not_yours"
	case errors.Is(err, ErrNotServing):
		return "not_serving"
	case errors.Is(err, booking.ErrNotCancellable):
		return "not_changeable"
	}
	return ""
}

func (h *Web) renderError(w http.ResponseWriter, r *http.Request, e *httpx.Error) {
	h.view.RenderError(w, r, h.page(r, "error.title").Page, e, h.log)
}

// recordReads writes to the audit log the reads of personal data a page makes, as
// FirstReads rules: one entry per object a page shows a member of staff on a day, the
// first time. It runs before the page is answered and a failure stops the page: a read
// that cannot be recorded does not happen.
func (h *Web) recordReads(r *http.Request, staffID, page string, objects []string) error {
	ctx := r.Context()
	details := "path=" + r.URL.Path + " page=" + page
	return h.svc.FirstReads(ctx, staffID, page, objects, func(tx *store.Tx, object string) error {
		return audit.RecordTx(ctx, tx, audit.ReadPersonalData, object, object, details)
	})
}

func notFound(cause error) error {
	return httpx.Errorf(http.StatusNotFound, "not_found", "error.not_found", cause)
}

// clock formats an instant as the agency's local time of day.
func (h *Web) clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.svc.loc).Format("15:04")
}

// minutes formats a duration as whole minutes, at least 1 when it is not zero.
func minutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return max(1, int(d.Round(time.Minute)/time.Minute))
}

// option is one choice of a select or a group of radio buttons.
type option struct {
	Value, Label string
	Selected     bool
}

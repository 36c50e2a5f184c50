package console_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"balcao/internal/app"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/config"
	"balcao/internal/console"
	"balcao/internal/queue"
	"balcao/internal/store/storetest"
)

// The demo agency's staff.
const (
	agentEmail      = "ana.martins@demo.balcao.example" // serves informacao-geral (walk-in, always open)
	supervisorEmail = "graca.pinto@demo.balcao.example"
)

type site struct {
	*httptest.Server
	app   *app.App
	clock *clock
}

// newSite serves the whole app on the demo agency, its clock at Wednesday 2 December
// 2026, 10:00 in Lisbon.
func newSite(t *testing.T, pg string) *site {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, calendar.Lisbon())}
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: pg, LogLevel: "error"}
	cfg.Media.Loopback = true
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &site{Server: srv, app: a, clock: c}
}

type browser struct {
	t      *testing.T
	s      *site
	client *http.Client
}

func (s *site) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(raw)}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

func (b *browser) post(path string, fields ...string) page {
	form := url.Values{}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return b.do("POST", path, form)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in the page (%d):\n%s", p.status, p.body)
	}
	return m[1]
}

func (p page) has(t *testing.T, what string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Fatalf("%s: the page (%d) does not contain %q\n%s", what, p.status, w, p.body)
		}
	}
}

// signIn logs in with the demo password, then opens next.
func (b *browser) signIn(email, next string) page {
	b.t.Helper()
	form := b.get("/staff/login?next=" + url.QueryEscape(next))
	p := b.post("/staff/login", "csrf", form.csrf(b.t), "email", email, "password", app.DemoPassword, "next", next)
	if p.status != http.StatusSeeOther || p.location != next {
		b.t.Fatalf("sign in as %s: %d to %q, want %s", email, p.status, p.location, next)
	}
	return b.get(next)
}

func (s *site) take(t *testing.T, name string) queue.Taken {
	t.Helper()
	tk, err := s.app.Queue.Take(context.Background(), queue.Request{ServiceID: "informacoes",
		Citizen: booking.Citizen{Name: name, Email: "rui@example.pt", Phone: "912345678", Language: "pt-PT"}})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// book books informacao-geral for Ana Martins at the given Lisbon time today.
func (s *site) book(t *testing.T, hour, minute int, citizen booking.Citizen) booking.Booked {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 12, 2, hour, minute, 0, 0, calendar.Lisbon())
	var others []booking.Booked
	defer func() {
		for _, o := range others {
			if _, err := s.app.Booking.Cancel(ctx, o.ID, o.ManageToken); err != nil {
				t.Fatal(err)
			}
		}
	}()
	for range 4 {
		b, err := s.app.Booking.Book(ctx, booking.Request{ThemeID: "informacao-geral", Start: start, Citizen: citizen})
		if err != nil {
			t.Fatalf("book at %s: %v", start, err)
		}
		if b.AgentID == "ana-martins" {
			return b
		}
		others = append(others, b)
	}
	t.Fatalf("no appointment of ana-martins at %s", start)
	return booking.Booked{}
}

// TestConsoleOverHTTP walks the console with a real login on both engines: call next
// gives a walk-in ticket; the citizen's and the agent's call pages open; the outcome
// form refuses a contact without a reason, then writes the contact record; an
// appointment past its start offers phone and e-mail, records both, and becomes a
// no-show at the end of the slot; the agent cancels and moves a citizen's appointment;
// the supervisor's board moves the agent to the national pool.
func TestConsoleOverHTTP(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			pg := ""
			if engine == "postgres" {
				pg = storetest.NewPostgresDatabase(t)
			}
			s := newSite(t, pg)
			ctx := context.Background()
			agent := s.browser(t)
			if p := agent.get("/staff/console"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/staff/login") {
				t.Fatalf("console without a session: %d to %q", p.status, p.location)
			}
			home := agent.signIn(agentEmail, "/staff/console")
			home.has(t, "console", "Consola de atendimento", `id="call-next"`, "Disponível", "Informações gerais")
			token := home.csrf(t)
			if p := agent.get("/staff/board"); p.status != http.StatusForbidden {
				t.Fatalf("an agent opens the board: %d", p.status)
			}

			// Live: the console's WebSocket says "changed" when a ticket is taken.
			changed := listen(t, s, agent, "/staff/console/live")

			tk := s.take(t, "Rui Costa")
			select {
			case <-changed:
			case <-time.After(5 * time.Second):
				t.Fatal("no live update after a ticket was taken")
			}
			if p := agent.post("/staff/console/next"); p.status != http.StatusForbidden {
				t.Fatalf("call next without the CSRF token: %d", p.status)
			}
			if p := agent.post("/staff/console/next", "csrf", token); p.status != http.StatusSeeOther || p.location != "/staff/console#serving" {
				t.Fatalf("call next: %d to %q", p.status, p.location)
			}
			serving := agent.get("/staff/console")
			serving.has(t, "serving a ticket", tk.Code, "/staff/console/tickets/"+tk.ID+"/call",
				html.EscapeString("Senhor(a) Rui Costa, tem mais alguma questão"), "O meu nome é Ana Martins", `id="finish"`)

			// The citizen opens the ticket's page, sees the call link, and joins.
			citizen := s.browser(t)
			if p := citizen.get("/ticket/" + tk.ID + "?t=" + url.QueryEscape(tk.Token)); p.status != http.StatusSeeOther {
				t.Fatalf("ticket link: %d", p.status)
			}
			citizen.get("/ticket/"+tk.ID).has(t, "ticket being called", "/ticket/"+tk.ID+"/call", "Está a ser chamado")
			if p := citizen.get("/ticket/" + tk.ID + "/call"); p.status != http.StatusOK || !strings.Contains(p.body, "call-config") {
				t.Fatalf("the citizen's call page: %d\n%s", p.status, p.body)
			}
			if p := s.browser(t).get("/ticket/" + tk.ID + "/call"); p.status != http.StatusNotFound {
				t.Fatalf("the ticket's call without its cookie: %d", p.status)
			}
			if p := agent.get("/staff/console/tickets/" + tk.ID + "/call"); p.status != http.StatusOK || !strings.Contains(p.body, "call-config") {
				t.Fatalf("the agent's call page: %d", p.status)
			}
			agent.get("/staff/console").has(t, "citizen joined", "Entrou na videochamada")

			// The outcome: refused without a reason, then recorded.
			p := agent.post("/staff/console/finish", "csrf", token, "reason", "", "outcome", "resolved", "auth_level", "weak",
				"person", "self", "stage", "8")
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `href="#f-reason"`) {
				t.Fatalf("finish without a reason: %d\n%s", p.status, p.body)
			}
			p = agent.post("/staff/console/finish", "csrf", token, "reason", "Prazo da pensão", "outcome", "follow_up",
				"follow_up", "Enviar a simulação", "auth_level", "weak", "person", "third_party", "representative", "Joana Costa",
				"stage", "8", "notes", "Filha do utente.")
			if p.status != http.StatusSeeOther || p.location != "/staff/console?notice=finished" {
				t.Fatalf("finish: %d to %q\n%s", p.status, p.location, p.body)
			}
			var reason, level, person, rep, outcome string
			var stage int
			if err := s.app.DB.QueryRow(ctx, `SELECT reason, auth_level, person, representative, outcome, stage FROM contacts
				WHERE ticket_id = ? AND agent_id = 'ana-martins' AND channel = 'video'`, tk.ID).Scan(&reason, &level, &person, &rep, &outcome, &stage); err != nil {
				t.Fatalf("contact record: %v", err)
			}
			if reason != "Prazo da pensão" || level != "weak" || person != "third_party" || rep != "Joana Costa" || outcome != "follow_up" || stage != 8 {
				t.Fatalf("contact record: %q %q %q %q %q %d", reason, level, person, rep, outcome, stage)
			}
			agent.get(p.location).has(t, "wrap-up", "Pós-atendimento", "Atendimento registado")
			if p := agent.post("/staff/console/status", "csrf", token, "status", "available"); p.status != http.StatusSeeOther {
				t.Fatalf("become available: %d", p.status)
			}

			// An appointment whose citizen has not come: phone, e-mail, then no-show.
			maria := booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Phone: "+351912000111", Language: "pt-PT"}
			appt := s.book(t, 10, 40, maria)
			later := s.book(t, 11, 40, maria)
			// (A session ends after 30 minutes without a request.)
			s.clock.set(time.Date(2026, 12, 2, 10, 20, 0, 0, calendar.Lisbon()))
			agent.get("/staff/console").has(t, "agenda", "Maria Lopes", "Por começar")
			s.clock.set(time.Date(2026, 12, 2, 10, 43, 0, 0, calendar.Lisbon()))
			if p := agent.post("/staff/console/next", "csrf", token); p.status != http.StatusSeeOther {
				t.Fatalf("call next for the appointment: %d", p.status)
			}
			late := agent.get("/staff/console")
			late.has(t, "late citizen", "Ainda não entrou", `href="tel:&#43;351912000111"`, `id="record-call"`, `id="send-link"`,
				"/staff/console/appointments/"+later.ID+"/reschedule")
			if p := agent.post("/staff/console/attempts", "csrf", token, "appointment", appt.ID, "result", "no_answer"); p.location != "/staff/console?notice=call_recorded" {
				t.Fatalf("record a call: %d to %q", p.status, p.location)
			}
			if p := agent.post("/staff/console/join-link", "csrf", token, "appointment", appt.ID); p.location != "/staff/console?notice=link_sent" {
				t.Fatalf("send the link: %d to %q", p.status, p.location)
			}
			var queued int
			if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = ?", "appt:"+appt.ID+":noshow:1").Scan(&queued); err != nil || queued != 1 {
				t.Fatalf("no-show e-mail in the outbox: %d %v", queued, err)
			}
			agent.get("/staff/console").has(t, "attempts", "Tentativas de contacto", "Não atendeu", "enviada")

			// On the citizen's behalf: move the 11:40 appointment, then cancel it.
			form := agent.get("/staff/console/appointments/" + later.ID + "/reschedule")
			form.has(t, "reschedule page", "Reagendar a marcação de Maria Lopes")
			slot := regexp.MustCompile(`name="start" value="([^"]+)"`).FindStringSubmatch(form.body)
			if slot == nil {
				t.Fatalf("no free time offered:\n%s", form.body)
			}
			if p := agent.post("/staff/console/appointments/"+later.ID+"/reschedule", "csrf", token, "start", "nonsense"); p.status != http.StatusUnprocessableEntity {
				t.Fatalf("reschedule to nonsense: %d", p.status)
			}
			if p := agent.post("/staff/console/appointments/"+later.ID+"/reschedule", "csrf", token, "start", html.UnescapeString(slot[1])); p.location != "/staff/console?notice=moved" {
				t.Fatalf("reschedule: %d to %q\n%s", p.status, p.location, p.body)
			}
			if p := agent.post("/staff/console/appointments/"+later.ID+"/cancel", "csrf", token); p.location != "/staff/console?notice=cancelled" {
				t.Fatalf("cancel: %d to %q", p.status, p.location)
			}
			if a, _ := s.app.Booking.ByID(ctx, later.ID); a.Status != booking.StatusCancelled || a.ChangedBy != "ana-martins" {
				t.Fatalf("after the cancel: %s by %q", a.Status, a.ChangedBy)
			}

			s.clock.set(time.Date(2026, 12, 2, 11, 0, 0, 0, calendar.Lisbon()))
			if err := s.app.Console.Upkeep(ctx); err != nil {
				t.Fatal(err)
			}
			if a, _ := s.app.Booking.ByID(ctx, appt.ID); a.Status != booking.StatusNoShow {
				t.Fatalf("after the slot: %s, want no_show", a.Status)
			}
			agent.get("/staff/console").has(t, "agenda after the no-show", "Não compareceu", `id="call-next"`)

			// The supervisor's board: Ana is at Lisbon, then in the national pool.
			sup := s.browser(t)
			board := sup.signIn(supervisorEmail, "/staff/board")
			board.has(t, "board", "Quadro da supervisão", "Ana Martins", "Centro Distrital de Lisboa", "Informações gerais")
			if p := sup.post("/staff/board/move", "csrf", board.csrf(t), "agent", "ana-martins", "to", console.PoolNational); p.location != "/staff/board?notice=agent_moved" {
				t.Fatalf("move: %d to %q", p.status, p.location)
			}
			if p := sup.post("/staff/board/move", "csrf", board.csrf(t), "agent", "ana-martins", "to", "atlantis"); p.status != http.StatusUnprocessableEntity {
				t.Fatalf("move to nowhere: %d", p.status)
			}
			if st, _ := s.app.Console.State(ctx, "ana-martins"); st.Pool != console.PoolNational {
				t.Fatalf("after the move: %+v", st)
			}
			sup.get("/staff/board").has(t, "board after the move", "Graça Pinto", "Bolsa nacional")
			agent.get("/staff/console").has(t, "console after the move", "a atender: Bolsa nacional")
		})
	}
}

// listen opens a live WebSocket with the browser's session and reports each message.
func listen(t *testing.T, s *site, b *browser, path string) <-chan struct{} {
	t.Helper()
	u, _ := url.Parse(s.URL + path)
	h := http.Header{"Origin": {s.URL}}
	for _, c := range b.client.Jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		cancel()
		t.Fatalf("live WebSocket: %v", err)
	}
	t.Cleanup(func() { cancel(); c.CloseNow() })
	out := make(chan struct{}, 16)
	go func() {
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if strings.Contains(string(msg), `"changed"`) {
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

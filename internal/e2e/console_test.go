package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/app"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/config"
)

// consoleSite is balcao with the demo agency, media on loopback, and a clock the test
// can move (the real time plus an offset).
type consoleSite struct {
	app *app.App
	URL string

	mu     sync.Mutex
	offset time.Duration
}

func (s *consoleSite) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

func (s *consoleSite) setNow(at time.Time) {
	s.mu.Lock()
	s.offset = time.Until(at)
	s.mu.Unlock()
}

func newConsoleSite(t *testing.T) *consoleSite {
	t.Helper()
	s := &consoleSite{}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "info"}
	cfg.Media.Loopback = true
	a, err := app.New(t.Context(), cfg, logger, app.Options{Now: s.now})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	s.app, s.URL = a, srv.URL
	return s
}

// bookFirst books req at the first free time (from today, for the next 31 days) at which
// the booking made is one pick accepts: the service picks the agent (and interpreter)
// among those free, so each time is tried a few times, and the bookings pick refused are
// cancelled.
func (s *consoleSite) bookFirst(t *testing.T, req booking.Request, pick func(booking.Booked) bool) booking.Booked {
	t.Helper()
	ctx := t.Context()
	today := calendar.DateOf(s.now().In(calendar.Lisbon()))
	slots, err := s.app.Booking.Availability(ctx, req.ThemeID, today, today.AddDays(booking.MaxRangeDays-1), req.SignLanguage)
	if err != nil || len(slots) == 0 {
		t.Fatalf("no free time: %v", err)
	}
	for _, slot := range slots {
		var refused []booking.Booked
		var found booking.Booked
		for range 3 {
			req.Start = slot.Start
			b, err := s.app.Booking.Book(ctx, req)
			if err != nil {
				break
			}
			if pick(b) {
				found = b
				break
			}
			refused = append(refused, b)
		}
		for _, o := range refused {
			if _, err := s.app.Booking.Cancel(ctx, o.ID, o.ManageToken); err != nil {
				t.Fatal(err)
			}
		}
		if found.ID != "" {
			return found
		}
	}
	t.Fatal("no free time with the staff wanted")
	return booking.Booked{}
}

// consoleCatalogue is the console's messages with the main and call catalogues.
func consoleCatalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	m := catalogue(t, lang)
	for _, area := range []string{"console", "call"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "web", "i18n", area+"."+lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		part := map[string]string{}
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatal(err)
		}
		for k, v := range part {
			m[k] = v
		}
	}
	return m
}

// fakeMedia are the flags that give a headless browser a camera, a microphone and
// loopback ICE candidates (TESTING.md).
var fakeMedia = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
}

// newDesk starts a browser of its own (its own profile and cookies) on a desktop-sized
// screen, with fake media devices.
func newDesk(t *testing.T, base string, limit time.Duration) *tab {
	t.Helper()
	needBrowser(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browserPath))
	opts = append(append(opts, browserFlags...), fakeMedia...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start a browser: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelTimeout)
	b := &tab{t: t, ctx: tctx, base: base}
	b.do("set up the tab", chromedp.EmulateViewport(1280, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: userAgent, AcceptLanguage: "pt-PT,pt;q=0.9,en;q=0.5"})
		return err
	}))
	return b
}

// sameBrowserTab opens another tab in b's browser: same cookies, as a link opened in a
// new window would.
func sameBrowserTab(t *testing.T, b *tab) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	nb := &tab{t: t, ctx: ctx, base: b.base}
	nb.do("open a tab", chromedp.EmulateViewport(1024, 768))
	return nb
}

// eventually polls cond (JavaScript returning a boolean) until it holds.
func (b *tab) eventually(what, cond string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for !eval[bool](b, cond) {
		if time.Now().After(deadline) {
			b.fatalf("%s: not after %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// containsSoon waits until the element sel's text contains want.
func (b *tab) containsSoon(sel, want string, limit time.Duration) {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	w, _ := json.Marshal(want)
	b.eventually(sel+" says "+want, `(() => { const e = document.querySelector(`+string(q)+`); return !!e && e.innerText.includes(`+string(w)+`) })()`, limit)
}

// signInByKeyboard signs in on the login page the tab shows: Tab to each field, type,
// Enter on the button.
func (b *tab) signInByKeyboard(email string) {
	b.t.Helper()
	b.tabTo("f-email", 10)
	b.press(email)
	b.press(kb.Tab)
	b.expectFocus("f-password")
	b.press(app.DemoPassword)
	b.press(kb.Tab)
	b.expectFocus("login")
	b.follow("press Enter on the sign-in button", enterKey)
}

// focusVisible tells whether the focused element shows a focus indicator.
func (b *tab) focusVisible() bool {
	b.t.Helper()
	return eval[bool](b, `(() => { const s = getComputedStyle(document.activeElement);
		return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 })()`)
}

// withAxe loads axe-core into the page unless it is there, then audits it.
func withAxe(a *auditor, script, name string) {
	a.b.t.Helper()
	if script == "" {
		return
	}
	if eval[bool](a.b, `typeof axe === "undefined"`) {
		eval[any](a.b, script+";0")
	}
	a.audit(name)
}

// TestConsoleWalkInCall is the whole walk-in path in two browsers: the citizen takes a
// ticket and sees position 1; the agent signs in with the keyboard, sees the queue,
// presses "Call next"; the citizen's page shows "being called" and a link into the
// call; both enter the call (the agent admits the citizen); the agent walks the script,
// records the identity level and the outcome, and finishes; the contact record is in the
// database. The console passes axe-core and is used with the keyboard.
func TestConsoleWalkInCall(t *testing.T) {
	needBrowser(t)
	script := ""
	if js, err := os.ReadFile(filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js")); err == nil {
		script = string(js)
	} else if inCI() {
		t.Fatalf("axe-core is missing in CI: %v", err)
	}
	s := newConsoleSite(t)
	msg := consoleCatalogue(t, "pt-PT")
	citizen := newDesk(t, s.URL, 90*time.Second)
	agent := newDesk(t, s.URL, 90*time.Second)
	audit := &auditor{b: agent, lang: "pt-PT"}

	// The citizen takes a ticket for general information.
	citizen.navigate("/queue")
	citizen.do("fill in the ticket form", chromedp.SendKeys("#f-informacoes-name", "Rui Costa"),
		chromedp.SendKeys("#f-informacoes-email", "rui@example.pt"))
	citizen.tap("section[aria-labelledby=q-informacoes] button[type=submit]")
	ticketPath := citizen.path()
	if !strings.HasPrefix(ticketPath, "/ticket/") {
		citizen.fatalf("taking a ticket led to %s", ticketPath)
	}
	waitText(citizen, "#position", "1")
	ticketID := strings.TrimPrefix(ticketPath, "/ticket/")

	// The agent signs in with the keyboard and lands on the console.
	agent.navigate("/staff/console")
	if p := agent.path(); !strings.HasPrefix(p, "/staff/login") {
		agent.fatalf("the console without a session is at %s", p)
	}
	agent.signInByKeyboard(demoAgent)
	if p := agent.path(); p != "/staff/console" {
		agent.fatalf("signing in led to %s, want the console", p)
	}
	agent.mustContain("console", msg["console.heading"], msg["console.status.available"], "Informações gerais")
	agent.containsSoon(`#queues td[data-queue="informacoes"]`, "1", 5*time.Second)
	withAxe(audit, script, "console (available, one waiting)")

	// Keyboard: "Call next" is reachable with Tab, shows its focus, and Enter presses it.
	start := time.Now()
	n := agent.tabTo("call-next", 25)
	t.Logf("\"Call next\" is %d presses of Tab from the top of the console", n)
	if !agent.focusVisible() {
		agent.fatalf("the focused \"Call next\" shows no focus indicator")
	}
	agent.follow("press Enter on Call next", enterKey)
	agent.mustContain("serving", msg["console.serving.heading"], "Rui Costa", msg["console.script.heading"])
	if got := agent.text("#step-1 blockquote"); !strings.Contains(got, "O meu nome é Ana Martins") {
		agent.fatalf("the greeting says %q", got)
	}
	if got := agent.text("#step-2 blockquote"); !strings.Contains(got, "Senhor(a) Rui Costa") {
		agent.fatalf("stage 2 says %q, want the citizen's name filled in", got)
	}
	withAxe(audit, script, "console (serving a ticket)")

	// The citizen's page follows: being called, with a link into the call.
	citizen.containsSoon("#status", msg["ticket.status.called"], 10*time.Second)
	citizen.eventually("the call link shows", `!document.getElementById("join-call").hidden`, 5*time.Second)
	if href := citizen.attr("#join-call-link", "href"); href != ticketPath+"/call" {
		citizen.fatalf("the call link is %q", href)
	}
	citizen.follow("open the call", chromedp.Click(chromedp.CSS("#join-call-link")))
	citizen.eventually("the citizen connected", `!!window.balcaoCall`, 10*time.Second)

	// The agent opens the call in another tab and admits the citizen.
	callURL := agent.attr("#open-call", "href")
	if callURL != "/staff/console/tickets/"+ticketID+"/call" {
		agent.fatalf("the call link is %q", callURL)
	}
	room := sameBrowserTab(t, agent)
	room.navigate(callURL)
	room.eventually("the citizen waits in the lobby", `!!document.querySelector("button.admit")`, 15*time.Second)
	room.do("admit", chromedp.Click(chromedp.CSS("button.admit")))
	citizen.eventually("the citizen is admitted", `window.balcaoCall.admitted === true`, 15*time.Second)
	t.Logf("both in the call %s after Call next", time.Since(start).Round(time.Millisecond))
	if frames := mediaFrames(citizen, 8*time.Second); frames > 0 {
		t.Logf("the citizen decodes the agent's video (%d frames)", frames)
	} else {
		t.Log("no decoded frames yet on the citizen's side (media is the call's test; both joined the room)")
	}

	// The console learns that the citizen joined, without a reload.
	agent.containsSoon("#presence-state", msg["console.presence.ticket_in_call"], 10*time.Second)

	// The citizen writes in the chat; the agent keeps the chat for the contact record,
	// and the citizen is told.
	const written = "Sou surda, prefiro escrever."
	citizen.do("write in the chat", chromedp.SendKeys(chromedp.CSS("#chat-text"), written+kb.Enter))
	room.containsSoon("#chat-log", written, 5*time.Second)
	room.do("keep the chat", chromedp.Click(chromedp.CSS("#chat-keep")))
	// The tab opened beside the console asks in the browser's language, English.
	room.containsSoon("#chat-kept", strings.Replace(consoleCatalogue(t, "en")["call.chat.kept"], "%d", "1", 1), 5*time.Second)
	citizen.containsSoon("#chat-log", msg["call.chat.kept_notice"], 5*time.Second)

	// The script: Next step to the end, by keyboard; the step reached follows.
	agent.tabTo("step-next", 40)
	if !agent.focusVisible() {
		agent.fatalf("the focused \"Next step\" shows no focus indicator")
	}
	for range 7 {
		agent.do("next step", enterKey)
	}
	if cur := agent.attr("#step-8", "aria-current"); cur != "step" {
		agent.fatalf("after seven Next: step 8 aria-current=%q", cur)
	}
	if v := eval[string](agent, `document.getElementById("f-stage").value`); v != "8" {
		agent.fatalf("the step reached is %q, want 8", v)
	}
	// Identity (stage 4): weak authentication, the citizen themself; then the outcome.
	agent.tabTo("f-auth_level", 60)
	agent.press(kb.ArrowDown) // none → weak
	if v := eval[string](agent, `document.querySelector("input[name=auth_level]:checked").value`); v != "weak" {
		agent.fatalf("the level chosen is %q", v)
	}
	// Progress: each tick is saved on the server as it is made, so that a reload (or a
	// crashed browser, or another tab) finds the ticks, the level and the step reached.
	for _, n := range []string{"1", "2", "3"} {
		agent.do("tick step "+n, chromedp.Click(chromedp.CSS("#done-"+n)))
	}
	saved := time.Now()
	for {
		var ticked, level string
		var current, stage int
		err := s.app.DB.QueryRow(t.Context(), `SELECT ticked, auth_level, current_step, stage FROM console_progress
			WHERE staff_id = 'ana-martins'`).Scan(&ticked, &level, &current, &stage)
		if err == nil && ticked == "1,2,3" && level == "weak" && current == 3 && stage == 8 {
			break
		}
		if time.Since(saved) > 5*time.Second {
			t.Fatalf("the progress saved: %q %q step %d reached %d (%v)", ticked, level, current, stage, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("three ticks saved on the server %s after the last click", time.Since(saved).Round(time.Millisecond))
	agent.navigate("/staff/console")
	if got := eval[string](agent, `[1,2,3,4,5,6,7,8].map(n => document.getElementById("done-" + n).checked ? n : "").join("") + "/" +
		document.querySelector("#script-steps [aria-current=step]").id + "/" + document.querySelector("input[name=auth_level]:checked").value +
		"/" + document.getElementById("f-stage").value`); got != "123/step-3/weak/8" {
		agent.fatalf("after a reload the ticks/current step/level/step reached are %q, want 123/step-3/weak/8", got)
	}
	agent.containsSoon("#kept-chat", strings.Replace(msg["console.outcome.chat_kept"], "%d", "1", 1), 5*time.Second)
	// The ticket was taken for the whole service: picking its theme in the outcome form
	// shows that theme's instructions, saved and fetched without a reload.
	eval[bool](agent, `(() => { const s = document.getElementById("f-theme"); s.value = "informacao-geral";
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	agent.containsSoon("#instructions", strings.Replace(msg["console.prep.theme_chosen"], "%s", "Informação geral", 1), 5*time.Second)
	if !eval[bool](agent, `document.querySelector('#service-themes details[data-theme="informacao-geral"]').open`) {
		agent.fatalf("the picked theme's instructions are not unfolded")
	}
	// Finishing without a reason is refused: the error summary takes the focus, and
	// what was chosen stays chosen.
	agent.tabTo("finish-contact", 60)
	if resp := agent.follow("finish without a reason", enterKey); resp.Status != 422 {
		agent.fatalf("finish without a reason answered %d, want 422", resp.Status)
	}
	agent.expectFocus("errors")
	if got := agent.text("#errors"); !strings.Contains(got, msg["console.error.reason_required"]) {
		agent.fatalf("the error summary says %q", got)
	}
	if v := eval[string](agent, `document.querySelector("input[name=auth_level]:checked").value + "/" + document.getElementById("f-stage").value`); v != "weak/8" {
		agent.fatalf("after the refusal the level/step are %q, want weak/8", v)
	}
	withAxe(audit, script, "console (outcome with errors)")
	agent.tabTo("f-reason", 40)
	agent.press("Prazos da pensão de velhice")
	agent.do("notes", chromedp.SendKeys(chromedp.CSS("#f-notes"), "Explicados os prazos."))
	agent.tabTo("finish-contact", 20)
	if !agent.focusVisible() {
		agent.fatalf("the focused \"Finish\" shows no focus indicator")
	}
	agent.follow("finish", enterKey)
	agent.mustContain("finished", msg["console.notice.finished"], msg["console.status.wrap_up"])

	var reason, level, outcome, chat string
	var stage int
	if err := s.app.DB.QueryRow(t.Context(), `SELECT reason, auth_level, outcome, stage, chat FROM contacts
		WHERE ticket_id = ? AND agent_id = 'ana-martins'`, ticketID).Scan(&reason, &level, &outcome, &stage, &chat); err != nil {
		t.Fatalf("the contact record: %v", err)
	}
	if reason != "Prazos da pensão de velhice" || level != "weak" || outcome != "resolved" || stage != 8 || !strings.Contains(chat, written) {
		t.Fatalf("the contact record: %q %q %q %d chat %q", reason, level, outcome, stage, chat)
	}
	withAxe(audit, script, "console (wrap-up)")
	t.Logf("axe-core: %d pages audited: %s", len(audit.pages), strings.Join(audit.pages, ", "))
	if audit.failed > 0 {
		t.Fatalf("%d axe-core violations on %v", audit.failed, audit.pages)
	}
}

// mediaFrames waits up to limit for decoded video frames in the page's call and
// returns how many (0 if none came).
func mediaFrames(b *tab, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n := eval[int](b, `(async () => {
			const c = window.balcaoCall;
			if (!c || !c.pc) return 0;
			let n = 0;
			(await c.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
			return n;
		})()`)
		if n > 0 {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0
}

// TestConsoleNoShowAndBoard: an appointment past its start without the citizen; the
// console offers the phone number and the e-mail; the agent records a call and sends
// the link (in the outbox); at the end of the slot the appointment becomes a no-show,
// which the console shows without a reload. Then the supervisor's board, with axe-core.
func TestConsoleNoShowAndBoard(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	s := newConsoleSite(t)
	msg := consoleCatalogue(t, "pt-PT")
	ctx := t.Context()

	// An appointment of Ana Martins at her first free time.
	appt := s.bookFirst(t, booking.Request{ThemeID: "informacao-geral",
		Citizen: booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Phone: "912000111", Language: "pt-PT"}},
		func(b booking.Booked) bool { return b.AgentID == "ana-martins" })
	s.setNow(appt.Start.Add(2 * time.Minute))

	b := newTab(t, &site{app: s.app, URL: s.URL}, "Europe/Lisbon", 60*time.Second)
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: "pt-PT"}
	b.navigate("/staff/console")
	b.signInByKeyboard(demoAgent)
	b.mustContain("agenda", "Maria Lopes", msg["console.presence.late"])
	b.tabTo("call-next", 25)
	b.follow("call next", enterKey)
	b.mustContain("not joined", msg["console.noshow.heading"], "+351912000111")
	a.audit("console (citizen late)")

	b.tabTo("record-call", 40)
	b.follow("record the call", enterKey)
	b.mustContain("call recorded", msg["console.notice.call_recorded"], msg["console.result.reached"])
	b.tabTo("send-link", 40)
	b.follow("send the link", enterKey)
	b.mustContain("link sent", msg["console.notice.link_sent"])
	var n int
	if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE idempotency_key = ? AND channel = 'email'",
		"appt:"+appt.ID+":noshow:1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the no-show e-mail in the outbox: %d %v", n, err)
	}
	var attempts int
	if err := s.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM contact_attempts WHERE appointment_id = ?", appt.ID).Scan(&attempts); err != nil || attempts != 2 {
		t.Fatalf("attempts recorded: %d %v", attempts, err)
	}

	// The end of the slot: a no-show, shown live.
	s.setNow(appt.End.Add(time.Second))
	if err := s.app.Console.Upkeep(ctx); err != nil {
		t.Fatal(err)
	}
	b.containsSoon("#agenda", msg["console.presence.no_show"], 10*time.Second)
	b.eventually("call next is back", `!!document.getElementById("call-next")`, 10*time.Second)
	a.audit("console (after the no-show)")
	var status string
	if err := s.app.DB.QueryRow(ctx, "SELECT status FROM appointments WHERE id = ?", appt.ID).Scan(&status); err != nil || status != "no_show" {
		t.Fatalf("status %q %v", status, err)
	}

	// The supervisor's board, in Portuguese and English.
	sup := newTab(t, &site{app: s.app, URL: s.URL}, "Europe/Lisbon", 60*time.Second)
	sup.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	sa := &auditor{b: sup, lang: "pt-PT"}
	sup.navigate("/staff/board")
	sup.signInByKeyboard("graca.pinto@demo.balcao.example")
	sup.mustContain("board", msg["console.board.heading"], "Ana Martins", msg["console.status.available"])
	sa.audit("board")
	sup.tabTo("move-ana-martins", 60)
	sup.press(kb.End) // the last place: the national pool
	sup.tabTo("move-button-ana-martins", 3)
	sup.follow("move", enterKey)
	sup.mustContain("moved", msg["console.notice.agent_moved"], msg["console.pool.national"])
	sa.audit("board after a move")
	sup.navigate("/lang?to=en&next=/staff/board")
	sa.lang = "en"
	sa.audit("board (en)")
	t.Logf("axe-core: %d pages audited: %s; %s", len(a.pages)+len(sa.pages), strings.Join(a.pages, ", "), strings.Join(sa.pages, ", "))
	failed := a.failed + sa.failed
	if failed > 0 {
		t.Fatalf("%d axe-core violations on %v %v", failed, a.pages, sa.pages)
	}
}

// TestInterpreterPage: the staff interpreter signs in with the keyboard and lands on
// their page, which lists the call they are booked for with the citizen's first name
// only and, the call being open, a Join link reached with Tab; the page passes axe-core
// in Portuguese and in English.
func TestInterpreterPage(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	s := newConsoleSite(t)
	msg := consoleCatalogue(t, "pt-PT")

	// A sign-language appointment at the first time Filipe Lopes, the demo's staff
	// interpreter, is free with an agent.
	appt := s.bookFirst(t, booking.Request{ThemeID: "informacao-geral", SignLanguage: true,
		Citizen: booking.Citizen{Name: "Maria Lopes", Email: "maria@example.pt", Language: "pt-PT"}},
		func(b booking.Booked) bool { return b.InterpreterID == "filipe-lopes" })
	s.setNow(appt.Start.Add(-5 * time.Minute)) // the call is open

	b := newTab(t, &site{app: s.app, URL: s.URL}, "Europe/Lisbon", 60*time.Second)
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: "pt-PT"}
	b.navigate("/staff/interpreter")
	b.signInByKeyboard("filipe.lopes@demo.balcao.example")
	if p := b.path(); p != "/staff/interpreter" {
		b.fatalf("signing in led to %s", p)
	}
	b.mustContain("interpreter's page", msg["console.interpreter.heading"], "Maria", msg["console.interpreter.join"])
	if row := b.text("#booking-" + appt.ID); strings.Contains(row, "Lopes") {
		b.fatalf("the row shows more than the first name: %q", row)
	}
	b.tabTo("join-"+appt.ID, 20)
	if !b.focusVisible() {
		b.fatalf("the focused Join link shows no focus indicator")
	}
	if href := b.attr("#join-"+appt.ID, "href"); href != "/staff/call/"+appt.ID {
		b.fatalf("Join leads to %q", href)
	}
	a.audit("interpreter")
	// The page is live: the citizen entering the lobby shows without a reload, and the
	// keyboard focus stays on Join.
	s.app.Console.Presence(appt.ID, "citizen", false)
	b.containsSoon("#booking-"+appt.ID, msg["console.presence.lobby"], 5*time.Second)
	b.expectFocus("join-" + appt.ID)
	b.navigate("/lang?to=en&next=/staff/interpreter")
	a.lang = "en"
	b.mustContain("interpreter's page in English", "Calls to interpret")
	a.audit("interpreter (en)")
	t.Logf("axe-core: %d pages audited: %s", len(a.pages), strings.Join(a.pages, ", "))
	if a.failed > 0 {
		t.Fatalf("%d axe-core violations on %v", a.failed, a.pages)
	}
}

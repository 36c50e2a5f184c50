package e2e

import (
	"context"
	"encoding/base32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"balcao/internal/app"
	"balcao/internal/auth"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/queue"
)

// TestAdminPagesHaveNoAxeViolations signs in as the demo administrator (who sets up
// two-step verification first), in Portuguese and in English, and runs axe-core on every
// configuration page, on their error states, on the refusal of a change that would orphan
// a booked appointment, of turning walk-in tickets off while a citizen waits and of
// deleting a location in use, on a disabled account, and on the audit log with results.
// Two forms are filled in and sent with the keyboard alone.
func TestAdminPagesHaveNoAxeViolations(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	for _, lang := range []string{"pt-PT", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			auditAdmin(t, lang, script)
		})
	}
}

func auditAdmin(t *testing.T, lang, script string) {
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 120*time.Second)
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: lang}
	msg := authCatalogue(t, lang)

	// An appointment to come, so that withdrawing its topic is refused.
	ctx := context.Background()
	today := calendar.DateOf(time.Now().In(calendar.Lisbon()))
	slots, err := s.app.Booking.Availability(ctx, "pensao-velhice", today, today.AddDays(20), false)
	if err != nil || len(slots) == 0 {
		t.Fatalf("no free time for pensao-velhice: %v", err)
	}
	if _, err := s.app.Booking.Book(ctx, booking.Request{ThemeID: "pensao-velhice", Start: slots[len(slots)-1].Start,
		Citizen: booking.Citizen{Name: "Rita Matos", Email: "rita@example.pt", Language: "pt-PT"}}); err != nil {
		t.Fatal(err)
	}

	// Sign in, setting up two-step verification as the administrator's role requires.
	b.navigate("/lang?to=" + lang + "&next=/staff/admin/")
	if p := b.path(); !strings.HasPrefix(p, "/staff/login") {
		b.fatalf("the configuration pages without a session led to %s", p)
	}
	b.do("fill in the login form", chromedp.SetValue(byID("f-email"), demoAdmin), chromedp.SetValue(byID("f-password"), app.DemoPassword))
	b.tap("#login")
	if p := b.path(); p != "/staff/account/totp" {
		b.fatalf("the administrator was sent to %s, want the enrolment page", p)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(b.text("#totp-secret"), " ", ""))
	if err != nil {
		b.fatalf("the secret on the page: %v", err)
	}
	b.do("type the code", chromedp.SetValue(byID("f-code"), auth.TOTP(key, time.Now(), 6)))
	b.tap("#confirm")
	b.mustContain("landing after enrolment", msg["auth.totp.enabled_notice"])

	pages := []struct{ name, path string }{
		{"overview", "/staff/admin/"},
		{"services", "/staff/admin/services"},
		{"new service", "/staff/admin/services/new"},
		{"service", "/staff/admin/services/pensoes"},
		{"new topic", "/staff/admin/services/pensoes/themes/new"},
		{"walk-in tickets", "/staff/admin/services/familia/walk-in"},
		{"walk-in tickets, none yet", "/staff/admin/services/pensoes/walk-in"},
		{"topic", "/staff/admin/themes/pensao-velhice"},
		{"locations", "/staff/admin/locations"},
		{"new location", "/staff/admin/locations/new"},
		{"location", "/staff/admin/locations/lisboa"},
		{"closures", "/staff/admin/closures"},
		{"staff", "/staff/admin/staff"},
		{"new staff member", "/staff/admin/staff/new"},
		{"staff member", "/staff/admin/staff/ana-martins"},
		{"branding", "/staff/admin/branding"},
		{"settings", "/staff/admin/settings"},
		{"audit log", "/staff/admin/audit"},
	}
	for _, p := range pages {
		if status := b.navigate(p.path); status != 200 {
			b.fatalf("%s answered %d", p.path, status)
		}
		a.audit(p.name)
	}

	// Error states: each form sent empty or wrong shows its error summary.
	for _, p := range []struct{ name, path, sel string }{
		{"new topic with errors", "/staff/admin/services/pensoes/themes/new", "#save"},
		{"new staff member with errors", "/staff/admin/staff/new", "#save"},
		{"closures with errors", "/staff/admin/closures", "#save"},
		{"absence with errors", "/staff/admin/staff/ana-martins", "#add-absence"},
		{"walk-in tickets with errors", "/staff/admin/services/familia/walk-in", "#save"},
	} {
		b.navigate(p.path)
		if strings.HasSuffix(p.path, "/themes/new") {
			b.do("type a wrong duration", chromedp.SetValue(byID("f-duration"), "7"))
		}
		if strings.HasSuffix(p.path, "/walk-in") {
			b.do("type a wrong letter and no hours", chromedp.SetValue(byID("f-letter"), "7"), chromedp.SetValue(byID("f-hours_mon"), "9-17"))
		}
		b.tap(p.sel)
		if b.text("[role=alert]") == "" {
			b.fatalf("%s: no error summary", p.name)
		}
		if f := b.focused(); f != "errors" {
			b.fatalf("%s: the focus is on %q, not on the error summary", p.name, f)
		}
		a.audit(p.name)
	}

	// The refusal of a change that would orphan the appointment.
	b.navigate("/staff/admin/themes/pensao-velhice")
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Tap(chromedp.CSS("#withdraw")))
	if err != nil || resp.Status != 409 {
		b.fatalf("withdrawing a topic with an appointment: %v, status %v, want 409", err, resp)
	}
	if b.text("[role=alert]") == "" || b.attr("#cancel-and-save", "class") != "danger" {
		b.fatalf("the refusal does not say why, or offers no choice")
	}
	a.audit("refusal: appointments would be orphaned")

	// Walk-in tickets turned off, with the keyboard alone, while a citizen waits: refused,
	// with the way out (closing the queue to new tickets) taken by keyboard too.
	if _, err := s.app.Queue.Take(ctx, queue.Request{ServiceID: "informacoes",
		Citizen: booking.Citizen{Name: "Rui Sá", Language: "pt-PT"}}); err != nil {
		t.Fatal(err)
	}
	b.navigate("/staff/admin/services/informacoes/walk-in")
	b.tabTo("f-walk_in-on", 60)
	b.press(kb.ArrowDown)
	b.expectFocus("f-walk_in-off")
	if !eval[bool](b, `document.getElementById("f-walk_in-off").checked`) {
		b.fatalf("the arrow key did not choose \"off\"")
	}
	b.tabTo("save", 40)
	resp, err = chromedp.RunResponse(b.ctx, enterKey)
	if err != nil || resp.Status != 409 {
		b.fatalf("walk-in tickets off with a citizen waiting: %v, status %v, want 409", err, resp)
	}
	if b.text("[role=alert]") == "" {
		b.fatalf("the refusal does not say why")
	}
	a.audit("refusal: citizens waiting")
	b.tabTo("close-queue", 40)
	b.follow("close the queue with Enter", enterKey)
	if b.text("[role=status]") == "" || !eval[bool](b, `document.getElementById("f-opening-closed").checked`) {
		b.fatalf("the queue is not shown closed to new tickets")
	}
	a.audit("queue closed to new tickets")

	// A location still in use cannot be deleted: the refusal says what refers to it.
	b.navigate("/staff/admin/locations/braganca")
	resp, err = chromedp.RunResponse(b.ctx, chromedp.Tap(chromedp.CSS("#delete")))
	if err != nil || resp.Status != 409 {
		b.fatalf("deleting a location with staff: %v, status %v, want 409", err, resp)
	}
	if b.text("[role=alert]") == "" || b.text("ul.admin-list") == "" {
		b.fatalf("the refusal does not say what refers to the location")
	}
	a.audit("refusal: location in use")

	// A disabled account, and enabling it again.
	b.navigate("/staff/admin/staff/carla-sousa")
	b.tap("#disable")
	b.navigate("/staff/admin/staff/carla-sousa")
	a.audit("disabled staff member")
	b.tap("#enable")
	if b.text("[role=status]") == "" || b.attr("#disable", "class") != "danger" {
		b.fatalf("no notice that the account was enabled, or no way to disable it again")
	}

	// A form filled in and sent with the keyboard alone.
	b.navigate("/staff/admin/services/new")
	b.tabTo("f-id", 40)
	b.press("prova-de-vida")
	b.press(kb.Tab)
	b.expectFocus("f-name_pt")
	b.press("Prova de vida")
	b.press(kb.Tab)
	b.expectFocus("f-name_en")
	b.press("Proof of life")
	b.follow("press Enter in a field", enterKey)
	if p := b.path(); !strings.HasPrefix(p, "/staff/admin/services/prova-de-vida") {
		b.fatalf("sending the form with Enter led to %s", p)
	}
	if b.text("[role=status]") == "" {
		b.fatalf("no notice that the service was created")
	}
	a.audit("service created")

	// A logo: every page's header shows it from now on.
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="20" height="10" fill="#1d4e89"/></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	b.navigate("/staff/admin/branding")
	b.do("choose the logo", chromedp.SetUploadFiles(byID("f-logo"), []string{logo}))
	b.tap("#save")
	if b.attr("header img.logo", "src") == "" {
		b.fatalf("the header shows no logo after the upload")
	}
	a.audit("branding with a logo")

	b.navigate("/staff/admin/audit?action=config_change")
	if !strings.Contains(b.text("table"), "service:prova-de-vida") {
		b.fatalf("the audit log does not show the new service")
	}
	a.audit("audit log with results")
	t.Logf("axe-core (%s): %d configuration pages, %d violations: %s", lang, len(a.pages), a.failed, strings.Join(a.pages, ", "))
}

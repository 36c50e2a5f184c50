package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
)

// TestBookCancelRescheduleOnAPhone books, reschedules and cancels an appointment through
// the portal's pages on a phone-sized screen, tapping links and buttons, and filling the
// details form with the keyboard alone (Tab, typing, arrow keys, Enter and Space).
func TestBookCancelRescheduleOnAPhone(t *testing.T) {
	needBrowser(t)
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 45*time.Second)
	pt := catalogue(t, "pt-PT")

	// Home → service → subject → day → time, by touch.
	if st := b.navigate("/"); st != 200 {
		b.fatalf("home answered %d", st)
	}
	b.mustContain("home", pt["home.heading"])
	b.tap("ul.cards a.card") // the first service
	b.mustContain("service page", pt["service.choose_theme"])
	b.tap("ul.cards a.card") // its first subject
	b.mustContain("days page", pt["days.choose_day"])
	b.tap("ul.days a") // the first day with free times
	day := b.text("h2[data-times]")
	slotTime := b.text("ul.slots a")
	if day == "" || slotTime == "" {
		b.fatalf("the times page shows no day (%q) or no time (%q)", day, slotTime)
	}
	b.tap("ul.slots a") // its first time
	if !strings.Contains(b.path(), "/details?start=") {
		b.fatalf("the first time led to %s, want the details form", b.path())
	}
	when := day + ", " + slotTime
	b.mustContain("details page", pt["details.heading"], when)
	start := b.attr("input[name=start]", "value")
	firstStart, err := time.Parse(time.RFC3339, start)
	if err != nil {
		b.fatalf("the form's start %q: %v", start, err)
	}

	// First attempt, by keyboard only: no name, and a NIF whose check digit is wrong.
	n := b.tabTo("f-citizen.name", 30)
	t.Logf("the name field is %d presses of Tab from the top of the details page", n)
	b.press(kb.Tab)
	b.expectFocus("f-citizen.email")
	b.press("ana.conceicao@example.com")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.phone")
	b.press("912 345 678")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.niss")
	b.press("12345678902")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.nif")
	b.press("123456780")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.language") // the radio group is one stop, on the checked choice
	b.press(kb.Tab)
	b.expectFocus("f-needs.notes")
	b.press("Prefiro que falem devagar.")
	b.press(kb.Tab)
	b.expectFocus("button")
	if resp := b.follow("submit the form with Enter", enterKey); resp.Status != 422 {
		b.fatalf("the invalid form answered %d, want 422", resp.Status)
	}

	// The error summary lists both problems, in the order of the form, and links to the
	// fields; the fields keep what was typed.
	summary := b.text("[role=alert]")
	nameErr := fmt.Sprintf(pt["form.error_item"], pt["field.name"], pt["error.required"])
	nifErr := fmt.Sprintf(pt["form.error_item"], pt["field.nif"], pt["error.nif"])
	for _, want := range []string{pt["form.errors_title"], nameErr, nifErr} {
		if !strings.Contains(summary, want) {
			b.fatalf("the error summary %q does not say %q", summary, want)
		}
	}
	if strings.Index(summary, nameErr) > strings.Index(summary, nifErr) {
		b.fatalf("the error summary lists the NIF before the name: %q", summary)
	}
	for _, id := range []string{"f-citizen.name", "f-citizen.nif"} {
		if b.text(".field #e-"+strings.ReplaceAll(id[2:], ".", `\.`)) == "" {
			b.fatalf("no error message beside #%s", id)
		}
	}
	if strings.Contains(summary, pt["error.niss"]) || strings.Contains(summary, pt["error.phone"]) {
		b.fatalf("the error summary complains about a valid field: %q", summary)
	}
	for sel, want := range map[string]string{"#f-citizen.email": "ana.conceicao@example.com", "#f-citizen.phone": "912 345 678",
		"#f-citizen.niss": "12345678902", "#f-citizen.nif": "123456780", "#f-needs.notes": "Prefiro que falem devagar."} {
		if got := eval[string](b, `document.getElementById("`+sel[1:]+`").value`); got != want {
			b.fatalf("%s holds %q after the error, want %q as typed", sel, got, want)
		}
	}
	for _, id := range []string{"f-citizen.name", "f-citizen.nif"} {
		if got := b.attr("#"+strings.ReplaceAll(id, ".", `\.`), "aria-invalid"); got != "true" {
			b.fatalf("#%s has aria-invalid=%q, want true", id, got)
		}
	}
	if f := b.focused(); f != "errors" {
		b.fatalf("after the failed submit the focus is on %q, want the error summary", f)
	}
	// The summary's first link takes the keyboard to the name field.
	b.press(kb.Tab)
	b.expectFocus("a #f-citizen.name")
	b.do("press Enter", enterKey)
	b.expectFocus("f-citizen.name")
	b.press("Ana Conceição")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.email")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.phone")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.niss")
	b.press(kb.Tab)
	b.expectFocus("f-citizen.nif")
	b.press("123456789") // Tab selected the old number: typing replaces it
	if got := eval[string](b, `document.getElementById("f-citizen.nif").value`); got != "123456789" {
		b.fatalf("the NIF field holds %q after retyping, want 123456789", got)
	}
	b.press(kb.Tab)
	b.expectFocus("f-citizen.language")
	b.press(kb.ArrowDown) // arrow keys move the choice: English
	if lang := eval[string](b, `document.querySelector("input[name='citizen.language']:checked").value`); lang != "en" {
		b.fatalf("the arrow key chose %q, want en", lang)
	}
	b.press(kb.Tab)
	b.expectFocus("f-needs.notes")
	b.press(kb.Tab)
	b.expectFocus("button")
	b.follow("submit the form with Space", spaceKey)

	// The confirmation: the appointment, its join link, calendar file and manage link.
	m := regexp.MustCompile(`^/a/([^/?]+)\?booked=1$`).FindStringSubmatch(b.path())
	if m == nil {
		b.fatalf("booking led to %s, want /a/{id}?booked=1", b.path())
	}
	id := m[1]
	if got := b.text(".success h1"); got != pt["appointment.booked"] {
		b.fatalf("confirmation banner %q, want %q", got, pt["appointment.booked"])
	}
	b.mustContain("confirmation", when, "Ana Conceição", "ana.conceicao@example.com", pt["status.booked"])
	if href := b.attr("a.button[href^='/join/']", "href"); !strings.HasPrefix(href, "/join/"+id+"?t=") || b.text("a.button[href^='/join/']") != pt["appointment.join"] {
		b.fatalf("join link %q, want /join/%s?t=… labelled %q", href, id, pt["appointment.join"])
	}
	icsSel := "a[href='/a/" + id + "/ics']"
	if b.text(icsSel) != pt["appointment.ics"] {
		b.fatalf("no calendar link %s labelled %q", icsSel, pt["appointment.ics"])
	}
	manageSel := "a[href^='/a/" + id + "?t=']"
	if b.text(manageSel) != pt["appointment.manage_link"] {
		b.fatalf("no manage link %s labelled %q", manageSel, pt["appointment.manage_link"])
	}
	ics := fetchICS(b, icsSel)
	for _, want := range []string{"DTSTART", "SEQUENCE:0", "/join/" + id + "?t="} {
		if !strings.Contains(ics, want) {
			b.fatalf("the calendar file lacks %q:\n%s", want, ics)
		}
	}

	// The manage link (as from an e-mail) trades its token for a cookie and drops it
	// from the address bar.
	b.tap(manageSel)
	if p := b.path(); p != "/a/"+id {
		b.fatalf("the manage link led to %s, want /a/%s without the token", p, id)
	}
	b.mustContain("manage page", pt["appointment.heading"], when)

	// Reschedule to another time, on another day when there is one.
	b.tap("a[href='/a/" + id + "/reschedule']")
	b.mustContain("reschedule days", pt["days.choose_day"])
	if eval[int](b, `document.querySelectorAll("ul.days a").length`) > 1 {
		b.tap("ul.days li:last-child a")
	} else {
		b.tap("ul.days a")
	}
	newDay := b.text("h2[data-times]")
	// The booked time itself is not offered; the first time listed is a move.
	if eval[int](b, `document.querySelectorAll("ul.slots a").length`) == 0 {
		b.fatalf("the reschedule page offers no time other than the booked one")
	}
	newLink := "ul.slots li:first-child a"
	newTime := b.text(newLink)
	href := b.attr(newLink, "href")
	u, err := url.Parse(href)
	if err != nil {
		b.fatalf("reschedule link %q: %v", href, err)
	}
	newStart, err := time.Parse(time.RFC3339, u.Query().Get("start"))
	if err != nil || newStart.Format(time.RFC3339) == start {
		b.fatalf("reschedule start %q: %v", u.Query().Get("start"), err)
	}
	b.tap(newLink)
	// A confirmation step, so that a mis-tap moves nothing.
	b.mustContain("reschedule confirmation", pt["reschedule.confirm_heading"], newDay+", "+newTime)
	b.tap("main form button[type=submit]")
	if p := b.path(); p != "/a/"+id+"?moved=1" {
		b.fatalf("rescheduling led to %s, want /a/%s?moved=1", p, id)
	}
	if got := b.text(".success h1"); got != pt["appointment.moved"] {
		b.fatalf("banner %q after rescheduling, want %q", got, pt["appointment.moved"])
	}
	b.mustContain("moved appointment", newDay+", "+newTime)
	if !newStart.Equal(firstStart) && strings.Contains(b.text("main"), when) {
		b.fatalf("the page still shows the old time %q", when)
	}
	if ics := fetchICS(b, icsSel); !strings.Contains(ics, "SEQUENCE:1") {
		b.fatalf("the calendar file after rescheduling lacks SEQUENCE:1:\n%s", ics)
	}

	// Cancel, after the confirmation page.
	b.tap("a[href='/a/" + id + "/cancel']")
	b.mustContain("cancel page", pt["cancel.heading"], newDay+", "+newTime)
	b.tap("form button.danger")
	if p := b.path(); p != "/a/"+id+"?cancelled=1" {
		b.fatalf("cancelling led to %s, want /a/%s?cancelled=1", p, id)
	}
	if got := b.text(".success h1"); got != pt["appointment.cancelled"] {
		b.fatalf("banner %q after cancelling, want %q", got, pt["appointment.cancelled"])
	}
	b.mustContain("cancelled appointment", pt["status.cancelled"])
	if eval[int](b, `document.querySelectorAll("a[href$='/reschedule'], a[href$='/cancel'], a[href^='/join/']").length`) != 0 {
		b.fatalf("a cancelled appointment still offers to join, reschedule or cancel")
	}

	// The database agrees: one appointment, cancelled after one change (sequence 2).
	var (
		count                                      int
		status, name, phone, niss, nif, lang, note string
		sequence                                   int
		startsAt                                   int64
	)
	db := s.app.DB
	if err := db.QueryRow(t.Context(), "SELECT COUNT(*) FROM appointments").Scan(&count); err != nil || count != 1 {
		t.Fatalf("appointments: %d rows (%v), want 1: the failed submit must store nothing", count, err)
	}
	err = db.QueryRow(t.Context(), `SELECT status, sequence, starts_at, citizen_name, citizen_phone, citizen_niss,
		citizen_nif, language, notes FROM appointments WHERE id = ?`, id).
		Scan(&status, &sequence, &startsAt, &name, &phone, &niss, &nif, &lang, &note)
	if err != nil {
		t.Fatalf("read appointment %s: %v", id, err)
	}
	if status != "cancelled" || sequence != 2 {
		t.Errorf("appointment: status %q sequence %d, want cancelled and 2", status, sequence)
	}
	if startsAt != newStart.Unix() {
		t.Errorf("appointment starts at %v, want the new time %v", time.Unix(startsAt, 0).UTC(), newStart.UTC())
	}
	if name != "Ana Conceição" || phone != "+351912345678" || niss != "12345678902" || nif != "123456789" || lang != "en" ||
		note != "Prefiro que falem devagar." {
		t.Errorf("citizen stored as name %q phone %q NISS %q NIF %q language %q notes %q", name, phone, niss, nif, lang, note)
	}
}

// icsFile is what the page's fetch of the calendar file saw.
type icsFile struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Body   string `json:"body"`
}

// fetchICS downloads the calendar file behind the link sel from within the page (with
// the page's cookie), and checks that it is a calendar.
func fetchICS(b *tab, sel string) string {
	b.t.Helper()
	f := eval[icsFile](b, `fetch(document.querySelector("`+sel+`").href)
		.then(async r => ({status: r.status, type: r.headers.get("content-type") || "", body: await r.text()}))`)
	if f.Status != 200 || !strings.HasPrefix(f.Type, "text/calendar") {
		b.fatalf("the calendar file answered %d %s:\n%s", f.Status, f.Type, f.Body)
	}
	if !strings.HasPrefix(f.Body, "BEGIN:VCALENDAR") || !strings.Contains(f.Body, "DTSTART") {
		b.fatalf("the calendar file is no calendar:\n%s", f.Body)
	}
	return f.Body
}

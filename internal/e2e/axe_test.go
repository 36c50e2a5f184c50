package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeScript is axe-core's browser bundle from node_modules (npm ci at the repository
// root); without it the audit skips, or fails in CI.
func axeScript(t *testing.T) string {
	t.Helper()
	path := filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		if inCI() {
			t.Fatalf("axe-core is missing in CI (%v): run npm ci at the repository root", err)
		}
		t.Skipf("skipping the accessibility audit: %v (run npm ci at the repository root)", err)
	}
	return string(b)
}

// axeViolation is one rule that a page breaks, with the first element that breaks it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Count  int    `json:"count"`
	Target string `json:"target"`
	HTML   string `json:"html"`
	Why    string `json:"why"`
}

// runAxe is evaluated in the page: every rule axe-core runs by default (WCAG 2.x A and
// AA, and its best practices), on the whole document.
const runAxe = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl, count: v.nodes.length,
	target: v.nodes.length ? v.nodes[0].target.join(" ") : "",
	html: v.nodes.length ? v.nodes[0].html : "",
	why: v.nodes.length ? (v.nodes[0].failureSummary || "") : "",
})))`

// auditor runs axe-core on the pages a tab goes through and keeps what it finds.
type auditor struct {
	b      *tab
	lang   string
	pages  []string
	failed int
}

// audit checks the page the tab shows now, named name in the report.
func (a *auditor) audit(name string) {
	b := a.b
	b.t.Helper()
	if got := eval[string](b, `document.documentElement.lang`); got != a.lang {
		b.fatalf("%s: the page's lang is %q, want %q", name, got, a.lang)
	}
	vs := eval[[]axeViolation](b, runAxe)
	a.pages = append(a.pages, name)
	for _, v := range vs {
		a.failed++
		b.t.Errorf("%s (%s) %s: %s [%s] %s\n    on %d element(s); first: %s\n    %s\n    %s\n    %s",
			name, a.lang, b.path(), v.ID, v.Impact, v.Help, v.Count, v.Target, v.HTML, strings.ReplaceAll(v.Why, "\n", " / "), v.URL)
	}
}

// TestPortalPagesHaveNoAxeViolations walks through every page of the portal, in
// Portuguese and in English, on a phone-sized screen, and runs axe-core on each.
func TestPortalPagesHaveNoAxeViolations(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	for _, c := range []struct{ lang, zone string }{
		{"pt-PT", "Europe/Lisbon"},
		{"en", "America/Sao_Paulo"}, // a citizen abroad: times are shown with Lisbon's beside them
	} {
		t.Run(c.lang, func(t *testing.T) {
			t.Parallel()
			auditPortal(t, c.lang, c.zone, script)
		})
	}
}

func auditPortal(t *testing.T, lang, zone, script string) {
	s := newSite(t)
	b := newTab(t, s, zone, 50*time.Second)
	// axe-core is in every document the tab loads, before the page's own scripts.
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: lang}
	msg := catalogue(t, lang)

	b.navigate("/")
	if lang != "pt-PT" {
		// The browser asks for Portuguese: switch with the link in the header.
		b.tap("header nav a[hreflang='" + lang + "']")
		if p := b.path(); p != "/" {
			b.fatalf("the language switch led to %s, want back to /", p)
		}
	}
	// axe-core must see a fault when there is one: an image with no text alternative.
	if n := eval[int](b, `(() => {
		const img = document.createElement("img");
		img.src = "data:,"; img.id = "axe-self-check";
		document.body.append(img);
		return axe.run("#axe-self-check", {runOnly: ["image-alt"]}).then(r => { img.remove(); return r.violations.length; });
	})()`); n != 1 {
		b.fatalf("axe-core found %d faults in an image with no alt, want 1: the audit is not working", n)
	}
	a.audit("home")
	b.tap("ul.cards a.card")
	a.audit("service")
	b.tap("ul.cards a.card")
	a.audit("days")
	b.tap("ul.days a")
	a.audit("slots")
	b.tap("ul.slots a")
	a.audit("details")
	b.tap("main form button[type=submit]")
	if b.text("[role=alert]") == "" {
		b.fatalf("submitting an empty details form shows no error summary")
	}
	a.audit("details with errors")
	b.do("fill in the details",
		chromedp.SendKeys(byID("f-citizen.name"), "Maria Fernandes"),
		chromedp.SendKeys(byID("f-citizen.email"), "maria@example.com"),
		chromedp.SendKeys(byID("f-citizen.phone"), "+55 11 91234 5678"))
	b.tap("main form button[type=submit]")
	id := regexp.MustCompile(`^/a/([^/?]+)`).FindStringSubmatch(b.path())
	if id == nil {
		b.fatalf("booking led to %s, want /a/{id}", b.path())
	}
	manage := "/a/" + id[1]
	a.audit("confirmation")
	b.tap("a[href^='" + manage + "?t=']")
	a.audit("manage")
	b.tap("a[href='" + manage + "/reschedule']")
	a.audit("reschedule days")
	b.tap("ul.days a")
	a.audit("reschedule slots")
	b.tap("ul.slots a")
	a.audit("reschedule confirmation")
	b.navigate(manage)
	b.tap("a[href='" + manage + "/cancel']")
	a.audit("cancel confirmation")
	b.navigate(manage)
	b.tap("a[href^='/join/']")
	a.audit("join")
	b.navigate(manage + "/cancel")
	b.tap("main form button.danger")
	if got := b.text(".success h1"); got != msg["appointment.cancelled"] {
		b.fatalf("cancelling shows %q, want %q", got, msg["appointment.cancelled"])
	}
	a.audit("cancelled")
	b.tap("footer a[href='/contact']")
	a.audit("contact")
	b.tap("main form button[type=submit]")
	if b.text("[role=alert]") == "" {
		b.fatalf("submitting an empty contact form shows no error summary")
	}
	a.audit("contact with errors")
	b.do("fill in the contact request",
		chromedp.SendKeys(byID("f-subject"), "Pensão"),
		chromedp.SendKeys(byID("f-citizen.name"), "Maria Fernandes"),
		chromedp.SendKeys(byID("f-citizen.email"), "maria@example.com"))
	b.tap("main form button[type=submit]")
	if p := b.path(); p != "/contact?sent=1" {
		b.fatalf("the contact request led to %s, want /contact?sent=1", p)
	}
	a.audit("contact sent")
	if st := b.navigate("/book/no-such-service"); st != 404 {
		b.fatalf("an unknown service answered %d, want 404", st)
	}
	a.audit("error (404)")
	if st := b.navigate("/a/no-such-appointment"); st != 404 {
		b.fatalf("an unknown appointment answered %d, want 404", st)
	}
	a.audit("error (expired link)")
	t.Logf("axe-core (%s): %d pages, %d violations: %s", lang, len(a.pages), a.failed, strings.Join(a.pages, ", "))
	if a.failed > 0 {
		t.Log("fix the violations above at their source (web/templates, web/static, web/i18n)")
	}
}

// byID selects the element with id, which may hold dots (chromedp.ID would read them as
// classes).
func byID(id string) chromedp.CSS { return chromedp.CSS(`[id="` + id + `"]`) }

package e2e

import (
	"context"
	"encoding/base32"
	"encoding/json"
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
)

// The demo agency's staff, who get the demo password at the first start.
const (
	demoAgent = "ana.martins@demo.balcao.example"
	demoAdmin = "helder.alves@demo.balcao.example" // the role requires TOTP
)

// authCatalogue returns the staff pages' messages in one language.
func authCatalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "web", "i18n", "auth."+lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStaffSignInByKeyboard signs in and out of the staff area with the keyboard alone:
// Tab to each field, type, Enter; a wrong password's message takes the focus.
func TestStaffSignInByKeyboard(t *testing.T) {
	needBrowser(t)
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 45*time.Second)
	msg := authCatalogue(t, "pt-PT")

	b.navigate("/staff/")
	if p := b.path(); p != "/staff/login?next=%2Fstaff%2F" {
		b.fatalf("the staff area without a session led to %s, want the login page", p)
	}
	b.mustContain("login page", msg["auth.login.heading"])

	// A wrong password first: the error summary is announced and has the focus.
	n := b.tabTo("f-email", 10)
	t.Logf("the e-mail field is %d presses of Tab from the top of the login page", n)
	b.press(demoAgent)
	b.press(kb.Tab)
	b.expectFocus("f-password")
	b.press("not the password")
	if resp := b.follow("submit with Enter in the password field", enterKey); resp.Status != 422 {
		b.fatalf("a wrong password answered %d, want 422", resp.Status)
	}
	if got := b.text("[role=alert]"); !strings.Contains(got, msg["auth.error.invalid_login"]) {
		b.fatalf("the error summary says %q", got)
	}
	b.expectFocus("errors")
	if v := eval[string](b, `document.getElementById("f-email").value`); v != demoAgent {
		b.fatalf("the e-mail field lost what was typed: %q", v)
	}
	if v := eval[string](b, `document.getElementById("f-password").value`); v != "" {
		b.fatalf("the password field came back filled")
	}

	// Then the right one, tabbing to the button and pressing Enter.
	b.tabTo("f-password", 10)
	b.press(app.DemoPassword)
	b.press(kb.Tab)
	b.expectFocus("login")
	b.follow("press Enter on the sign-in button", enterKey)
	if p := b.path(); p != "/staff/" {
		b.fatalf("signing in led to %s, want /staff/", p)
	}
	b.mustContain("landing page", "Ana Martins", msg["auth.role.agent"], msg["auth.home.this_session"])

	// Sign out: Tab to the button, Space.
	b.tabTo("logout", 20)
	b.follow("press Space on the sign-out button", spaceKey)
	if p := b.path(); p != "/staff/login?out=1" {
		b.fatalf("signing out led to %s", p)
	}
	b.mustContain("signed out", msg["auth.login.signed_out"])
	b.navigate("/staff/")
	if p := b.path(); !strings.HasPrefix(p, "/staff/login") {
		b.fatalf("after signing out the staff area is at %s", p)
	}
}

// TestStaffPagesHaveNoAxeViolations audits every staff sign-in page with axe-core, in
// Portuguese and English: login (and its errors), the landing page, the forced TOTP
// enrolment of an administrator (and its errors), the account's TOTP page, and the TOTP
// step of the next sign-in (and its errors).
func TestStaffPagesHaveNoAxeViolations(t *testing.T) {
	needBrowser(t)
	script := axeScript(t)
	for _, lang := range []string{"pt-PT", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			auditStaff(t, lang, script)
		})
	}
}

func auditStaff(t *testing.T, lang, script string) {
	s := newSite(t)
	b := newTab(t, s, "Europe/Lisbon", 60*time.Second)
	b.do("add axe-core", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	a := &auditor{b: b, lang: lang}
	msg := authCatalogue(t, lang)
	b.navigate("/lang?to=" + lang + "&next=/staff/login")
	if p := b.path(); p != "/staff/login" {
		b.fatalf("the language switch led to %s", p)
	}
	a.audit("login")
	b.tap("#login")
	a.audit("login with errors")
	signIn := func(email string) {
		b.do("fill in the login form", chromedp.SetValue(byID("f-email"), email), chromedp.SetValue(byID("f-password"), app.DemoPassword))
		b.tap("#login")
	}
	signIn(demoAgent)
	b.mustContain("landing page", msg["auth.home.heading"])
	a.audit("landing")
	b.tap("#logout")

	signIn(demoAdmin)
	if p := b.path(); p != "/staff/account/totp" {
		b.fatalf("an administrator without TOTP was sent to %s, want the enrolment page", p)
	}
	b.mustContain("enrolment page", msg["auth.account_totp.forced_lead"])
	a.audit("TOTP enrolment")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(b.text("#totp-secret"), " ", ""))
	if err != nil {
		b.fatalf("the secret on the page: %v", err)
	}
	b.do("type a wrong code", chromedp.SetValue(byID("f-code"), "12345"))
	b.tap("#confirm")
	if b.text("[role=alert]") == "" {
		b.fatalf("a wrong code shows no error summary")
	}
	a.audit("TOTP enrolment with errors")
	b.do("type the code", chromedp.SetValue(byID("f-code"), auth.TOTP(key, time.Now(), 6)))
	b.tap("#confirm")
	b.mustContain("landing after enrolment", msg["auth.totp.enabled_notice"])
	a.audit("landing after enrolment")
	b.tap("a[href='/staff/account/totp']")
	b.mustContain("account page", msg["auth.account_totp.required_note"])
	a.audit("TOTP account (on, required)")
	b.navigate("/staff/")
	b.tap("#logout")

	signIn(demoAdmin)
	if p := b.path(); p != "/staff/login/totp" {
		b.fatalf("an administrator with TOTP was sent to %s, want the code page", p)
	}
	a.audit("TOTP code")
	b.do("type a wrong code", chromedp.SetValue(byID("f-code"), "000"))
	b.tap("#verify")
	a.audit("TOTP code with errors")
	// The enrolment spent the current step's code: the next step's is accepted (clock skew).
	b.do("type the code", chromedp.SetValue(byID("f-code"), auth.TOTP(key, time.Now().Add(auth.TOTPStep), 6)))
	b.tap("#verify")
	if p := b.path(); p != "/staff/" {
		b.fatalf("the code led to %s, want /staff/", p)
	}
	b.mustContain("landing page", msg["auth.role.administrator"])
	t.Logf("axe-core (%s): %d staff pages, %d violations: %s", lang, len(a.pages), a.failed, strings.Join(a.pages, ", "))
}

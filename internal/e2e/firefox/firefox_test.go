package firefox

import (
	"context"
	"errors"
	"testing"
	"time"

	"balcao/internal/e2e/browsertest"
)

// TestDriveAPage starts Firefox, loads a page, clicks a button and types into a field
// through real input events, and reads the page back.
func TestDriveAPage(t *testing.T) {
	path, err := Find()
	browsertest.NeedBrowser(t, err)
	url := browsertest.ServePage(t, `<!doctype html><html lang="en"><title>t</title>
<button id="b" onclick="this.textContent = navigator.userActivation.isActive ? 'active' : 'inactive'">press</button>
<input id="i" onkeydown="if (event.key === 'Enter') this.dataset.entered = this.value">`)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	started := time.Now()
	b, err := Start(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("Firefox %s started in %s", b.Version, time.Since(started).Round(time.Millisecond))
	tab, err := b.Tab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if err := tab.Click(ctx, "#b"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := tab.Eval(ctx, `document.getElementById('b').textContent`, &got); err != nil || got != "active" {
		t.Fatalf("after the click the button says %q (%v), want active: the click carries no user activation", got, err)
	}
	if err := tab.Click(ctx, "#i"); err != nil {
		t.Fatal(err)
	}
	if err := tab.Type(ctx, "olá"+Enter); err != nil {
		t.Fatal(err)
	}
	if err := tab.Eval(ctx, `document.getElementById('i').dataset.entered`, &got); err != nil || got != "olá" {
		t.Fatalf("the field got %q (%v)", got, err)
	}
	var n struct{ A []int }
	if err := tab.Eval(ctx, `Promise.resolve({ a: [1, 2] })`, &n); err != nil || len(n.A) != 2 {
		t.Fatalf("a promise evaluated to %+v (%v)", n, err)
	}
	if err := tab.Eval(ctx, `nope.nope`, nil); !errors.Is(err, ErrScript) {
		t.Fatalf("a throwing script gave %v", err)
	}
	if err := tab.Click(ctx, "#missing"); err == nil {
		t.Fatal("clicking a missing element did not fail")
	}
}

package webdriver

import (
	"context"
	"errors"
	"testing"
	"time"

	"balcao/internal/e2e/browsertest"
)

// TestDriveWebKit starts WebKitGTK, loads a page, clicks a button and types into a
// field through real input events, runs scripts both ways, and captures the mock
// camera and microphone.
func TestDriveWebKit(t *testing.T) {
	paths, err := FindWebKit()
	browsertest.NeedBrowser(t, err)
	url := browsertest.ServePage(t, `<!doctype html><html lang="en"><title>t</title>
<button id="b" onclick="this.textContent = navigator.userActivation ? (navigator.userActivation.isActive ? 'active' : 'inactive') : 'clicked'">press</button>
<input id="i" onkeyup="this.dataset.typed = this.value">`)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	started := time.Now()
	w, err := StartWebKit(ctx, paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t.Logf("%s %s started in %s", w.Browser, w.Version, time.Since(started).Round(time.Millisecond))
	if err := w.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if err := w.Click(ctx, "#b"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := w.Execute(ctx, `return document.getElementById('b').textContent`, &got); err != nil || (got != "active" && got != "clicked") {
		t.Fatalf("after the click the button says %q (%v): the click carries no user activation", got, err)
	}
	if err := w.Type(ctx, "#i", "olá"); err != nil {
		t.Fatal(err)
	}
	if err := w.Execute(ctx, `return document.getElementById('i').dataset.typed`, &got); err != nil || got != "olá" {
		t.Fatalf("the field got %q (%v)", got, err)
	}
	var n struct{ A []int }
	if err := w.Execute(ctx, `return Promise.resolve({ a: [arguments[0], 2] })`, &n, 1); err != nil || len(n.A) != 2 || n.A[0] != 1 {
		t.Fatalf("a promise evaluated to %+v (%v)", n, err)
	}
	if err := w.ExecuteAsync(ctx, `const done = arguments[0]; setTimeout(() => done('later'), 10)`, &got); err != nil || got != "later" {
		t.Fatalf("an asynchronous script gave %q (%v)", got, err)
	}
	var media struct {
		Tracks []string
		Error  string
	}
	err = w.ExecuteAsync(ctx, `const done = arguments[0];
navigator.mediaDevices.getUserMedia({ video: true, audio: true })
  .then((s) => done({ tracks: s.getTracks().map((t) => t.kind + ': ' + t.label) }), (e) => done({ error: e.name + ': ' + e.message }))`, &media)
	if err != nil || len(media.Tracks) != 2 {
		t.Fatalf("getUserMedia gave %+v (%v), want the mock camera and microphone", media, err)
	}
	t.Logf("getUserMedia: %v", media.Tracks)
	if err := w.Execute(ctx, `return nope.nope`, nil); !errors.Is(err, ErrScript) {
		t.Fatalf("a throwing script gave %v", err)
	}
	if err := w.Click(ctx, "#missing"); err == nil {
		t.Fatal("clicking a missing element did not fail")
	}
}

package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzProgressForm: whatever a console tab posts as progress, reading and validating it
// never panics, and progress found valid holds only what the outcome form offers: steps
// ticked once each, in order, within the script; a step reached no lower than the last
// tick.
func FuzzProgressForm(f *testing.F) {
	f.Add("subject=ticket:x&done=1&done=3&done=3&current=3&stage=2&auth_level=weak&person=self")
	f.Add("subject=appointment:y&done=9&current=0&stage=-1&outcome=no_show")
	f.Add("done=x&current=99999999999999999999&reason=%FF%FE&person=third_party&representative=Filha")
	f.Add("notes=" + strings.Repeat("a", 5000))
	f.Add("notes=a%00b&theme=t%00")
	f.Fuzz(func(t *testing.T, form string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		r := &http.Request{PostForm: v}
		p := progressFromForm(r)
		if errs := p.Validate(); len(errs) > 0 {
			return
		}
		if !slices.IsSorted(p.Ticked) || len(slices.Compact(slices.Clone(p.Ticked))) != len(p.Ticked) {
			t.Fatalf("ticks %v", p.Ticked)
		}
		for _, n := range p.Ticked {
			if n < 1 || n > len(Script) || p.Draft.Stage < n {
				t.Fatalf("tick %d with step reached %d", n, p.Draft.Stage)
			}
		}
		if p.Current < 1 || p.Current > len(Script) {
			t.Fatalf("current step %d", p.Current)
		}
		if p.Draft.Code != "" && !slices.Contains(Outcomes, p.Draft.Code) {
			t.Fatalf("outcome %q", p.Draft.Code)
		}
		d := p.Draft
		for _, s := range []string{d.Reason, d.ThemeID, d.Notes, d.FollowUp, d.Representative} {
			if !storable(s) {
				t.Fatalf("a text PostgreSQL cannot store passed: %q", s)
			}
		}
	})
}

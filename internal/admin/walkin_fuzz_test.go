package admin

import (
	"net/url"
	"testing"
)

// FuzzReadWalkIn: whatever the walk-in form posts, reading it never panics, and a form
// read without a problem gives settings the directory's own validation accepts.
func FuzzReadWalkIn(f *testing.F) {
	f.Add("walk_in=on&letter=b&opening=always&max_waiting=200&max_priority_run=2&answer_seconds=120&recall_minutes=5&near_position=3")
	f.Add("walk_in=on&letter=C&opening=hours&hours_mon=09:00-12:30,14:00-17:00&max_waiting=1&max_priority_run=0&answer_seconds=15&recall_minutes=0&near_position=0")
	f.Add("walk_in=on&letter=%C3%89&opening=closed&max_waiting=99999&answer_seconds=-1")
	f.Add("walk_in=on&letter=D&opening=hours&hours_tue=17:00-09:00&hours_wed=24:00-25:00")
	f.Add("walk_in=off")
	f.Add("walk_in=maybe&letter=%00")
	f.Fuzz(func(t *testing.T, form string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		probs := problems{}
		on, w := readWalkIn(v, probs)
		if !on || len(probs) > 0 {
			return
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("%q read without a problem, but %+v is refused: %v", form, w, err)
		}
	})
}

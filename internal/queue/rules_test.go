package queue

import (
	"testing"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
)

func TestHours(t *testing.T) {
	lisbon := calendar.Lisbon()
	weekdays := Hours{Weekly: []directory.WeeklyRange{
		{Weekday: time.Monday, StartMinute: 9 * 60, EndMinute: 16 * 60},
		{Weekday: time.Wednesday, StartMinute: 9 * 60, EndMinute: 16 * 60},
	}}
	mon := time.Date(2026, 11, 30, 10, 0, 0, 0, lisbon)
	if !weekdays.OpenAt(mon, lisbon) || weekdays.OpenAt(mon.Add(6*time.Hour), lisbon) {
		t.Error("Monday 10:00 open, 16:00 closed")
	}
	// Tuesday 1 December is a holiday anyway; the next opening after Monday 16:00 is Wednesday 09:00.
	if got := weekdays.NextOpening(mon.Add(6*time.Hour), lisbon); !got.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, lisbon)) {
		t.Errorf("next opening %v", got)
	}
	if got := weekdays.NextOpening(mon, lisbon); !got.Equal(mon) {
		t.Errorf("already open: next opening %v, want now", got)
	}
	holidayMonday := Hours{Weekly: []directory.WeeklyRange{{Weekday: time.Tuesday, StartMinute: 0, EndMinute: 1440}}}
	if holidayMonday.OpenAt(time.Date(2026, 12, 1, 12, 0, 0, 0, lisbon), lisbon) {
		t.Error("open on 1 December, a national holiday")
	}
	if !(Hours{AlwaysOpen: true}).OpenAt(time.Date(2026, 12, 25, 3, 0, 0, 0, lisbon), lisbon) {
		t.Error("an always-open queue closed on Christmas night")
	}
}

func TestPickAndPosition(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	w := []Waiting{
		{ID: "n1", CreatedAt: t0},
		{ID: "p1", Priority: true, CreatedAt: t0.Add(time.Minute)},
		{ID: "n2", CreatedAt: t0.Add(2 * time.Minute)},
		{ID: "p2", Priority: true, CreatedAt: t0.Add(3 * time.Minute)},
	}
	if got := w[Pick(w, 0, 0)].ID; got != "p1" {
		t.Errorf("priority first: picked %s", got)
	}
	if got := w[Pick(w, 2, 2)].ID; got != "n1" {
		t.Errorf("after two priority calls in a row the oldest normal ticket goes: picked %s", got)
	}
	if got := w[Pick(w, 5, 0)].ID; got != "p1" {
		t.Errorf("no run limit: picked %s", got)
	}
	if Pick(nil, 0, 0) != -1 {
		t.Error("nothing waiting")
	}
	positions := map[string]int{"p1": 1, "p2": 2, "n1": 3, "n2": 4}
	all := Positions(w)
	for _, x := range w {
		if got := Position(x, w); got != positions[x.ID] || all[x.ID] != positions[x.ID] {
			t.Errorf("position of %s = %d (all at once: %d), want %d", x.ID, got, all[x.ID], positions[x.ID])
		}
	}
}

func TestEstimateWait(t *testing.T) {
	if got := EstimateWait(1, 8*time.Minute, 2); got != 4*time.Minute {
		t.Errorf("next in line: %v", got)
	}
	if got := EstimateWait(5, 8*time.Minute, 2); got != 20*time.Minute {
		t.Errorf("fifth with two agents: %v", got)
	}
	if got := EstimateWait(3, 0, 0); got != 2*DefaultHandling+DefaultHandling/2 {
		t.Errorf("no history, no agents: %v", got)
	}
}

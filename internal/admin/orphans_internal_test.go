package admin

import (
	"testing"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
)

func TestCovered(t *testing.T) {
	week, _ := directory.ParseWeekly(map[string][]string{"wed": {"09:00-12:30", "14:00-24:00"}, "sun": {"10:00-11:00"}})
	lisbon := calendar.Lisbon()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, lisbon) }
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       bool
	}{
		{"inside the morning", at(2026, 12, 2, 9, 0), at(2026, 12, 2, 9, 30), true},
		{"ends at the range's end", at(2026, 12, 2, 12, 0), at(2026, 12, 2, 12, 30), true},
		{"across the lunch break", at(2026, 12, 2, 12, 15), at(2026, 12, 2, 14, 15), false},
		{"ends at midnight", at(2026, 12, 2, 23, 30), at(2026, 12, 3, 0, 0), true},
		{"another weekday", at(2026, 12, 3, 9, 0), at(2026, 12, 3, 9, 30), false},
		{"summer time, Lisbon hours", at(2026, 7, 5, 10, 0), at(2026, 7, 5, 11, 0), true},
		{"starts too early", at(2026, 12, 2, 8, 55), at(2026, 12, 2, 9, 25), false},
	} {
		if got := covered(week, tc.start.UTC(), tc.end.UTC()); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

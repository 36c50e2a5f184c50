// Package queue holds the walk-in virtual queue: citizens take a ticket (senha) for a
// service, see their live position and estimated wait, and are called by the next free
// qualified agent, priority tickets first within the supervisor's rules, each ticket to
// exactly one agent. Its rules (this file) take and return plain values; service.go runs
// them against the database.
package queue

import (
	"slices"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
)

// Hours are when a queue takes tickets.
type Hours struct {
	AlwaysOpen bool
	Weekly     []directory.WeeklyRange
}

// OpenAt tells whether the queue takes tickets at t. National holidays close a queue
// unless it is always open.
func (h Hours) OpenAt(t time.Time, loc *time.Location) bool {
	if h.AlwaysOpen {
		return true
	}
	local := t.In(loc)
	day := calendar.DateOf(local)
	if _, holiday := calendar.IsNationalHoliday(day); holiday {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	for _, r := range h.Weekly {
		if r.Weekday == local.Weekday() && minute >= r.StartMinute && minute < r.EndMinute {
			return true
		}
	}
	return false
}

// NextOpening is the next instant after t when the queue opens, within two weeks; the
// zero time if it never does.
func (h Hours) NextOpening(t time.Time, loc *time.Location) time.Time {
	if h.AlwaysOpen {
		return t
	}
	day := calendar.DateOf(t.In(loc))
	for i := 0; i < 15; i++ {
		d := day.AddDays(i)
		if _, holiday := calendar.IsNationalHoliday(d); holiday {
			continue
		}
		best := time.Time{}
		for _, r := range h.Weekly {
			if r.Weekday != d.Weekday() {
				continue
			}
			start := d.At(r.StartMinute/60, r.StartMinute%60, loc)
			end := d.At(r.EndMinute/60, r.EndMinute%60, loc)
			if r.EndMinute == 24*60 {
				end = d.AddDays(1).Start(loc)
			}
			if !end.After(t) {
				continue
			}
			if start.Before(t) {
				start = t
			}
			if best.IsZero() || start.Before(best) {
				best = start
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return time.Time{}
}

// Waiting is a ticket as the ordering rules see it.
type Waiting struct {
	ID        string
	Priority  bool
	CreatedAt time.Time
	Number    int // the daily counter: the order tickets were taken within a second
}

// ahead tells whether a is called before b when both are eligible: priority first, then
// first come, first served.
func ahead(a, b Waiting) bool {
	if a.Priority != b.Priority {
		return a.Priority
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	if a.Number != b.Number {
		return a.Number < b.Number
	}
	return a.ID < b.ID
}

// Pick chooses the ticket to call among the eligible ones of one queue: the first in
// order, except that after maxRun priority tickets in a row (run counts them) the oldest
// normal ticket goes first, so that priority service does not starve everyone else. It
// returns the index in waiting, or -1 when nothing waits.
func Pick(waiting []Waiting, run, maxRun int) int {
	best, bestNormal := -1, -1
	for i, w := range waiting {
		if best < 0 || ahead(w, waiting[best]) {
			best = i
		}
		if !w.Priority && (bestNormal < 0 || ahead(w, waiting[bestNormal])) {
			bestNormal = i
		}
	}
	if best >= 0 && maxRun > 0 && run >= maxRun && waiting[best].Priority && bestNormal >= 0 {
		return bestNormal
	}
	return best
}

// Position is the number of tickets called before t, plus one: 1 means next.
func Position(t Waiting, waiting []Waiting) int {
	n := 1
	for _, w := range waiting {
		if w.ID != t.ID && ahead(w, t) {
			n++
		}
	}
	return n
}

// Positions gives every waiting ticket its position at once (n log n, where asking
// Position for each would be n²).
func Positions(waiting []Waiting) map[string]int {
	order := slices.Clone(waiting)
	slices.SortFunc(order, func(a, b Waiting) int {
		if ahead(a, b) {
			return -1
		}
		if ahead(b, a) {
			return 1
		}
		return 0
	})
	out := make(map[string]int, len(order))
	for i, w := range order {
		out[w.ID] = i + 1
	}
	return out
}

// DefaultHandling is the service time assumed before any ticket of a queue was served.
const DefaultHandling = 10 * time.Minute

// EstimateWait is how long a ticket at position waits, given the recent average
// service time and the number of agents serving the queue.
func EstimateWait(position int, handling time.Duration, agents int) time.Duration {
	if handling <= 0 {
		handling = DefaultHandling
	}
	agents = max(agents, 1)
	ahead := position - 1
	// Each agent takes one citizen every `handling`: the citizens ahead, spread over the
	// agents, plus half a service of whoever is being served now.
	return time.Duration(ahead)*handling/time.Duration(agents) + handling/2
}

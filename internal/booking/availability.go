// Package booking holds appointments: which slots are free, and booking, cancelling and
// rescheduling them so that no staff member is ever given two citizens at once. Its rules
// (this file and request.go) take and return plain values; service.go runs them against
// the database.
package booking

import (
	"sort"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
)

// BlockSize is the granularity at which staff time is claimed; theme durations and
// buffers are multiples of it.
const BlockSize = 5 * time.Minute

// Interval is a span of time [Start, End).
type Interval struct {
	Start, End time.Time
}

// Resource is a staff member as availability sees them: the spans in which they work
// (absences and closed days already removed) and the blocks already booked.
type Resource struct {
	ID      string
	Windows []Interval
	Busy    map[int64]bool // unix seconds of booked blocks
}

// Covers tells whether [start, end) lies within one working window.
func (r Resource) Covers(start, end time.Time) bool {
	for _, w := range r.Windows {
		if !start.Before(w.Start) && !end.After(w.End) {
			return true
		}
	}
	return false
}

// FreeFor tells whether the staff member works through [start, start+work) and has no
// booked block in [start, start+claim).
func (r Resource) FreeFor(start time.Time, work, claim time.Duration) bool {
	if !r.Covers(start, start.Add(work)) {
		return false
	}
	for _, b := range Blocks(start, claim) {
		if r.Busy[b] {
			return false
		}
	}
	return true
}

// Blocks lists the unix seconds of the blocks that [start, start+d) occupies.
func Blocks(start time.Time, d time.Duration) []int64 {
	n := int((d + BlockSize - 1) / BlockSize)
	out := make([]int64, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * BlockSize).Unix()
	}
	return out
}

// Slot is a bookable start with the number of appointments it can still take.
type Slot struct {
	Start, End time.Time
	Free       int
}

// Rules are a theme's booking rules as availability applies them.
type Rules struct {
	Duration    time.Duration
	Buffer      time.Duration
	MinNotice   time.Duration
	HorizonDays int
}

// RulesOf takes a theme's booking rules.
func RulesOf(th directory.Theme) Rules {
	return Rules{Duration: th.Duration, Buffer: th.Buffer, MinNotice: th.MinNotice, HorizonDays: th.HorizonDays}
}

// Step is the distance between two slot starts.
func (r Rules) Step() time.Duration { return r.Duration + r.Buffer }

// Claim is how long a staff member is held by one appointment: its duration and the
// buffer after it.
func (r Rules) Claim() time.Duration { return r.Duration + r.Buffer }

// StartProblem says why a start time cannot be booked whatever the staff's agenda.
type StartProblem int

const (
	StartOK StartProblem = iota
	StartUnaligned
	StartTooSoon
	StartTooFar
)

// CheckStart tells whether start lies on the theme's grid (slots follow each other from
// local midnight), is far enough ahead and not beyond the booking horizon.
func (r Rules) CheckStart(start, now time.Time, loc *time.Location) StartProblem {
	day := calendar.DateOf(start.In(loc))
	offset := start.Sub(day.Start(loc))
	if offset%r.Step() != 0 || start.Nanosecond() != 0 {
		return StartUnaligned
	}
	if start.Before(now.Add(r.MinNotice)) {
		return StartTooSoon
	}
	if !start.Before(r.LastDay(now, loc).AddDays(1).Start(loc)) {
		return StartTooFar
	}
	return StartOK
}

// LastDay is the last day on which the theme can be booked.
func (r Rules) LastDay(now time.Time, loc *time.Location) calendar.Date {
	return calendar.DateOf(now.In(loc)).AddDays(r.HorizonDays)
}

// Slots lists the bookable starts on the days from..to (inclusive, in loc). With
// interpreters non-nil each slot also needs a free interpreter, and Free counts the
// agent-and-interpreter pairs.
func Slots(r Rules, from, to calendar.Date, now time.Time, loc *time.Location, agents, interpreters []Resource) []Slot {
	var out []Slot
	for day := from; !day.After(to); day = day.AddDays(1) {
		dayStart, next := day.Start(loc), day.AddDays(1).Start(loc)
		for t := dayStart; t.Before(next); t = t.Add(r.Step()) {
			if r.CheckStart(t, now, loc) != StartOK {
				continue
			}
			free := FreeAt(r, t, agents, interpreters)
			if free > 0 {
				out = append(out, Slot{Start: t.UTC(), End: t.Add(r.Duration).UTC(), Free: free})
			}
		}
	}
	return out
}

// FreeAt counts the appointments that can still start at t.
func FreeAt(r Rules, t time.Time, agents, interpreters []Resource) int {
	a := FreeResources(r, t, agents)
	if interpreters == nil {
		return len(a)
	}
	if len(a) == 0 {
		return 0
	}
	return pairs(a, FreeResources(r, t, interpreters))
}

// FreeResources lists the ids of the resources free for an appointment at t.
func FreeResources(r Rules, t time.Time, resources []Resource) []string {
	var ids []string
	for _, res := range resources {
		if res.FreeFor(t, r.Duration, r.Claim()) {
			ids = append(ids, res.ID)
		}
	}
	return ids
}

// pairs is the largest number of agent-interpreter pairs with no person in two places: a
// person who is both (an agent who signs) can take either role but not both.
func pairs(agents, interpreters []string) int {
	union := map[string]bool{}
	for _, id := range agents {
		union[id] = true
	}
	for _, id := range interpreters {
		union[id] = true
	}
	return min(len(agents), len(interpreters), len(union)/2)
}

// Closed tells whether a location is closed on a day.
type Closed func(day calendar.Date, locationID string) bool

// Windows turns a staff member's weekly hours into working spans on the days from..to,
// within their location's opening hours (a location with none configured does not bound
// them), skipping closed days and removing absences.
func Windows(s directory.Staff, opening []directory.WeeklyRange, from, to calendar.Date, closed Closed, loc *time.Location) []Interval {
	var out []Interval
	for day := from; !day.After(to); day = day.AddDays(1) {
		if closed(day, s.LocationID) {
			continue
		}
		for _, h := range s.Hours {
			if h.Weekday != day.Weekday() {
				continue
			}
			for _, span := range within(h, opening, day.Weekday()) {
				w := Interval{Start: minuteOf(day, span[0], loc), End: minuteOf(day, span[1], loc)}
				out = append(out, subtract(w, s.Absences)...)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func minuteOf(day calendar.Date, minute int, loc *time.Location) time.Time {
	if minute == 24*60 {
		return day.AddDays(1).Start(loc)
	}
	return day.At(minute/60, minute%60, loc)
}

// within intersects one range of hours with the opening hours of its weekday.
func within(h directory.WeeklyRange, opening []directory.WeeklyRange, wd time.Weekday) [][2]int {
	if len(opening) == 0 {
		return [][2]int{{h.StartMinute, h.EndMinute}}
	}
	var out [][2]int
	for _, o := range opening {
		if o.Weekday != wd {
			continue
		}
		start, end := max(h.StartMinute, o.StartMinute), min(h.EndMinute, o.EndMinute)
		if start < end {
			out = append(out, [2]int{start, end})
		}
	}
	return out
}

func subtract(w Interval, absences []directory.Absence) []Interval {
	parts := []Interval{w}
	for _, a := range absences {
		var next []Interval
		for _, p := range parts {
			if !a.Start.Before(p.End) || !a.End.After(p.Start) {
				next = append(next, p)
				continue
			}
			if p.Start.Before(a.Start) {
				next = append(next, Interval{p.Start, a.Start})
			}
			if a.End.Before(p.End) {
				next = append(next, Interval{a.End, p.End})
			}
		}
		parts = next
	}
	return parts
}

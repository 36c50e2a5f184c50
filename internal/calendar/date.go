package calendar

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadDate is wrapped by every error that reports a malformed or
// non-existent date.
var ErrBadDate = errors.New("calendar: bad date")

// Date is a civil (calendar) date with no time zone. The zero value is not a
// valid date; see [Date.Valid].
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date written exactly as "YYYY-MM-DD". Anything else,
// including dates that do not exist such as 2026-02-30, is rejected with an
// error wrapping [ErrBadDate].
func ParseDate(s string) (Date, error) {
	// Checked byte by byte rather than with time.Parse, which accepts
	// variations we do not want to store (and is slower on hostile input).
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrBadDate, s)
	}
	y, ok1 := atoi(s[0:4])
	m, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrBadDate, s)
	}
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !date.Valid() {
		return Date{}, fmt.Errorf("%w: %q does not exist", ErrBadDate, s)
	}
	return date, nil
}

// atoi parses a string of ASCII digits only; strconv.Atoi would accept signs.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Valid reports whether d names a day that exists in the proleptic Gregorian
// calendar and whose year fits the four-digit text form (0000–9999).
func (d Date) Valid() bool {
	if d.Year < 0 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(year int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String formats d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText implements [encoding.TextMarshaler]. Invalid dates, including
// the zero Date, are an error so that they are never written out silently.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("%w: cannot marshal %s", ErrBadDate, d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] using [ParseDate].
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// midnightUTC is the calendar arithmetic base: UTC has no DST, so adding days
// there never skips or repeats an hour.
func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns d moved by n days (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return d.midnightUTC().Weekday()
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	return d.compare(o) < 0
}

// After reports whether d is later than o.
func (d Date) After(o Date) bool {
	return d.compare(o) > 0
}

func (d Date) compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DateOf returns the date of t in t's own location; convert t first (for
// example with t.In(Lisbon())) to get the date somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// At returns the instant at hour:minute on d in loc. loc must not be nil.
// For a wall time that falls in a DST gap or overlap, the result follows
// time.Date; Lisbon's transitions happen at 01:00–02:00, outside office hours.
func (d Date) At(hour, minute int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, loc)
}

// Start returns local midnight at the beginning of d in loc. loc must not be
// nil.
func (d Date) Start(loc *time.Location) time.Time {
	return d.At(0, 0, loc)
}

// DaysBetween returns the number of days from a to b: positive when b is
// after a, negative when before, zero when equal.
func DaysBetween(a, b Date) int {
	// Unix seconds rather than time.Sub: a Duration saturates after ~292
	// years, Unix seconds do not.
	return int((b.midnightUTC().Unix() - a.midnightUTC().Unix()) / 86400)
}

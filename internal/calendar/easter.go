package calendar

import "time"

// Easter returns Easter Sunday of year in the Gregorian calendar, using the
// anonymous Gregorian algorithm (Meeus/Jones/Butcher). Results are
// meaningful only for non-negative years; before 1583 the Gregorian computus
// was not in use.
func Easter(year int) Date {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{Year: year, Month: time.Month(month), Day: day}
}

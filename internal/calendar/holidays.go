package calendar

import (
	"sort"
	"sync"
	"time"
)

// Holiday is a national holiday on a given date. Key is a stable translation
// key (for example "holiday.christmas"), not display text, so that the user
// interface can render it in the citizen's language.
type Holiday struct {
	Date Date
	Key  string
}

type fixedHoliday struct {
	month time.Month
	day   int
	key   string
}

// fixed lists the mandatory holidays on fixed dates (Código do Trabalho,
// art. 234). Carnival is optional and therefore absent.
var fixed = []fixedHoliday{
	{time.January, 1, "holiday.new_year"},
	{time.April, 25, "holiday.freedom_day"},
	{time.May, 1, "holiday.labour_day"},
	{time.June, 10, "holiday.portugal_day"},
	{time.August, 15, "holiday.assumption"},
	{time.October, 5, "holiday.republic_day"},
	{time.November, 1, "holiday.all_saints"},
	{time.December, 1, "holiday.restoration"},
	{time.December, 8, "holiday.immaculate_conception"},
	{time.December, 25, "holiday.christmas"},
}

// NationalHolidays returns the Portuguese national (mandatory) holidays of
// year, sorted by date. A movable feast can fall on a fixed holiday (Easter
// on 25 April 2038, Corpus Christi on 10 June 2066); both are then listed, the
// fixed one first, so there are always 13 entries. Today's list is applied to every year: the 2013–2015
// suspension of four holidays is not modelled. The caller may modify the
// returned slice.
func NationalHolidays(year int) []Holiday {
	hs := holidaysOf(year)
	out := make([]Holiday, len(hs))
	copy(out, hs)
	return out
}

// IsNationalHoliday reports whether d is a national holiday and, if so, which;
// when two coincide it returns the first that [NationalHolidays] lists. It is
// safe for concurrent use.
func IsNationalHoliday(d Date) (Holiday, bool) {
	for _, h := range holidaysOf(d.Year) {
		if h.Date == d {
			return h, true
		}
	}
	return Holiday{}, false
}

func computeHolidays(year int) []Holiday {
	easter := Easter(year)
	hs := make([]Holiday, 0, len(fixed)+3)
	for _, f := range fixed {
		hs = append(hs, Holiday{Date{year, f.month, f.day}, f.key})
	}
	hs = append(hs,
		Holiday{easter.AddDays(-2), "holiday.good_friday"},
		Holiday{easter, "holiday.easter"},
		Holiday{easter.AddDays(60), "holiday.corpus_christi"},
	)
	// Stable, so that coinciding holidays keep the fixed-first order above.
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Date.Before(hs[j].Date) })
	return hs
}

var cache struct {
	sync.RWMutex
	years map[int][]Holiday
}

// holidaysOf returns the shared, read-only list for year. Only years a Date
// can be parsed with are cached, so arbitrary ints cannot grow the cache
// without bound.
func holidaysOf(year int) []Holiday {
	if year < 0 || year > 9999 {
		return computeHolidays(year)
	}
	cache.RLock()
	hs, ok := cache.years[year]
	cache.RUnlock()
	if ok {
		return hs
	}
	hs = computeHolidays(year)
	cache.Lock()
	if cache.years == nil {
		cache.years = make(map[int][]Holiday)
	}
	cache.years[year] = hs
	cache.Unlock()
	return hs
}

package calendar

import (
	"sync"
	"time"

	// Embedded so the agency's zone resolves even on minimal container
	// images that ship no /usr/share/zoneinfo.
	_ "time/tzdata"
)

var lisbon = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Lisbon")
	if err != nil {
		// Unreachable with time/tzdata linked in; failing loudly beats
		// silently scheduling in UTC.
		panic("calendar: loading Europe/Lisbon: " + err.Error())
	}
	return loc
})

// Lisbon returns the agency's time zone, Europe/Lisbon (mainland Portugal).
// It is loaded once and shared.
func Lisbon() *time.Location {
	return lisbon()
}

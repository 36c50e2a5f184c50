package calendar

import (
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	tests := map[int]Date{
		1961: {1961, time.April, 2},
		2000: {2000, time.April, 23},
		2008: {2008, time.March, 23},
		2011: {2011, time.April, 24},
		2024: {2024, time.March, 31},
		2025: {2025, time.April, 20},
		2026: {2026, time.April, 5},
		2027: {2027, time.March, 28},
		2038: {2038, time.April, 25},
		2285: {2285, time.March, 22}, // earliest possible
	}
	for year, want := range tests {
		if got := Easter(year); got != want {
			t.Errorf("Easter(%d) = %v; want %v", year, got, want)
		}
	}
}

func TestEasterIsSundayInRange(t *testing.T) {
	for y := 1583; y <= 4099; y++ {
		e := Easter(y)
		if e.Weekday() != time.Sunday || !e.Valid() {
			t.Fatalf("Easter(%d) = %v, a %v", y, e, e.Weekday())
		}
		if e.Before(Date{y, time.March, 22}) || e.After(Date{y, time.April, 25}) {
			t.Fatalf("Easter(%d) = %v, outside 22 March – 25 April", y, e)
		}
	}
}

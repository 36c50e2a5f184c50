package calendar

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// vectorsPath is the test-vector file of Portuguese identifiers and holidays.
var vectorsPath = filepath.Join("..", "..", "testdata", "pt-identifiers.json")

func loadHolidayVectors(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("test vectors missing at %s", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		NationalHolidays map[string]json.RawMessage `json:"national_holidays"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for k, raw := range v.NationalHolidays {
		if _, err := strconv.Atoi(k); err != nil {
			continue // "rule" and other prose
		}
		var dates []string
		if err := json.Unmarshal(raw, &dates); err != nil {
			t.Fatalf("national_holidays[%s]: %v", k, err)
		}
		out[k] = dates
	}
	if len(out) == 0 {
		t.Fatal("no national_holidays years in vector file")
	}
	return out
}

func TestNationalHolidaysVectors(t *testing.T) {
	for yearStr, want := range loadHolidayVectors(t) {
		year, _ := strconv.Atoi(yearStr)
		got := NationalHolidays(year)
		if len(got) != len(want) {
			t.Errorf("%d: got %d holidays, want %d", year, len(got), len(want))
			continue
		}
		for i, h := range got {
			if h.Date.String() != want[i] {
				t.Errorf("%d: holiday %d = %v (%s); want %s", year, i, h.Date, h.Key, want[i])
			}
			d, err := ParseDate(want[i])
			if err != nil {
				t.Fatal(err)
			}
			if hh, ok := IsNationalHoliday(d); !ok || hh != h {
				t.Errorf("IsNationalHoliday(%v) = %v, %v", d, hh, ok)
			}
		}
	}
}

func TestNationalHolidays2026(t *testing.T) {
	want := []Holiday{
		{Date{2026, time.January, 1}, "holiday.new_year"},
		{Date{2026, time.April, 3}, "holiday.good_friday"},
		{Date{2026, time.April, 5}, "holiday.easter"},
		{Date{2026, time.April, 25}, "holiday.freedom_day"},
		{Date{2026, time.May, 1}, "holiday.labour_day"},
		{Date{2026, time.June, 4}, "holiday.corpus_christi"},
		{Date{2026, time.June, 10}, "holiday.portugal_day"},
		{Date{2026, time.August, 15}, "holiday.assumption"},
		{Date{2026, time.October, 5}, "holiday.republic_day"},
		{Date{2026, time.November, 1}, "holiday.all_saints"},
		{Date{2026, time.December, 1}, "holiday.restoration"},
		{Date{2026, time.December, 8}, "holiday.immaculate_conception"},
		{Date{2026, time.December, 25}, "holiday.christmas"},
	}
	got := NationalHolidays(2026)
	if len(got) != len(want) {
		t.Fatalf("got %d holidays, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("holiday %d = %v; want %v", i, got[i], want[i])
		}
	}
}

func TestNotHolidays(t *testing.T) {
	for _, d := range []Date{
		{2026, time.February, 17}, // Carnival: optional, not national
		{2026, time.June, 13},     // Santo António: Lisbon municipal only
		{2026, time.April, 6},
		{2026, time.December, 24},
	} {
		if h, ok := IsNationalHoliday(d); ok {
			t.Errorf("IsNationalHoliday(%v) = %v", d, h)
		}
	}
}

func TestNationalHolidaysSortedAndCopied(t *testing.T) {
	for y := 1990; y <= 2100; y++ {
		hs := NationalHolidays(y)
		if len(hs) != 13 {
			t.Fatalf("%d: %d holidays", y, len(hs))
		}
		for i := 1; i < len(hs); i++ {
			if hs[i].Date.Before(hs[i-1].Date) {
				t.Fatalf("%d: not sorted at %d: %v, %v", y, i, hs[i-1], hs[i])
			}
		}
	}
	hs := NationalHolidays(2026)
	hs[0].Key = "mutated"
	if NationalHolidays(2026)[0].Key != "holiday.new_year" {
		t.Error("NationalHolidays exposes its cache")
	}
}

func TestCoincidingHolidays(t *testing.T) {
	tests := []struct {
		d       Date
		fixed   string
		movable string
	}{
		{Date{2038, time.April, 25}, "holiday.freedom_day", "holiday.easter"},
		{Date{2066, time.June, 10}, "holiday.portugal_day", "holiday.corpus_christi"},
	}
	for _, tt := range tests {
		var keys []string
		for _, h := range NationalHolidays(tt.d.Year) {
			if h.Date == tt.d {
				keys = append(keys, h.Key)
			}
		}
		if len(keys) != 2 || keys[0] != tt.fixed || keys[1] != tt.movable {
			t.Errorf("%v: keys %v; want [%s %s]", tt.d, keys, tt.fixed, tt.movable)
		}
		if h, ok := IsNationalHoliday(tt.d); !ok || h.Key != tt.fixed {
			t.Errorf("IsNationalHoliday(%v) = %v, %v; want %s", tt.d, h, ok, tt.fixed)
		}
	}
}

func TestIsNationalHolidayConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for y := 2000; y < 2100; y++ {
				if _, ok := IsNationalHoliday(Date{y, time.December, 25}); !ok {
					t.Errorf("%d-12-25 is not a holiday", y)
				}
			}
		})
	}
	wg.Wait()
}

func TestOutOfRangeYearsDoNotPanic(t *testing.T) {
	for _, y := range []int{-1, 10000, 1 << 40, -1 << 40} {
		_ = NationalHolidays(y)
		_, _ = IsNationalHoliday(Date{y, time.January, 1})
	}
}

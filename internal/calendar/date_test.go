package calendar

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-01-15", Date{2026, time.January, 15}, true},
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"2000-02-29", Date{2000, time.February, 29}, true},
		{"9999-12-31", Date{9999, time.December, 31}, true},
		{"0000-01-01", Date{0, time.January, 1}, true},
		{"2026-02-30", Date{}, false},
		{"2025-02-29", Date{}, false},
		{"1900-02-29", Date{}, false},
		{"2026-04-31", Date{}, false},
		{"2026-13-01", Date{}, false},
		{"2026-00-10", Date{}, false},
		{"2026-01-00", Date{}, false},
		{"2026-01-32", Date{}, false},
		{"", Date{}, false},
		{"2026-1-15", Date{}, false},
		{"2026-01-5", Date{}, false},
		{"26-01-15", Date{}, false},
		{"2026/01/15", Date{}, false},
		{"2026-01-15 ", Date{}, false},
		{" 2026-01-15", Date{}, false},
		{"2026-01-15T00:00:00Z", Date{}, false},
		{"+026-01-15", Date{}, false},
		{"2026-+1-15", Date{}, false},
		{"2026--1-15", Date{}, false},
		{"20260115", Date{}, false},
		{"2026-01-1\x00", Date{}, false},
		{"２０２６-01-15", Date{}, false}, // full-width digits
		{"15-01-2026", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseDate(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrBadDate) {
			t.Errorf("ParseDate(%q) error = %v; want ErrBadDate", tt.in, err)
		}
	}
}

func TestString(t *testing.T) {
	if got := (Date{2026, time.March, 5}).String(); got != "2026-03-05" {
		t.Errorf("String() = %q", got)
	}
	if got := (Date{987, time.December, 25}).String(); got != "0987-12-25" {
		t.Errorf("String() = %q", got)
	}
}

func TestValid(t *testing.T) {
	if (Date{}).Valid() {
		t.Error("zero Date is valid")
	}
	if !(Date{2024, time.February, 29}).Valid() {
		t.Error("2024-02-29 is invalid")
	}
	if (Date{10000, time.January, 1}).Valid() || (Date{-1, time.January, 1}).Valid() {
		t.Error("year outside 0000–9999 is valid")
	}
}

func TestAddDaysAndDaysBetween(t *testing.T) {
	tests := []struct {
		d    Date
		n    int
		want Date
	}{
		{Date{2026, time.January, 31}, 1, Date{2026, time.February, 1}},
		{Date{2024, time.February, 28}, 1, Date{2024, time.February, 29}},
		{Date{2026, time.February, 28}, 1, Date{2026, time.March, 1}},
		{Date{2026, time.December, 31}, 1, Date{2027, time.January, 1}},
		{Date{2026, time.January, 1}, -1, Date{2025, time.December, 31}},
		{Date{2026, time.March, 28}, 2, Date{2026, time.March, 30}}, // across DST
		{Date{2026, time.January, 1}, 365, Date{2027, time.January, 1}},
		{Date{2026, time.January, 1}, 0, Date{2026, time.January, 1}},
		{Date{1700, time.January, 1}, 365 * 600, Date{2299, time.August, 9}},
	}
	for _, tt := range tests {
		if got := tt.d.AddDays(tt.n); got != tt.want {
			t.Errorf("%v.AddDays(%d) = %v; want %v", tt.d, tt.n, got, tt.want)
		}
		if got := DaysBetween(tt.d, tt.want); got != tt.n {
			t.Errorf("DaysBetween(%v, %v) = %d; want %d", tt.d, tt.want, got, tt.n)
		}
		if got := DaysBetween(tt.want, tt.d); got != -tt.n {
			t.Errorf("DaysBetween(%v, %v) = %d; want %d", tt.want, tt.d, got, -tt.n)
		}
	}
}

func TestWeekday(t *testing.T) {
	if got := (Date{2026, time.January, 1}).Weekday(); got != time.Thursday {
		t.Errorf("2026-01-01 is %v; want Thursday", got)
	}
	if got := (Date{2026, time.April, 5}).Weekday(); got != time.Sunday {
		t.Errorf("2026-04-05 is %v; want Sunday", got)
	}
}

func TestBeforeAfter(t *testing.T) {
	dates := []Date{
		{2025, time.December, 31},
		{2026, time.January, 1},
		{2026, time.January, 2},
		{2026, time.February, 1},
		{2027, time.January, 1},
	}
	for i, a := range dates {
		for j, b := range dates {
			if got := a.Before(b); got != (i < j) {
				t.Errorf("%v.Before(%v) = %v", a, b, got)
			}
			if got := a.After(b); got != (i > j) {
				t.Errorf("%v.After(%v) = %v", a, b, got)
			}
		}
	}
}

func TestDateOf(t *testing.T) {
	// 23:30 UTC on 30 June is already 1 July in Lisbon (WEST, UTC+1).
	u := time.Date(2026, time.June, 30, 23, 30, 0, 0, time.UTC)
	if got := DateOf(u); got != (Date{2026, time.June, 30}) {
		t.Errorf("DateOf(UTC) = %v", got)
	}
	if got := DateOf(u.In(Lisbon())); got != (Date{2026, time.July, 1}) {
		t.Errorf("DateOf(Lisbon) = %v", got)
	}
}

func TestAtAndDST(t *testing.T) {
	tests := []struct {
		d    Date
		want time.Time
	}{
		// 29 March 2026 is the first day of summer time (WEST, UTC+1).
		{Date{2026, time.March, 29}, time.Date(2026, time.March, 29, 9, 0, 0, 0, time.UTC)},
		{Date{2026, time.March, 28}, time.Date(2026, time.March, 28, 10, 0, 0, 0, time.UTC)},
		{Date{2026, time.January, 15}, time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC)},
		// 25 October 2026 is back on WET (UTC+0).
		{Date{2026, time.October, 25}, time.Date(2026, time.October, 25, 10, 0, 0, 0, time.UTC)},
		{Date{2026, time.October, 24}, time.Date(2026, time.October, 24, 9, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got := tt.d.At(10, 0, Lisbon())
		if !got.Equal(tt.want) {
			t.Errorf("%v.At(10,0,Lisbon) = %v; want %v", tt.d, got.UTC(), tt.want)
		}
		if DateOf(got) != tt.d {
			t.Errorf("DateOf(%v) = %v; want %v", got, DateOf(got), tt.d)
		}
	}
}

func TestStart(t *testing.T) {
	got := Date{2026, time.July, 1}.Start(Lisbon())
	want := time.Date(2026, time.June, 30, 23, 0, 0, 0, time.UTC)
	if !got.Equal(want) {
		t.Errorf("Start = %v; want %v", got.UTC(), want)
	}
}

func TestLisbon(t *testing.T) {
	if Lisbon() != Lisbon() {
		t.Error("Lisbon() is not loaded once")
	}
	if got := Lisbon().String(); got != "Europe/Lisbon" {
		t.Errorf("Lisbon() = %q", got)
	}
}

func TestTextMarshalling(t *testing.T) {
	type booking struct {
		On Date `json:"on"`
	}
	b, err := json.Marshal(booking{Date{2026, time.May, 4}})
	if err != nil || string(b) != `{"on":"2026-05-04"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var got booking
	if err := json.Unmarshal(b, &got); err != nil || got.On != (Date{2026, time.May, 4}) {
		t.Fatalf("Unmarshal = %v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"on":"2026-02-30"}`), &got); !errors.Is(err, ErrBadDate) {
		t.Errorf("Unmarshal(2026-02-30) error = %v; want ErrBadDate", err)
	}
	if _, err := (Date{}).MarshalText(); !errors.Is(err, ErrBadDate) {
		t.Errorf("MarshalText(zero) error = %v; want ErrBadDate", err)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-01-15", "2024-02-29", "2026-02-30", "0000-01-01", "9999-12-31", "", "2026-1-1", "+026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrBadDate) {
				t.Fatalf("ParseDate(%q) error %v does not wrap ErrBadDate", s, err)
			}
			return
		}
		if got := d.String(); got != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, got)
		}
		if !d.Valid() {
			t.Fatalf("ParseDate(%q) = %v, which is not Valid", s, d)
		}
		if got := d.AddDays(1).AddDays(-1); got != d {
			t.Fatalf("%v.AddDays(1).AddDays(-1) = %v", d, got)
		}
	})
}

package booking

import (
	"testing"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
)

func at(d calendar.Date, h, m int) time.Time { return d.At(h, m, calendar.Lisbon()) }

func TestWindowsKeepToOpeningHoursClosuresAndAbsences(t *testing.T) {
	lisbon := calendar.Lisbon()
	wed, thu := calendar.Date{Year: 2026, Month: 12, Day: 2}, calendar.Date{Year: 2026, Month: 12, Day: 3}
	staff := directory.Staff{ID: "a", LocationID: "l", Hours: []directory.WeeklyRange{
		{Weekday: time.Wednesday, StartMinute: 8 * 60, EndMinute: 18 * 60},
		{Weekday: time.Thursday, StartMinute: 9 * 60, EndMinute: 12 * 60},
	}, Absences: []directory.Absence{{Start: at(wed, 10, 0), End: at(wed, 11, 0)}}}
	opening := []directory.WeeklyRange{
		{Weekday: time.Wednesday, StartMinute: 9 * 60, EndMinute: 12 * 60},
		{Weekday: time.Wednesday, StartMinute: 14 * 60, EndMinute: 17 * 60},
		{Weekday: time.Thursday, StartMinute: 9 * 60, EndMinute: 17 * 60},
	}
	closed := func(d calendar.Date, loc string) bool { return d == thu && loc == "l" }
	got := Windows(staff, opening, wed, thu, closed, lisbon)
	want := []Interval{{at(wed, 9, 0), at(wed, 10, 0)}, {at(wed, 11, 0), at(wed, 12, 0)}, {at(wed, 14, 0), at(wed, 17, 0)}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("window %d: %v-%v, want %v-%v", i, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
	}
}

func TestSlotsFollowTheGridAcrossSummerTime(t *testing.T) {
	// 29 March 2026: Lisbon moves from UTC+0 to UTC+1 at 01:00.
	day := calendar.Date{Year: 2026, Month: 3, Day: 29}
	agent := Resource{ID: "a", Windows: []Interval{{at(day, 9, 0), at(day, 10, 0)}}, Busy: map[int64]bool{}}
	rules := Rules{Duration: 20 * time.Minute, Buffer: 10 * time.Minute, HorizonDays: 30}
	now := at(day.AddDays(-1), 12, 0)
	slots := Slots(rules, day, day, now, calendar.Lisbon(), []Resource{agent}, nil)
	if len(slots) != 2 || !slots[0].Start.Equal(at(day, 9, 0)) || !slots[1].Start.Equal(at(day, 9, 30)) {
		t.Fatalf("slots %v, want 09:00 and 09:30 Lisbon", slots)
	}
	if slots[0].Start.Hour() != 8 {
		t.Errorf("09:00 Lisbon in summer is %v UTC, want 08:00", slots[0].Start)
	}
	// The buffer is claimed: booking 09:00 holds the agent until 09:30.
	for _, b := range Blocks(slots[0].Start, rules.Claim()) {
		agent.Busy[b] = true
	}
	if FreeAt(rules, at(day, 9, 30), []Resource{agent}, nil) != 1 || FreeAt(rules, at(day, 9, 0), []Resource{agent}, nil) != 0 {
		t.Error("buffer or booked blocks miscounted")
	}
}

func TestCheckStart(t *testing.T) {
	lisbon := calendar.Lisbon()
	day := calendar.Date{Year: 2026, Month: 12, Day: 2}
	now := at(day, 8, 0)
	rules := Rules{Duration: 30 * time.Minute, MinNotice: time.Hour, HorizonDays: 3}
	cases := []struct {
		start time.Time
		want  StartProblem
	}{
		{at(day, 9, 0), StartOK},
		{at(day, 9, 15), StartUnaligned},
		{at(day, 9, 0).Add(time.Second), StartUnaligned},
		{at(day, 8, 30), StartTooSoon},
		{at(day.AddDays(3), 23, 30), StartOK},
		{at(day.AddDays(4), 0, 0), StartTooFar},
	}
	for _, c := range cases {
		if got := rules.CheckStart(c.start, now, lisbon); got != c.want {
			t.Errorf("CheckStart(%v) = %v, want %v", c.start, got, c.want)
		}
	}
}

func TestPairsNeverUseOnePersonTwice(t *testing.T) {
	cases := []struct {
		agents, interpreters []string
		want                 int
	}{
		{[]string{"a", "b"}, []string{"i"}, 1},
		{[]string{"a"}, []string{"a"}, 0},
		{[]string{"a", "b"}, []string{"a", "b"}, 1},
		{[]string{"a", "b", "c"}, []string{"a", "i", "j"}, 2},
		{[]string{"a", "b", "c"}, []string{"i", "j", "k"}, 3},
		{nil, []string{"i"}, 0},
	}
	for _, c := range cases {
		if got := pairs(c.agents, c.interpreters); got != c.want {
			t.Errorf("pairs(%v, %v) = %d, want %d", c.agents, c.interpreters, got, c.want)
		}
	}
}

func FuzzRequestValidate(f *testing.F) {
	f.Add("Maria", "maria@example.pt", "912345678", "12345678902", "123456789", "pt", "notas")
	f.Add("\u202e", "a@b", "+", "1", "x", "zz", "\x00")
	f.Fuzz(func(t *testing.T, name, email, phone, niss, nif, lang, notes string) {
		r := Request{ThemeID: "t", Start: time.Unix(1e9, 0), Notes: notes,
			Citizen: Citizen{Name: name, Email: email, Phone: phone, NISS: niss, NIF: nif, Language: lang}}
		errs := r.Validate()
		if len(errs) == 0 {
			if r.Citizen.Name == "" || r.Citizen.Email == "" {
				t.Fatalf("accepted a request without name or e-mail: %+v", r)
			}
			if r.Citizen.Language != "pt-PT" && r.Citizen.Language != "en" {
				t.Fatalf("accepted language %q", r.Citizen.Language)
			}
		}
	})
}

package booking_test

import (
	"context"
	"testing"
	"time"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// The fixture agency: three agents serve theme t30 on weekday mornings; a3 is away on
// 3 December; one interpreter works Wednesday 09:00-10:00. 1 December 2026 is a national
// holiday. The clock stands at Monday 30 November 2026, 07:00 in Lisbon.
var fixtureNow = time.Date(2026, 11, 30, 7, 0, 0, 0, calendar.Lisbon())

func fixtureConfig() directory.Config {
	mornings := map[string][]string{"mon": {"09:00-12:00"}, "tue": {"09:00-12:00"}, "wed": {"09:00-12:00"}, "thu": {"09:00-12:00"}, "fri": {"09:00-12:00"}}
	return directory.Config{
		Agency: directory.AgencyConfig{Name: directory.Text{"pt-PT": "Agência de teste", "en": "Test agency"}},
		Locations: []directory.LocationConfig{{ID: "l1", Name: directory.Text{"pt-PT": "Local 1"},
			OpeningHours: map[string][]string{"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}, "wed": {"09:00-17:00"}, "thu": {"09:00-17:00"}, "fri": {"09:00-17:00"}}}},
		Services: []directory.ServiceConfig{{ID: "s1", Name: directory.Text{"pt-PT": "Serviço", "en": "Service"}, Themes: []directory.ThemeConfig{
			{ID: "t30", Name: directory.Text{"pt-PT": "Tema 30", "en": "Theme 30"}, DurationMinutes: 30, AuthLevel: "weak", HorizonDays: 30},
			{ID: "t20", Name: directory.Text{"pt-PT": "Tema 20", "en": "Theme 20"}, DurationMinutes: 20, BufferMinutes: 5, AuthLevel: "none", HorizonDays: 30},
		}}},
		Staff: []directory.StaffConfig{
			{ID: "a1", Name: "Agente Um", Location: "l1", Languages: []string{"pt"}, Themes: []string{"t30", "t20"}, Hours: mornings},
			{ID: "a2", Name: "Agente Dois", Location: "l1", Languages: []string{"pt", "en"}, Themes: []string{"t30"}, Hours: mornings},
			{ID: "a3", Name: "Agente Três", Location: "l1", Languages: []string{"pt"}, Themes: []string{"t30"}, Hours: mornings,
				Absences: []directory.AbsenceConfig{{From: "2026-12-03", To: "2026-12-03", Reason: "formação"}}},
			{ID: "i1", Name: "Intérprete", Location: "l1", Role: "interpreter", Languages: []string{"pt", "lgp"},
				Hours: map[string][]string{"wed": {"09:00-10:00"}}},
		},
	}
}

func newFixture(t *testing.T, db *store.DB) *booking.Service {
	t.Helper()
	if err := directory.Apply(context.Background(), db, fixtureConfig()); err != nil {
		t.Fatal(err)
	}
	return booking.NewService(db, func() time.Time { return fixtureNow })
}

func lisbon(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, calendar.Lisbon())
}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func request(theme string, start time.Time) booking.Request {
	return booking.Request{ThemeID: theme, Start: start, Citizen: booking.Citizen{
		Name: "Maria da Silva", Email: "maria@example.pt", Phone: "912 345 678", NISS: "12345678902", NIF: "123456789"}}
}

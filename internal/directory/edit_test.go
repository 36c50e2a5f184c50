package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"balcao/internal/directory"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

const base = `{"agency":{"name":{"pt-PT":"Agência"}},
	"locations":[{"id":"lx","name":{"pt-PT":"Lisboa"},"opening_hours":{"mon":["09:00-17:00"]}},
		{"id":"po","name":{"pt-PT":"Porto"},"opening_hours":{"tue":["09:00-13:00"]}}],
	"services":[{"id":"s","name":{"pt-PT":"Serviço"},"themes":[{"id":"t","name":{"pt-PT":"Tema"},"duration_minutes":30,"auth_level":"none"}]}],
	"staff":[{"id":"a","name":"Ana","email":"ana@example.pt","location":"lx","languages":["pt"],"themes":["t"],"hours":{"mon":["09:00-12:00"]}},
		{"id":"b","name":"Bruno","email":"bruno@example.pt","location":"lx","themes":["t"]}]}`

func load(t *testing.T, db *store.DB) {
	t.Helper()
	cfg, err := directory.ParseConfig(strings.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.Apply(context.Background(), db, cfg); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefusesTheSameEmailTwice(t *testing.T) {
	cfg := strings.Replace(base, `"bruno@example.pt"`, `"ANA@example.pt "`, 1)
	_, err := directory.ParseConfig(strings.NewReader(cfg))
	if err == nil || !strings.Contains(err.Error(), `staff[1].email: the same e-mail as staff "a"`) {
		t.Fatalf("two staff with one e-mail: %v", err)
	}
}

func TestApplyRefusesAnEmailTakenInTheDatabase(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		load(t, db)
		cfg, _ := directory.ParseConfig(strings.NewReader(strings.Replace(base, `"id":"b"`, `"id":"c"`, 1)))
		cfg.Staff[1].Email = "Ana@Example.pt"
		cfg.Staff = cfg.Staff[1:]
		err := directory.Apply(context.Background(), db, cfg)
		if !errors.Is(err, directory.ErrEmailTaken) || strings.Contains(err.Error(), "example.pt") {
			t.Fatalf("apply with a taken e-mail: %v (want ErrEmailTaken, without the address)", err)
		}
	})
}

func TestEditOneEntityAtATime(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		load(t, db)
		// Services and themes.
		if err := directory.CreateService(ctx, db, directory.ServiceConfig{ID: "s", Name: directory.Text{"pt-PT": "X"}}); !errors.Is(err, directory.ErrDuplicateID) {
			t.Fatalf("create a taken service id: %v", err)
		}
		if err := directory.CreateService(ctx, db, directory.ServiceConfig{ID: "s2", Name: directory.Text{"pt-PT": "Outro", "en": "Other"}}); err != nil {
			t.Fatal(err)
		}
		notice := 0
		th := directory.ThemeConfig{ID: "t2", Name: directory.Text{"pt-PT": "Tema 2"}, DurationMinutes: 20, AuthLevel: directory.AuthWeak, MinNoticeMinutes: &notice, HorizonDays: 10}
		if err := directory.CreateTheme(ctx, db, "s2", th); err != nil {
			t.Fatal(err)
		}
		th.DurationMinutes, th.Instructions = 45, directory.Text{"en": "Bring your card"}
		if err := directory.UpdateTheme(ctx, db, th); err != nil {
			t.Fatal(err)
		}
		got, err := directory.ThemeByID(ctx, db, "t2")
		if err != nil || got.Duration != 45*time.Minute || got.MinNotice != 0 || got.HorizonDays != 10 || got.Instructions.In("en") != "Bring your card" || got.ServiceID != "s2" {
			t.Fatalf("theme after update: %+v %v", got, err)
		}
		if err := directory.DeactivateService(ctx, db, "s2"); !errors.Is(err, directory.ErrServiceHasThemes) {
			t.Fatalf("withdraw a service with themes: %v", err)
		}
		if err := directory.DeactivateTheme(ctx, db, "t2"); err != nil {
			t.Fatal(err)
		}
		if _, err := directory.ThemeByID(ctx, db, "t2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("withdrawn theme still offered: %v", err)
		}
		if err := directory.DeactivateService(ctx, db, "s2"); err != nil {
			t.Fatal(err)
		}
		services, _ := directory.Services(ctx, db)
		if len(services) != 1 || services[0].ID != "s" {
			t.Fatalf("services after withdrawing s2: %+v", services)
		}
		if err := directory.UpdateTheme(ctx, db, directory.ThemeConfig{ID: "t2", AuthLevel: directory.AuthNone, DurationMinutes: 10}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update a withdrawn theme: %v", err)
		}

		// Locations.
		hours, _ := directory.ParseWeekly(map[string][]string{"wed": {"14:00-18:00"}, "mon": {"08:00-10:00", "11:00-12:00"}})
		if err := directory.SaveLocation(ctx, db, directory.LocationConfig{ID: "po", Name: directory.Text{"pt-PT": "Porto"},
			OpeningHours: map[string][]string{"wed": {"14:00-18:00"}, "mon": {"11:00-12:00", "08:00-10:00"}}}); err != nil {
			t.Fatal(err)
		}
		po, err := directory.LocationByID(ctx, db, "po")
		if err != nil || len(po.OpeningHours) != len(hours) || directory.FormatWeekly(po.OpeningHours, time.Monday) != "08:00-10:00, 11:00-12:00" ||
			directory.FormatWeekly(po.OpeningHours, time.Tuesday) != "" {
			t.Fatalf("location po: %+v %v", po, err)
		}

		// Staff.
		err = directory.SaveStaff(ctx, db, directory.StaffConfig{ID: "b", Name: "Bruno", Email: " ana@EXAMPLE.pt", Location: "lx"})
		if !errors.Is(err, directory.ErrEmailTaken) {
			t.Fatalf("save staff with a taken e-mail: %v", err)
		}
		if err := directory.SaveStaff(ctx, db, directory.StaffConfig{ID: "b", Name: "Bruno", Location: "nowhere"}); !errors.Is(err, directory.ErrUnknownLocationID) {
			t.Fatalf("save staff at an unknown location: %v", err)
		}
		err = directory.SaveStaff(ctx, db, directory.StaffConfig{ID: "b", Name: "Bruno Costa", Email: "bruno@example.pt", Location: "po",
			Role: directory.RoleAgent, Languages: []string{"en", "pt"}, Themes: []string{"t"}, Hours: map[string][]string{"tue": {"09:00-11:00"}}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		id, err := directory.AddAbsence(ctx, db, "b", now.Add(24*time.Hour), now.Add(48*time.Hour), "formação")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := directory.AddAbsence(ctx, db, "b", now.Add(-48*time.Hour), now.Add(-24*time.Hour), "past"); err != nil {
			t.Fatal(err)
		}
		b, err := directory.StaffByID(ctx, db, "b", now)
		if err != nil || b.Name != "Bruno Costa" || b.LocationID != "po" || !b.Active || strings.Join(b.Languages, ",") != "en,pt" ||
			strings.Join(b.Themes, ",") != "t" || directory.FormatWeekly(b.Hours, time.Tuesday) != "09:00-11:00" ||
			len(b.Absences) != 1 || b.Absences[0].ID != id || b.Absences[0].Reason != "formação" {
			t.Fatalf("staff b: %+v %v", b, err)
		}
		if err := directory.DeleteAbsence(ctx, db, "a", id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete another staff member's absence: %v", err)
		}
		if err := directory.DeleteAbsence(ctx, db, "b", id); err != nil {
			t.Fatal(err)
		}
		list, err := directory.StaffList(ctx, db)
		if err != nil || len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" || strings.Join(list[0].Themes, ",") != "t" {
			t.Fatalf("staff list: %+v %v", list, err)
		}

		// Closures and the agency's name.
		if err := directory.SaveClosure(ctx, db, directory.Closure{LocationID: "lx", Day: "2026-12-24", Name: directory.Text{"pt-PT": "Véspera"}}); err != nil {
			t.Fatal(err)
		}
		if err := directory.SaveClosure(ctx, db, directory.Closure{Day: "2026-12-26"}); err != nil {
			t.Fatal(err)
		}
		closures, err := directory.UpcomingClosures(ctx, db, "2026-12-25")
		if err != nil || len(closures) != 1 || closures[0].LocationID != "" {
			t.Fatalf("closures from 25 December: %+v %v", closures, err)
		}
		if err := directory.DeleteClosure(ctx, db, "lx", "2026-12-24"); err != nil {
			t.Fatal(err)
		}
		if err := directory.DeleteClosure(ctx, db, "lx", "2026-12-24"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete a closure twice: %v", err)
		}
		if err := directory.SetAgencyName(ctx, db, directory.Text{"pt-PT": "Nova", "en": "New"}); err != nil {
			t.Fatal(err)
		}
		if name, _ := directory.AgencyName(ctx, db); name.In("en") != "New" {
			t.Fatalf("agency name: %v", name)
		}
	})
}

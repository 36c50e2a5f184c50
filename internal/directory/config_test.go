package directory

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := `{"agency":{"name":{"en":"only english"}},
		"locations":[{"id":"L 1","name":{"pt-PT":"x"},"opening_hours":{"mon":["18:00-09:00"]}}],
		"services":[{"id":"s","name":{"pt-PT":"S"},"themes":[{"id":"t","name":{"pt-PT":"T"},"duration_minutes":7,"auth_level":"medium"}]}],
		"staff":[{"id":"a","name":"A","location":"nowhere","languages":["fr"],"themes":["t","u"],"hours":{"funday":["09:00-10:00"]}}]}`
	_, err := ParseConfig(strings.NewReader(cfg))
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"locations[0].id", "opening_hours", "duration_minutes", "auth_level", "unknown location", "unknown language", `unknown theme "u"`, "funday"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestParseWeekly(t *testing.T) {
	got, err := ParseWeekly(map[string][]string{"mon": {"09:00-12:30", "14:00-24:00"}})
	if err != nil || len(got) != 2 || got[0].StartMinute != 540 || got[0].EndMinute != 750 || got[1].EndMinute != 1440 {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"9:00-10:00", "09:00", "10:00-09:00", "09:07-10:00", "25:00-26:00", "09:00-24:05"} {
		if _, err := ParseWeekly(map[string][]string{"mon": {bad}}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"agency":{"name":{"pt-PT":"A"}},"locations":[{"id":"l","name":{"pt-PT":"L"},"opening_hours":{"mon":["09:00-17:00"]}}]}`))
	f.Add([]byte(`{"staff":[{"hours":{"mon":["00:00-24:00"]},"absences":[{"from":"2026-01-01","to":"2025-01-01"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(bytes.NewReader(b))
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("parsed configuration does not validate: %v", verr)
			}
		}
	})
}

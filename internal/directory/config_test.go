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

func TestValidateWalkIn(t *testing.T) {
	cfg := `{"agency":{"name":{"pt-PT":"A"}},"services":[
		{"id":"a","name":{"pt-PT":"A"},"walk_in":{"letter":"a","always_open":true,"answer_seconds":5}},
		{"id":"b","name":{"pt-PT":"B"},"walk_in":{"letter":"B","hours":{"mon":["09:00-12:00","11:00-13:00"]},"max_waiting":-1}},
		{"id":"c","name":{"pt-PT":"C"},"walk_in":{"letter":"B","always_open":true}},
		{"id":"d","name":{"pt-PT":"D"},"walk_in":{"letter":"D"}}]}`
	_, err := ParseConfig(strings.NewReader(cfg))
	if err == nil {
		t.Fatal("invalid queues accepted")
	}
	for _, want := range []string{`services[0].walk_in: walk-in letter: "a"`, "services[0].walk_in: walk-in answer_seconds: 5",
		"services[1].walk_in: walk-in max_waiting: -1", "services[1].walk_in: walk-in hours: two spans of one day overlap",
		`services[2].walk_in.letter: "B" is used by another service`, "services[3].walk_in: give hours or always_open"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	// Left out, the numbers take their defaults, which are valid.
	ok := `{"agency":{"name":{"pt-PT":"A"}},"services":[{"id":"a","name":{"pt-PT":"A"},"walk_in":{"letter":"A","always_open":true}}]}`
	if _, err := ParseConfig(strings.NewReader(ok)); err != nil {
		t.Fatal(err)
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

package ics

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCalendarFoldsEscapesAndUsesUTC(t *testing.T) {
	lisbon, _ := time.LoadLocation("Europe/Lisbon")
	start := time.Date(2026, 7, 2, 10, 0, 0, 0, lisbon)
	cal := Calendar{ProdID: "-//balcao//PT", Method: "PUBLISH", Events: []Event{{
		UID: "abc@balcao", Sequence: 2, Stamp: start.Add(-time.Hour), Start: start, End: start.Add(30 * time.Minute),
		Summary:     "Pensão de velhice; videochamada, com intérprete",
		Description: strings.Repeat("Instruções à mão — ", 10) + "\nlinha 2",
		Alarm:       time.Hour, AlarmText: "Lembrete",
	}}}
	out := string(cal.Bytes())
	for _, want := range []string{
		"DTSTART:20260702T090000Z\r\n", "DTEND:20260702T093000Z\r\n", "SEQUENCE:2\r\n", "METHOD:PUBLISH\r\n",
		`SUMMARY:Pensão de velhice\; videochamada\, com intérprete`, "TRIGGER:-PT60M\r\n", "STATUS:CONFIRMED\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(l) {
			t.Errorf("line of %d octets or broken UTF-8: %q", len(l), l)
		}
		if strings.ContainsAny(l, "\n\r") {
			t.Errorf("bare line break in %q", l)
		}
	}
	unfolded := strings.ReplaceAll(out, "\r\n ", "")
	if !strings.Contains(unfolded, `\nlinha 2`) {
		t.Errorf("description did not survive folding: %s", unfolded)
	}
}

// Package ics writes iCalendar files (RFC 5545) for appointments, so that a citizen can
// put one in their calendar. Times are written in UTC, which every calendar program
// shows in its own zone, so no VTIMEZONE block is needed.
package ics

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one appointment in a calendar.
type Event struct {
	UID         string // stable across changes, so a reschedule replaces the old entry
	Sequence    int    // raised on every change (RFC 5545 §3.8.7.4)
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Description string
	URL         string
	Cancelled   bool
	Alarm       time.Duration // how long before the start to remind; 0 for none
	AlarmText   string
	// Organizer and attendee make the file an invitation (RFC 5546 wants an ORGANIZER
	// with METHOD:REQUEST and CANCEL).
	Organizer, OrganizerEmail string
	Attendee, AttendeeEmail   string
}

// Calendar is a VCALENDAR object with its method (PUBLISH for a download, REQUEST or
// CANCEL for an invitation).
type Calendar struct {
	ProdID string
	Method string
	Events []Event
}

const stampFormat = "20060102T150405Z"

// Bytes renders the calendar with CRLF line ends and lines folded at 75 octets.
func (c Calendar) Bytes() []byte {
	var b bytes.Buffer
	line := func(name, value string) { writeFolded(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", text(c.ProdID))
	line("CALSCALE", "GREGORIAN")
	if c.Method != "" {
		line("METHOD", c.Method)
	}
	for _, e := range c.Events {
		line("BEGIN", "VEVENT")
		line("UID", text(e.UID))
		line("SEQUENCE", fmt.Sprint(e.Sequence))
		line("DTSTAMP", e.Stamp.UTC().Format(stampFormat))
		line("DTSTART", e.Start.UTC().Format(stampFormat))
		line("DTEND", e.End.UTC().Format(stampFormat))
		line("SUMMARY", text(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION", text(e.Description))
		}
		if e.URL != "" {
			line("URL", e.URL)
		}
		if e.OrganizerEmail != "" {
			line("ORGANIZER;CN="+param(e.Organizer), "mailto:"+e.OrganizerEmail)
		}
		if e.AttendeeEmail != "" {
			line("ATTENDEE;CN="+param(e.Attendee)+";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE", "mailto:"+e.AttendeeEmail)
		}
		if e.Cancelled {
			line("STATUS", "CANCELLED")
		} else {
			line("STATUS", "CONFIRMED")
		}
		line("TRANSP", "OPAQUE")
		if e.Alarm > 0 && !e.Cancelled {
			line("BEGIN", "VALARM")
			line("ACTION", "DISPLAY")
			line("DESCRIPTION", text(e.AlarmText))
			line("TRIGGER", fmt.Sprintf("-PT%dM", int(e.Alarm.Minutes())))
			line("END", "VALARM")
		}
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return b.Bytes()
}

// text escapes a TEXT value (RFC 5545 §3.3.11).
func text(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// param quotes a parameter value; a double quote cannot appear in one (RFC 5545 §3.2).
func param(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r < ' ' {
			return -1
		}
		return r
	}, s)
	return `"` + s + `"`
}

// writeFolded writes a content line, folding it so that no line exceeds 75 octets
// without splitting a UTF-8 character (RFC 5545 §3.1).
func writeFolded(b *bytes.Buffer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space of a continuation line counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}

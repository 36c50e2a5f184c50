// Package directory holds the agency's configuration: its locations and opening hours,
// the services and themes it offers, and the staff who serve them with their languages,
// weekly hours and absences. Availability is computed from it by package booking.
package directory

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Text is a text translated into the interface languages, keyed by language tag
// ("pt-PT", "en"). It is stored as a JSON object.
type Text map[string]string

// DefaultLanguage is the language a Text falls back to.
const DefaultLanguage = "pt-PT"

// In returns the text in lang, else in the default language, else in any language.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t[DefaultLanguage]; s != "" {
		return s
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t[k] != "" {
			return t[k]
		}
	}
	return ""
}

// Value stores the text as JSON.
func (t Text) Value() (driver.Value, error) {
	if t == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(t))
	return string(b), err
}

// Scan reads the text from its JSON column.
func (t *Text) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*t = Text{}
		return nil
	default:
		return fmt.Errorf("scan text: unexpected %T", src)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scan text: %w", err)
	}
	*t = m
	return nil
}

// AuthLevel is the identity check a theme needs before personal data is discussed.
type AuthLevel string

const (
	AuthNone   AuthLevel = "none"
	AuthWeak   AuthLevel = "weak"
	AuthStrong AuthLevel = "strong"
)

// Valid tells whether l is one of the known levels.
func (l AuthLevel) Valid() bool { return l == AuthNone || l == AuthWeak || l == AuthStrong }

// Languages a staff member can serve in; LGP is Portuguese Sign Language.
const (
	LangPT  = "pt"
	LangEN  = "en"
	LangLGP = "lgp"
)

// Roles of staff members.
const (
	RoleAgent         = "agent"
	RoleInterpreter   = "interpreter"
	RoleSupervisor    = "supervisor"
	RoleAdministrator = "administrator"
)

// Location is a place the agency serves from (a district centre, a call centre); agents
// belong to one, and its opening hours bound theirs.
type Location struct {
	ID           string
	Name         Text
	Region       string
	OpeningHours []WeeklyRange
}

// Service groups themes, as the citizen first chooses it ("Pensões", "Família").
type Service struct {
	ID          string
	Name        Text
	Description Text
	Position    int
	Themes      []Theme
}

// Theme is what an appointment is booked for, with its booking rules.
type Theme struct {
	ID           string
	ServiceID    string
	Name         Text
	Description  Text
	Instructions Text
	Duration     time.Duration
	Buffer       time.Duration
	AuthLevel    AuthLevel
	MinNotice    time.Duration
	HorizonDays  int
	Position     int
}

// Step is the distance between two slot starts of the theme.
func (th Theme) Step() time.Duration { return th.Duration + th.Buffer }

// Staff is an agent, interpreter, supervisor or administrator.
type Staff struct {
	ID         string
	Name       string
	Email      string
	LocationID string
	Role       string
	Languages  []string
	Themes     []string
	Hours      []WeeklyRange
	Absences   []Absence
}

// WeeklyRange is a recurring span of a weekday in the agency's local time, in minutes
// after midnight.
type WeeklyRange struct {
	Weekday     time.Weekday
	StartMinute int
	EndMinute   int
}

// Absence is a span in which a staff member cannot be booked (leave, training).
type Absence struct {
	ID     string
	Start  time.Time
	End    time.Time
	Reason string
}

// Closure is a day the agency, or one location, is closed beyond the national holidays.
type Closure struct {
	LocationID string // empty: the whole agency
	Day        string // YYYY-MM-DD
	Name       Text
}

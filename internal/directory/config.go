package directory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"balcao/internal/calendar"
)

// Config is the agency's configuration as written in a JSON file (the demo agency is one),
// applied at every start when given; the configuration pages change the same rows.
type Config struct {
	Agency    AgencyConfig     `json:"agency"`
	Locations []LocationConfig `json:"locations"`
	Closures  []ClosureConfig  `json:"closures"`
	Services  []ServiceConfig  `json:"services"`
	Staff     []StaffConfig    `json:"staff"`
}

// AgencyConfig names the agency.
type AgencyConfig struct {
	Name Text `json:"name"`
}

// LocationConfig is a location with its opening hours by weekday ("mon": ["09:00-17:00"]).
type LocationConfig struct {
	ID           string              `json:"id"`
	Name         Text                `json:"name"`
	Region       string              `json:"region"`
	OpeningHours map[string][]string `json:"opening_hours"`
}

// ClosureConfig closes the agency, or one location, on a day.
type ClosureConfig struct {
	Day      string `json:"day"`
	Location string `json:"location"`
	Name     Text   `json:"name"`
}

// ServiceConfig is a service and its themes.
type ServiceConfig struct {
	ID          string        `json:"id"`
	Name        Text          `json:"name"`
	Description Text          `json:"description"`
	Themes      []ThemeConfig `json:"themes"`
	WalkIn      *WalkInConfig `json:"walk_in,omitempty"`
}

// WalkInConfig makes a service take walk-in tickets (senhas) for its virtual queue.
type WalkInConfig struct {
	Letter         string              `json:"letter"`           // ticket prefix, one capital letter
	AlwaysOpen     bool                `json:"always_open"`      // open around the clock, holidays included
	Hours          map[string][]string `json:"hours"`            // when tickets can be taken, by weekday
	MaxWaiting     int                 `json:"max_waiting"`      // tickets waiting at most; 0 for 200
	MaxPriorityRun int                 `json:"max_priority_run"` // priority tickets called in a row before a normal one; 0: priority always first
	AnswerSeconds  int                 `json:"answer_seconds"`   // time a called citizen has to answer; 0 for 120
	RecallMinutes  *int                `json:"recall_minutes"`   // wait before calling an absent citizen once more; default 5
	NearPosition   *int                `json:"near_position"`    // alert the citizen at this position; default 3
}

// ThemeConfig is a theme and its booking rules.
type ThemeConfig struct {
	ID               string    `json:"id"`
	Name             Text      `json:"name"`
	Description      Text      `json:"description"`
	Instructions     Text      `json:"instructions"`
	DurationMinutes  int       `json:"duration_minutes"`
	BufferMinutes    int       `json:"buffer_minutes"`
	AuthLevel        AuthLevel `json:"auth_level"`
	MinNoticeMinutes *int      `json:"min_notice_minutes"`
	HorizonDays      int       `json:"horizon_days"`
}

// StaffConfig is a staff member with languages, themes, weekly hours and absences.
type StaffConfig struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Email     string              `json:"email"`
	Location  string              `json:"location"`
	Role      string              `json:"role"`
	Languages []string            `json:"languages"`
	Themes    []string            `json:"themes"`
	Hours     map[string][]string `json:"hours"`
	Absences  []AbsenceConfig     `json:"absences"`
}

// AbsenceConfig is an absence from one day to another (inclusive, "YYYY-MM-DD") or
// between two instants (RFC 3339).
type AbsenceConfig struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Defaults for themes that leave a rule out.
const (
	DefaultMinNoticeMinutes = 60
	DefaultHorizonDays      = 30
)

// ParseConfig reads and validates a configuration; the error lists every problem found.
func ParseConfig(r io.Reader) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("parse configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Validate reports every problem in the configuration at once.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Agency.Name.In(DefaultLanguage) == "" {
		bad("agency.name: a name in %s is required", DefaultLanguage)
	}
	locations := map[string]bool{}
	for i, l := range cfg.Locations {
		where := fmt.Sprintf("locations[%d]", i)
		checkID(bad, where, l.ID, locations)
		checkName(bad, where, l.Name)
		if _, err := ParseWeekly(l.OpeningHours); err != nil {
			bad("%s.opening_hours: %w", where, err)
		}
	}
	for i, c := range cfg.Closures {
		if _, err := calendar.ParseDate(c.Day); err != nil {
			bad("closures[%d].day: %w", i, err)
		}
		if c.Location != "" && !locations[c.Location] {
			bad("closures[%d].location: unknown location %q", i, c.Location)
		}
	}
	services, themes, letters := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, s := range cfg.Services {
		where := fmt.Sprintf("services[%d]", i)
		checkID(bad, where, s.ID, services)
		checkName(bad, where, s.Name)
		if w := s.WalkIn; w != nil {
			if ValidLetter(w.Letter) && letters[w.Letter] {
				bad("%s.walk_in.letter: %q is used by another service", where, w.Letter)
			}
			letters[w.Letter] = true
			if _, err := ParseWeekly(w.Hours); err != nil {
				bad("%s.walk_in.hours: %w", where, err)
			}
			if !w.AlwaysOpen && len(w.Hours) == 0 {
				bad("%s.walk_in: give hours or always_open", where)
			}
			// The file and the configuration pages accept the same queues.
			for _, err := range w.settings().problems() {
				bad("%s.walk_in: %w", where, err)
			}
		}
		for j, th := range s.Themes {
			where := fmt.Sprintf("%s.themes[%d]", where, j)
			checkID(bad, where, th.ID, themes)
			checkName(bad, where, th.Name)
			if th.DurationMinutes <= 0 || th.DurationMinutes > 480 || th.DurationMinutes%5 != 0 {
				bad("%s.duration_minutes: %d is not a multiple of 5 between 5 and 480", where, th.DurationMinutes)
			}
			if th.BufferMinutes < 0 || th.BufferMinutes > 120 || th.BufferMinutes%5 != 0 {
				bad("%s.buffer_minutes: %d is not a multiple of 5 between 0 and 120", where, th.BufferMinutes)
			}
			if !th.AuthLevel.Valid() {
				bad("%s.auth_level: %q is not none, weak or strong", where, th.AuthLevel)
			}
			if th.MinNoticeMinutes != nil && *th.MinNoticeMinutes < 0 {
				bad("%s.min_notice_minutes: must not be negative", where)
			}
			if th.HorizonDays < 0 || th.HorizonDays > 366 {
				bad("%s.horizon_days: %d is not between 1 and 366", where, th.HorizonDays)
			}
		}
	}
	staff := map[string]bool{}
	emails := map[string]string{} // lower-case e-mail -> the first staff id with it
	for i, s := range cfg.Staff {
		where := fmt.Sprintf("staff[%d]", i)
		checkID(bad, where, s.ID, staff)
		if strings.TrimSpace(s.Name) == "" {
			bad("%s.name: required", where)
		}
		if email := strings.ToLower(strings.TrimSpace(s.Email)); email != "" {
			if first, dup := emails[email]; dup {
				bad("%s.email: the same e-mail as staff %q (staff sign in with it)", where, first)
			} else {
				emails[email] = s.ID
			}
		}
		if !locations[s.Location] {
			bad("%s.location: unknown location %q", where, s.Location)
		}
		switch s.Role {
		case "", RoleAgent, RoleInterpreter, RoleSupervisor, RoleAdministrator:
		default:
			bad("%s.role: unknown role %q", where, s.Role)
		}
		for _, l := range s.Languages {
			if l != LangPT && l != LangEN && l != LangLGP {
				bad("%s.languages: unknown language %q (pt, en or lgp)", where, l)
			}
		}
		for _, th := range s.Themes {
			if !themes[th] {
				bad("%s.themes: unknown theme %q", where, th)
			}
		}
		if _, err := ParseWeekly(s.Hours); err != nil {
			bad("%s.hours: %w", where, err)
		}
		for j, a := range s.Absences {
			if _, _, err := a.Span(calendar.Lisbon()); err != nil {
				bad("%s.absences[%d]: %w", where, j, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

func checkID(bad func(string, ...any), where, id string, seen map[string]bool) {
	if !idPattern.MatchString(id) {
		bad("%s.id: %q must be lower-case letters, digits and hyphens", where, id)
	}
	if seen[id] {
		bad("%s.id: %q is used twice", where, id)
	}
	seen[id] = true
}

func checkName(bad func(string, ...any), where string, name Text) {
	if name.In(DefaultLanguage) == "" {
		bad("%s.name: a name is required", where)
	}
}

// Span returns the absence as an interval of time.
func (a AbsenceConfig) Span(loc *time.Location) (time.Time, time.Time, error) {
	if from, err := calendar.ParseDate(a.From); err == nil {
		to, err := calendar.ParseDate(a.To)
		if err != nil || to.Before(from) {
			return time.Time{}, time.Time{}, fmt.Errorf("to: want a day on or after %s", a.From)
		}
		return from.Start(loc), to.AddDays(1).Start(loc), nil
	}
	from, err1 := time.Parse(time.RFC3339, a.From)
	to, err2 := time.Parse(time.RFC3339, a.To)
	if err1 != nil || err2 != nil || !to.After(from) {
		return time.Time{}, time.Time{}, errors.New("from and to: want two days (YYYY-MM-DD) or two RFC 3339 times, in order")
	}
	return from, to, nil
}

// ParseWeekly reads weekly ranges such as {"mon": ["09:00-12:30", "14:00-17:00"]}.
func ParseWeekly(days map[string][]string) ([]WeeklyRange, error) {
	var out []WeeklyRange
	var errs []error
	for name, spans := range days {
		wd, ok := weekdayNames[strings.ToLower(name)]
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not a weekday (mon..sun)", name))
			continue
		}
		for _, span := range spans {
			r, err := parseRange(span)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", name, span, err))
				continue
			}
			r.Weekday = wd
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

func parseRange(s string) (WeeklyRange, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return WeeklyRange{}, errors.New("want HH:MM-HH:MM")
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err1 != nil || err2 != nil {
		return WeeklyRange{}, errors.New("want HH:MM-HH:MM on 5-minute marks")
	}
	if end <= start {
		return WeeklyRange{}, errors.New("the end must come after the start")
	}
	return WeeklyRange{StartMinute: start, EndMinute: end}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, errors.New("want HH:MM")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || mm%5 != 0 || hh*60+mm > 1440 {
		return 0, errors.New("want HH:MM")
	}
	return hh*60 + mm, nil
}

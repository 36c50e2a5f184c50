package admin

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"balcao/internal/directory"
)

// form values <-> configuration, with a translation key per problem.

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// problems collects a form's problems by field.
type problems map[string]string

func (p problems) add(name, key string) {
	if _, ok := p[name]; !ok {
		p[name] = key
	}
}

// anyPrefixed tells whether a field whose name starts with prefix has a problem.
func (p problems) anyPrefixed(prefix string) bool {
	for name := range p {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// id reads a new entity's id.
func (p problems) id(v url.Values, name string) string {
	id := strings.TrimSpace(v.Get(name))
	switch {
	case id == "":
		p.add(name, "error.required")
	case !idPattern.MatchString(id):
		p.add(name, "admin.error.id")
	}
	return id
}

// text reads a text given in Portuguese (name_pt) and English (name_en).
func (p problems) text(v url.Values, name string, required bool, max int) directory.Text {
	t := directory.Text{}
	for _, l := range []struct{ suffix, lang string }{{"_pt", "pt-PT"}, {"_en", "en"}} {
		s := strings.TrimSpace(v.Get(name + l.suffix))
		if len(s) > max {
			p.add(name+l.suffix, "error.too_long")
		}
		if s != "" {
			t[l.lang] = s
		}
	}
	if required && t["pt-PT"] == "" {
		p.add(name+"_pt", "error.required")
	}
	return t
}

// setText writes a text into the form's values.
func setText(v url.Values, name string, t directory.Text) {
	v.Set(name+"_pt", t["pt-PT"])
	v.Set(name+"_en", t["en"])
}

// number reads a whole number between min and max, a multiple of step.
func (p problems) number(v url.Values, name string, min, max, step int) int {
	s := strings.TrimSpace(v.Get(name))
	n, err := strconv.Atoi(s)
	switch {
	case s == "":
		p.add(name, "error.required")
	case err != nil || n < min || n > max || n%step != 0:
		if step > 1 {
			p.add(name, "admin.error.number_step")
		} else {
			p.add(name, "admin.error.number")
		}
	}
	return n
}

// oneOf reads a value that must be one of allowed.
func (p problems) oneOf(v url.Values, name string, allowed ...string) string {
	s := v.Get(name)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	if s == "" {
		p.add(name, "error.required")
	} else {
		p.add(name, "admin.error.choice")
	}
	return ""
}

// weekdays are the days of a week form, Monday first.
var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// weekly reads the hours of each weekday (fields hours_mon .. hours_sun, each like
// "09:00-12:30, 14:00-17:30") as ParseWeekly's map, refusing overlaps.
func (p problems) weekly(v url.Values) map[string][]string {
	out := map[string][]string{}
	for _, d := range weekdays {
		name := "hours_" + directory.WeekdayKey(d)
		var spans []string
		for _, part := range strings.FieldsFunc(v.Get(name), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
			spans = append(spans, strings.ReplaceAll(part, "h", ":"))
		}
		if len(spans) == 0 {
			continue
		}
		ranges, err := directory.ParseWeekly(map[string][]string{directory.WeekdayKey(d): spans})
		if err != nil {
			p.add(name, "admin.error.hours")
			continue
		}
		if directory.Overlap(ranges) {
			p.add(name, "admin.error.hours_overlap")
		}
		out[directory.WeekdayKey(d)] = spans
	}
	return out
}

// setWeekly writes weekly ranges into the form's values.
func setWeekly(v url.Values, ranges []directory.WeeklyRange) {
	for _, d := range weekdays {
		v.Set("hours_"+directory.WeekdayKey(d), directory.FormatWeekly(ranges, d))
	}
}

// weekFields are the inputs of a week's hours.
func (b *builder) weekFields() []field {
	var out []field
	for _, d := range weekdays {
		name := "hours_" + directory.WeekdayKey(d)
		f := b.field("text", name, "admin.weekday."+directory.WeekdayKey(d), maxlength(100))
		f.Autocomplete = "off"
		out = append(out, f)
	}
	if len(out) > 0 {
		out[0].Hint = b.pg.T("admin.hours.hint")
	}
	return out
}

// day reads a day (YYYY-MM-DD), as a date input sends it.
func (p problems) day(v url.Values, name string) (time.Time, bool) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		p.add(name, "error.required")
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		p.add(name, "error.date")
		return time.Time{}, false
	}
	return d, true
}

// clock reads an optional time of day (HH:MM) as minutes after midnight; def when empty.
func (p problems) clock(v url.Values, name string, def int) int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		p.add(name, "admin.error.time")
		return def
	}
	return t.Hour()*60 + t.Minute()
}

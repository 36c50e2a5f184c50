package booking

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"balcao/internal/ptid"
)

// FieldErrors maps a field's JSON path ("citizen.email") to the translation key of what
// is wrong with it.
type FieldErrors map[string]string

// Citizen is who an appointment or contact request is for, as they typed it.
type Citizen struct {
	Name     string
	Email    string
	Phone    string
	NISS     string
	NIF      string
	Language string // interface language tag: "pt-PT" or "en"
}

// Request asks for an appointment.
type Request struct {
	ThemeID      string
	Start        time.Time
	Citizen      Citizen
	SignLanguage bool
	Notes        string
	TimeZone     string // the citizen's own zone, for the times in messages
	Channel      string // "portal" or "api"
}

// Limits on free text, in characters.
const (
	MaxName    = 200
	MaxNotes   = 1000
	MaxSubject = 200
	MaxMessage = 2000
	MaxTimes   = 500
)

// Normalize tidies what the citizen typed (spaces, e-mail domain case, phone to E.164,
// identifiers to digits) and reports every field that is still wrong.
func (c *Citizen) Normalize(errs FieldErrors, emailRequired bool) {
	c.Name = strings.TrimSpace(c.Name)
	checkText(errs, "citizen.name", c.Name, MaxName, true, false)
	c.Email = strings.TrimSpace(c.Email)
	switch {
	case c.Email == "" && emailRequired:
		errs["citizen.email"] = "error.required"
	case c.Email != "":
		email, err := ptid.ParseEmail(c.Email)
		if err != nil {
			errs["citizen.email"] = "error.email"
		}
		c.Email = email
	}
	if c.Phone = strings.TrimSpace(c.Phone); c.Phone != "" {
		phone, err := ptid.ParsePhone(c.Phone)
		if err != nil {
			errs["citizen.phone"] = "error.phone"
		}
		c.Phone = phone
	}
	if c.NISS = ptid.Digits(strings.TrimSpace(c.NISS)); c.NISS != "" && !ptid.ValidNISS(c.NISS) {
		errs["citizen.niss"] = "error.niss"
	}
	if c.NIF = ptid.Digits(strings.TrimSpace(c.NIF)); c.NIF != "" && !ptid.ValidNIF(c.NIF) {
		errs["citizen.nif"] = "error.nif"
	}
	lang, ok := ParseLanguage(c.Language)
	if !ok {
		errs["citizen.language"] = "error.language"
	}
	c.Language = lang
}

// ParseLanguage maps the language a citizen asked for ("pt", "pt-PT", "en", or nothing)
// to an interface language tag.
func ParseLanguage(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "pt", "pt-pt":
		return "pt-PT", true
	case "en", "en-gb", "en-us":
		return "en", true
	}
	return "pt-PT", false
}

// Validate tidies the request and reports every field that is wrong.
func (r *Request) Validate() FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(r.ThemeID) == "" {
		errs["theme"] = "error.required"
	}
	if r.Start.IsZero() {
		errs["start"] = "error.required"
	}
	r.Citizen.Normalize(errs, true)
	r.Notes = strings.TrimSpace(r.Notes)
	checkText(errs, "needs.notes", r.Notes, MaxNotes, false, true)
	if r.TimeZone == "" {
		r.TimeZone = "Europe/Lisbon"
	}
	if _, err := time.LoadLocation(r.TimeZone); err != nil || strings.Contains(r.TimeZone, "..") {
		r.TimeZone = "Europe/Lisbon"
	}
	return errs
}

// ContactRequest asks the agency to get in touch (pedido de contacto).
type ContactRequest struct {
	ThemeID        string
	Citizen        Citizen
	Subject        string
	Message        string
	PreferredTimes string
}

// Validate tidies the request and reports every field that is wrong.
func (r *ContactRequest) Validate() FieldErrors {
	errs := FieldErrors{}
	r.Citizen.Normalize(errs, false)
	if r.Citizen.Email == "" && r.Citizen.Phone == "" && errs["citizen.email"] == "" && errs["citizen.phone"] == "" {
		errs["citizen.email"] = "error.email_or_phone"
	}
	r.Subject = strings.TrimSpace(r.Subject)
	checkText(errs, "subject", r.Subject, MaxSubject, true, false)
	r.Message = strings.TrimSpace(r.Message)
	checkText(errs, "message", r.Message, MaxMessage, false, true)
	r.PreferredTimes = strings.TrimSpace(r.PreferredTimes)
	checkText(errs, "preferred_times", r.PreferredTimes, MaxTimes, false, true)
	return errs
}

// checkText rejects text that is missing, too long, not UTF-8, or holds characters that
// have no place in a name or message: control characters (line breaks aside, where
// multiline) and invisible formatting characters such as bidi overrides, which can make
// what an agent reads differ from what was stored.
func checkText(errs FieldErrors, field, s string, maxLen int, required, multiline bool) {
	switch {
	case s == "" && required:
		errs[field] = "error.required"
	case !utf8.ValidString(s):
		errs[field] = "error.characters"
	case utf8.RuneCountInString(s) > maxLen:
		errs[field] = "error.too_long"
	default:
		for _, r := range s {
			if multiline && (r == '\n' || r == '\r' || r == '\t') {
				continue
			}
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
				errs[field] = "error.characters"
				return
			}
		}
	}
}

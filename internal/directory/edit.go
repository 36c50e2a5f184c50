package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/store"
)

// This file changes the configuration one entity at a time, for the configuration
// pages, and reads it back whole for them. Callers validate first and run these in the
// transaction that also checks the change orphans no appointment.

// Errors of the editing functions.
var (
	ErrEmailTaken        = errors.New("e-mail already used by another staff member")
	ErrServiceHasThemes  = errors.New("service still has themes")
	ErrDuplicateID       = errors.New("id already used")
	ErrUnknownLocationID = errors.New("unknown location")
	ErrLocationInUse     = errors.New("location still in use")
)

// SetAgencyName changes the agency's name.
func SetAgencyName(ctx context.Context, q store.Queryer, name Text) error {
	if err := setSetting(ctx, q, settingAgencyName, name); err != nil {
		return fmt.Errorf("set agency name: %w", err)
	}
	return nil
}

// CreateService adds a service, after the others; ErrDuplicateID if its id is taken
// (by a withdrawn service too).
func CreateService(ctx context.Context, q store.Queryer, s ServiceConfig) error {
	_, err := q.Exec(ctx, `INSERT INTO services (id, name, description, position)
		VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM services))`, s.ID, s.Name, s.Description)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("create service %s: %w", s.ID, ErrDuplicateID)
	}
	if err != nil {
		return fmt.Errorf("create service %s: %w", s.ID, err)
	}
	return nil
}

// UpdateService changes a service's name and description.
func UpdateService(ctx context.Context, q store.Queryer, s ServiceConfig) error {
	return affectOne(q.Exec(ctx, "UPDATE services SET name = ?, description = ? WHERE id = ? AND active", s.Name, s.Description, s.ID))("update service " + s.ID)
}

// DeactivateService withdraws a service that has no themes left; ErrServiceHasThemes
// otherwise, and a *TicketsWaitingError while its walk-in queue still holds tickets.
func DeactivateService(ctx context.Context, q store.Queryer, id string) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM themes WHERE service_id = ? AND active", id).Scan(&n); err != nil {
		return fmt.Errorf("withdraw service %s: %w", id, err)
	}
	if n > 0 {
		return fmt.Errorf("withdraw service %s: %w", id, ErrServiceHasThemes)
	}
	if err := RemoveWalkIn(ctx, q, id); err != nil {
		return fmt.Errorf("withdraw service %s: %w", id, err)
	}
	return affectOne(q.Exec(ctx, "UPDATE services SET active = FALSE WHERE id = ? AND active", id))("withdraw service " + id)
}

// CreateTheme adds a theme to a service, after its others; ErrDuplicateID if its id is
// taken (by a withdrawn theme too).
func CreateTheme(ctx context.Context, q store.Queryer, serviceID string, th ThemeConfig) error {
	notice, horizon := themeRules(th)
	_, err := q.Exec(ctx, `INSERT INTO themes (id, service_id, name, description, instructions, duration_minutes,
			buffer_minutes, auth_level, min_notice_minutes, horizon_days, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM themes WHERE service_id = ?))`,
		th.ID, serviceID, th.Name, th.Description, th.Instructions, th.DurationMinutes, th.BufferMinutes, string(th.AuthLevel),
		notice, horizon, serviceID)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("create theme %s: %w", th.ID, ErrDuplicateID)
	}
	if err != nil {
		return fmt.Errorf("create theme %s: %w", th.ID, err)
	}
	return nil
}

// UpdateTheme changes a theme's texts and booking rules. Appointments already booked keep
// their times; new bookings follow the new rules at once.
func UpdateTheme(ctx context.Context, q store.Queryer, th ThemeConfig) error {
	notice, horizon := themeRules(th)
	return affectOne(q.Exec(ctx, `UPDATE themes SET name = ?, description = ?, instructions = ?, duration_minutes = ?,
			buffer_minutes = ?, auth_level = ?, min_notice_minutes = ?, horizon_days = ? WHERE id = ? AND active`,
		th.Name, th.Description, th.Instructions, th.DurationMinutes, th.BufferMinutes, string(th.AuthLevel), notice, horizon, th.ID))("update theme " + th.ID)
}

func themeRules(th ThemeConfig) (notice, horizon int) {
	notice, horizon = DefaultMinNoticeMinutes, th.HorizonDays
	if th.MinNoticeMinutes != nil {
		notice = *th.MinNoticeMinutes
	}
	if horizon == 0 {
		horizon = DefaultHorizonDays
	}
	return notice, horizon
}

// DeactivateTheme withdraws a theme: it is no longer offered nor served. Appointments
// keep referring to it; callers refuse to withdraw a theme with appointments to come.
func DeactivateTheme(ctx context.Context, q store.Queryer, id string) error {
	if _, err := q.Exec(ctx, "DELETE FROM staff_themes WHERE theme_id = ?", id); err != nil {
		return fmt.Errorf("withdraw theme %s: %w", id, err)
	}
	return affectOne(q.Exec(ctx, "UPDATE themes SET active = FALSE WHERE id = ? AND active", id))("withdraw theme " + id)
}

// SaveLocation creates or updates a location and replaces its opening hours.
func SaveLocation(ctx context.Context, q store.Queryer, l LocationConfig) error {
	if err := applyLocation(ctx, q, l); err != nil {
		return fmt.Errorf("save location %s: %w", l.ID, err)
	}
	return nil
}

// DeleteLocation deletes a location and its opening hours, once nothing refers to it;
// otherwise it is refused with a *LocationInUseError saying what still does. Its past
// closures go with it.
func DeleteLocation(ctx context.Context, q store.Queryer, id string, now time.Time) error {
	uses, err := LocationUsesOf(ctx, q, id, now)
	if err != nil {
		return fmt.Errorf("delete location %s: %w", id, err)
	}
	if uses.Any() {
		return fmt.Errorf("delete location %s: %w", id, &LocationInUseError{Uses: uses})
	}
	if _, err := q.Exec(ctx, "DELETE FROM closures WHERE location_id = ?", id); err != nil {
		return fmt.Errorf("delete location %s: %w", id, err)
	}
	res, err := q.Exec(ctx, "DELETE FROM locations WHERE id = ?", id)
	if store.IsForeignKeyViolation(err) {
		// Something came to refer to it since the count (on PostgreSQL, another
		// transaction): the same refusal, without the count.
		return fmt.Errorf("delete location %s: %w", id, &LocationInUseError{})
	}
	return affectOne(res, err)("delete location " + id)
}

// LocationUses counts what refers to a location.
type LocationUses struct {
	Staff        int // staff members of the location, disabled accounts included
	Appointments int // booked appointments to come with them
	Closures     int // closures of the location on today or later
	Visitors     int // agents of other locations moved to serve its citizens
}

// Any tells whether anything refers to the location.
func (u LocationUses) Any() bool { return u != LocationUses{} }

// LocationInUseError refuses to delete a location something still refers to.
type LocationInUseError struct{ Uses LocationUses }

func (e *LocationInUseError) Error() string {
	u := e.Uses
	return fmt.Sprintf("location in use: %d staff, %d appointments to come, %d closures to come, %d agents serving it",
		u.Staff, u.Appointments, u.Closures, u.Visitors)
}

func (e *LocationInUseError) Unwrap() error { return ErrLocationInUse }

// LocationUsesOf counts what refers to a location at now; store.ErrNotFound if there is
// no such location.
func LocationUsesOf(ctx context.Context, q store.Queryer, id string, now time.Time) (LocationUses, error) {
	var u LocationUses
	today := calendar.DateOf(now.In(calendar.Lisbon())).String()
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM locations WHERE id = ?", id).Scan(&n); err != nil {
		return u, fmt.Errorf("uses of location %s: %w", id, err)
	}
	if n == 0 {
		return u, fmt.Errorf("location %q: %w", id, store.ErrNotFound)
	}
	for _, c := range []struct {
		into  *int
		query string
		args  []any
	}{
		{&u.Staff, "SELECT COUNT(*) FROM staff WHERE location_id = ?", []any{id}},
		{&u.Appointments, `SELECT COUNT(*) FROM appointments a WHERE a.status = 'booked' AND a.ends_at > ? AND EXISTS
			(SELECT 1 FROM staff s WHERE s.location_id = ? AND (s.id = a.agent_id OR s.id = a.interpreter_id))`, []any{now.Unix(), id}},
		{&u.Closures, "SELECT COUNT(*) FROM closures WHERE location_id = ? AND day >= ?", []any{id, today}},
		{&u.Visitors, "SELECT COUNT(*) FROM agent_states WHERE pool = ?", []any{id}},
	} {
		if err := q.QueryRow(ctx, c.query, c.args...).Scan(c.into); err != nil {
			return u, fmt.Errorf("uses of location %s: %w", id, err)
		}
	}
	return u, nil
}

// EnableStaff lets a disabled staff member sign in and be booked again, with the password
// and second factor they had. Their sessions ended when they were disabled and stay ended.
func EnableStaff(ctx context.Context, q store.Queryer, id string) error {
	return affectOne(q.Exec(ctx, "UPDATE staff SET active = TRUE, disabled_at = 0 WHERE id = ?", id))("enable staff " + id)
}

// SaveStaff creates or updates a staff member with their languages, themes and weekly
// hours (replacing those they had), leaving their absences and sign-in alone.
// ErrEmailTaken when another staff member has the e-mail.
func SaveStaff(ctx context.Context, q store.Queryer, s StaffConfig) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM locations WHERE id = ?", s.Location).Scan(&n); err != nil {
		return fmt.Errorf("save staff %s: %w", s.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("save staff %s: %w", s.ID, ErrUnknownLocationID)
	}
	if err := saveStaff(ctx, q, s); err != nil {
		return fmt.Errorf("save staff %s: %w", s.ID, err)
	}
	return nil
}

// AddAbsence records that a staff member cannot be booked in [from, to).
func AddAbsence(ctx context.Context, q store.Queryer, staffID string, from, to time.Time, reason string) (string, error) {
	id := store.NewID()
	if _, err := q.Exec(ctx, "INSERT INTO staff_absences (id, staff_id, starts_at, ends_at, reason) VALUES (?, ?, ?, ?, ?)",
		id, staffID, from.Unix(), to.Unix(), reason); err != nil {
		return "", fmt.Errorf("add absence of %s: %w", staffID, err)
	}
	return id, nil
}

// DeleteAbsence removes one of a staff member's absences.
func DeleteAbsence(ctx context.Context, q store.Queryer, staffID, id string) error {
	return affectOne(q.Exec(ctx, "DELETE FROM staff_absences WHERE id = ? AND staff_id = ?", id, staffID))("delete absence " + id)
}

// SaveClosure closes a location (or, with LocationID "", the whole agency) on a day.
func SaveClosure(ctx context.Context, q store.Queryer, c Closure) error {
	if _, err := q.Exec(ctx, `INSERT INTO closures (location_id, day, name) VALUES (?, ?, ?)
		ON CONFLICT (location_id, day) DO UPDATE SET name = excluded.name`, c.LocationID, c.Day, c.Name); err != nil {
		return fmt.Errorf("save closure %s: %w", c.Day, err)
	}
	return nil
}

// DeleteClosure opens again a day that was closed.
func DeleteClosure(ctx context.Context, q store.Queryer, locationID, day string) error {
	return affectOne(q.Exec(ctx, "DELETE FROM closures WHERE location_id = ? AND day = ?", locationID, day))("delete closure " + day)
}

// affectOne turns an Exec's answer into an error: store.ErrNotFound when no row changed.
func affectOne(res sql.Result, err error) func(what string) error {
	return func(what string) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		}
		return nil
	}
}

// Locations returns the active locations with their opening hours, by id.
func Locations(ctx context.Context, q store.Queryer) ([]Location, error) {
	var out []Location
	err := eachRow(ctx, q, "SELECT id, name, region FROM locations WHERE active ORDER BY id", nil, func(rows *sql.Rows) error {
		var l Location
		if err := rows.Scan(&l.ID, &l.Name, &l.Region); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	hours, err := OpeningHours(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].OpeningHours = sortRanges(hours[out[i].ID])
	}
	return out, nil
}

// LocationByID returns one active location with its opening hours.
func LocationByID(ctx context.Context, q store.Queryer, id string) (Location, error) {
	all, err := Locations(ctx, q)
	if err != nil {
		return Location{}, err
	}
	for _, l := range all {
		if l.ID == id {
			return l, nil
		}
	}
	return Location{}, fmt.Errorf("location %q: %w", id, store.ErrNotFound)
}

// StaffEntry is a staff member as the configuration pages list and edit them.
type StaffEntry struct {
	Staff
	Active bool
}

// StaffList returns every staff member (active or not) with their languages, themes and
// weekly hours, by name; absences are left out.
func StaffList(ctx context.Context, q store.Queryer) ([]StaffEntry, error) {
	return staffEntries(ctx, q, "", nil)
}

// StaffByID returns one staff member with their languages, themes, weekly hours and the
// absences that have not ended by since.
func StaffByID(ctx context.Context, q store.Queryer, id string, since time.Time) (StaffEntry, error) {
	list, err := staffEntries(ctx, q, " WHERE s.id = ?", []any{id})
	if err != nil {
		return StaffEntry{}, err
	}
	if len(list) == 0 {
		return StaffEntry{}, fmt.Errorf("staff %q: %w", id, store.ErrNotFound)
	}
	s := list[0]
	err = eachRow(ctx, q, "SELECT id, starts_at, ends_at, reason FROM staff_absences WHERE staff_id = ? AND ends_at > ? ORDER BY starts_at, id",
		[]any{id, since.Unix()}, func(rows *sql.Rows) error {
			var a Absence
			var start, end int64
			if err := rows.Scan(&a.ID, &start, &end, &a.Reason); err != nil {
				return err
			}
			a.Start, a.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
			s.Absences = append(s.Absences, a)
			return nil
		})
	if err != nil {
		return StaffEntry{}, fmt.Errorf("list absences of %s: %w", id, err)
	}
	return s, nil
}

func staffEntries(ctx context.Context, q store.Queryer, where string, args []any) ([]StaffEntry, error) {
	var out []StaffEntry
	index := map[string]int{}
	err := eachRow(ctx, q, `SELECT s.id, s.name, s.email, s.location_id, s.role, s.active AND s.disabled_at = 0 FROM staff s`+where+
		" ORDER BY s.name, s.id", args, func(rows *sql.Rows) error {
		var e StaffEntry
		if err := rows.Scan(&e.ID, &e.Name, &e.Email, &e.LocationID, &e.Role, &e.Active); err != nil {
			return err
		}
		index[e.ID] = len(out)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	filter := ""
	if where != "" {
		filter = " WHERE staff_id = ?"
	}
	for _, part := range []struct {
		query string
		scan  func(rows *sql.Rows) error
	}{
		{"SELECT staff_id, language FROM staff_languages" + filter + " ORDER BY language", func(rows *sql.Rows) error {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			if i, ok := index[id]; ok {
				out[i].Languages = append(out[i].Languages, v)
			}
			return nil
		}},
		{"SELECT staff_id, theme_id FROM staff_themes" + filter + " ORDER BY theme_id", func(rows *sql.Rows) error {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			if i, ok := index[id]; ok {
				out[i].Themes = append(out[i].Themes, v)
			}
			return nil
		}},
		{"SELECT staff_id, weekday, start_minute, end_minute FROM staff_hours" + filter + " ORDER BY weekday, start_minute", func(rows *sql.Rows) error {
			var id string
			var h WeeklyRange
			var wd int
			if err := rows.Scan(&id, &wd, &h.StartMinute, &h.EndMinute); err != nil {
				return err
			}
			h.Weekday = time.Weekday(wd)
			if i, ok := index[id]; ok {
				out[i].Hours = append(out[i].Hours, h)
			}
			return nil
		}},
	} {
		if err := eachRow(ctx, q, part.query, args, part.scan); err != nil {
			return nil, fmt.Errorf("list staff: %w", err)
		}
	}
	return out, nil
}

// UpcomingClosures returns the closures on fromDay (YYYY-MM-DD) and after, by day.
func UpcomingClosures(ctx context.Context, q store.Queryer, fromDay string) ([]Closure, error) {
	return Closures(ctx, q, fromDay, "9999-12-31")
}

// sortRanges orders weekly ranges by weekday (Monday first) and start.
func sortRanges(rs []WeeklyRange) []WeeklyRange {
	key := func(r WeeklyRange) int { return (int(r.Weekday)+6)%7*1440 + r.StartMinute }
	out := append([]WeeklyRange(nil), rs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && key(out[j]) < key(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// FormatWeekly writes the ranges of one weekday as "09:00-12:30, 14:00-17:30".
func FormatWeekly(rs []WeeklyRange, day time.Weekday) string {
	var parts []string
	for _, r := range sortRanges(rs) {
		if r.Weekday == day {
			parts = append(parts, fmt.Sprintf("%02d:%02d-%02d:%02d", r.StartMinute/60, r.StartMinute%60, r.EndMinute/60, r.EndMinute%60))
		}
	}
	return strings.Join(parts, ", ")
}

// WeekdayKey is the key of a weekday in ParseWeekly's map ("mon").
func WeekdayKey(d time.Weekday) string {
	return [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d]
}

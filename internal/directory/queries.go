package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/store"
)

const settingAgencyName = "agency.name"

func setSetting(ctx context.Context, q store.Queryer, key string, value Text) error {
	v, err := value.Value()
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return err
}

// AgencyName returns the agency's name; an unconfigured agency has an empty name.
func AgencyName(ctx context.Context, q store.Queryer) (Text, error) {
	var name Text
	err := q.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", settingAgencyName).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return Text{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agency name: %w", err)
	}
	return name, nil
}

// IsEmpty tells whether no service has been configured yet (a fresh database).
func IsEmpty(ctx context.Context, q store.Queryer) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM services").Scan(&n); err != nil {
		return false, fmt.Errorf("count services: %w", err)
	}
	return n == 0, nil
}

const themeColumns = `id, service_id, name, description, instructions, duration_minutes, buffer_minutes,
	auth_level, min_notice_minutes, horizon_days, position`

func scanTheme(row interface{ Scan(...any) error }) (Theme, error) {
	var th Theme
	var duration, buffer, notice int
	var level string
	err := row.Scan(&th.ID, &th.ServiceID, &th.Name, &th.Description, &th.Instructions, &duration, &buffer,
		&level, &notice, &th.HorizonDays, &th.Position)
	th.Duration = time.Duration(duration) * time.Minute
	th.Buffer = time.Duration(buffer) * time.Minute
	th.MinNotice = time.Duration(notice) * time.Minute
	th.AuthLevel = AuthLevel(level)
	return th, err
}

// Services returns the active services, each with its active themes, in display order.
func Services(ctx context.Context, q store.Queryer) ([]Service, error) {
	rows, err := q.Query(ctx, "SELECT id, name, description, position FROM services WHERE active ORDER BY position, id")
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var services []Service
	index := map[string]int{}
	for rows.Next() {
		var s Service
		if err := rows.Scan(&s.ID, &s.Name, &s.Description, &s.Position); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list services: %w", err)
		}
		index[s.ID] = len(services)
		services = append(services, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	rows, err = q.Query(ctx, "SELECT "+themeColumns+" FROM themes WHERE active ORDER BY position, id")
	if err != nil {
		return nil, fmt.Errorf("list themes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		th, err := scanTheme(rows)
		if err != nil {
			return nil, fmt.Errorf("list themes: %w", err)
		}
		if i, ok := index[th.ServiceID]; ok {
			services[i].Themes = append(services[i].Themes, th)
		}
	}
	return services, rows.Err()
}

// Service returns one active service with its themes.
func ServiceByID(ctx context.Context, q store.Queryer, id string) (Service, error) {
	services, err := Services(ctx, q)
	if err != nil {
		return Service{}, err
	}
	for _, s := range services {
		if s.ID == id {
			return s, nil
		}
	}
	return Service{}, fmt.Errorf("service %q: %w", id, store.ErrNotFound)
}

// ThemeByID returns one active theme.
func ThemeByID(ctx context.Context, q store.Queryer, id string) (Theme, error) {
	th, err := scanTheme(q.QueryRow(ctx, "SELECT "+themeColumns+" FROM themes WHERE id = ? AND active", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Theme{}, fmt.Errorf("theme %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Theme{}, fmt.Errorf("read theme %q: %w", id, err)
	}
	return th, nil
}

// agentOf is the condition that makes staff member s an agent of the theme given as its
// one argument.
const agentOf = `s.role = 'agent' AND EXISTS
		(SELECT 1 FROM staff_themes st WHERE st.staff_id = s.id AND st.theme_id = ?)`

// Agents returns the active staff who serve the theme, with their weekly hours on the
// weekdays that [from, to) touches and the absences that overlap it.
func Agents(ctx context.Context, q store.Queryer, themeID string, from, to time.Time) ([]Staff, error) {
	return staffWhere(ctx, q, from, to, agentOf+" ORDER BY s.id", themeID)
}

// AgentsFrom is Agents for up to limit agents who also meet cond (an SQL condition on
// staff s, with its arguments; empty for none), taken in the order of their ids from the
// first at or after pivot, wrapping around past the last. Booking one seat needs one free
// agent, not all of them: a few, read through the primary key, keep a booking's cost flat
// however many agents serve the theme; a random pivot spreads concurrent bookings.
func AgentsFrom(ctx context.Context, q store.Queryer, themeID string, from, to time.Time, cond string, condArgs []any, pivot string, limit int) ([]Staff, error) {
	where := agentOf
	if cond != "" {
		where += " AND (" + cond + ")"
	}
	args := func(extra ...any) []any { return append(append([]any{themeID}, condArgs...), extra...) }
	staff, err := staffWhere(ctx, q, from, to, where+" AND s.id >= ? ORDER BY s.id LIMIT ?", args(pivot, limit)...)
	if err != nil || len(staff) == limit || pivot == "" {
		return staff, err
	}
	more, err := staffWhere(ctx, q, from, to, where+" AND s.id < ? ORDER BY s.id LIMIT ?", args(pivot, limit-len(staff))...)
	return append(staff, more...), err
}

// ThemeStaffIDs lists the ids of the staff linked to a theme, whether or not they are
// active.
func ThemeStaffIDs(ctx context.Context, q store.Queryer, themeID string) ([]string, error) {
	var ids []string
	err := eachRow(ctx, q, "SELECT staff_id FROM staff_themes WHERE theme_id = ?", []any{themeID}, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list staff of theme %s: %w", themeID, err)
	}
	return ids, nil
}

// Interpreters returns the active staff who sign Portuguese Sign Language, with their
// weekly hours on the weekdays that [from, to) touches (all of them, with zero times) and
// the absences that overlap it.
func Interpreters(ctx context.Context, q store.Queryer, from, to time.Time) ([]Staff, error) {
	return staffWhere(ctx, q, from, to, `EXISTS
		(SELECT 1 FROM staff_languages sl WHERE sl.staff_id = s.id AND sl.language = 'lgp') ORDER BY s.id`)
}

// staffWhere lists the active staff s that meet where (a condition, which may end with
// ORDER BY and LIMIT clauses), with their languages, their hours on the weekdays that
// [from, to) touches and the absences that overlap it.
func staffWhere(ctx context.Context, q store.Queryer, from, to time.Time, where string, args ...any) ([]Staff, error) {
	rows, err := q.Query(ctx, `SELECT s.id, s.name, s.email, s.location_id, s.role FROM staff s
		WHERE s.active AND `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	var staff []Staff
	index := map[string]int{}
	for rows.Next() {
		var s Staff
		if err := rows.Scan(&s.ID, &s.Name, &s.Email, &s.LocationID, &s.Role); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list staff: %w", err)
		}
		index[s.ID] = len(staff)
		staff = append(staff, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(staff) == 0 {
		return staff, err
	}
	ids := make([]any, 0, len(staff))
	for _, s := range staff {
		ids = append(ids, s.ID)
	}
	in := placeholders(len(ids))
	if err := eachRow(ctx, q, "SELECT staff_id, weekday, start_minute, end_minute FROM staff_hours WHERE staff_id IN ("+in+")"+weekdaysIn(from, to), ids,
		func(rows *sql.Rows) error {
			var id string
			var h WeeklyRange
			var wd int
			if err := rows.Scan(&id, &wd, &h.StartMinute, &h.EndMinute); err != nil {
				return err
			}
			h.Weekday = time.Weekday(wd)
			staff[index[id]].Hours = append(staff[index[id]].Hours, h)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("list staff hours: %w", err)
	}
	args = append(append([]any{}, ids...), to.Unix(), from.Unix())
	if err := eachRow(ctx, q, "SELECT staff_id, id, starts_at, ends_at, reason FROM staff_absences WHERE staff_id IN ("+in+") AND starts_at < ? AND ends_at > ?", args,
		func(rows *sql.Rows) error {
			var id string
			var a Absence
			var start, end int64
			if err := rows.Scan(&id, &a.ID, &start, &end, &a.Reason); err != nil {
				return err
			}
			a.Start, a.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
			staff[index[id]].Absences = append(staff[index[id]].Absences, a)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("list staff absences: %w", err)
	}
	if err := eachRow(ctx, q, "SELECT staff_id, language FROM staff_languages WHERE staff_id IN ("+in+") ORDER BY language", ids,
		func(rows *sql.Rows) error {
			var id, lang string
			if err := rows.Scan(&id, &lang); err != nil {
				return err
			}
			staff[index[id]].Languages = append(staff[index[id]].Languages, lang)
			return nil
		}); err != nil {
		return nil, fmt.Errorf("list staff languages: %w", err)
	}
	return staff, nil
}

// OpeningHours returns every location's opening hours, by location id.
func OpeningHours(ctx context.Context, q store.Queryer) (map[string][]WeeklyRange, error) {
	out := map[string][]WeeklyRange{}
	err := eachRow(ctx, q, "SELECT location_id, weekday, start_minute, end_minute FROM opening_hours", nil,
		func(rows *sql.Rows) error {
			var id string
			var h WeeklyRange
			var wd int
			if err := rows.Scan(&id, &wd, &h.StartMinute, &h.EndMinute); err != nil {
				return err
			}
			h.Weekday = time.Weekday(wd)
			out[id] = append(out[id], h)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list opening hours: %w", err)
	}
	return out, nil
}

// Closures returns the closures between two days (YYYY-MM-DD, inclusive).
func Closures(ctx context.Context, q store.Queryer, fromDay, toDay string) ([]Closure, error) {
	var out []Closure
	err := eachRow(ctx, q, "SELECT location_id, day, name FROM closures WHERE day >= ? AND day <= ?", []any{fromDay, toDay},
		func(rows *sql.Rows) error {
			var c Closure
			if err := rows.Scan(&c.LocationID, &c.Day, &c.Name); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list closures: %w", err)
	}
	return out, nil
}

// weekdaysIn is a condition on staff_hours that keeps the weekdays on which [from, to)
// falls (in the agency's time zone), or nothing when it spans a week or is unset: hours
// on other weekdays cannot give a working window in it.
func weekdaysIn(from, to time.Time) string {
	if from.IsZero() || to.IsZero() || !to.After(from) || to.Sub(from) >= 6*24*time.Hour {
		return ""
	}
	loc := calendar.Lisbon()
	last := calendar.DateOf(to.Add(-time.Second).In(loc))
	var days []string
	for day := calendar.DateOf(from.In(loc)); !day.After(last); day = day.AddDays(1) {
		days = append(days, strconv.Itoa(int(day.Weekday())))
	}
	return " AND weekday IN (" + strings.Join(days, ",") + ")"
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func eachRow(ctx context.Context, q store.Queryer, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"balcao/internal/calendar"
	"balcao/internal/store"
)

// Apply writes a validated configuration into the database in one transaction. Entities
// are created or updated by id; nothing the file leaves out is deleted, because
// appointments may refer to it.
func Apply(ctx context.Context, db *store.DB, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := setSetting(ctx, tx, settingAgencyName, cfg.Agency.Name); err != nil {
			return err
		}
		for _, l := range cfg.Locations {
			if err := applyLocation(ctx, tx, l); err != nil {
				return fmt.Errorf("location %s: %w", l.ID, err)
			}
		}
		for _, c := range cfg.Closures {
			if _, err := tx.Exec(ctx, `INSERT INTO closures (location_id, day, name) VALUES (?, ?, ?)
				ON CONFLICT (location_id, day) DO UPDATE SET name = excluded.name`, c.Location, c.Day, c.Name); err != nil {
				return fmt.Errorf("closure %s: %w", c.Day, err)
			}
		}
		for i, s := range cfg.Services {
			if err := applyService(ctx, tx, i, s); err != nil {
				return fmt.Errorf("service %s: %w", s.ID, err)
			}
		}
		for _, s := range cfg.Staff {
			if err := applyStaff(ctx, tx, s); err != nil {
				return fmt.Errorf("staff %s: %w", s.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply configuration: %w", err)
	}
	return nil
}

func applyLocation(ctx context.Context, tx store.Queryer, l LocationConfig) error {
	if _, err := tx.Exec(ctx, `INSERT INTO locations (id, name, region) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region, active = TRUE`,
		l.ID, l.Name, l.Region); err != nil {
		return err
	}
	hours, _ := ParseWeekly(l.OpeningHours)
	if _, err := tx.Exec(ctx, "DELETE FROM opening_hours WHERE location_id = ?", l.ID); err != nil {
		return err
	}
	for _, h := range hours {
		if _, err := tx.Exec(ctx, `INSERT INTO opening_hours (location_id, weekday, start_minute, end_minute)
			VALUES (?, ?, ?, ?)`, l.ID, int(h.Weekday), h.StartMinute, h.EndMinute); err != nil {
			return err
		}
	}
	return nil
}

func applyService(ctx context.Context, tx *store.Tx, position int, s ServiceConfig) error {
	if _, err := tx.Exec(ctx, `INSERT INTO services (id, name, description, position) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
			position = excluded.position, active = TRUE`,
		s.ID, s.Name, s.Description, position); err != nil {
		return err
	}
	if err := applyWalkIn(ctx, tx, s.ID, s.WalkIn); err != nil {
		return err
	}
	for j, th := range s.Themes {
		notice := DefaultMinNoticeMinutes
		if th.MinNoticeMinutes != nil {
			notice = *th.MinNoticeMinutes
		}
		horizon := th.HorizonDays
		if horizon == 0 {
			horizon = DefaultHorizonDays
		}
		if _, err := tx.Exec(ctx, `INSERT INTO themes (id, service_id, name, description, instructions,
				duration_minutes, buffer_minutes, auth_level, min_notice_minutes, horizon_days, position)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET service_id = excluded.service_id, name = excluded.name,
				description = excluded.description, instructions = excluded.instructions,
				duration_minutes = excluded.duration_minutes, buffer_minutes = excluded.buffer_minutes,
				auth_level = excluded.auth_level, min_notice_minutes = excluded.min_notice_minutes,
				horizon_days = excluded.horizon_days, position = excluded.position, active = TRUE`,
			th.ID, s.ID, th.Name, th.Description, th.Instructions, th.DurationMinutes, th.BufferMinutes,
			string(th.AuthLevel), notice, horizon, j); err != nil {
			return fmt.Errorf("theme %s: %w", th.ID, err)
		}
	}
	return nil
}

func applyStaff(ctx context.Context, tx *store.Tx, s StaffConfig) error {
	if err := saveStaff(ctx, tx, s); err != nil {
		return err
	}
	for _, a := range s.Absences {
		from, to, _ := a.Span(calendar.Lisbon())
		id := fmt.Sprintf("cfg-%s-%d", s.ID, from.Unix())
		if _, err := tx.Exec(ctx, `INSERT INTO staff_absences (id, staff_id, starts_at, ends_at, reason) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET ends_at = excluded.ends_at, reason = excluded.reason`,
			id, s.ID, from.Unix(), to.Unix(), a.Reason); err != nil {
			return err
		}
	}
	return nil
}

// saveStaff writes a staff member, their languages, themes and weekly hours (replacing
// those they had), but not their absences. A disabled account stays inactive: booking
// reads active, and a saved form or a re-applied file must not make it bookable again.
func saveStaff(ctx context.Context, q store.Queryer, s StaffConfig) error {
	role := s.Role
	if role == "" {
		role = RoleAgent
	}
	if s.Email != "" {
		var other string
		err := q.QueryRow(ctx, "SELECT id FROM staff WHERE email <> '' AND lower(email) = lower(?) AND id <> ?", strings.TrimSpace(s.Email), s.ID).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w (staff %s)", ErrEmailTaken, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, err := q.Exec(ctx, `INSERT INTO staff (id, name, email, location_id, role) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
			location_id = excluded.location_id, role = excluded.role, active = (staff.disabled_at = 0)`,
		s.ID, s.Name, strings.TrimSpace(s.Email), s.Location, role); err != nil {
		return err
	}
	for _, table := range []string{"staff_languages", "staff_themes", "staff_hours"} {
		if _, err := q.Exec(ctx, "DELETE FROM "+table+" WHERE staff_id = ?", s.ID); err != nil {
			return err
		}
	}
	for _, l := range s.Languages {
		if _, err := q.Exec(ctx, "INSERT INTO staff_languages (staff_id, language) VALUES (?, ?) ON CONFLICT DO NOTHING", s.ID, l); err != nil {
			return err
		}
	}
	for _, th := range s.Themes {
		if _, err := q.Exec(ctx, "INSERT INTO staff_themes (staff_id, theme_id) VALUES (?, ?) ON CONFLICT DO NOTHING", s.ID, th); err != nil {
			return err
		}
	}
	hours, _ := ParseWeekly(s.Hours)
	for _, h := range hours {
		if _, err := q.Exec(ctx, `INSERT INTO staff_hours (staff_id, weekday, start_minute, end_minute)
			VALUES (?, ?, ?, ?)`, s.ID, int(h.Weekday), h.StartMinute, h.EndMinute); err != nil {
			return err
		}
	}
	return nil
}

func applyWalkIn(ctx context.Context, tx *store.Tx, serviceID string, w *WalkInConfig) error {
	if w == nil {
		_, err := tx.Exec(ctx, "DELETE FROM walk_in_queues WHERE service_id = ?", serviceID)
		return err
	}
	return writeWalkIn(ctx, tx, serviceID, w.settings())
}

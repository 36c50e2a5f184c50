package console

import (
	"context"
	"fmt"
	"slices"

	"balcao/internal/calendar"
	"balcao/internal/store"
)

// Pages of the console that show personal data and are refreshed live or often. Their
// reads go to the audit log once a day for each object they show (see FirstReads), not
// at every refresh: the log says who was shown which citizen's data, and when first.
const (
	ReadAgenda      = "agenda"      // the agent's day agenda: citizens' names
	ReadServing     = "serving"     // the citizen being served, with history and contacts
	ReadInterpreter = "interpreter" // an interpreter's bookings: citizens' first names
)

// FirstReads claims, for the staff member and the local day of now, the objects
// ("appointment:<id>", "ticket:<id>") that page has not shown them yet that day, and
// calls record in the same transaction for each one claimed, in the order given: record
// writes the audit entry, so a claim stands only with its entry. The claims are rows in
// the database, so a refresh answered by another server claims nothing again; two
// requests at once claim each object once between them. A refresh that shows nothing new
// costs one read.
func (s *Service) FirstReads(ctx context.Context, staffID, page string, objects []string, record func(tx *store.Tx, object string) error) error {
	if len(objects) == 0 {
		return nil
	}
	day := calendar.DateOf(s.now().In(s.loc)).String()
	seen := map[string]bool{}
	rows, err := s.db.Query(ctx, "SELECT object FROM console_reads WHERE staff_id = ? AND day = ? AND page = ?", staffID, day, page)
	if err != nil {
		return fmt.Errorf("reads of %s: %w", staffID, err)
	}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return fmt.Errorf("reads of %s: %w", staffID, err)
		}
		seen[o] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reads of %s: %w", staffID, err)
	}
	var unseen []string
	for _, o := range objects {
		if !seen[o] && !slices.Contains(unseen, o) {
			unseen = append(unseen, o)
		}
	}
	if len(unseen) == 0 {
		return nil
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, o := range unseen {
			res, err := tx.Exec(ctx, `INSERT INTO console_reads (staff_id, day, page, object) VALUES (?, ?, ?, ?)
				ON CONFLICT (staff_id, day, page, object) DO NOTHING`, staffID, day, page, o)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if err := record(tx, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("claim reads of %s: %w", staffID, err)
	}
	return nil
}

// pruneReads deletes the claims of days before today: they decide nothing any more.
func (s *Service) pruneReads(ctx context.Context) error {
	day := calendar.DateOf(s.now().In(s.loc)).String()
	if _, err := s.db.Exec(ctx, "DELETE FROM console_reads WHERE day < ?", day); err != nil {
		return fmt.Errorf("prune reads: %w", err)
	}
	return nil
}

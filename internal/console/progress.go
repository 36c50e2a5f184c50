package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"balcao/internal/directory"
	"balcao/internal/store"
)

// Progress is how far an agent has gone with the citizen they serve, saved as they go
// so that a reload, a crashed browser or the console opened in another tab resumes
// there: the steps of the script ticked, the step shown as current, and the outcome
// form as typed so far. It lives only while the agent serves that citizen.
type Progress struct {
	// Subject is whom it is about, as State.Subject names them. A save for a subject the
	// agent no longer serves is refused, so that a tab left open on a finished contact
	// never writes into the next citizen's.
	Subject string
	Ticked  []int   // the steps ticked, in order
	Current int     // the step shown as current, 1-8
	Draft   Outcome // unchecked until the contact is finished: any field may be empty
	Updated time.Time
}

// Subject names the citizen the agent serves, "appointment:<id>" or "ticket:<id>"; ""
// while serving nobody.
func (st State) Subject() string {
	if !st.Serving() {
		return ""
	}
	return st.Kind() + ":" + st.SubjectID()
}

// Done tells whether step n is ticked.
func (p Progress) Done(n int) bool { return slices.Contains(p.Ticked, n) }

// Validate tidies the progress and lists its problems (field -> message key). A draft
// may leave any field empty, but what it holds must be something the outcome form
// offers, within the form's limits. The step reached is at least the last step ticked.
func (p *Progress) Validate() map[string]string {
	errs := map[string]string{}
	var ticked []int
	for _, n := range p.Ticked {
		if n < 1 || n > len(Script) {
			errs["done"] = "console.error.stage"
			continue
		}
		if !slices.Contains(ticked, n) {
			ticked = append(ticked, n)
		}
	}
	slices.Sort(ticked)
	p.Ticked = ticked
	if p.Current == 0 {
		p.Current = 1
	}
	if p.Current < 1 || p.Current > len(Script) {
		errs["current"] = "console.error.stage"
	}
	d := &p.Draft
	d.Reason, d.Notes = strings.TrimSpace(d.Reason), strings.TrimSpace(d.Notes)
	d.FollowUp, d.Representative = strings.TrimSpace(d.FollowUp), strings.TrimSpace(d.Representative)
	for _, f := range []struct {
		field, text string
		max         int
	}{{"reason", d.Reason, maxReason}, {"notes", d.Notes, maxNotes}, {"follow_up", d.FollowUp, maxNotes},
		{"representative", d.Representative, maxName}} {
		if utf8.RuneCountInString(f.text) > f.max || !storable(f.text) {
			errs[f.field] = "console.error.too_long"
		}
	}
	if !storable(d.ThemeID) {
		errs["theme"] = "console.error.theme"
	}
	if d.Code != "" && !slices.Contains(Outcomes, d.Code) {
		errs["outcome"] = "console.error.outcome"
	}
	if d.AuthLevel != "" && !slices.Contains(AuthLevels, d.AuthLevel) {
		errs["auth_level"] = "console.error.auth_level"
	}
	if d.Person != "" && d.Person != PersonSelf && d.Person != PersonThirdParty {
		errs["person"] = "console.error.person"
	}
	if d.Stage < 0 || d.Stage > len(Script) {
		errs["stage"] = "console.error.stage"
	} else if len(ticked) > 0 && d.Stage < ticked[len(ticked)-1] {
		d.Stage = ticked[len(ticked)-1]
	}
	return errs
}

// subjectColumn maps a subject to the column of agent_states that holds it and its id.
func subjectColumn(subject string) (column, id string, ok bool) {
	kind, id, _ := strings.Cut(subject, ":")
	switch {
	case id == "" || !storable(id):
		return "", "", false
	case kind == KindAppointment:
		return "appointment_id", id, true
	case kind == KindTicket:
		return "ticket_id", id, true
	}
	return "", "", false
}

// SaveProgress keeps the agent's progress with the citizen they serve, replacing what
// was saved before. ErrNotServing when p.Subject is not the citizen the agent serves;
// an *InvalidError when the draft holds something the form does not offer.
func (s *Service) SaveProgress(ctx context.Context, staffID string, p Progress) (Progress, error) {
	if errs := p.Validate(); len(errs) > 0 {
		return p, &InvalidError{Fields: errs}
	}
	column, id, ok := subjectColumn(p.Subject)
	if !ok {
		return p, ErrNotServing
	}
	if p.Draft.ThemeID != "" {
		_, err := directory.ThemeByID(ctx, s.db, p.Draft.ThemeID)
		if errors.Is(err, store.ErrNotFound) {
			return p, &InvalidError{Fields: map[string]string{"theme": "console.error.theme"}}
		}
		if err != nil {
			return p, err
		}
	}
	p.Updated = s.now()
	ticked := make([]string, len(p.Ticked))
	for i, n := range p.Ticked {
		ticked[i] = strconv.Itoa(n)
	}
	d := p.Draft
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The check takes the agent's row (an UPDATE locks it on PostgreSQL until commit;
		// SQLite has one writer), so that finishing the contact cannot slip in between the
		// check and the write and leave a progress behind.
		res, err := tx.Exec(ctx, "UPDATE agent_states SET calling_until = calling_until WHERE staff_id = ? AND "+column+" = ?", staffID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotServing
		}
		_, err = tx.Exec(ctx, `INSERT INTO console_progress (staff_id, subject, ticked, current_step, reason, theme_id, outcome,
				notes, follow_up, auth_level, person, representative, stage, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (staff_id, subject) DO UPDATE SET ticked = excluded.ticked, current_step = excluded.current_step,
				reason = excluded.reason, theme_id = excluded.theme_id, outcome = excluded.outcome, notes = excluded.notes,
				follow_up = excluded.follow_up, auth_level = excluded.auth_level, person = excluded.person,
				representative = excluded.representative, stage = excluded.stage, updated_at = excluded.updated_at`,
			staffID, p.Subject, strings.Join(ticked, ","), p.Current, d.Reason, d.ThemeID, d.Code, d.Notes, d.FollowUp,
			d.AuthLevel, d.Person, d.Representative, d.Stage, p.Updated.Unix())
		return err
	})
	if err != nil {
		return p, fmt.Errorf("save the progress of %s with %s: %w", staffID, p.Subject, err)
	}
	return p, nil
}

// ProgressOf returns the agent's saved progress with subject; found is false when
// nothing was saved.
func (s *Service) ProgressOf(ctx context.Context, staffID, subject string) (p Progress, found bool, err error) {
	var ticked string
	var updated int64
	d := &p.Draft
	err = s.db.QueryRow(ctx, `SELECT subject, ticked, current_step, reason, theme_id, outcome, notes, follow_up, auth_level,
		person, representative, stage, updated_at FROM console_progress WHERE staff_id = ? AND subject = ?`, staffID, subject).
		Scan(&p.Subject, &ticked, &p.Current, &d.Reason, &d.ThemeID, &d.Code, &d.Notes, &d.FollowUp, &d.AuthLevel,
			&d.Person, &d.Representative, &d.Stage, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Progress{Subject: subject, Current: 1}, false, nil
	}
	if err != nil {
		return Progress{}, false, fmt.Errorf("read the progress of %s with %s: %w", staffID, subject, err)
	}
	for _, f := range strings.Split(ticked, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			p.Ticked = append(p.Ticked, n)
		}
	}
	p.Updated = fromUnix(updated)
	return p, true, nil
}

// clearProgress deletes the progress of the contacts that ended in tx: the agent's
// (staffID), or the subject's whoever served it.
func clearProgress(ctx context.Context, tx *store.Tx, staffID, subject string) error {
	var err error
	switch {
	case staffID != "" && subject != "":
		_, err = tx.Exec(ctx, "DELETE FROM console_progress WHERE staff_id = ? AND subject = ?", staffID, subject)
	case staffID != "":
		_, err = tx.Exec(ctx, "DELETE FROM console_progress WHERE staff_id = ?", staffID)
	default:
		_, err = tx.Exec(ctx, "DELETE FROM console_progress WHERE subject = ?", subject)
	}
	if err != nil {
		return fmt.Errorf("clear progress: %w", err)
	}
	return nil
}

// sweepProgress deletes every progress whose agent no longer serves its citizen:
// whatever way a contact ended, its draft (which may hold a third party's name and the
// agent's notes) does not outlive it.
func (s *Service) sweepProgress(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `DELETE FROM console_progress WHERE NOT EXISTS (SELECT 1 FROM agent_states a
		WHERE a.staff_id = console_progress.staff_id AND (console_progress.subject = 'appointment:' || a.appointment_id
			OR console_progress.subject = 'ticket:' || a.ticket_id))`)
	if err != nil {
		return fmt.Errorf("sweep progress: %w", err)
	}
	return nil
}

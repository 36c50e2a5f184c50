package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"balcao/internal/access"
	"balcao/internal/audit"
	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/store"
)

// booked is an appointment still to come, as the orphan checks see it.
type booked struct {
	ID, ThemeID, AgentID, InterpreterID string
	AgentLocation                       string
	Start, End                          time.Time
}

// futureBooked lists the booked appointments that start after now and meet cond (a
// condition on appointments a and their agent s).
func futureBooked(ctx context.Context, q store.Queryer, now time.Time, cond string, args ...any) ([]booked, error) {
	rows, err := q.Query(ctx, `SELECT a.id, a.theme_id, a.agent_id, COALESCE(a.interpreter_id, ''), s.location_id, a.starts_at, a.ends_at
		FROM appointments a JOIN staff s ON s.id = a.agent_id
		WHERE a.status = 'booked' AND a.starts_at > ? AND (`+cond+`) ORDER BY a.starts_at, a.id`, append([]any{now.Unix()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list appointments to come: %w", err)
	}
	defer rows.Close()
	var out []booked
	for rows.Next() {
		var b booked
		var start, end int64
		if err := rows.Scan(&b.ID, &b.ThemeID, &b.AgentID, &b.InterpreterID, &b.AgentLocation, &start, &end); err != nil {
			return nil, fmt.Errorf("list appointments to come: %w", err)
		}
		b.Start, b.End = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// covered tells whether [start, end) lies within one of the weekly ranges, on one day
// of the agency's time zone.
func covered(ranges []directory.WeeklyRange, start, end time.Time) bool {
	loc := calendar.Lisbon()
	s, e := start.In(loc), end.In(loc)
	day := calendar.DateOf(s)
	from := s.Hour()*60 + s.Minute()
	to := e.Hour()*60 + e.Minute()
	if calendar.DateOf(e) != day {
		if calendar.DateOf(e) != day.AddDays(1) || to != 0 {
			return false
		}
		to = 1440
	}
	for _, r := range ranges {
		if r.Weekday == s.Weekday() && r.StartMinute <= from && to <= r.EndMinute {
			return true
		}
	}
	return false
}

// servant is what decides whether a staff member can serve an appointment.
type servant struct {
	Active    bool
	Role      string
	Location  string
	Languages []string
	Themes    []string
	Hours     []directory.WeeklyRange
}

// canServe tells whether st, at a location open at openings, could be booked for a.
func (st servant) canServe(id string, a booked, openings map[string][]directory.WeeklyRange) bool {
	if !st.Active || !covered(st.Hours, a.Start, a.End) {
		return false
	}
	if a.AgentID == id {
		return st.Role == directory.RoleAgent && slices.Contains(st.Themes, a.ThemeID) && covered(openings[st.Location], a.Start, a.End)
	}
	if a.InterpreterID == id {
		return slices.Contains(st.Languages, directory.LangLGP)
	}
	return true
}

// staffOrphans lists the appointments to come of a staff member that they could serve
// as they are and could not once changed.
func staffOrphans(ctx context.Context, q store.Queryer, now time.Time, id string, before, after servant) ([]booked, error) {
	appts, err := futureBooked(ctx, q, now, "a.agent_id = ? OR a.interpreter_id = ?", id, id)
	if err != nil || len(appts) == 0 {
		return nil, err
	}
	openings, err := directory.OpeningHours(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []booked
	for _, a := range appts {
		if before.canServe(id, a, openings) && !after.canServe(id, a, openings) {
			out = append(out, a)
		}
	}
	return out, nil
}

// orphanError is a change refused because it would orphan appointments.
type orphanError struct{ appts []booked }

func (e *orphanError) Error() string {
	return fmt.Sprintf("the change would orphan %d appointments", len(e.appts))
}

// refuseOrphans is the error of a check that found appointments, nil when it found none.
func refuseOrphans(appts []booked, err error) error {
	if err != nil {
		return err
	}
	if len(appts) > 0 {
		return &orphanError{appts: appts}
	}
	return nil
}

// resolve tells whether the form asks to cancel the appointments a change orphans.
func resolve(r *http.Request) bool { return r.PostForm.Get("resolve") == "cancel" }

// cancelOrphans cancels, on the staff member's behalf, the appointments that check finds
// (read before the change), telling each citizen, and records each in the audit log.
// Appointments that started or changed meanwhile are left alone; the change's own
// transaction checks again.
func (h *Admin) cancelOrphans(r *http.Request, me access.Staff, object string, check func(ctx context.Context, q store.Queryer) ([]booked, error)) (int, error) {
	ctx := r.Context()
	appts, err := check(ctx, h.db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range appts {
		if _, err := h.booking.CancelByStaff(ctx, a.ID, me.ID); errors.Is(err, booking.ErrNotCancellable) || errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return n, err
		}
		n++
		if _, err := h.audit.Append(ctx, audit.Entry{Actor: me.ID, Action: audit.ChangePersonalData, Object: "appointment:" + a.ID,
			Contact: "appointment:" + a.ID, IP: audit.ClientIP(r), Details: "cancelled_for=" + object}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// conflict answers a change refused for the appointments it would orphan: how many, when,
// and the two ways on: keep them (go back, nothing saved), or cancel them and save.
func (h *Admin) conflict(w http.ResponseWriter, r *http.Request, me access.Staff, e *orphanError, back string) error {
	p := h.newPage(r, me, "admin.conflict.title")
	pg := p.Page
	loc := calendar.Lisbon()
	themes := map[string]string{}
	if services, err := directory.Services(r.Context(), h.db); err == nil {
		for _, s := range services {
			for _, th := range s.Themes {
				themes[th.ID] = th.Name.In(pg.Lang)
			}
		}
	}
	var items []item
	for i, a := range e.appts {
		if i == 20 {
			items = append(items, item{Label: pg.T("admin.conflict.more", len(e.appts)-20)})
			break
		}
		name := themes[a.ThemeID]
		if name == "" {
			name = a.ThemeID
		}
		start := a.Start.In(loc)
		items = append(items, item{Label: pg.ShortDate(start) + " " + pg.Clock(start), Meta: name})
	}
	keep := []string{"csrf", "resolve"}
	var hiddenValues []hidden
	for _, k := range sortedKeys(r.PostForm) {
		if slices.Contains(keep, k) {
			continue
		}
		for _, v := range r.PostForm[k] {
			hiddenValues = append(hiddenValues, hidden{Name: k, Value: v})
		}
	}
	hiddenValues = append(hiddenValues, hidden{Name: "resolve", Value: "cancel"})
	n := len(e.appts)
	p.Blocks = []block{
		{Alert: pg.T("admin.conflict.alert", n)},
		{Text: pg.T("admin.conflict.lead"), Items: items},
		{Heading: pg.T("admin.conflict.choose"), Text: pg.T("admin.conflict.cancel_lead", n),
			Form: &form{Action: r.URL.Path, CSRF: p.CSRF, Hidden: hiddenValues,
				Submit: button{ID: "cancel-and-save", Label: pg.T("admin.conflict.cancel_button", n), Danger: true}}},
		{Text: pg.T("admin.conflict.keep_lead"), Links: []link{{Href: back, Label: pg.T("admin.conflict.keep_button")}}},
	}
	return h.render(w, http.StatusConflict, p)
}

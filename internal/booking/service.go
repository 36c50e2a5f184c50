package booking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/directory"
	"balcao/internal/secret"
	"balcao/internal/store"
)

// Errors the booking operations return; the web layers map them to answers.
var (
	ErrSlotTaken      = errors.New("slot taken")
	ErrNoSuchSlot     = errors.New("no such slot")
	ErrNotCancellable = errors.New("appointment cannot be changed")
	ErrRangeTooLong   = errors.New("range too long")
)

// InvalidError carries the fields of a request that are wrong.
type InvalidError struct{ Fields FieldErrors }

func (e *InvalidError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	return "invalid request: " + strings.Join(keys, ", ")
}

// Statuses of an appointment.
const (
	StatusBooked    = "booked"
	StatusCancelled = "cancelled"
	StatusDone      = "done"
	StatusNoShow    = "no_show"
)

// MaxRangeDays bounds one availability query.
const MaxRangeDays = 31

// Appointment is a booked (or once booked) appointment.
type Appointment struct {
	ID            string
	ThemeID       string
	AgentID       string
	InterpreterID string
	Start, End    time.Time
	Status        string
	Citizen       Citizen
	TimeZone      string
	SignLanguage  bool
	Notes         string
	Sequence      int
	Channel       string
	CreatedAt     time.Time
	// Where the citizen is, for the agent's agenda (zero until it happens): first in the
	// call's lobby, first admitted, and when the appointment ended (done or no-show).
	LobbyAt, CallStartedAt, EndedAt time.Time
	ChangedBy                       string // the staff member who last cancelled or moved it for the citizen
}

// Booked is a new appointment with the secrets that only its creator ever sees: the
// manage token (cancel, reschedule) and the join token (enter the call).
type Booked struct {
	Appointment
	ManageToken string
	JoinToken   string
}

// Service books appointments in the database.
type Service struct {
	db       *store.DB
	loc      *time.Location
	now      func() time.Time
	notifier Notifier

	pivotsMu sync.Mutex
	pivots   map[string]pivotList // by theme id
}

// pivotList is the staff of a theme as read at some time: the ids from which a booking
// starts looking for a free agent. It only spreads bookings over the agents, so a list
// somewhat out of date does no harm.
type pivotList struct {
	ids  []string
	read time.Time
}

// pivotMaxAge is how long a pivot list is used before it is read again.
const pivotMaxAge = time.Minute

// Change kinds a Notifier hears of.
const (
	ChangeBooked      = "booked"
	ChangeRescheduled = "rescheduled"
	ChangeCancelled   = "cancelled"
)

// Change is a change to an appointment that the citizen must be told of. ManageToken is
// known when the change was made by whoever holds it (the citizen, or the booking itself).
type Change struct {
	Kind        string
	Appointment Appointment
	ManageToken string
}

// Notifier writes the messages a change owes the citizen. They are prepared (read and
// rendered) first, where possible outside the transaction, and written inside it, so that
// they are stored with the change or not at all.
type Notifier interface {
	Prepare(ctx context.Context, q store.Queryer, ch Change) (Prepared, error)
	ContactRequested(ctx context.Context, tx *store.Tx, id string, req ContactRequest) error
}

// Prepared are messages ready to be written in the change's transaction.
type Prepared interface {
	Write(ctx context.Context, tx *store.Tx) error
}

// SetNotifier makes the service tell n of every change.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

type noMessages struct{}

func (noMessages) Write(context.Context, *store.Tx) error { return nil }

func (s *Service) prepare(ctx context.Context, q store.Queryer, ch Change) (Prepared, error) {
	if s.notifier == nil {
		return noMessages{}, nil
	}
	p, err := s.notifier.Prepare(ctx, q, ch)
	if err != nil {
		return nil, fmt.Errorf("prepare %s messages: %w", ch.Kind, err)
	}
	return p, nil
}

// notify prepares and writes a change's messages inside its transaction.
func (s *Service) notify(ctx context.Context, tx *store.Tx, ch Change) error {
	p, err := s.prepare(ctx, tx, ch)
	if err != nil {
		return err
	}
	return p.Write(ctx, tx)
}

// NewService returns a booking service on db; now is the clock (time.Now in production).
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, loc: calendar.Lisbon(), now: now, pivots: map[string]pivotList{}}
}

// Location is the agency's time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Availability lists the free slots of a theme on the days from..to (inclusive).
func (s *Service) Availability(ctx context.Context, themeID string, from, to calendar.Date, signLanguage bool) ([]Slot, error) {
	if to.Before(from) || calendar.DaysBetween(from, to) >= MaxRangeDays {
		return nil, ErrRangeTooLong
	}
	th, err := directory.ThemeByID(ctx, s.db, themeID)
	if err != nil {
		return nil, err
	}
	rules := RulesOf(th)
	now := s.now()
	today := calendar.DateOf(now.In(s.loc))
	if from.Before(today) {
		from = today
	}
	if last := rules.LastDay(now, s.loc); to.After(last) {
		to = last
	}
	if to.Before(from) {
		return nil, nil
	}
	agents, interpreters, err := s.resources(ctx, s.db, th.ID, from.Start(s.loc), to.AddDays(1).Start(s.loc), signLanguage)
	if err != nil {
		return nil, fmt.Errorf("availability of %s: %w", themeID, err)
	}
	return Slots(rules, from, to, now, s.loc, agents, interpreters), nil
}

// resources loads the agents of a theme (and the interpreters, when asked) as they stand
// between two instants. Interpreters is nil unless asked for.
func (s *Service) resources(ctx context.Context, q store.Queryer, themeID string, from, to time.Time, withInterpreters bool) ([]Resource, []Resource, error) {
	agentStaff, err := directory.Agents(ctx, q, themeID, from, to)
	if err != nil {
		return nil, nil, err
	}
	var interpreterStaff []directory.Staff
	if withInterpreters {
		if interpreterStaff, err = directory.Interpreters(ctx, q, from, to); err != nil {
			return nil, nil, err
		}
	}
	v, err := s.openings(ctx, q, from, to)
	if err != nil {
		return nil, nil, err
	}
	agents := v.resources(agentStaff)
	if err := busyBlocks(ctx, q, agents, from, to); err != nil {
		return nil, nil, err
	}
	if !withInterpreters {
		return agents, nil, nil
	}
	interpreters := v.resources(interpreterStaff)
	return agents, interpreters, busyBlocks(ctx, q, interpreters, from, to)
}

// openings is when the locations are open on the days between two instants.
type openings struct {
	hours             map[string][]directory.WeeklyRange // by location id
	closed            Closed
	firstDay, lastDay calendar.Date
	loc               *time.Location
}

func (s *Service) openings(ctx context.Context, q store.Queryer, from, to time.Time) (openings, error) {
	hours, err := directory.OpeningHours(ctx, q)
	if err != nil {
		return openings{}, err
	}
	firstDay, lastDay := calendar.DateOf(from.In(s.loc)), calendar.DateOf(to.Add(-time.Second).In(s.loc))
	closures, err := directory.Closures(ctx, q, firstDay.String(), lastDay.String())
	if err != nil {
		return openings{}, err
	}
	closedDays := map[string]bool{}
	for _, c := range closures {
		closedDays[c.LocationID+"|"+c.Day] = true
	}
	closed := func(day calendar.Date, location string) bool {
		if _, holiday := calendar.IsNationalHoliday(day); holiday {
			return true
		}
		return closedDays["|"+day.String()] || closedDays[location+"|"+day.String()]
	}
	return openings{hours: hours, closed: closed, firstDay: firstDay, lastDay: lastDay, loc: s.loc}, nil
}

// resources turns staff into resources with their working windows and no booked blocks.
func (v openings) resources(staff []directory.Staff) []Resource {
	out := make([]Resource, 0, len(staff))
	for _, st := range staff {
		out = append(out, Resource{ID: st.ID, Windows: Windows(st, v.hours[st.LocationID], v.firstDay, v.lastDay, v.closed, v.loc), Busy: map[int64]bool{}})
	}
	return out
}

func busyBlocks(ctx context.Context, q store.Queryer, resources []Resource, from, to time.Time) error {
	if len(resources) == 0 {
		return nil
	}
	index := map[string]int{}
	args := make([]any, 0, len(resources)+2)
	for i, r := range resources {
		index[r.ID] = i
		args = append(args, r.ID)
	}
	args = append(args, from.Unix(), to.Unix())
	rows, err := q.Query(ctx, `SELECT staff_id, block_start FROM staff_bookings
		WHERE staff_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(resources)), ",")+`)
		AND block_start >= ? AND block_start < ?`, args...)
	if err != nil {
		return fmt.Errorf("read booked blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var block int64
		if err := rows.Scan(&id, &block); err != nil {
			return fmt.Errorf("read booked blocks: %w", err)
		}
		resources[index[id]].Busy[block] = true
	}
	return rows.Err()
}

// checkStart maps a start's problem to the error a caller reports.
func (s *Service) checkStart(rules Rules, start time.Time) error {
	switch rules.CheckStart(start, s.now(), s.loc) {
	case StartUnaligned:
		return &InvalidError{Fields: FieldErrors{"start": "error.start_unaligned"}}
	case StartTooSoon:
		return &InvalidError{Fields: FieldErrors{"start": "error.start_too_soon"}}
	case StartTooFar:
		return &InvalidError{Fields: FieldErrors{"start": "error.start_too_far"}}
	}
	return nil
}

// Book books an appointment: it validates the request, then claims a free qualified
// agent (and interpreter) for the slot. ErrSlotTaken means every seat is gone.
func (s *Service) Book(ctx context.Context, req Request) (Booked, error) {
	if errs := req.Validate(); len(errs) > 0 {
		return Booked{}, &InvalidError{Fields: errs}
	}
	th, err := directory.ThemeByID(ctx, s.db, req.ThemeID)
	if err != nil {
		return Booked{}, err
	}
	rules := RulesOf(th)
	start := req.Start.UTC()
	if err := s.checkStart(rules, start); err != nil {
		return Booked{}, err
	}
	manage, manageHash := secret.New()
	join := JoinTokenFor(manage)
	joinHash := secret.Hash(join)
	now := s.now().UTC()
	channel := req.Channel
	if channel == "" {
		channel = "portal"
	}
	b := Booked{ManageToken: manage, JoinToken: join, Appointment: Appointment{
		ID: store.NewID(), ThemeID: th.ID, Start: start, End: start.Add(rules.Duration), Status: StatusBooked,
		Citizen: req.Citizen, TimeZone: req.TimeZone, SignLanguage: req.SignLanguage, Notes: req.Notes,
		Channel: channel, CreatedAt: now,
	}}
	// A few agents who look free are picked before the transaction, through the read pool,
	// so that on SQLite the single writer's turn holds little more than the inserts.
	likely, err := s.sampleFreeAgents(ctx, s.db, th.ID, rules, start)
	if err != nil {
		return Booked{}, fmt.Errorf("book %s at %s: %w", th.ID, start.Format(time.RFC3339), err)
	}
	// The messages do not depend on which agent is claimed: they are rendered before too.
	messages, err := s.prepare(ctx, s.db, Change{Kind: ChangeBooked, Appointment: b.Appointment, ManageToken: b.ManageToken})
	if err != nil {
		return Booked{}, fmt.Errorf("book %s at %s: %w", th.ID, start.Format(time.RFC3339), err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		agentID, interpreterID, err := s.claimSeat(ctx, tx, th.ID, rules, start, req.SignLanguage, b.ID, likely, "")
		if err != nil {
			return err
		}
		b.AgentID, b.InterpreterID = agentID, interpreterID
		_, err = tx.Exec(ctx, `INSERT INTO appointments (id, theme_id, agent_id, interpreter_id, starts_at, ends_at,
				status, citizen_name, citizen_email, citizen_phone, citizen_niss, citizen_nif, language, time_zone,
				sign_language, notes, manage_token_hash, join_token_hash, sequence, channel, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			b.ID, b.ThemeID, b.AgentID, nullable(b.InterpreterID), b.Start.Unix(), b.End.Unix(), b.Status,
			b.Citizen.Name, b.Citizen.Email, b.Citizen.Phone, b.Citizen.NISS, b.Citizen.NIF, b.Citizen.Language,
			b.TimeZone, b.SignLanguage, b.Notes, manageHash, joinHash, b.Channel, now.Unix(), now.Unix())
		if err != nil {
			return fmt.Errorf("insert appointment: %w", err)
		}
		return messages.Write(ctx, tx)
	})
	if err != nil {
		return Booked{}, fmt.Errorf("book %s at %s: %w", th.ID, start.Format(time.RFC3339), err)
	}
	return b, nil
}

// sampleSize is how many agents sampleFreeAgents picks.
const sampleSize = 8

// claimSeat finds a free agent and, when needed, a free interpreter for the slot, and
// claims their blocks for the appointment. It tries the agents in likely first (in that
// order) and, if likely is not nil, another sample; then every agent of the theme, the
// preferred one (on a reschedule) first.
func (s *Service) claimSeat(ctx context.Context, tx *store.Tx, themeID string, rules Rules, start time.Time, signLanguage bool, appointmentID string, likely []string, preferAgent string) (string, string, error) {
	claimEnd := start.Add(rules.Claim())
	blocks := Blocks(start, rules.Claim())
	agentID, err := claimFirst(ctx, tx, likely, blocks, appointmentID, "")
	if err != nil {
		return "", "", errors.Join(err, ErrSlotTaken)
	}
	if agentID == "" && likely != nil {
		// Taken meanwhile by concurrent bookings: a new sample, as the transaction sees it.
		if likely, err = s.sampleFreeAgents(ctx, tx, themeID, rules, start); err != nil {
			return "", "", err
		}
		if agentID, err = claimFirst(ctx, tx, likely, blocks, appointmentID, ""); err != nil {
			return "", "", errors.Join(err, ErrSlotTaken)
		}
	}
	if agentID == "" {
		// Every agent of the theme, as the availability sees them: this also tells a
		// full slot from a time nobody works.
		agents, _, err := s.resources(ctx, tx, themeID, start, claimEnd, false)
		if err != nil {
			return "", "", err
		}
		candidates := FreeResources(rules, start, agents)
		if len(candidates) == 0 {
			return "", "", s.whyNoSeat(rules, start, agents)
		}
		// A random order spreads concurrent bookings over the agents, so they rarely contend
		// for the same rows; the preferred agent, if free, goes first.
		mathrand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
		for i, id := range candidates {
			if id == preferAgent {
				candidates[0], candidates[i] = candidates[i], candidates[0]
			}
		}
		agentID, err = claimFirst(ctx, tx, candidates, blocks, appointmentID, "")
		if err != nil || agentID == "" {
			return "", "", errors.Join(err, ErrSlotTaken)
		}
	}
	if !signLanguage {
		return agentID, "", nil
	}
	staff, err := directory.Interpreters(ctx, tx, start, claimEnd)
	if err != nil {
		return "", "", err
	}
	v, err := s.openings(ctx, tx, start, claimEnd)
	if err != nil {
		return "", "", err
	}
	interpreters := v.resources(staff)
	if err := busyBlocks(ctx, tx, interpreters, start, claimEnd); err != nil {
		return "", "", err
	}
	free := FreeResources(rules, start, interpreters)
	mathrand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	interpreterID, err := claimFirst(ctx, tx, free, blocks, appointmentID, agentID)
	if err != nil || interpreterID == "" {
		return "", "", errors.Join(err, ErrSlotTaken)
	}
	return agentID, interpreterID, nil
}

// notBooked is the condition that staff member s has no block booked in [?, ?).
const notBooked = `NOT EXISTS (SELECT 1 FROM staff_bookings b
	WHERE b.staff_id = s.id AND b.block_start >= ? AND b.block_start < ?)`

// sampleFreeAgents picks up to sampleSize agents of the theme who have no block booked at
// the slot and work through it, as q sees them now, starting from a random agent.
// Booking one seat needs one free agent, not all of them: reading a handful keeps a
// booking's cost flat however many agents serve the theme. The claim in the transaction
// is what decides.
func (s *Service) sampleFreeAgents(ctx context.Context, q store.Queryer, themeID string, rules Rules, start time.Time) ([]string, error) {
	claimEnd := start.Add(rules.Claim())
	pivot, err := s.randomPivot(ctx, q, themeID)
	if err != nil {
		return nil, err
	}
	sample, err := directory.AgentsFrom(ctx, q, themeID, start, claimEnd, notBooked, []any{start.Unix(), claimEnd.Unix()}, pivot, sampleSize)
	if err != nil || len(sample) == 0 {
		return nil, err
	}
	v, err := s.openings(ctx, q, start, claimEnd)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range v.resources(sample) {
		if r.FreeFor(start, rules.Duration, rules.Claim()) {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// randomPivot returns the id of a staff member of the theme picked at random, to start
// looking for a free agent from, so that concurrent bookings of a slot try different
// agents instead of contending for the same.
func (s *Service) randomPivot(ctx context.Context, q store.Queryer, themeID string) (string, error) {
	now := time.Now()
	s.pivotsMu.Lock()
	list, ok := s.pivots[themeID]
	s.pivotsMu.Unlock()
	if !ok || now.Sub(list.read) > pivotMaxAge {
		ids, err := directory.ThemeStaffIDs(ctx, q, themeID)
		if err != nil {
			return "", err
		}
		list = pivotList{ids: ids, read: now}
		s.pivotsMu.Lock()
		s.pivots[themeID] = list
		s.pivotsMu.Unlock()
	}
	if len(list.ids) == 0 {
		return "", nil
	}
	return list.ids[mathrand.IntN(len(list.ids))], nil
}

// whyNoSeat tells a slot that is full (taken) from a time nobody works (no such slot).
func (s *Service) whyNoSeat(rules Rules, start time.Time, agents []Resource) error {
	for _, a := range agents {
		if a.Covers(start, start.Add(rules.Duration)) {
			return ErrSlotTaken
		}
	}
	return ErrNoSuchSlot
}

// claimFirst claims the blocks for the first candidate (other than skip) whose blocks are
// all still free, and returns its id, or "" when every candidate was taken meanwhile.
// Claiming is an insert that does nothing on conflict: the primary key of staff_bookings
// decides between concurrent bookings, on one server or many.
func claimFirst(ctx context.Context, tx *store.Tx, candidates []string, blocks []int64, appointmentID, skip string) (string, error) {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(blocks)), ",")
	for _, id := range candidates {
		if id == skip {
			continue
		}
		args := make([]any, 0, 3*len(blocks))
		for _, b := range blocks {
			args = append(args, id, b, appointmentID)
		}
		res, err := tx.Exec(ctx, "INSERT INTO staff_bookings (staff_id, block_start, appointment_id) VALUES "+values+
			" ON CONFLICT DO NOTHING", args...)
		if err != nil {
			return "", fmt.Errorf("claim blocks of %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return "", fmt.Errorf("claim blocks of %s: %w", id, err)
		}
		if int(n) == len(blocks) {
			return id, nil
		}
		if _, err := tx.Exec(ctx, "DELETE FROM staff_bookings WHERE staff_id = ? AND appointment_id = ?", id, appointmentID); err != nil {
			return "", fmt.Errorf("release blocks of %s: %w", id, err)
		}
	}
	return "", nil
}

const appointmentColumns = `id, theme_id, agent_id, COALESCE(interpreter_id, ''), starts_at, ends_at, status,
	citizen_name, citizen_email, citizen_phone, citizen_niss, citizen_nif, language, time_zone, sign_language,
	notes, sequence, channel, created_at, lobby_at, call_started_at, ended_at, changed_by`

func scanAppointment(row interface{ Scan(...any) error }, extra ...any) (Appointment, error) {
	var a Appointment
	var start, end, created, lobby, called, ended int64
	dest := []any{&a.ID, &a.ThemeID, &a.AgentID, &a.InterpreterID, &start, &end, &a.Status,
		&a.Citizen.Name, &a.Citizen.Email, &a.Citizen.Phone, &a.Citizen.NISS, &a.Citizen.NIF, &a.Citizen.Language,
		&a.TimeZone, &a.SignLanguage, &a.Notes, &a.Sequence, &a.Channel, &created, &lobby, &called, &ended, &a.ChangedBy}
	err := row.Scan(append(dest, extra...)...)
	a.Start, a.End, a.CreatedAt = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), time.Unix(created, 0).UTC()
	a.LobbyAt, a.CallStartedAt, a.EndedAt = fromUnix(lobby), fromUnix(called), fromUnix(ended)
	return a, err
}

// Token kinds an appointment can be reached with.
const (
	ManageToken = "manage_token_hash"
	JoinToken   = "join_token_hash"
)

// Get returns the appointment if token is its token of the given kind. A wrong token is
// answered exactly like an unknown id, so that neither can be probed.
func (s *Service) Get(ctx context.Context, id, token, kind string) (Appointment, error) {
	return s.getWith(ctx, s.db, id, token, kind)
}

func (s *Service) getWith(ctx context.Context, q store.Queryer, id, token, kind string) (Appointment, error) {
	if kind != ManageToken && kind != JoinToken {
		return Appointment{}, fmt.Errorf("get appointment: unknown token kind %q", kind)
	}
	var hash string
	a, err := scanAppointment(q.QueryRow(ctx, "SELECT "+appointmentColumns+", "+kind+" FROM appointments WHERE id = ?", id), &hash)
	if err == nil && !secret.Matches(token, hash) && kind == JoinToken {
		err = checkJoinLink(ctx, q, id, token)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind == ManageToken && !secret.Matches(token, hash)) {
		return Appointment{}, fmt.Errorf("appointment %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return Appointment{}, fmt.Errorf("read appointment %q: %w", id, err)
	}
	return a, nil
}

// Cancel cancels a booked appointment that has not started, freeing its staff.
func (s *Service) Cancel(ctx context.Context, id, token string) (Appointment, error) {
	return s.cancel(ctx, id, actor{token: token})
}

func (s *Service) cancel(ctx context.Context, id string, who actor) (Appointment, error) {
	var a Appointment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = s.lockChangeable(ctx, tx, id, who); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM staff_bookings WHERE appointment_id = ?", id); err != nil {
			return fmt.Errorf("free blocks: %w", err)
		}
		a.Status, a.Sequence, a.ChangedBy = StatusCancelled, a.Sequence+1, who.staffID
		if _, err = tx.Exec(ctx, "UPDATE appointments SET status = ?, sequence = ?, updated_at = ?, changed_by = ? WHERE id = ?",
			a.Status, a.Sequence, s.now().Unix(), a.ChangedBy, id); err != nil {
			return err
		}
		return s.notify(ctx, tx, Change{Kind: ChangeCancelled, Appointment: a, ManageToken: who.token})
	})
	if err != nil {
		return Appointment{}, fmt.Errorf("cancel appointment %s: %w", id, err)
	}
	return a, nil
}

// Reschedule moves a booked appointment to a new start in one transaction: the new slot
// is claimed and the old one freed together, so the citizen never ends up with neither.
func (s *Service) Reschedule(ctx context.Context, id, token string, start time.Time) (Appointment, error) {
	return s.reschedule(ctx, id, actor{token: token}, start)
}

func (s *Service) reschedule(ctx context.Context, id string, who actor, start time.Time) (Appointment, error) {
	start = start.UTC()
	var a Appointment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = s.lockChangeable(ctx, tx, id, who); err != nil {
			return err
		}
		th, err := directory.ThemeByID(ctx, tx, a.ThemeID)
		if err != nil {
			return err
		}
		rules := RulesOf(th)
		if err := s.checkStart(rules, start); err != nil {
			return err
		}
		// The appointment's own blocks are released inside the transaction so that a move
		// by a few minutes can reuse them; if no seat is found the rollback restores them.
		if _, err := tx.Exec(ctx, "DELETE FROM staff_bookings WHERE appointment_id = ?", id); err != nil {
			return fmt.Errorf("free blocks: %w", err)
		}
		agentID, interpreterID, err := s.claimSeat(ctx, tx, th.ID, rules, start, a.SignLanguage, id, nil, a.AgentID)
		if err != nil {
			return err
		}
		a.AgentID, a.InterpreterID = agentID, interpreterID
		a.Start, a.End, a.Sequence, a.ChangedBy = start, start.Add(rules.Duration), a.Sequence+1, who.staffID
		if _, err = tx.Exec(ctx, `UPDATE appointments SET agent_id = ?, interpreter_id = ?, starts_at = ?, ends_at = ?,
			sequence = ?, updated_at = ?, changed_by = ? WHERE id = ?`,
			a.AgentID, nullable(a.InterpreterID), a.Start.Unix(), a.End.Unix(), a.Sequence, s.now().Unix(), a.ChangedBy, id); err != nil {
			return err
		}
		return s.notify(ctx, tx, Change{Kind: ChangeRescheduled, Appointment: a, ManageToken: who.token})
	})
	if err != nil {
		return Appointment{}, fmt.Errorf("reschedule appointment %s: %w", id, err)
	}
	return a, nil
}

// lockChangeable reads the appointment for a change, taking its row lock first (on
// PostgreSQL) so that a cancel and a reschedule of the same appointment run one at a time.
func (s *Service) lockChangeable(ctx context.Context, tx *store.Tx, id string, who actor) (Appointment, error) {
	if _, err := tx.Exec(ctx, "UPDATE appointments SET updated_at = updated_at WHERE id = ?", id); err != nil {
		return Appointment{}, fmt.Errorf("lock appointment: %w", err)
	}
	var a Appointment
	var err error
	if who.staffID != "" {
		a, err = byID(ctx, tx, id)
	} else {
		a, err = s.getWith(ctx, tx, id, who.token, ManageToken)
	}
	if err != nil {
		return Appointment{}, err
	}
	if a.Status != StatusBooked || !a.Start.After(s.now()) {
		return Appointment{}, ErrNotCancellable
	}
	return a, nil
}

// RequestContact stores a contact request for the back office.
func (s *Service) RequestContact(ctx context.Context, req ContactRequest) (string, error) {
	if errs := req.Validate(); len(errs) > 0 {
		return "", &InvalidError{Fields: errs}
	}
	if req.ThemeID != "" {
		if _, err := directory.ThemeByID(ctx, s.db, req.ThemeID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", &InvalidError{Fields: FieldErrors{"theme": "error.unknown_theme"}}
			}
			return "", err
		}
	}
	id := store.NewID()
	c := req.Citizen
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO contact_requests (id, theme_id, citizen_name, citizen_email, citizen_phone,
				citizen_niss, citizen_nif, language, subject, message, preferred_times, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, nullable(req.ThemeID), c.Name, c.Email, c.Phone, c.NISS, c.NIF, c.Language, req.Subject, req.Message,
			req.PreferredTimes, s.now().Unix())
		if err != nil || s.notifier == nil {
			return err
		}
		return s.notifier.ContactRequested(ctx, tx, id, req)
	})
	if err != nil {
		return "", fmt.Errorf("store contact request: %w", err)
	}
	return id, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// JoinTokenFor derives the join token from the manage token, so that whoever may manage
// an appointment can also be given its join link, while the join link alone manages
// nothing.
func JoinTokenFor(manageToken string) string {
	mac := hmac.New(sha256.New, []byte(manageToken))
	mac.Write([]byte("balcao join link"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:24])
}

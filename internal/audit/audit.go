// Package audit keeps balcao's audit log: who did what to which record, in which contact,
// from where and when — sign-ins and their failures, configuration changes, and every
// read or change of a citizen's personal data by staff.
//
// The log is append-only (the database refuses UPDATE and DELETE on it) and each entry is
// chained to the one before it by a hash, hash = SHA-256(previous hash || canonical
// encoding of the entry), so that an entry edited, removed or inserted afterwards breaks
// the chain; Verify walks it and reports the first broken entry. Appends take the chain's
// head row in their transaction, so concurrent appenders, on one server or many, never
// fork the chain.
//
// Entries carry ids, never the values of personal data: "appointment:ID", not a name.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"balcao/internal/store"
)

// Actions recorded in the log.
const (
	Login              = "login"                // signed in (every step of the login passed)
	LoginFailed        = "login_failed"         // a wrong password or code, a locked or disabled account
	AccountLocked      = "account_locked"       // too many failures in a row
	Logout             = "logout"               // one session ended
	LogoutEverywhere   = "logout_everywhere"    // every session of the staff member ended
	SecondFactorOn     = "totp_enabled"         // TOTP confirmed
	SecondFactorOff    = "totp_disabled"        // TOTP turned off or reset
	AccountChange      = "account_change"       // a staff account created, disabled, its password set
	ConfigChange       = "config_change"        // the agency's configuration changed
	ReadPersonalData   = "read_personal_data"   // staff saw a citizen's personal data
	ChangePersonalData = "change_personal_data" // staff (or the citizen) changed it, or cancelled an appointment
	ExportLog          = "audit_export"         // the audit log was exported
)

// Actions lists the known actions, for the search form.
var Actions = []string{Login, LoginFailed, AccountLocked, Logout, LogoutEverywhere, SecondFactorOn, SecondFactorOff,
	AccountChange, ConfigChange, ReadPersonalData, ChangePersonalData, ExportLog}

// Actors that are not staff ids.
const (
	Citizen = "citizen" // a citizen, through a link of their own
	System  = "system"  // the server itself, or the command line on its host
	Unknown = "unknown" // a sign-in attempt for an e-mail that names no account
)

// Errors of the package.
var (
	ErrInvalid  = errors.New("invalid audit entry")
	ErrNotWired = errors.New("no audit log in the request's context")
)

// Entry is one line of the log. Seq, PrevHash and Hash are set when it is appended.
type Entry struct {
	Seq      int64
	At       time.Time // to the second
	Actor    string    // a staff id, Citizen, System or Unknown
	Action   string
	Object   string // what was acted on: "appointment:ID", "theme:ID", "staff:ID"
	Contact  string // the contact it served: "appointment:ID", "ticket:ID"
	IP       string
	Details  string // ids and field names only: "fields=hours,themes cancelled=3"
	PrevHash string
	Hash     string
}

// genesis is the previous hash of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// maxField bounds the length of each text field of an entry.
const maxField = 2000

// canonical is the entry's encoding that the hash covers: every field but the hashes,
// in a fixed order, each as a netstring ("len:value,") so that no two entries encode
// alike.
func (e Entry) canonical() []byte {
	var b strings.Builder
	for _, f := range []string{"balcao-audit-v1", strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At.Unix(), 10),
		e.Actor, e.Action, e.Object, e.Contact, e.IP, e.Details} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte(',')
	}
	return []byte(b.String())
}

// ChainHash is the hash of e chained to prev (hex), as Append computes it.
func ChainHash(prev string, e Entry) (string, error) {
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != sha256.Size {
		return "", fmt.Errorf("previous hash %q is not 64 hex digits", prev)
	}
	h := sha256.New()
	h.Write(p)
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (e Entry) validate() error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("%w: actor and action are required", ErrInvalid)
	}
	for _, f := range []string{e.Actor, e.Action, e.Object, e.Contact, e.IP, e.Details} {
		if len(f) > maxField || !utf8.ValidString(f) {
			return fmt.Errorf("%w: a field is too long or not UTF-8", ErrInvalid)
		}
	}
	return nil
}

// Log is the audit log in the database.
type Log struct {
	db     *store.DB
	now    func() time.Time
	logger *slog.Logger
}

// New returns the log on db; now may be nil for the real clock, logger nil for none.
func New(db *store.DB, now func() time.Time, logger *slog.Logger) *Log {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{db: db, now: now, logger: logger}
}

// Append adds an entry in a transaction of its own.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	var out Entry
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = l.AppendTx(ctx, tx, e)
		return err
	})
	return out, err
}

// AppendTx adds an entry in tx, so that it is kept if and only if the change it records
// is: a configuration change and its entry commit together. It takes the chain's head
// row, which other appenders then wait for until tx ends: append last in a transaction.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, e Entry) (Entry, error) {
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.At = e.At.UTC().Truncate(time.Second)
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	// Taking the head in an UPDATE locks its row on PostgreSQL until the transaction
	// ends; on SQLite the transaction already holds the only write lock.
	if err := tx.QueryRow(ctx, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").Scan(&e.Seq, &e.PrevHash); err != nil {
		return Entry{}, fmt.Errorf("append to the audit log: take the head: %w", err)
	}
	var err error
	if e.Hash, err = ChainHash(e.PrevHash, e); err != nil {
		return Entry{}, fmt.Errorf("append to the audit log: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, object, contact, ip, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.At.Unix(), e.Actor, e.Action, e.Object, e.Contact, e.IP, e.Details,
		e.PrevHash, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("append to the audit log: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE audit_head SET hash = ? WHERE id = 1", e.Hash); err != nil {
		return Entry{}, fmt.Errorf("append to the audit log: move the head: %w", err)
	}
	return e, nil
}

const entryColumns = "seq, at, actor, action, object, contact, ip, details, prev_hash, hash"

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var at int64
	err := row.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Object, &e.Contact, &e.IP, &e.Details, &e.PrevHash, &e.Hash)
	e.At = time.Unix(at, 0).UTC()
	return e, err
}

// Break is where the chain is broken.
type Break struct {
	Seq    int64 // the first entry that does not check out (0: the head row itself)
	Reason string
}

// Report is what Verify found.
type Report struct {
	Entries  int64  // entries checked
	HeadSeq  int64  // the last entry's seq, as the head row has it
	HeadHash string // and its hash: note it somewhere else to detect a rewritten log
	Broken   *Break // nil when the chain is intact
}

// verifyBatch is how many entries Verify reads at a time.
const verifyBatch = 1000

// Verify walks the chain from the first entry and reports the first that does not check
// out: one whose content no longer gives its hash (edited), whose previous hash is not
// the hash of the entry before it, or that does not follow the one before it (removed or
// inserted entries); and a head that does not name the last entry (entries removed at
// the end).
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var rep Report
	if err := l.db.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&rep.HeadSeq, &rep.HeadHash); err != nil {
		return rep, fmt.Errorf("verify the audit log: read the head: %w", err)
	}
	prev := Entry{Hash: genesis}
	for {
		n := 0
		var broken *Break
		err := eachEntry(ctx, l.db, "SELECT "+entryColumns+" FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
			[]any{prev.Seq, verifyBatch}, func(e Entry) error {
				n++
				rep.Entries++
				switch want, err := ChainHash(e.PrevHash, e); {
				case e.Seq != prev.Seq+1:
					broken = &Break{Seq: e.Seq, Reason: fmt.Sprintf("entry %d follows entry %d: entries are missing or were inserted", e.Seq, prev.Seq)}
				case e.PrevHash != prev.Hash:
					broken = &Break{Seq: e.Seq, Reason: fmt.Sprintf("its previous hash is not the hash of entry %d", prev.Seq)}
				case err != nil || want != e.Hash:
					broken = &Break{Seq: e.Seq, Reason: "its content does not give its hash: the entry was changed"}
				}
				if broken != nil {
					return errStop
				}
				prev = e
				return nil
			})
		if err != nil && !errors.Is(err, errStop) {
			return rep, fmt.Errorf("verify the audit log: %w", err)
		}
		if broken != nil {
			rep.Broken = broken
			return rep, nil
		}
		if n < verifyBatch {
			break
		}
	}
	if prev.Seq != rep.HeadSeq || prev.Hash != rep.HeadHash {
		rep.Broken = &Break{Seq: prev.Seq + 1, Reason: fmt.Sprintf("the head names entry %d but the last entry is %d: entries were removed from the end, or the head was changed",
			rep.HeadSeq, prev.Seq)}
	}
	return rep, nil
}

var errStop = errors.New("stop")

func eachEntry(ctx context.Context, q store.Queryer, query string, args []any, fn func(Entry) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Filter selects entries. Empty fields select everything.
type Filter struct {
	Actor  string
	Action string
	Object string    // the entry's object or the contact it served
	From   time.Time // at or after
	To     time.Time // before
	Before int64     // seq below this (paging back); 0 for the newest
	Limit  int       // 0 for no limit
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, vs ...any) { conds = append(conds, cond); args = append(args, vs...) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Object != "" {
		add("(object = ? OR contact = ?)", f.Object, f.Object)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.Unix())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.Unix())
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Each calls fn for the entries f selects, newest first.
func (l *Log) Each(ctx context.Context, f Filter, fn func(Entry) error) error {
	where, args := f.where()
	query := "SELECT " + entryColumns + " FROM audit_log" + where + " ORDER BY seq DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	if err := eachEntry(ctx, l.db, query, args, fn); err != nil {
		return fmt.Errorf("read the audit log: %w", err)
	}
	return nil
}

// Search returns the entries f selects, newest first.
func (l *Log) Search(ctx context.Context, f Filter) ([]Entry, error) {
	var out []Entry
	err := l.Each(ctx, f, func(e Entry) error { out = append(out, e); return nil })
	return out, err
}

// Last returns the newest entry; store.ErrNotFound when the log is empty.
func (l *Log) Last(ctx context.Context) (Entry, error) {
	e, err := scanEntry(l.db.QueryRow(ctx, "SELECT "+entryColumns+" FROM audit_log ORDER BY seq DESC LIMIT 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, store.ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read the audit log: %w", err)
	}
	return e, nil
}

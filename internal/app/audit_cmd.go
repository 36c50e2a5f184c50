package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"balcao/internal/audit"
	"balcao/internal/auth"
)

const auditUsage = `usage: balcao audit COMMAND [flags]
  verify         walk the audit log's hash chain and report the first broken entry
  export [--actor ID] [--action A] [--object O] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                 write the entries (newest first) as CSV to standard output
Every command also takes --data and --db, as balcao serve does.`

// ErrAuditBroken is what `balcao audit verify` returns when the chain is broken, so that
// the process exits with an error.
var ErrAuditBroken = errors.New("the audit log's chain is broken")

// runAudit is `balcao audit verify|export`.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, auditUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("balcao audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "BALCAO_DATA", "data"), "data folder of the SQLite file (BALCAO_DATA)")
	dsn := fs.String("db", getenv("BALCAO_DB"), "PostgreSQL URL (BALCAO_DB)")
	var f audit.Filter
	var from, to string
	if sub == "export" {
		fs.StringVar(&f.Actor, "actor", "", "staff id, citizen, system or unknown")
		fs.StringVar(&f.Action, "action", "", "action, such as login_failed")
		fs.StringVar(&f.Object, "object", "", "object or contact, such as appointment:ID")
		fs.StringVar(&from, "from", "", "first day (UTC), YYYY-MM-DD")
		fs.StringVar(&to, "to", "", "last day (UTC), YYYY-MM-DD")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sub != "verify" && sub != "export" {
		return fmt.Errorf("unknown command %q\n%s", "audit "+sub, auditUsage)
	}
	for _, d := range []struct {
		s   string
		t   *time.Time
		add int
	}{{from, &f.From, 0}, {to, &f.To, 1}} {
		if d.s == "" {
			continue
		}
		day, err := time.Parse(time.DateOnly, d.s)
		if err != nil {
			return fmt.Errorf("%q is not a day (YYYY-MM-DD)", d.s)
		}
		*d.t = day.AddDate(0, 0, d.add)
	}
	db, err := openExisting(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	log := audit.New(db, nil, nil)
	if sub == "export" {
		_, err := log.WriteCSV(ctx, stdout, f)
		return err
	}
	rep, err := log.Verify(ctx)
	if err != nil {
		return err
	}
	if rep.Broken != nil {
		fmt.Fprintf(stdout, "audit log: BROKEN at entry %d: %s\n", rep.Broken.Seq, rep.Broken.Reason)
		fmt.Fprintf(stdout, "  entries intact before it: %d; the head names entry %d\n", rep.Entries-1, rep.HeadSeq)
		return fmt.Errorf("%w at entry %d", ErrAuditBroken, rep.Broken.Seq)
	}
	fmt.Fprintf(stdout, "audit log: %d entries, chain intact\n  head: entry %d, hash %s\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
	fmt.Fprintln(stdout, "  (note the head hash somewhere else: a later verify that does not reach it means the log was rewritten)")
	return nil
}

// signIns writes the staff sign-in events of package auth to the audit log.
type signIns struct{ log *audit.Log }

func (s signIns) AuditSignIn(ctx context.Context, e auth.AuditEvent) error {
	actor := e.Actor
	if actor == "" {
		actor = audit.Unknown
	}
	object := ""
	if e.Actor != "" {
		object = "staff:" + e.Actor
	}
	_, err := s.log.Append(ctx, audit.Entry{Actor: actor, Action: e.Action, Object: object, IP: e.IP, Details: e.Details})
	return err
}

// staffID is the audit log's actor for a request: its signed-in staff member's id.
func staffID(r *http.Request) string {
	if st, ok := auth.StaffFromRequest(r); ok {
		return st.ID
	}
	return ""
}

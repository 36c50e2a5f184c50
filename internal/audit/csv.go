package audit

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the first line of an export.
var CSVHeader = []string{"seq", "at", "actor", "action", "object", "contact", "ip", "details", "prev_hash", "hash"}

// Record returns the entry as a line of the CSV export; at is RFC 3339 in UTC.
func (e Entry) Record() []string {
	return []string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Object, e.Contact,
		e.IP, e.Details, e.PrevHash, e.Hash}
}

// WriteCSV writes the entries f selects (newest first) as CSV with a header line. The
// hashes are included, so that an export can be checked against the chain.
func (l *Log) WriteCSV(ctx context.Context, w io.Writer, f Filter) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, err
	}
	n := 0
	err := l.Each(ctx, f, func(e Entry) error {
		n++
		return cw.Write(e.Record())
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

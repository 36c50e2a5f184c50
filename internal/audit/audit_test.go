package audit_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/audit"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func appendSome(t *testing.T, l *audit.Log, n int) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for i := range n {
		e, err := l.Append(context.Background(), audit.Entry{Actor: fmt.Sprintf("staff-%d", i%3), Action: audit.ReadPersonalData,
			Object: fmt.Sprintf("appointment:a%d", i), Contact: fmt.Sprintf("appointment:a%d", i), IP: "192.0.2.1", Details: "path=/staff/call/x"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestChainLinksEveryEntry(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		l := audit.New(db, fixedClock(), nil)
		entries := appendSome(t, l, 5)
		prev := strings.Repeat("0", 64)
		for i, e := range entries {
			want, err := audit.ChainHash(prev, e)
			if e.Seq != int64(i+1) || e.PrevHash != prev || err != nil || e.Hash != want {
				t.Fatalf("entry %d: seq %d, prev %s, hash %s; want seq %d, prev %s, hash %s (%v)", i, e.Seq, e.PrevHash, e.Hash, i+1, prev, want, err)
			}
			prev = e.Hash
		}
		rep, err := l.Verify(context.Background())
		if err != nil || rep.Broken != nil || rep.Entries != 5 || rep.HeadSeq != 5 || rep.HeadHash != prev {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		if _, err := l.Append(context.Background(), audit.Entry{Action: audit.Login}); err == nil {
			t.Fatal("an entry without an actor was appended")
		}
	})
}

// TestConcurrentAppendersDoNotForkTheChain: appenders on several connections at once
// (PostgreSQL's pool has many) still give one chain, numbered without gaps.
func TestConcurrentAppendersDoNotForkTheChain(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		l := audit.New(db, nil, nil)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := l.Append(context.Background(), audit.Entry{Actor: fmt.Sprintf("w%d", w), Action: audit.Login, Details: fmt.Sprint(i)}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep, err := l.Verify(context.Background())
		if err != nil || rep.Broken != nil || rep.Entries != workers*each || rep.HeadSeq != workers*each {
			t.Fatalf("verify after concurrent appends: %+v %v", rep, err)
		}
	})
}

// tamper runs statements with the append-only guard lifted, as someone with the
// database's owner rights could.
func tamper(t *testing.T, db *store.DB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	var lift, restore []string
	if db.Dialect() == store.Postgres {
		lift = []string{"ALTER TABLE audit_log DISABLE TRIGGER USER"}
		restore = []string{"ALTER TABLE audit_log ENABLE TRIGGER USER"}
	} else {
		lift = []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
		restore = []string{"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
			"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"}
	}
	for _, s := range append(append(lift, stmts...), restore...) {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestTheLogIsAppendOnly(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		appendSome(t, audit.New(db, fixedClock(), nil), 2)
		for _, s := range []string{"UPDATE audit_log SET details = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2"} {
			if _, err := db.Exec(context.Background(), s); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want it refused as append-only", s, err)
			}
		}
	})
}

// TestVerifyFindsTampering edits, removes and inserts rows directly in SQL and expects
// Verify to name the first broken entry each time.
func TestVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name   string
		stmts  []string
		broken int64
		reason string
	}{
		{name: "edited details", stmts: []string{"UPDATE audit_log SET details = 'path=/elsewhere' WHERE seq = 4"}, broken: 4, reason: "changed"},
		{name: "edited actor", stmts: []string{"UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2"}, broken: 2, reason: "changed"},
		{name: "edited time", stmts: []string{"UPDATE audit_log SET at = at - 3600 WHERE seq = 6"}, broken: 6, reason: "changed"},
		{name: "removed entry", stmts: []string{"DELETE FROM audit_log WHERE seq = 3"}, broken: 4, reason: "missing"},
		{name: "removed last entry", stmts: []string{"DELETE FROM audit_log WHERE seq = 6"}, broken: 6, reason: "removed from the end"},
		{name: "rehashed entry", stmts: []string{"UPDATE audit_log SET details = 'x', hash = prev_hash WHERE seq = 5"}, broken: 5, reason: "changed"},
	}
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					fresh := engine.open(t)
					l := audit.New(fresh, fixedClock(), nil)
					appendSome(t, l, 6)
					if rep, err := l.Verify(context.Background()); err != nil || rep.Broken != nil {
						t.Fatalf("before tampering: %+v %v", rep, err)
					}
					tamper(t, fresh, tc.stmts...)
					rep, err := l.Verify(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if rep.Broken == nil || rep.Broken.Seq != tc.broken || !strings.Contains(rep.Broken.Reason, tc.reason) {
						t.Fatalf("verify after %v: %+v, want entry %d broken (%s)", tc.stmts, rep.Broken, tc.broken, tc.reason)
					}
					t.Logf("%s: entry %d: %s", tc.name, rep.Broken.Seq, rep.Broken.Reason)
				})
			}
		})
	}
}

func TestSearchAndExport(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := audit.New(db, fixedClock(), nil)
		appendSome(t, l, 6)
		if _, err := l.Append(ctx, audit.Entry{Actor: audit.Unknown, Action: audit.LoginFailed, IP: "198.51.100.7", Details: "reason=unknown_account"}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			name string
			f    audit.Filter
			seqs []int64
		}{
			{"all", audit.Filter{}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"actor", audit.Filter{Actor: "staff-1"}, []int64{5, 2}},
			{"action", audit.Filter{Action: audit.LoginFailed}, []int64{7}},
			{"object", audit.Filter{Object: "appointment:a3"}, []int64{4}},
			{"from", audit.Filter{From: start.Add(6 * time.Second)}, []int64{7, 6}},
			{"to", audit.Filter{To: start.Add(3 * time.Second)}, []int64{2, 1}},
			{"page", audit.Filter{Before: 5, Limit: 2}, []int64{4, 3}},
			{"nothing", audit.Filter{Actor: "staff-1", Action: audit.LoginFailed}, nil},
		} {
			got, err := l.Search(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tc.seqs) {
				t.Errorf("%s: %v, want %v", tc.name, seqs, tc.seqs)
			}
		}
		var buf bytes.Buffer
		n, err := l.WriteCSV(ctx, &buf, audit.Filter{})
		if err != nil || n != 7 {
			t.Fatalf("export: %d entries, %v", n, err)
		}
		golden(t, filepath.Join("testdata", "export.csv"), buf.Bytes())
	})
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs:\n%s", path, got)
	}
}

func TestRecordFromARequest(t *testing.T) {
	db := storetest.SQLite(t)
	l := audit.New(db, fixedClock(), nil)
	if err := audit.Record(context.Background(), audit.ReadPersonalData, "appointment:x", "appointment:x", ""); err != audit.ErrNotWired {
		t.Fatalf("Record without a log: %v, want ErrNotWired", err)
	}
	h := l.Middleware(func(r *http.Request) string { return r.Header.Get("X-Staff") })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := audit.RecordRead(r, "appointment:"+r.PathValue("id")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	}))
	mux := http.NewServeMux()
	mux.Handle("GET /staff/x/{id}", h)
	for _, staff := range []string{"s1", ""} {
		req := httptest.NewRequest("GET", "/staff/x/abc", nil)
		req.RemoteAddr = "203.0.113.9:5555"
		req.Header.Set("X-Staff", staff)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	got, err := l.Search(context.Background(), audit.Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	want := []string{audit.Citizen, "s1"}
	for i, e := range got {
		if e.Actor != want[i] || e.Action != audit.ReadPersonalData || e.Object != "appointment:abc" || e.Contact != "appointment:abc" ||
			e.IP != "203.0.113.9" || e.Details != "path=/staff/x/abc" {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}

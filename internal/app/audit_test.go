package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"balcao/internal/app"
	"balcao/internal/audit"
	"balcao/internal/auth"
	"balcao/internal/config"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

// TestAuditVerifyCatchesAnEditedRow signs in and fails to, checks the chain with
// `balcao audit verify`, edits one row of the log directly in SQL (lifting the
// append-only trigger, as the database's owner could) and expects verify to name it.
func TestAuditVerifyCatchesAnEditedRow(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			cfg := config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "error"}
			flags := []string{"--data", cfg.DataDir}
			if engine == "postgres" {
				cfg.DB = storetest.NewPostgresDatabase(t)
				flags = []string{"--db", cfg.DB}
			}
			a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
			if err != nil {
				t.Fatal(err)
			}
			client := auth.Client{IP: "192.0.2.10", UserAgent: "test"}
			if _, err := a.Auth.Login(ctx, "ana.martins@demo.balcao.example", "not the password", client); !errors.Is(err, auth.ErrInvalidLogin) {
				t.Fatalf("wrong password: %v", err)
			}
			if _, err := a.Auth.Login(ctx, "ana.martins@demo.balcao.example", app.DemoPassword, client); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Auth.Login(ctx, "nobody@demo.balcao.example", app.DemoPassword, client); !errors.Is(err, auth.ErrInvalidLogin) {
				t.Fatalf("unknown e-mail: %v", err)
			}
			entries, err := a.Audit.Search(ctx, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			want := []struct{ actor, action, details string }{
				{audit.Unknown, audit.LoginFailed, "reason=unknown_account"},
				{"ana-martins", audit.Login, "second_factor=no"},
				{"ana-martins", audit.LoginFailed, "reason=wrong_password"},
			}
			if len(entries) != len(want) {
				t.Fatalf("the log has %d entries, want %d: %+v", len(entries), len(want), entries)
			}
			for i, w := range want {
				e := entries[i]
				if e.Actor != w.actor || e.Action != w.action || e.Details != w.details || e.IP != client.IP || strings.Contains(e.Object, "@") {
					t.Errorf("entry %d: %+v, want %+v", e.Seq, e, w)
				}
			}
			a.Close()

			run := func() (string, error) {
				var out, errOut bytes.Buffer
				err := app.Run(ctx, append([]string{"audit", "verify"}, flags...), func(string) string { return "" }, &out, &errOut)
				return out.String() + errOut.String(), err
			}
			out, err := run()
			if err != nil || !strings.Contains(out, "3 entries, chain intact") {
				t.Fatalf("verify before tampering: %v\n%s", err, out)
			}
			t.Logf("$ balcao audit verify\n%s", out)

			db, err := store.Open(ctx, storeURL(cfg))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stmts := []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor = 'bruno-costa' WHERE seq = 2"}
			if engine == "postgres" {
				stmts[0] = "ALTER TABLE audit_log DISABLE TRIGGER USER"
			}
			for _, s := range stmts {
				if _, err := db.Exec(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			t.Logf("edited in SQL: %s", stmts[1])
			out, err = run()
			if !errors.Is(err, app.ErrAuditBroken) || !strings.Contains(out, "BROKEN at entry 2") {
				t.Fatalf("verify after editing entry 2: %v\n%s", err, out)
			}
			t.Logf("$ balcao audit verify\n%s(exit status: %v)", out, err)
		})
	}
}

func storeURL(cfg config.Config) string {
	if cfg.DB != "" {
		return cfg.DB
	}
	return cfg.DataDir + "/balcao.db"
}

// TestStaffReadsOfPersonalDataAreAudited opens the agent's call page, which shows the
// citizen's name, and expects the read in the audit log: who, which appointment, from
// where. A member of staff the page refuses leaves no read behind.
func TestStaffReadsOfPersonalDataAreAudited(t *testing.T) {
	m := newMatrixSite(t)
	ctx := context.Background()
	if got := m.ask(t, "GET", "/staff/call/"+m.ids["appt"], m.tokens[0]); got != "200" {
		t.Fatalf("the agent's call page answered %s", got)
	}
	if got := m.ask(t, "GET", "/staff/call/"+m.ids["other"], m.tokens[0]); got != "404" {
		t.Fatalf("another agent's call page answered %s", got)
	}
	reads, err := m.app.Audit.Search(ctx, audit.Filter{Action: audit.ReadPersonalData})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 1 {
		t.Fatalf("%d reads recorded, want 1: %+v", len(reads), reads)
	}
	e := reads[0]
	if e.Actor != "ana-martins" || e.Object != "appointment:"+m.ids["appt"] || e.Contact != e.Object || e.IP != "127.0.0.1" ||
		e.Details != "path=/staff/call/"+m.ids["appt"] {
		t.Fatalf("the read: %+v", e)
	}
	if rep, err := m.app.Audit.Verify(ctx); err != nil || rep.Broken != nil {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

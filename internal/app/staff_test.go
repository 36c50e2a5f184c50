package app_test

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"balcao/internal/config"
	"bytes"
	"context"
	"strings"
	"testing"

	"balcao/internal/app"
	"balcao/internal/store/storetest"
)

// TestUserCommands runs `balcao user` on both engines: add, list, passwd, reset-totp and
// disable, with the password on standard input.
func TestUserCommands(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			store := []string{"--data", t.TempDir()}
			if engine == "postgres" {
				store = []string{"--db", storetest.NewPostgresDatabase(t)}
			}
			// The location must exist: the demo agency provides it.
			ctx := context.Background()
			run := func(stdin string, args ...string) (string, error) {
				t.Helper()
				var out, errOut bytes.Buffer
				err := app.RunUser(ctx, append(args, store...), func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
				return out.String() + errOut.String(), err
			}
			if _, err := run("", "list"); err != nil {
				t.Fatal(err)
			}
			if out, err := run("Sol e mar em Agosto\n", "add", "--email", "rui.sa@example.pt", "--name", "Rui Sá", "--role", "supervisor", "--location", "lisboa"); err == nil ||
				!strings.Contains(err.Error(), "unknown location") {
				t.Fatalf("add with an unknown location: %v %s", err, out)
			}
			loadDemo(t, engine, store)
			out, err := run("Sol e mar em Agosto\n", "add", "--email", "rui.sa@example.pt", "--name", "Rui Sá", "--role", "supervisor", "--location", "lisboa", "--password-stdin")
			if err != nil || !strings.Contains(out, "created rui.sa@example.pt (supervisor") {
				t.Fatalf("add: %v %s", err, out)
			}
			if _, err := run("short\n", "add", "--email", "eva@example.pt", "--name", "Eva", "--location", "lisboa"); err == nil ||
				!strings.Contains(err.Error(), "shorter than 12") {
				t.Fatalf("add with a short password: %v", err)
			}
			if _, err := run("Sol e mar em Agosto\n", "add", "--email", "RUI.SA@example.pt", "--name", "Rui Outro", "--location", "lisboa"); err == nil ||
				!strings.Contains(err.Error(), "already used") {
				t.Fatalf("add with a taken e-mail: %v", err)
			}
			out, err = run("", "list")
			if err != nil || !strings.Contains(out, "rui.sa@example.pt") || !strings.Contains(out, "Rui Sá") || !strings.Contains(out, "supervisor") {
				t.Fatalf("list: %v\n%s", err, out)
			}
			if out, err := run("Chuva em Novembro 7\n", "passwd", "--email", "rui.sa@example.pt"); err != nil || !strings.Contains(out, "password of rui.sa@example.pt changed") {
				t.Fatalf("passwd: %v %s", err, out)
			}
			if out, err := run("", "reset-totp", "--email", "rui.sa@example.pt"); err != nil || !strings.Contains(out, "removed") {
				t.Fatalf("reset-totp: %v %s", err, out)
			}
			if out, err := run("", "disable", "--email", "rui.sa@example.pt"); err != nil || !strings.Contains(out, "disabled") {
				t.Fatalf("disable: %v %s", err, out)
			}
			out, _ = run("", "list")
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "rui.sa@example.pt") && !strings.Contains(line, "disabled") {
					t.Fatalf("list after disable: %s", line)
				}
			}
			if _, err := run("", "disable", "--email", "nobody@example.pt"); err == nil {
				t.Fatal("disable of an unknown e-mail succeeded")
			}
			if _, err := run("", "disable"); err == nil {
				t.Fatal("disable without --email succeeded")
			}
			if _, err := run("", "promote", "--email", "rui.sa@example.pt"); err == nil {
				t.Fatal("an unknown command succeeded")
			}
		})
	}
}

// loadDemo starts the app once on the database, which loads the demo agency.
func loadDemo(t *testing.T, engine string, store []string) {
	t.Helper()
	cfg := config.Config{Addr: "127.0.0.1:0", LogLevel: "error", DataDir: store[1]}
	if engine == "postgres" {
		cfg.DB, cfg.DataDir = store[1], ""
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}

func TestWelcomeListsDemoLogins(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "error"}, func(string) string { return "" }, &syncWriter{w: &out}, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(readSync(&out), "helder.alves") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := readSync(&out)
	for _, want := range []string{"staff/login", `demo logins (password "` + app.DemoPassword + `" for all)`,
		"ana.martins@demo.balcao.example", "graca.pinto@demo.balcao.example", "supervisor",
		"helder.alves@demo.balcao.example", "administrator", "two-step verification"} {
		if !strings.Contains(got, want) {
			t.Errorf("the welcome message lacks %q:\n%s", want, got)
		}
	}

	// Without the demo agency there are no demo logins, and no passwords are set.
	out.Reset()
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- app.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--no-demo", "--log-level", "error"},
			func(string) string { return "" }, &syncWriter{w: &out}, io.Discard)
	}()
	for !strings.Contains(readSync(&out), "staff") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := readSync(&out); strings.Contains(got, "demo logins") || !strings.Contains(got, "balcao user add") {
		t.Errorf("without the demo agency the welcome message says:\n%s", got)
	}
}

var outMu sync.Mutex

// syncWriter lets the test read what the server goroutine writes.
type syncWriter struct{ w io.Writer }

func (s *syncWriter) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	return s.w.Write(p)
}

func readSync(b *bytes.Buffer) string {
	outMu.Lock()
	defer outMu.Unlock()
	return b.String()
}

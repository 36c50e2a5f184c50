package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"balcao/internal/config"
	"balcao/internal/outbox"
	"balcao/internal/store"
)

// failing refuses every message for good, to fill the dead-letter list.
type failing struct{}

func (failing) Send(context.Context, string, outbox.Message) (outbox.Receipt, error) {
	return outbox.Receipt{}, &outbox.PermanentError{Err: errors.New("550 mailbox unavailable")}
}

func TestOutboxCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := New(ctx, config.Config{Addr: "127.0.0.1:0", DataDir: dir, LogLevel: "error"}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = a.DB.InTx(ctx, func(tx *store.Tx) error {
		return outbox.Enqueue(ctx, tx, time.Now(), outbox.Message{Channel: outbox.Email, Key: "k1",
			Mail: &outbox.Mail{To: "x@example.pt", Subject: "s", TextBody: "t"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	w := outbox.NewWorker(a.DB, map[string]outbox.Sender{outbox.Email: failing{}}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	w.RunOnce(ctx)
	a.Close()

	env := func(string) string { return "" }
	var out bytes.Buffer
	if err := Run(ctx, []string{"outbox", "dead", "--data", dir}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "k1") || !strings.Contains(lines[1], "550") {
		t.Fatalf("dead list:\n%s", out.String())
	}
	id := strings.Fields(lines[1])[0]
	out.Reset()
	if err := Run(ctx, []string{"outbox", "retry", "--data", dir, id}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	Run(ctx, []string{"outbox", "dead", "--data", dir}, env, &out, io.Discard)
	if strings.Contains(out.String(), "k1") {
		t.Errorf("still dead after retry:\n%s", out.String())
	}
	if err := Run(ctx, []string{"outbox", "dead", "--data", filepath.Join(dir, "nope")}, env, io.Discard, io.Discard); err == nil {
		t.Error("a missing database was not reported")
	}
}

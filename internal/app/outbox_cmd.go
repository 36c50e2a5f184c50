package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"balcao/internal/outbox"
	"balcao/internal/store"
)

// runOutbox is `balcao outbox dead|retry ID`: an administrator's view of the messages
// that could not be delivered, and a way to send one again.
func runOutbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: balcao outbox dead | balcao outbox retry ID [--data DIR] [--db URL]")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("balcao outbox "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "BALCAO_DATA", "data"), "data folder of the SQLite file (BALCAO_DATA)")
	dsn := fs.String("db", getenv("BALCAO_DB"), "PostgreSQL URL (BALCAO_DB)")
	limit := fs.Int("limit", 100, "how many to list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openExisting(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "dead":
		entries, err := outbox.List(ctx, db, outbox.StatusDead, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCHANNEL\tKEY\tATTEMPTS\tCREATED\tLAST ERROR")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Message.Channel, e.Message.Key, e.Attempts,
				e.CreatedAt.Format(time.RFC3339), e.LastError)
		}
		return tw.Flush()
	case "retry":
		if fs.NArg() != 1 {
			return errors.New("usage: balcao outbox retry ID")
		}
		if err := outbox.Retry(ctx, db, fs.Arg(0), time.Now()); err != nil {
			return err
		}
		slog.New(slog.NewTextHandler(stderr, nil)).Info("message queued again", "message", fs.Arg(0))
		fmt.Fprintln(stdout, "queued again:", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("unknown outbox command %q (dead, retry)", sub)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// openExisting opens the database of an installation for a command-line tool, migrated
// to the current schema, refusing to create an empty SQLite file by mistake.
func openExisting(ctx context.Context, dataDir, dsn string) (*store.DB, error) {
	if dsn == "" {
		dsn = filepath.Join(dataDir, "balcao.db")
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("no database at %s (use --data or --db): %w", dsn, err)
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

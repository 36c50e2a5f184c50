package store_test

import (
	"context"
	"testing"

	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

func TestBothEnginesHaveTheSameMigrations(t *testing.T) {
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestMigrateTwiceAppliesNothingTheSecondTime(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		n, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("second Migrate applied %d migrations", n)
		}
	})
}

func TestUniqueViolationAndRollback(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "k", "v1"); err != nil {
			t.Fatal(err)
		}
		_, err := db.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "k", "v2")
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate key: got %v, want a unique violation", err)
		}
		committed := false
		err = db.InTx(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { committed = true })
			if _, err := tx.Exec(ctx, "UPDATE settings SET value = ? WHERE key = ?", "changed", "k"); err != nil {
				return err
			}
			return store.ErrNotFound
		})
		if err != store.ErrNotFound || committed {
			t.Fatalf("InTx: err %v, after-commit ran %v", err, committed)
		}
		var v string
		if err := db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", "k").Scan(&v); err != nil || v != "v1" {
			t.Fatalf("after rollback: value %q, err %v", v, err)
		}
	})
}

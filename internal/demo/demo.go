// Package demo holds the demonstration agency that `balcao serve` loads into an empty
// database: two locations, services and themes, agents with weekly hours that leave free
// slots on every working day, and a sign-language interpreter.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	"balcao/internal/directory"
	"balcao/internal/store"
)

//go:embed agency.json
var agencyJSON []byte

// Config returns the demo agency's configuration.
func Config() (directory.Config, error) {
	cfg, err := directory.ParseConfig(bytes.NewReader(agencyJSON))
	if err != nil {
		return directory.Config{}, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// LoadIfEmpty loads the demo agency into a database with no services yet, and reports
// whether it did.
func LoadIfEmpty(ctx context.Context, db *store.DB) (bool, error) {
	empty, err := directory.IsEmpty(ctx, db)
	if err != nil || !empty {
		return false, err
	}
	cfg, err := Config()
	if err != nil {
		return false, err
	}
	if err := directory.Apply(ctx, db, cfg); err != nil {
		return false, fmt.Errorf("load demo agency: %w", err)
	}
	return true, nil
}

package ptid

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// vectorsPath is the test-vector file of Portuguese identifiers and holidays.
var vectorsPath = filepath.Join("..", "..", "testdata", "pt-identifiers.json")

// validators maps the JSON sections to the functions they exercise.
var validators = map[string]func(string) bool{
	"nif":               ValidNIF,
	"niss":              ValidNISS,
	"cartao_de_cidadao": ValidCC,
	"postal_code":       ValidPostalCode,
}

type vectorSet struct {
	Valid   []string `json:"valid"`
	Invalid []string `json:"invalid"`
}

func TestSharedVectors(t *testing.T) {
	b, err := os.ReadFile(vectorsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("test vectors missing at %s", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(b, &sections); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for kind, raw := range sections {
		var vs vectorSet
		if json.Unmarshal(raw, &vs) != nil || (vs.Valid == nil && vs.Invalid == nil) {
			continue // prose or holidays
		}
		valid, ok := validators[kind]
		if !ok {
			t.Errorf("vector file has %q, which no validator covers", kind)
			continue
		}
		seen++
		for _, s := range vs.Valid {
			if !valid(s) {
				t.Errorf("%s: %q rejected, want valid", kind, s)
			}
		}
		for _, s := range vs.Invalid {
			if valid(s) {
				t.Errorf("%s: %q accepted, want invalid", kind, s)
			}
		}
	}
	if seen != len(validators) {
		t.Errorf("found %d of %d identifier kinds in the vector file", seen, len(validators))
	}
}

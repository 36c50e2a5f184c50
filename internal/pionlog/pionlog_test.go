package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLevels: Pion's info goes out at debug level, its errors as warnings, its trace
// nowhere, each with its scope.
func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	l := Factory(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).NewLogger("ice")
	l.Trace("trace")
	l.Infof("info %d", 1)
	l.Errorf("error %s", "x")
	got := buf.String()
	for _, want := range []string{`level=DEBUG msg="info 1" pion=ice`, `level=WARN msg="error x" pion=ice`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "trace") {
		t.Errorf("trace logged:\n%s", got)
	}
}

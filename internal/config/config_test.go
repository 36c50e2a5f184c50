package config

import (
	"io"
	"strings"
	"testing"
)

func TestFlagsOverrideEnvironmentOverrideDefaults(t *testing.T) {
	env := map[string]string{"BALCAO_ADDR": "127.0.0.1:9000", "BALCAO_DATA": "/tmp/x", "BALCAO_NO_DEMO": "true"}
	c, err := Parse("serve", []string{"--addr", ":7000"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":7000" || c.DataDir != "/tmp/x" || !c.NoDemo || c.DB != "" {
		t.Fatalf("got %+v", c)
	}
	d, err := Parse("serve", nil, func(string) string { return "" }, io.Discard)
	if err != nil || d.Addr != ":8080" || d.DataDir != "data" || d.NoDemo {
		t.Fatalf("defaults: %+v, %v", d, err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Parse("serve", []string{"--addr", "nope", "--db", "mysql://x", "--tls-cert", "c.pem", "--log-level", "loud"},
		func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"addr", "db", "tls-key", "log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

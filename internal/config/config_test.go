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

func TestEmbeddedTURN(t *testing.T) {
	none := func(string) string { return "" }
	c, err := Parse("serve", nil, none, io.Discard)
	if err != nil || c.Media.TURNPort != 0 || c.Media.TURNRelayPorts != [2]int{49152, 49407} {
		t.Fatalf("defaults: the embedded TURN server is off, relay ports 49152-49407: %+v, %v", c.Media, err)
	}
	env := map[string]string{"BALCAO_TURN_PORT": "3478", "BALCAO_TURN_SECRET": "a secret of enough length",
		"BALCAO_TURN_RELAY_PORTS": "50000-50099"}
	c, err = Parse("serve", []string{"--turn-relay-ports", "51000-51009"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Media.TURNPort != 3478 || c.Media.TURNSecret != "a secret of enough length" || c.Media.TURNRelayPorts != [2]int{51000, 51009} {
		t.Fatalf("from the environment and flags: %+v", c.Media)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a short secret", []string{"--turn-port", "3478", "--turn-secret", "short"}, "turn-secret"},
		{"the media UDP port", []string{"--turn-port", "7882"}, "also the media UDP port"},
		{"the media TCP port", []string{"--turn-port", "7881", "--media-tcp-port", "7881"}, "also the media TCP port"},
		{"inside the relay range", []string{"--turn-port", "49200"}, "inside turn-relay-ports"},
		{"media port inside the relay range", []string{"--turn-port", "3478", "--media-udp-port", "49300"}, "media UDP port 49300 is inside"},
		{"an upside-down range", []string{"--turn-port", "3478", "--turn-relay-ports", "50010-50000"}, "turn-relay-ports 50010-50000"},
		{"privileged relay ports", []string{"--turn-port", "3478", "--turn-relay-ports", "100-200"}, "turn-relay-ports 100-200"},
		{"not a range", []string{"--turn-relay-ports", "many"}, "not a port range"},
		{"out of range", []string{"--turn-port", "70000"}, "turn-port: want 0 to 65535"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("serve", tc.args, none, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%v) = %v, want an error with %q", tc.args, err, tc.want)
			}
		})
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/store/storetest"
)

// TestBookingSurvivesKill books a few appointments at once on a real balcao process,
// kills it with SIGKILL the moment the last 201 arrives, restarts it on the same data and
// finds every appointment that was answered 201: an answered booking is durable. It does
// so three times over the same data.
func TestBookingSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the balcao binary")
	}
	bin := filepath.Join(t.TempDir(), "balcao")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		killAndRestart(t, bin, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		killAndRestart(t, bin, []string{"--db", storetest.NewPostgresDatabase(t)})
	})
}

const (
	crashTheme    = "informacao-geral" // a theme of the demo agency
	crashBookings = 5                  // fired at once, before each kill
	crashRounds   = 3                  // kills
)

type bookedJSON struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Start       time.Time `json:"start"`
	ManageToken string    `json:"manage_token"`
}

func killAndRestart(t *testing.T, bin string, args []string) {
	data := t.TempDir()
	srv := startBalcao(t, bin, data, args)
	var booked []bookedJSON
	for range crashRounds {
		booked = append(booked, bookAndKill(t, srv)...)
		srv = startBalcao(t, bin, data, args)
		for _, b := range booked {
			checkBooked(t, srv, b)
		}
	}
	srv.kill(t)
}

// bookAndKill fires crashBookings bookings at once and kills the server the moment the
// last answer arrives; it returns the appointments, all answered 201.
func bookAndKill(t *testing.T, srv *balcaoProcess) []bookedJSON {
	t.Helper()
	starts := seats(t, srv.base, crashBookings)
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make(chan answer, len(starts))
	for i, start := range starts {
		go func() {
			body := fmt.Sprintf(`{"theme":%q,"start":%q,"citizen":{"name":"Cidadã %d","email":"cidada%d@example.pt"}}`,
				crashTheme, start.Format(time.RFC3339), i, i)
			resp, err := http.Post(srv.base+"api/v1/appointments", "application/json", strings.NewReader(body))
			if err != nil {
				answers <- answer{err: err}
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers <- answer{status: resp.StatusCode, body: b, err: err}
		}()
	}
	var got []answer
	for range starts {
		got = append(got, <-answers)
	}
	// The last answer is in: kill the server at once, before anything else happens.
	srv.kill(t)

	var booked []bookedJSON
	for _, a := range got {
		if a.err != nil || a.status != http.StatusCreated {
			t.Fatalf("booking: %d %s %v; want 201", a.status, a.body, a.err)
		}
		var b bookedJSON
		if err := json.Unmarshal(a.body, &b); err != nil || b.ID == "" || b.ManageToken == "" {
			t.Fatalf("booking answer %s: %v", a.body, err)
		}
		booked = append(booked, b)
	}
	return booked
}

// checkBooked asks the server for the appointment with its manage token: it must be
// there, booked, at the time it was booked for.
func checkBooked(t *testing.T, srv *balcaoProcess, b bookedJSON) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.base+"api/v1/appointments/"+b.ID, nil)
	req.Header.Set("Authorization", "Bearer "+b.ManageToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var after bookedJSON
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &after) != nil {
		t.Errorf("appointment %s after the restart: %d %s; want 200", b.ID, resp.StatusCode, body)
		return
	}
	if after.Status != "booked" || !after.Start.Equal(b.Start) {
		t.Errorf("appointment %s after the restart: status %q at %s; want booked at %s", b.ID, after.Status, after.Start, b.Start)
	}
}

// seats returns the starts of the first n free seats of the demo theme, a slot appearing
// as many times as it has seats.
func seats(t *testing.T, base string, n int) []time.Time {
	t.Helper()
	today := calendar.DateOf(time.Now().In(calendar.Lisbon()))
	q := url.Values{"theme": {crashTheme}, "from": {today.String()}, "to": {today.AddDays(20).String()}}
	resp, err := http.Get(base + "api/v1/availability?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Slots []struct {
			Start time.Time `json:"start"`
			Free  int       `json:"free"`
		} `json:"slots"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("availability: %d %v", resp.StatusCode, err)
	}
	var starts []time.Time
	for _, s := range out.Slots {
		// A slot about to pass its minimum notice might turn too soon before it is booked.
		if time.Until(s.Start) < time.Hour {
			continue
		}
		for range s.Free {
			if len(starts) < n {
				starts = append(starts, s.Start)
			}
		}
	}
	if len(starts) < n {
		t.Fatalf("availability: %d free seats, want %d", len(starts), n)
	}
	return starts
}

type balcaoProcess struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port/
	stderr *syncBuffer
	done   chan struct{}
}

var servingLine = regexp.MustCompile(`^balcao is serving (http://\S+)`)

// startBalcao starts `balcao serve` on a free port over the data folder and waits until
// it is ready.
func startBalcao(t *testing.T, bin, data string, args []string) *balcaoProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "error", "--media-udp-port", "0"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BALCAO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &balcaoProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p.base = <-urls:
	case <-p.done:
		t.Fatalf("balcao exited at start: %s", p.stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("balcao did not start within 15 s: %s", p.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("balcao not ready at %s: %v %s", p.base, err, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL, as a crash would, and waits for the process to go.
func (p *balcaoProcess) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Errorf("kill balcao: %v", err)
	}
	<-p.done
	http.DefaultClient.CloseIdleConnections()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balcao/internal/calendar"
	"balcao/internal/mail"
	"balcao/internal/mail/mailpittest"
	"balcao/internal/store"
)

// TestConfirmationsSurviveRepeatedKills makes 1,000 bookings while the server is killed
// with SIGKILL again and again, then checks that every booking in the database got
// exactly one confirmation e-mail, and that no e-mail went out for a booking that does
// not exist. The SMTP server deduplicates by Message-ID, as the outbox's idempotency key
// asks providers to: a message re-sent after a kill that fell between the server's
// acceptance and our record of it is dropped there.
func TestConfirmationsSurviveRepeatedKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the balcao binary")
	}
	const target = 1000
	bin := filepath.Join(t.TempDir(), "balcao")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	smtp := mailpittest.Start(t, mailpittest.Plain, mailpittest.IgnoreDuplicateIDs)
	data := t.TempDir()
	agency := filepath.Join(data, "agency.json")
	if err := os.WriteFile(agency, crashAgency(40), 0o600); err != nil {
		t.Fatal(err)
	}
	const from = "noreply@balcao.test"
	args := []string{"--addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--no-demo", "--config", agency,
		"--smtp-addr", smtp.SMTPAddr, "--smtp-tls", "none", "--smtp-from", from, "--reminders", "none"}

	srv := startBalcao(t, bin, data, args)
	base := srv.base                        // the port is fixed: every restart answers here
	starts := crashSeats(t, base, 2*target) // requests cut by a kill use up their seat
	var next, booked, failed atomic.Int64
	stop := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := next.Add(1) - 1
				if int(i) >= len(starts) {
					return
				}
				body := fmt.Sprintf(`{"theme":"rapido","start":%q,"citizen":{"name":"Cidadão %d","email":"c%d@example.pt"}}`,
					starts[i].Format(time.RFC3339), i, i)
				resp, err := client.Post(base+"api/v1/appointments", "application/json", strings.NewReader(body))
				if err != nil {
					failed.Add(1) // the server was killed: the outcome is unknown
					time.Sleep(20 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					if booked.Add(1) >= target {
						stopOnce.Do(func() { close(stop) })
						return
					}
				}
			}
		}()
	}
	kills := 0
	var down time.Duration
	for booked.Load() < target {
		time.Sleep(time.Duration(40+rand.IntN(120)) * time.Millisecond)
		if booked.Load() >= target || int(next.Load()) >= len(starts) {
			break
		}
		srv.kill(t)
		kills++
		restart := time.Now()
		srv = startBalcao(t, bin, data, args)
		down += time.Since(restart)
	}
	wg.Wait()
	if booked.Load() < target {
		t.Fatalf("only %d bookings answered 201 out of %d seats tried", booked.Load(), len(starts))
	}
	// One more kill right after the last booking, then let the outbox drain.
	srv.kill(t)
	kills++
	srv = startBalcao(t, bin, data, args)
	db, err := store.OpenSQLite(context.Background(), filepath.Join(data, "balcao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending int
		if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM outbox WHERE status = 'pending'").Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending after a minute", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows, err := db.Query(context.Background(), "SELECT id FROM appointments")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // Message-ID -> appointment
	for rows.Next() {
		var id string
		rows.Scan(&id)
		want[strings.Trim(mail.MessageID("appt:"+id+":booked", from), "<>")] = id
	}
	rows.Close()
	var resent int
	db.QueryRow(context.Background(), "SELECT COUNT(*) FROM outbox WHERE attempts > 1").Scan(&resent)
	received := smtp.Wait(t, len(want), 30*time.Second)
	count := map[string]int{}
	for _, m := range received {
		count[m.MessageID]++
	}
	for msgID, id := range want {
		if count[msgID] != 1 {
			t.Errorf("appointment %s: %d confirmations, want 1", id, count[msgID])
		}
	}
	for msgID, n := range count {
		if _, ok := want[msgID]; !ok {
			t.Errorf("%d e-mails %s for no appointment", n, msgID)
		}
	}
	t.Logf("%d kills, restarts took %s on average; %d bookings answered 201, %d requests cut by a kill; %d appointments in the database, %d confirmations received; %d messages attempted more than once",
		kills, down/time.Duration(max(kills-1, 1)), booked.Load(), failed.Load(), len(want), len(received), resent)
	if len(want) < target {
		t.Errorf("%d appointments in the database, want at least the %d answered 201", len(want), target)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// crashAgency is an agency of n agents working around the clock on a 10-minute theme.
func crashAgency(n int) []byte {
	day := []string{"00:00-24:00"}
	week := map[string][]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}
	type staff struct {
		ID        string              `json:"id"`
		Name      string              `json:"name"`
		Location  string              `json:"location"`
		Languages []string            `json:"languages"`
		Themes    []string            `json:"themes"`
		Hours     map[string][]string `json:"hours"`
	}
	cfg := map[string]any{
		"agency":    map[string]any{"name": map[string]string{"pt-PT": "Agência de teste"}},
		"locations": []any{map[string]any{"id": "l1", "name": map[string]string{"pt-PT": "Local"}, "opening_hours": week}},
		"services": []any{map[string]any{"id": "s1", "name": map[string]string{"pt-PT": "Serviço"}, "themes": []any{
			map[string]any{"id": "rapido", "name": map[string]string{"pt-PT": "Rápido"}, "duration_minutes": 10,
				"auth_level": "none", "min_notice_minutes": 0, "horizon_days": 30}}}},
	}
	var people []staff
	for i := range n {
		people = append(people, staff{ID: fmt.Sprintf("a%d", i), Name: fmt.Sprintf("Agente %d", i), Location: "l1",
			Languages: []string{"pt"}, Themes: []string{"rapido"}, Hours: week})
	}
	cfg["staff"] = people
	b, _ := json.Marshal(cfg)
	return b
}

// crashSeats lists n seats from tomorrow on, a slot repeated once per free agent.
func crashSeats(t *testing.T, base string, n int) []time.Time {
	t.Helper()
	tomorrow := calendar.DateOf(time.Now().In(calendar.Lisbon())).AddDays(1)
	q := url.Values{"theme": {"rapido"}, "from": {tomorrow.String()}, "to": {tomorrow.AddDays(2).String()}}
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
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	for _, s := range out.Slots {
		for range s.Free {
			if len(starts) < n {
				starts = append(starts, s.Start)
			}
		}
	}
	if len(starts) < n {
		t.Fatalf("%d seats, want %d", len(starts), n)
	}
	return starts
}

// Command booking measures how many appointments balcao books per second through its
// public API, with many clients booking at once, on SQLite and on PostgreSQL.
//
// Run it from the repository root:
//
//	go run ./bench/booking -store both              # 32 clients for 10 s on each store
//	go run ./bench/booking -store sqlite -n 20000   # a fixed number of bookings instead
//	go run ./bench/booking -store sqlite -cpuprofile cpu.out && go tool pprof -top cpu.out
//	go run ./bench/booking -messages=false           # without queueing the citizen's e-mail/SMS
//
// For each store it writes an agency configuration with one location open around the
// clock, one 5-minute theme (no minimum notice, 60 days ahead) and -agents agents who
// serve it every day all day, starts balcao in-process on a real TCP listener over a fresh
// SQLite folder or a fresh PostgreSQL database (dropped at the end), fetches the
// availability, and lets the clients book the seats: each slot is asked for as many
// times as it has seats plus a few more (-contention), so most bookings succeed (201)
// and a few find their slot full (409). It prints bookings per second (201s), the
// latency of the POST (p50, p90, p99, max), the count of each answer, and checks that
// the database holds as many appointments as there were 201s. The outbox worker that
// delivers the queued messages is not running (balcao serve starts it), so its writes
// are not part of the figures.
//
// PostgreSQL is reached at -pg (default $BALCAO_TEST_POSTGRES, else
// postgres://postgres@127.0.0.1:5432/test), where the benchmark creates and drops a
// database of its own.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"balcao/internal/app"
	"balcao/internal/calendar"
	"balcao/internal/config"
	"balcao/internal/directory"
	_ "balcao/internal/store" // registers the "pgx" driver
)

const themeID = "bench"

func main() {
	storeFlag := flag.String("store", "both", "sqlite, postgres or both")
	clients := flag.Int("clients", 32, "concurrent HTTP clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to book (ignored with -n)")
	n := flag.Int("n", 0, "book this many times instead of for -duration")
	agents := flag.Int("agents", 200, "agents serving the theme around the clock")
	contention := flag.Float64("contention", 0.01, "surplus requests per seat: the share of requests meant to find their slot full")
	pgURL := flag.String("pg", defaultPostgres(), "PostgreSQL server to create the benchmark database on")
	messages := flag.Bool("messages", true, "queue the citizen's e-mail and SMS with each booking, as balcao serve does (false: measure booking alone)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the booking phase to this file (with -store both, one per store: FILE-sqlite, FILE-postgres)")
	flag.Parse()

	var stores []string
	switch *storeFlag {
	case "sqlite", "postgres":
		stores = []string{*storeFlag}
	case "both":
		stores = []string{"sqlite", "postgres"}
	default:
		fmt.Fprintf(os.Stderr, "booking: -store %q: want sqlite, postgres or both\n", *storeFlag)
		os.Exit(2)
	}
	fmt.Printf("GOMAXPROCS %d, CPUs %d, %s %s/%s; %d clients, %d agents, 5-minute theme, messages queued: %v\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *clients, *agents, *messages)
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average before the run: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	failed := false
	for _, st := range stores {
		profile := *cpuprofile
		if profile != "" && len(stores) > 1 {
			ext := filepath.Ext(profile)
			profile = strings.TrimSuffix(profile, ext) + "-" + st + ext
		}
		r := run{store: st, clients: *clients, duration: *duration, n: *n, agents: *agents,
			contention: *contention, pgURL: *pgURL, cpuprofile: profile, messages: *messages}
		if err := r.do(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "booking: %s: %v\n", st, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func defaultPostgres() string {
	if u := os.Getenv("BALCAO_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

type run struct {
	store      string
	clients    int
	duration   time.Duration
	n          int
	agents     int
	contention float64
	pgURL      string
	cpuprofile string
	messages   bool
}

func (r run) do(ctx context.Context) (err error) {
	tmp, err := os.MkdirTemp("", "balcao-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfgPath := filepath.Join(tmp, "agency.json")
	if err := writeAgency(cfgPath, r.agents); err != nil {
		return err
	}
	cfg := config.Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(tmp, "data"), NoDemo: true, ConfigFile: cfgPath, LogLevel: "error"}
	if r.store == "postgres" {
		dbURL, drop, err := createPostgresDatabase(ctx, r.pgURL)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, drop()) }()
		cfg.DB = dbURL
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(ctx, cfg, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if !r.messages {
		a.Booking.SetNotifier(nil)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: r.clients * 2, MaxIdleConnsPerHost: r.clients * 2, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()

	t0 := time.Now()
	slots, err := availability(ctx, client, base)
	if err != nil {
		return err
	}
	seats := 0
	for _, s := range slots {
		seats += s.Free
	}
	fmt.Printf("\n== %s ==\navailability: %d slots, %d seats, fetched in %s\n", r.store, len(slots), seats, time.Since(t0).Round(time.Millisecond))

	tk := &tickets{slots: slots, contention: r.contention, limit: r.n}
	if r.n > 0 && tk.capacity() < r.n {
		return fmt.Errorf("-n %d is more than the %d requests the slots can take", r.n, tk.capacity())
	}
	if r.cpuprofile != "" {
		f, err := os.Create(r.cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
			fmt.Printf("CPU profile: %s\n", r.cpuprofile)
		}()
	}
	cpu0 := processCPU()
	res := r.book(ctx, client, base, tk)
	res.cpu = processCPU() - cpu0
	res.print(r.store)

	var count int
	if err := a.DB.QueryRow(ctx, "SELECT COUNT(*) FROM appointments").Scan(&count); err != nil {
		return fmt.Errorf("count appointments: %w", err)
	}
	verdict := "= 201s, ok"
	if count != res.created {
		verdict = fmt.Sprintf("!= %d 201s, MISMATCH", res.created)
		err = errors.New("the database does not hold one appointment per 201")
	}
	fmt.Printf("appointments in the database: %d %s\n", count, verdict)
	if res.other > 0 {
		err = errors.Join(err, fmt.Errorf("%d answers other than 201 and 409, first: %s", res.other, res.firstOther))
	}
	return err
}

// writeAgency writes the benchmark agency: one location open around the clock, one
// 5-minute theme bookable right now up to 60 days ahead, and agents who serve it at all
// hours.
func writeAgency(path string, agents int) error {
	allDay := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allDay[d] = []string{"00:00-24:00"}
	}
	zero := 0
	name := func(s string) directory.Text { return directory.Text{"pt-PT": s, "en": s} }
	cfg := directory.Config{
		Agency:    directory.AgencyConfig{Name: name("Bench agency")},
		Locations: []directory.LocationConfig{{ID: "hq", Name: name("HQ"), Region: "Lisboa", OpeningHours: allDay}},
		Services: []directory.ServiceConfig{{ID: "svc", Name: name("Service"), Themes: []directory.ThemeConfig{{
			ID: themeID, Name: name("Bench theme"), DurationMinutes: 5, AuthLevel: directory.AuthNone,
			MinNoticeMinutes: &zero, HorizonDays: 60,
		}}}},
	}
	for i := range agents {
		cfg.Staff = append(cfg.Staff, directory.StaffConfig{
			ID: fmt.Sprintf("agent-%04d", i), Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent%d@bench.example", i),
			Location: "hq", Role: directory.RoleAgent, Languages: []string{"pt"}, Themes: []string{themeID}, Hours: allDay,
		})
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// createPostgresDatabase creates an empty database on the server at serverURL and returns
// its URL and a function that drops it.
func createPostgresDatabase(ctx context.Context, serverURL string) (string, func() error, error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("balcao_bench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() error {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

type slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

// availability fetches the theme's free slots for the next 31 days (the most one query
// may ask for).
func availability(ctx context.Context, client *http.Client, base string) ([]slot, error) {
	today := calendar.DateOf(time.Now().In(calendar.Lisbon()))
	q := url.Values{"theme": {themeID}, "from": {today.String()}, "to": {today.AddDays(30).String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/availability?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("availability: %s: %s", resp.Status, body)
	}
	var out struct {
		Slots []slot `json:"slots"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	// The slots about to start would turn too soon during the run: skip the first hour.
	cut := time.Now().Add(time.Hour)
	i := 0
	for i < len(out.Slots) && out.Slots[i].Start.Before(cut) {
		i++
	}
	if i == len(out.Slots) {
		return nil, errors.New("availability: no slots")
	}
	return out.Slots[i:], nil
}

// tickets hands out the slot each request goes for: slot after slot, each as many times
// as it has seats plus contention × seats more (rounded), so that concurrent clients
// mostly book the same slot's seats and a few requests find it full.
type tickets struct {
	mu         sync.Mutex
	slots      []slot
	contention float64
	limit      int // 0: no limit
	i, used    int
	issued     int
}

func (t *tickets) wants(s slot) int { return s.Free + int(math.Round(float64(s.Free)*t.contention)) }

func (t *tickets) capacity() int {
	n := 0
	for _, s := range t.slots {
		n += t.wants(s)
	}
	return n
}

// next returns the start of the slot for the next request, or false when done.
func (t *tickets) next() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.limit > 0 && t.issued >= t.limit {
		return time.Time{}, false
	}
	for t.i < len(t.slots) && t.used >= t.wants(t.slots[t.i]) {
		t.i, t.used = t.i+1, 0
	}
	if t.i == len(t.slots) {
		return time.Time{}, false
	}
	t.used++
	t.issued++
	return t.slots[t.i].Start, true
}

type result struct {
	elapsed               time.Duration
	created, taken, other int
	firstOther            string
	latencies             []time.Duration
	cpu                   time.Duration // user+system time of this process (server and clients)
}

func (r run) book(ctx context.Context, client *http.Client, base string, tk *tickets) result {
	var deadline time.Time
	if r.n == 0 {
		deadline = time.Now().Add(r.duration)
	}
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
		seq atomic.Int64
	)
	start := time.Now()
	for c := range r.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			created, taken, other := 0, 0, 0
			firstOther := ""
			for {
				if !deadline.IsZero() && time.Now().After(deadline) {
					break
				}
				at, ok := tk.next()
				if !ok {
					break
				}
				i := seq.Add(1)
				body := fmt.Sprintf(`{"theme":%q,"start":%q,"citizen":{"name":"Cidadão %d","email":"cidadao%d@example.pt","phone":"912 345 678","niss":"12345678902","nif":"123456789","language":"pt"},"needs":{"sign_language":false,"notes":"client %d"}}`,
					themeID, at.Format(time.RFC3339), i, i, c)
				t0 := time.Now()
				status, answer, err := post(ctx, client, base+"/api/v1/appointments", body)
				d := time.Since(t0)
				lat = append(lat, d)
				switch {
				case err != nil:
					other++
					if firstOther == "" {
						firstOther = err.Error()
					}
				case status == http.StatusCreated:
					created++
				case status == http.StatusConflict && strings.Contains(answer, `"slot_taken"`):
					taken++
				default:
					other++
					if firstOther == "" {
						firstOther = fmt.Sprintf("%d %s", status, answer)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			res.created += created
			res.taken += taken
			res.other += other
			if res.firstOther == "" {
				res.firstOther = firstOther
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func post(ctx context.Context, client *http.Client, u, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (r result) print(store string) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		i := int(math.Ceil(p*float64(len(r.latencies)))) - 1
		return r.latencies[max(i, 0)]
	}
	total := r.created + r.taken + r.other
	fmt.Printf("requests: %d in %s (%.0f/s) — 201 booked: %d, 409 slot taken: %d, other: %d\n",
		total, r.elapsed.Round(time.Millisecond), float64(total)/r.elapsed.Seconds(), r.created, r.taken, r.other)
	fmt.Printf("bookings/s (201s): %.0f\n", float64(r.created)/r.elapsed.Seconds())
	fmt.Printf("POST latency: p50 %s, p90 %s, p99 %s, max %s\n", ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(pct(1)))
	if total > 0 {
		note := "server and clients"
		if store == "postgres" {
			note += "; PostgreSQL's own processes not counted"
		}
		fmt.Printf("CPU of this process: %s, %.2fms per request (%s)\n",
			r.cpu.Round(time.Millisecond), float64(r.cpu)/float64(time.Millisecond)/float64(total), note)
	}
	if r.other > 0 {
		fmt.Printf("first other answer: %s\n", r.firstOther)
	}
}

// processCPU is the user and system CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

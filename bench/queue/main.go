// Command queue measures the walk-in queue's live updates at scale: it starts a balcao
// server (the real binary, in a child process, so that its memory can be read apart),
// puts N citizens in one queue, connects each one's ticket page WebSocket, then moves the
// queue (the ticket at the front leaves) again and again and times how long it takes
// until every citizen has their new position. It prints p50/p99 of that time, the
// server's idle memory and its memory per connection.
//
//	go run ./bench/queue -n 10000 -moves 20
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	n := flag.Int("n", 10000, "waiting citizens, each with a WebSocket")
	moves := flag.Int("moves", 20, "times the queue moves")
	flag.Parse()
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "balcao-queue-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "balcao")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/balcao").CombinedOutput(); err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}
	agency := filepath.Join(dir, "agency.json")
	os.WriteFile(agency, []byte(fmt.Sprintf(`{"agency":{"name":{"pt-PT":"Bench"}},
		"locations":[{"id":"l","name":{"pt-PT":"L"}}],
		"services":[{"id":"q","name":{"pt-PT":"Fila"},"walk_in":{"letter":"A","always_open":true,"max_waiting":%d},
			"themes":[{"id":"t","name":{"pt-PT":"T"},"duration_minutes":10,"auth_level":"none"}]}],
		"staff":[{"id":"x","name":"X","location":"l","themes":["t"]}]}`, *n+100)), 0o600)
	srv, base := start(bin, dir, agency)
	defer srv.Process.Kill()

	fmt.Printf("queue live updates: %d waiting citizens on WebSocket, %d moves; GOMAXPROCS %d, %s; server in a child process\n",
		*n, *moves, runtime.GOMAXPROCS(0), runtime.Version())
	time.Sleep(time.Second)
	idle := rss(srv.Process.Pid)
	fmt.Printf("server idle: RSS %.1f MiB\n", float64(idle)/(1<<20))

	type ticket struct{ id, token string }
	tickets := make([]ticket, *n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				body := fmt.Sprintf(`{"service":"q","citizen":{"name":"Cidadão %d"}}`, i)
				res, err := client.Post(base+"/api/v1/tickets", "application/json", strings.NewReader(body))
				if err != nil {
					log.Fatal(err)
				}
				var out struct{ ID, Token string }
				json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					log.Fatalf("take ticket: %d", res.StatusCode)
				}
				tickets[i] = ticket{out.ID, out.Token}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("took %d tickets in %s\n", *n, time.Since(start).Round(time.Millisecond))
	beforeWS := rss(srv.Process.Pid)

	// Each client remembers the latest position it was told and when.
	type state struct {
		mu       sync.Mutex
		position int
		at       time.Time
	}
	states := make([]*state, *n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var connected atomic.Int64
	next.Store(0)
	start = time.Now()
	dialer := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				st := &state{}
				states[i] = st
				h := http.Header{"Cookie": {"tk=" + tickets[i].token}}
				c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ticket/"+tickets[i].id+"/live",
					&websocket.DialOptions{HTTPHeader: h, HTTPClient: dialer})
				if err != nil {
					log.Fatalf("dial %d: %v", i, err)
				}
				c.SetReadLimit(4096)
				first := make(chan struct{})
				go func() {
					defer c.CloseNow()
					once := sync.Once{}
					for {
						_, msg, err := c.Read(ctx)
						if err != nil {
							return
						}
						var u struct{ Position int }
						json.Unmarshal(msg, &u)
						st.mu.Lock()
						st.position, st.at = u.Position, time.Now()
						st.mu.Unlock()
						once.Do(func() { close(first) })
					}
				}()
				<-first
				connected.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("connected %d WebSockets in %s\n", connected.Load(), time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	runtime.GC()
	withWS := rss(srv.Process.Pid)
	fmt.Printf("server with %d connections: RSS %.1f MiB; %.1f KiB per connection (RSS growth / connections)\n",
		*n, float64(withWS)/(1<<20), float64(withWS-beforeWS)/1024/float64(*n))

	var all, perClient []time.Duration
	left := make([]bool, *n)
	for m := 0; m < *moves && m < *n-1; m++ {
		// The ticket at the front leaves; everyone behind it moves up one place.
		front := -1
		want := make([]int, *n)
		for i := range *n {
			if left[i] {
				continue
			}
			states[i].mu.Lock()
			want[i] = states[i].position - 1
			if states[i].position == 1 {
				front = i
			}
			states[i].mu.Unlock()
		}
		if front < 0 {
			log.Fatal("no client at position 1")
		}
		left[front] = true
		sent := time.Now()
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/tickets/"+tickets[front].id, nil)
		req.Header.Set("Authorization", "Bearer "+tickets[front].token)
		res, err := client.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			log.Fatalf("move the queue: %v %v", err, res)
		}
		res.Body.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			lagging := 0
			for i := range *n {
				if left[i] {
					continue
				}
				states[i].mu.Lock()
				if states[i].position != want[i] {
					lagging++
				}
				states[i].mu.Unlock()
			}
			if lagging == 0 {
				break
			}
			if time.Now().After(deadline) {
				log.Printf("move %d: %d clients not updated after 10 s", m, lagging)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		var last time.Duration
		for i := range *n {
			if left[i] {
				continue
			}
			states[i].mu.Lock()
			d := states[i].at.Sub(sent)
			states[i].mu.Unlock()
			perClient = append(perClient, d)
			last = max(last, d)
		}
		all = append(all, last)
	}
	slices.Sort(all)
	slices.Sort(perClient)
	pct := func(s []time.Duration, p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	fmt.Printf("move -> every client updated: p50 %s, p99 %s, max %s (over %d moves)\n",
		pct(all, .5).Round(time.Millisecond), pct(all, .99).Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond), len(all))
	fmt.Printf("move -> one client updated:   p50 %s, p99 %s (over %d updates)\n",
		pct(perClient, .5).Round(time.Millisecond), pct(perClient, .99).Round(time.Millisecond), len(perClient))
}

func start(bin, dir, agency string) (*exec.Cmd, string) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dir, "--no-demo", "--config", agency, "--log-level", "error", "--media-udp-port", "0")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	serving := regexp.MustCompile(`^balcao is serving`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if serving.MatchString(sc.Text()) {
			break
		}
	}
	go io.Copy(io.Discard, out)
	return cmd, "http://" + addr
}

func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmRSS:")) {
			f := strings.Fields(string(line))
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

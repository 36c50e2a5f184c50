// Command sfu measures balcao's SFU (internal/sfu) with synthetic Pion
// clients on loopback, and prints figures.
//
// Run (from the repository root; a few minutes with the default steps):
//
//	go run ./bench/sfu
//	go run ./bench/sfu -calls 1,5,10 -duration 5s   # quicker
//
// Each step starts the SFU in a child process of this program (-serve mode),
// so that the SFU's CPU time and memory are its own, then connects N calls of
// three synthetic participants to it over a small JSON-lines signalling on a
// local TCP socket. Every participant publishes Opus-like audio (50 packets/s)
// and VP8-like video (-video-kbps, 25 fps); the first of each call also
// shares its screen (-screen-kbps). Each packet's payload carries its send
// time. After a warm-up, the step measures for -duration:
//
//   - server CPU per forwarded packet: the child's user+system time (getrusage)
//     over the packets the SFU wrote to subscribers (its own counters). It
//     includes receiving, decrypting and re-encrypting: all the SFU's work.
//     "µs sys" is the kernel's part of it (the UDP sends and receives);
//   - memory per call: the child's RSS growth over its idle baseline, / N;
//   - receiver loss: packets received vs expected from RTP sequence numbers,
//     over every received track;
//   - allocations per forwarded packet in the child (runtime.MemStats);
//   - forwarding delay: receive time - send time embedded in the payload (same
//     machine clock), p50 and p99. It includes both clients' Pion stacks;
//   - the SRTP profile negotiated: the clients list theirs in Chrome's order,
//     so that the SFU gets what it would get with browsers.
//
// SFU_BENCH_CPUPROFILE=file and SFU_BENCH_MEMPROFILE=file write the child's
// CPU and allocation profiles (of the last step).
//
// Before each run of a step it measures a bare Go UDP send+receive on loopback
// (CPU per packet, process CPU time) for comparison: on a machine shared with
// other work it also shows how much that work slows every packet down.
// Clients and SFU share the machine's cores, so at high N the clients' own load
// weighs on the figures. -runs repeats each step and adds a median row.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"balcao/internal/sfu"
)

func main() {
	var (
		serve      = flag.Bool("serve", false, "run the SFU and its signalling (child process mode)")
		callsFlag  = flag.String("calls", "1,5,10,25,50", "comma-separated numbers of concurrent 3-party calls, one step each")
		duration   = flag.Duration("duration", 10*time.Second, "measurement time per step")
		warmup     = flag.Duration("warmup", 2*time.Second, "time between set-up and measurement")
		videoKbps  = flag.Int("video-kbps", 500, "camera bitrate per participant")
		screenKbps = flag.Int("screen-kbps", 500, "screen-share bitrate (one participant per call)")
		udpPackets = flag.Int("udp-packets", 100000, "packets for the bare UDP comparison, measured before each run")
		runs       = flag.Int("runs", 1, "runs of each step; with more than one, a median row follows")
	)
	flag.Parse()
	if *serve {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		return
	}
	var steps []int
	for _, f := range strings.Split(*callsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bad -calls value %q\n", f)
			os.Exit(2)
		}
		steps = append(steps, n)
	}
	cfg := stepConfig{duration: *duration, warmup: *warmup, videoKbps: *videoKbps, screenKbps: *screenKbps}
	if err := run(steps, max(*runs, 1), cfg, *udpPackets); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// ---- signalling between the bench's clients and the child SFU ----

// msg is one line of the JSON signalling.
type msg struct {
	Type      string                     `json:"type"` // join, offer, answer, candidate, event, glare, error, totals
	Room      string                     `json:"room,omitempty"`
	ID        string                     `json:"id,omitempty"`
	Role      string                     `json:"role,omitempty"`
	SDP       *webrtc.SessionDescription `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit   `json:"candidate,omitempty"`
	Event     *sfu.Event                 `json:"event,omitempty"`
	Error     string                     `json:"error,omitempty"`
	Totals    *totals                    `json:"totals,omitempty"`
}

// totals are the child's counters.
type totals struct {
	At        time.Time     `json:"at"`     // when sampled (the counters are read over a while: its middle)
	CPU       time.Duration `json:"cpu"`    // user + system
	SysCPU    time.Duration `json:"sysCpu"` // system (the kernel's share of CPU)
	RSS       int64         `json:"rss"`    // bytes
	HeapInuse uint64        `json:"heapInuse"`
	Mallocs   uint64        `json:"mallocs"`
	GCs       uint32        `json:"gcs"`
	Forwarded uint64        `json:"forwarded"` // packets written to subscribers
	Received  uint64        `json:"received"`  // packets received from publishers
	Peers     int           `json:"peers"`
}

// runServer is the child: the SFU plus a JSON-lines signalling on TCP. It
// prints its address, and stops when its standard input closes.
func runServer() error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	s, err := sfu.New(sfu.Config{Loopback: true}, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	var peers sync.Map // *sfu.Participant → struct{}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveConn(s, conn, &peers)
		}
	}()
	if path := os.Getenv("SFU_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	if path := os.Getenv("SFU_BENCH_MEMPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	_ = ln.Close()
	return s.Close()
}

// connSignaler queues messages to one client's connection.
type connSignaler struct{ out chan msg }

func (c connSignaler) send(m msg) error {
	select {
	case c.out <- m:
		return nil
	default:
		return errors.New("signalling queue full")
	}
}

func (c connSignaler) SendOffer(o webrtc.SessionDescription) error {
	return c.send(msg{Type: "offer", SDP: &o})
}

func (c connSignaler) SendAnswer(a webrtc.SessionDescription) error {
	return c.send(msg{Type: "answer", SDP: &a})
}

func (c connSignaler) SendCandidate(i webrtc.ICECandidateInit) error {
	return c.send(msg{Type: "candidate", Candidate: &i})
}

func (c connSignaler) SendEvent(e sfu.Event) error { return c.send(msg{Type: "event", Event: &e}) }

func serveConn(s *sfu.SFU, conn net.Conn, peers *sync.Map) {
	defer conn.Close()
	dec := json.NewDecoder(bufio.NewReader(conn))
	enc := json.NewEncoder(conn)
	var first msg
	if err := dec.Decode(&first); err != nil {
		return
	}
	if first.Type == "totals" {
		_ = enc.Encode(msg{Type: "totals", Totals: childTotals(peers)})
		return
	}
	if first.Type != "join" {
		return
	}
	// A negotiation is a few messages; a deep queue per participant would be
	// counted as the SFU's memory per call.
	sig := connSignaler{out: make(chan msg, 256)}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case m := <-sig.out:
				if enc.Encode(m) != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	p, err := s.Room(first.Room).Join(sfu.ParticipantInfo{ID: first.ID, Role: first.Role}, sig)
	if err != nil {
		_ = sig.send(msg{Type: "error", Error: err.Error()})
		return
	}
	peers.Store(p, struct{}{})
	defer func() {
		peers.Delete(p)
		p.Leave()
	}()
	for {
		var m msg
		if err := dec.Decode(&m); err != nil {
			return
		}
		switch {
		case m.Type == "offer" && m.SDP != nil:
			err = p.HandleOffer(*m.SDP, nil)
			if errors.Is(err, sfu.ErrGlare) {
				_ = sig.send(msg{Type: "glare"})
				err = nil
			}
		case m.Type == "answer" && m.SDP != nil:
			err = p.HandleAnswer(*m.SDP)
		case m.Type == "candidate" && m.Candidate != nil:
			_ = p.AddCandidate(*m.Candidate)
			err = nil
		}
		if err != nil {
			_ = sig.send(msg{Type: "error", Error: err.Error()})
		}
	}
}

func childTotals(peers *sync.Map) *totals {
	// Reading every participant's counters takes a while on a loaded machine:
	// the time and CPU figures are the middle of that while.
	start, cpu, sys := time.Now(), processCPU(), processSysCPU()
	t := &totals{RSS: selfRSS()}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.HeapInuse, t.Mallocs, t.GCs = ms.HeapInuse, ms.Mallocs, ms.NumGC
	peers.Range(func(k, _ any) bool {
		st, err := k.(*sfu.Participant).Stats()
		if err != nil {
			return true
		}
		t.Peers++
		for _, r := range st.Received {
			t.Forwarded += r.Packets
		}
		for _, p := range st.Published {
			t.Received += p.Packets
		}
		return true
	})
	t.At = start.Add(time.Since(start) / 2)
	t.CPU = (cpu + processCPU()) / 2
	t.SysCPU = (sys + processSysCPU()) / 2
	return t
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func processSysCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}

// selfRSS reads the resident set size from /proc/self/status.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ---- the parent: steps, clients, figures ----

type stepConfig struct {
	duration, warmup      time.Duration
	videoKbps, screenKbps int
}

func run(steps []int, runs int, cfg stepConfig, udpPackets int) error {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("balcao SFU benchmark — %s, %d CPUs (GOMAXPROCS %d), load average %s\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("per participant: audio 50 pkt/s, camera %d kbit/s at 25 fps; one screen share per call at %d kbit/s; %s measured after %s warm-up\n\n",
		cfg.videoKbps, cfg.screenKbps, cfg.duration, cfg.warmup)

	fmt.Printf("UDP µs: a bare Go UDP send + receive on loopback (1100-byte packets, %d, one process), CPU per packet,\nmeasured just before each run: what the machine's load does to a packet's cost at that moment.\n\n", udpPackets)
	fmt.Printf("%7s %9s %9s %10s %7s %7s %10s %9s %9s %9s %9s %9s %9s %8s  %s\n",
		"calls", "in pkt/s", "fwd pkt/s", "µs CPU/fwd", "µs sys", "UDP µs", "allocs/fwd", "SFU CPU%", "MiB/call", "loss %", "p50 ms", "p99 ms", "client%", "setup s", "SRTP")
	for _, calls := range steps {
		var rs []stepResult
		for range runs {
			udp, _, err := bareUDP(udpPackets)
			if err != nil {
				return fmt.Errorf("bare UDP: %w", err)
			}
			r, err := runStep(calls, cfg)
			if err != nil {
				return fmt.Errorf("step %d calls: %w", calls, err)
			}
			r.udpUS = udp
			rs = append(rs, r)
			printRow(strconv.Itoa(calls), r)
		}
		if runs > 1 {
			printRow(strconv.Itoa(calls)+" med", median(rs))
		}
	}
	fmt.Println("\nSFU CPU% and client% are percent of one core; the machine has", runtime.NumCPU(), "cores shared by both processes (and anything else running).")
	return nil
}

func printRow(label string, r stepResult) {
	fmt.Printf("%7s %9.0f %9.0f %10.2f %7.2f %7.2f %10.1f %9.1f %9.2f %9.3f %9.2f %9.2f %9.1f %8.1f  %s\n",
		label, r.inPPS, r.fwdPPS, r.cpuPerFwd, r.sysPerFwd, r.udpUS, r.allocsPerFwd, r.sfuCPUPct, r.mibPerCall,
		r.lossPct, r.p50ms, r.p99ms, r.clientCPUPct, r.setup.Seconds(), r.srtp)
}

// median returns, field by field, the median of several runs of one step.
func median(rs []stepResult) stepResult {
	med := func(f func(stepResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	return stepResult{
		inPPS:        med(func(r stepResult) float64 { return r.inPPS }),
		fwdPPS:       med(func(r stepResult) float64 { return r.fwdPPS }),
		cpuPerFwd:    med(func(r stepResult) float64 { return r.cpuPerFwd }),
		sysPerFwd:    med(func(r stepResult) float64 { return r.sysPerFwd }),
		udpUS:        med(func(r stepResult) float64 { return r.udpUS }),
		allocsPerFwd: med(func(r stepResult) float64 { return r.allocsPerFwd }),
		sfuCPUPct:    med(func(r stepResult) float64 { return r.sfuCPUPct }),
		mibPerCall:   med(func(r stepResult) float64 { return r.mibPerCall }),
		lossPct:      med(func(r stepResult) float64 { return r.lossPct }),
		p50ms:        med(func(r stepResult) float64 { return r.p50ms }),
		p99ms:        med(func(r stepResult) float64 { return r.p99ms }),
		clientCPUPct: med(func(r stepResult) float64 { return r.clientCPUPct }),
		setup:        time.Duration(med(func(r stepResult) float64 { return float64(r.setup) })),
		srtp:         rs[0].srtp,
	}
}

// bareUDP sends n packets between two loopback sockets in this process and
// returns the process CPU time per received packet.
func bareUDP(n int) (float64, int, error) {
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	_ = rc.SetReadBuffer(8 << 20)
	sc, err := net.DialUDP("udp4", nil, rc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return 0, 0, err
	}
	defer sc.Close()
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			_ = rc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := rc.Read(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	pkt := make([]byte, 1100)
	start := processCPU()
	for i := 0; i < n; i++ {
		if _, err := sc.Write(pkt); err != nil {
			return 0, 0, err
		}
		if i%64 == 63 { // let the receiver keep up rather than overflow the socket
			for got.Load() < int64(i)-4096 {
				runtime.Gosched()
			}
		}
	}
	<-done
	cpu := processCPU() - start
	r := got.Load()
	if r == 0 {
		return 0, 0, errors.New("nothing received")
	}
	// The receiver's last 200 ms timeout adds no CPU worth counting.
	return float64(cpu.Microseconds()) / float64(r), int(r), nil
}

type stepResult struct {
	inPPS, fwdPPS, cpuPerFwd, sfuCPUPct float64
	sysPerFwd, udpUS                    float64
	allocsPerFwd                        float64
	mibPerCall, lossPct, p50ms, p99ms   float64
	clientCPUPct                        float64
	setup                               time.Duration
	srtp                                string // the SRTP profile negotiated
}

func runStep(calls int, cfg stepConfig) (stepResult, error) {
	var res stepResult
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(exe, "-serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		_ = stdin.Close()
		waited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("read child address: %w", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "LISTEN "))
	base, err := fetchTotals(addr)
	if err != nil {
		return res, err
	}

	api := clientAPI()
	setupStart := time.Now()
	clients := make([]*client, 0, calls*3)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, calls*3)
	for c := 0; c < calls; c++ {
		for i, role := range []string{"agent", "citizen", "interpreter"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				cl, err := newClient(api, addr, fmt.Sprintf("call-%d", c), fmt.Sprintf("%s-%d", role, c), role, i == 0, cfg)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				clients = append(clients, cl)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	defer func() {
		var cwg sync.WaitGroup
		for _, cl := range clients {
			cwg.Add(1)
			go func() { defer cwg.Done(); cl.close() }()
		}
		cwg.Wait()
	}()
	select {
	case err := <-errs:
		return res, err
	default:
	}
	// Wait until every client receives every track it should: 2 others ×
	// (audio + camera), plus the screen share for all but the sharer.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := 0
		for _, cl := range clients {
			want := 4
			if !cl.shares {
				want = 5
			}
			if cl.liveTracks() >= want {
				ready++
			}
		}
		if ready == len(clients) {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("only %d of %d clients receive all their tracks after 60 s", ready, len(clients))
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.setup = time.Since(setupStart)
	res.srtp = srtpCipher(clients[0].pc)
	time.Sleep(cfg.warmup)

	// Measure.
	t0, err := fetchTotals(addr)
	if err != nil {
		return res, err
	}
	snap0 := snapshot(clients)
	cpu0, wall0 := processCPU(), time.Now()
	measuring.Store(true)
	time.Sleep(cfg.duration)
	measuring.Store(false)
	cpu1, wall := processCPU(), time.Since(wall0)
	snap1 := snapshot(clients)
	t1, err := fetchTotals(addr)
	if err != nil {
		return res, err
	}
	time.Sleep(50 * time.Millisecond) // let in-flight delay samples land

	// The SFU's figures cover the time between its two samples, which can be
	// longer than the clients' window when the machine is overloaded.
	sec, sfuSec := wall.Seconds(), t1.At.Sub(t0.At).Seconds()
	fwd := float64(t1.Forwarded - t0.Forwarded)
	res.inPPS = float64(t1.Received-t0.Received) / sfuSec
	res.fwdPPS = fwd / sfuSec
	if fwd > 0 {
		res.cpuPerFwd = float64((t1.CPU - t0.CPU).Microseconds()) / fwd
		res.sysPerFwd = float64((t1.SysCPU - t0.SysCPU).Microseconds()) / fwd
		res.allocsPerFwd = float64(t1.Mallocs-t0.Mallocs) / fwd
	}
	res.sfuCPUPct = 100 * (t1.CPU - t0.CPU).Seconds() / sfuSec
	res.clientCPUPct = 100 * (cpu1 - cpu0).Seconds() / sec
	res.mibPerCall = float64(t1.RSS-base.RSS) / float64(calls) / (1 << 20)
	expected, received := snap1.expected-snap0.expected, snap1.received-snap0.received
	if expected > 0 {
		res.lossPct = 100 * float64(max(expected-received, 0)) / float64(expected)
	}
	var hist histogram
	for _, cl := range clients {
		cl.addHistograms(&hist)
	}
	res.p50ms = hist.quantile(0.50).Seconds() * 1000
	res.p99ms = hist.quantile(0.99).Seconds() * 1000
	return res, nil
}

// srtpCipher returns the SRTP protection profile of pc's transport.
func srtpCipher(pc *webrtc.PeerConnection) string {
	for _, st := range pc.GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok && ts.SRTPCipher != "" {
			return strings.TrimPrefix(ts.SRTPCipher, "SRTP_")
		}
	}
	return "?"
}

func fetchTotals(addr string) (*totals, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(msg{Type: "totals"}); err != nil {
		return nil, err
	}
	var m msg
	if err := json.NewDecoder(conn).Decode(&m); err != nil {
		return nil, fmt.Errorf("read totals: %w", err)
	}
	if m.Totals == nil {
		return nil, errors.New("no totals")
	}
	return m.Totals, nil
}

// measuring is set during the measurement window: receivers record delays.
var measuring atomic.Bool

type counts struct{ expected, received int64 }

func snapshot(clients []*client) counts {
	var c counts
	for _, cl := range clients {
		cl.mu.Lock()
		for _, rt := range cl.tracks {
			c.expected += rt.maxSeq.Load()
			c.received += rt.received.Load()
		}
		cl.mu.Unlock()
	}
	return c
}

// clientAPI is a browser-like Pion API: Opus and VP8, NACK, RTCP reports,
// and TWCC (the client stamps transport-wide sequence numbers, so the SFU
// does the TWCC feedback work it does for browsers).
func clientAPI() *webrtc.API {
	m := &webrtc.MediaEngine{}
	must(m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}}, webrtc.RTPCodecTypeAudio))
	must(m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
	}}, webrtc.RTPCodecTypeVideo))
	ir := &interceptor.Registry{}
	must(webrtc.ConfigureNack(m, ir))
	must(webrtc.ConfigureRTCPReports(ir))
	must(webrtc.ConfigureTWCCHeaderExtensionSender(m, ir))
	must(webrtc.ConfigureTWCCSender(m, ir))
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	se := webrtc.SettingEngine{LoggerFactory: quiet}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Chrome's order: as the DTLS server a browser picks the first of its own
	// profiles that the SFU offers, and HMAC-SHA1 comes first.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AEAD_AES_128_GCM)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// client is one synthetic participant.
type client struct {
	id     string
	shares bool
	pc     *webrtc.PeerConnection
	conn   net.Conn
	enc    *json.Encoder
	encMu  sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	tracks []*recvTrack
}

type recvTrack struct {
	maxSeq   atomic.Int64 // highest extended sequence number
	received atomic.Int64
	hist     histogram
}

func newClient(api *webrtc.API, addr, room, id, role string, shares bool, cfg stepConfig) (*client, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{id: id, shares: shares, pc: pc, conn: conn, enc: json.NewEncoder(conn), ctx: ctx, cancel: cancel}
	fail := func(err error) (*client, error) { c.close(); return nil, fmt.Errorf("client %s: %w", id, err) }

	if err := c.send(msg{Type: "join", Room: room, ID: id, Role: role}); err != nil {
		return fail(err)
	}
	pc.OnTrack(c.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			init := cand.ToJSON()
			_ = c.send(msg{Type: "candidate", Candidate: &init})
		}
	})
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", id)
	if err != nil {
		return fail(err)
	}
	camera, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", id)
	if err != nil {
		return fail(err)
	}
	senders := []*webrtc.TrackLocalStaticRTP{audio, camera}
	var screen *webrtc.TrackLocalStaticRTP
	if shares {
		screen, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", id)
		if err != nil {
			return fail(err)
		}
		senders = append(senders, screen)
	}
	for _, tr := range senders {
		s, err := pc.AddTrack(tr)
		if err != nil {
			return fail(err)
		}
		c.wg.Add(1)
		go func() { // RTCP must be read for NACK and reports to work
			defer c.wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := s.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		return fail(err)
	}
	if err := c.send(msg{Type: "offer", SDP: pc.LocalDescription()}); err != nil {
		return fail(err)
	}
	c.wg.Add(2)
	go c.readSignalling()
	go c.sendMedia(audio, camera, screen, cfg)
	return c, nil
}

func (c *client) send(m msg) error {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	return c.enc.Encode(m)
}

func (c *client) close() {
	c.cancel()
	_ = c.conn.Close()
	_ = c.pc.Close()
	c.wg.Wait()
}

// readSignalling answers the server's offers and applies its answer and
// candidates. The client offers only once, first, so offers never cross.
func (c *client) readSignalling() {
	defer c.wg.Done()
	dec := json.NewDecoder(bufio.NewReader(c.conn))
	for {
		var m msg
		if err := dec.Decode(&m); err != nil {
			return
		}
		var err error
		switch m.Type {
		case "answer":
			err = c.pc.SetRemoteDescription(*m.SDP)
		case "offer":
			if err = c.pc.SetRemoteDescription(*m.SDP); err != nil {
				break
			}
			var a webrtc.SessionDescription
			if a, err = c.pc.CreateAnswer(nil); err != nil {
				break
			}
			if err = c.pc.SetLocalDescription(a); err != nil {
				break
			}
			err = c.send(msg{Type: "answer", SDP: c.pc.LocalDescription()})
		case "candidate":
			_ = c.pc.AddICECandidate(*m.Candidate)
		case "error", "glare":
			err = fmt.Errorf("server: %s %s", m.Type, m.Error)
		}
		if err != nil && c.ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "client %s: %v\n", c.id, err)
		}
	}
}

// sendMedia writes RTP every 20 ms: one audio packet, and on every other tick
// a 25 fps video frame split into packets of at most 1100 bytes. Each payload
// starts with a one-byte VP8 descriptor (or nothing for audio) then the send
// time in nanoseconds.
func (c *client) sendMedia(audio, camera, screen *webrtc.TrackLocalStaticRTP, cfg stepConfig) {
	defer c.wg.Done()
	type stream struct {
		track     *webrtc.TrackLocalStaticRTP
		frame     int // bytes per frame
		seq       uint16
		ts        uint32
		tsPerTick uint32
	}
	audioS := &stream{track: audio, frame: 80, tsPerTick: 960}
	videos := []*stream{{track: camera, frame: cfg.videoKbps * 1000 / 8 / 25, tsPerTick: 3600}}
	if screen != nil {
		videos = append(videos, &stream{track: screen, frame: cfg.screenKbps * 1000 / 8 / 25, tsPerTick: 3600})
	}
	buf := make([]byte, 1200)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2}}
	write := func(s *stream, size int, marker bool, vp8Start int) {
		s.seq++
		pkt.SequenceNumber, pkt.Timestamp, pkt.Marker = s.seq, s.ts, marker
		payload := buf[:max(size, 9)]
		off := 0
		if vp8Start >= 0 {
			payload[0] = byte(vp8Start)
			off = 1
		}
		binary.BigEndian.PutUint64(payload[off:], uint64(time.Now().UnixNano()))
		pkt.Payload = payload
		_ = s.track.WriteRTP(pkt)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		audioS.ts += audioS.tsPerTick
		write(audioS, audioS.frame, false, -1)
		if n%2 != 0 {
			continue
		}
		for _, v := range videos {
			v.ts += v.tsPerTick
			for left, first := v.frame, true; left > 0; first = false {
				size := min(left, 1100)
				left -= size
				start := 0x00
				if first {
					start = 0x10 // S bit: start of a VP8 partition
				}
				write(v, size, left == 0, start)
			}
		}
	}
}

func (c *client) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	rt := &recvTrack{}
	c.mu.Lock()
	c.tracks = append(c.tracks, rt)
	c.mu.Unlock()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := recv.Read(buf); err != nil {
				return
			}
		}
	}()
	off := 0
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		off = 1
	}
	buf := make([]byte, 1500)
	var h rtp.Header
	started := false
	var maxExt int64
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		now := time.Now().UnixNano()
		// Extended sequence number.
		seq := int64(h.SequenceNumber)
		if !started {
			started, maxExt = true, seq
		} else {
			ext := maxExt&^0xffff | seq
			switch d := ext - maxExt; {
			case d > 1<<15:
				ext -= 1 << 16
			case d < -(1 << 15):
				ext += 1 << 16
			}
			if ext > maxExt {
				maxExt = ext
			}
		}
		rt.maxSeq.Store(maxExt)
		rt.received.Add(1)
		if measuring.Load() && n >= hl+off+8 {
			sent := int64(binary.BigEndian.Uint64(buf[hl+off:]))
			rt.hist.add(time.Duration(now - sent))
		}
	}
}

func (c *client) liveTracks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, rt := range c.tracks {
		if rt.received.Load() > 0 {
			n++
		}
	}
	return n
}

func (c *client) addHistograms(h *histogram) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.tracks {
		for i := range rt.hist.b {
			h.b[i].Add(rt.hist.b[i].Load())
		}
	}
}

// histogram holds delays: 10 µs buckets below 1 ms, 100 µs below 10 ms,
// 1 ms below 100 ms, 10 ms below 1 s.
type histogram struct{ b [371]atomic.Uint32 }

func (h *histogram) add(d time.Duration) {
	us := max(d.Microseconds(), 0)
	var i int64
	switch {
	case us < 1000:
		i = us / 10
	case us < 10_000:
		i = 100 + (us-1000)/100
	case us < 100_000:
		i = 190 + (us-10_000)/1000
	case us < 1_000_000:
		i = 280 + (us-100_000)/10_000
	default:
		i = 370
	}
	h.b[i].Add(1)
}

func bucketFloor(i int) time.Duration {
	switch {
	case i < 100:
		return time.Duration(i*10) * time.Microsecond
	case i < 190:
		return time.Duration(1000+(i-100)*100) * time.Microsecond
	case i < 280:
		return time.Duration(10_000+(i-190)*1000) * time.Microsecond
	default:
		return time.Duration(100_000+(i-280)*10_000) * time.Microsecond
	}
}

func (h *histogram) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.b {
		total += uint64(h.b[i].Load())
	}
	if total == 0 {
		return 0
	}
	want := uint64(q * float64(total))
	var acc uint64
	for i := range h.b {
		acc += uint64(h.b[i].Load())
		if acc > want {
			return bucketFloor(i)
		}
	}
	return bucketFloor(len(h.b) - 1)
}

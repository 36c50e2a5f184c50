// Command outbox measures how fast the outbox delivers e-mails to a real SMTP server on
// this machine: it starts Mailpit on loopback, enqueues booking confirmations (text, HTML
// and a calendar invitation, as balcao sends them) into a fresh database, and times one
// worker draining them.
//
//	go run ./bench/outbox -store both -n 2000
//
// Mailpit must be installed (go install github.com/axllent/mailpit@v1.33.1).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"balcao/internal/ics"
	"balcao/internal/mail"
	"balcao/internal/mail/mailpittest"
	"balcao/internal/outbox"
	"balcao/internal/store"
)

func main() {
	stores := flag.String("store", "both", "sqlite, postgres or both")
	n := flag.Int("n", 2000, "messages per store")
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server to create a scratch database on")
	flag.Parse()
	fmt.Printf("outbox throughput: %d confirmation e-mails per store to Mailpit on loopback; GOMAXPROCS %d, %s\n", *n, runtime.GOMAXPROCS(0), runtime.Version())
	for _, engine := range []string{"sqlite", "postgres"} {
		if *stores != "both" && *stores != engine {
			continue
		}
		if err := run(engine, *n, *pg); err != nil {
			log.Fatalf("%s: %v", engine, err)
		}
	}
}

func run(engine string, n int, pgURL string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "balcao-outbox-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	smtpAddr, apiURL, stop, err := startMailpit(dir)
	if err != nil {
		return err
	}
	defer stop()
	var db *store.DB
	if engine == "sqlite" {
		db, err = store.OpenSQLite(ctx, filepath.Join(dir, "bench.db"))
	} else {
		var drop func()
		var url string
		url, drop, err = scratchDatabase(pgURL)
		if err != nil {
			return err
		}
		defer drop()
		db, err = store.OpenPostgres(ctx, url)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	now := time.Now()
	msgs := make([]outbox.Message, n)
	for i := range msgs {
		msgs[i] = confirmation(i, now)
	}
	enqueueStart := time.Now()
	for i := 0; i < n; i += 100 {
		batch := msgs[i:min(i+100, n)]
		if err := db.InTx(ctx, func(tx *store.Tx) error { return outbox.Enqueue(ctx, tx, now, batch...) }); err != nil {
			return err
		}
	}
	enqueued := time.Since(enqueueStart)
	sender, err := mail.NewSender(mail.Config{Addr: smtpAddr, From: "Balcão <noreply@balcao.example>", TLS: mail.TLSNone})
	if err != nil {
		return err
	}
	defer sender.Close()
	w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: sender}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	start := time.Now()
	sent := 0
	for {
		k, err := w.RunOnce(ctx)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
		sent += k
	}
	took := time.Since(start)
	received, err := countMessages(apiURL)
	if err != nil {
		return err
	}
	fmt.Printf("== %s ==\n  enqueued %d in %s (%.0f/s)\n  delivered %d in %s: %.0f messages/s (%.2f ms each); Mailpit holds %d\n",
		engine, n, enqueued.Round(time.Millisecond), float64(n)/enqueued.Seconds(), sent, took.Round(time.Millisecond),
		float64(sent)/took.Seconds(), took.Seconds()*1000/float64(sent), received)
	return nil
}

func confirmation(i int, now time.Time) outbox.Message {
	start := now.Add(48 * time.Hour).Truncate(30 * time.Minute)
	cal := ics.Calendar{ProdID: "-//balcao//bench//PT", Method: "REQUEST", Events: []ics.Event{{
		UID: fmt.Sprintf("bench%d@balcao", i), Stamp: now, Start: start, End: start.Add(30 * time.Minute),
		Summary: "Videochamada: Pensão de velhice", Description: "Entre na videochamada com esta ligação: https://balcao.example/join/x?t=y",
		Organizer: "Balcão", OrganizerEmail: "noreply@balcao.example", Attendee: "Maria", AttendeeEmail: fmt.Sprintf("c%d@example.pt", i),
		Alarm: time.Hour, AlarmText: "Lembrete"}}}
	text := strings.Repeat("A sua marcação de atendimento por videochamada está confirmada. ", 20)
	return outbox.Message{Channel: outbox.Email, Key: fmt.Sprintf("bench:%d", i), Mail: &outbox.Mail{
		To: fmt.Sprintf("c%d@example.pt", i), Subject: "Marcação confirmada: Pensão de velhice", TextBody: text,
		HTMLBody: "<p>" + text + "</p>", Language: "pt-PT",
		Attachments: []outbox.Attachment{{Name: "marcacao.ics", ContentType: "text/calendar; method=REQUEST", Data: cal.Bytes()}}}}
}

func startMailpit(dir string) (smtpAddr, apiURL string, stop func(), err error) {
	bin, err := mailpittest.Binary()
	if err != nil {
		return "", "", nil, err
	}
	smtpAddr, httpAddr := freeAddr(), freeAddr()
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--quiet")
	cmd.Env = append(os.Environ(), "MP_DISABLE_VERSION_CHECK=1")
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	apiURL = "http://" + httpAddr
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(apiURL + "/api/v1/messages"); err == nil {
			res.Body.Close()
			return smtpAddr, apiURL, stop, nil
		}
	}
	stop()
	return "", "", nil, fmt.Errorf("mailpit did not start")
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func countMessages(apiURL string) (int, error) {
	res, err := http.Get(apiURL + "/api/v1/messages?limit=1")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var total int
	if i := strings.Index(string(b), `"total":`); i >= 0 {
		fmt.Sscanf(string(b[i+len(`"total":`):]), "%d", &total)
	}
	return total, nil
}

func scratchDatabase(serverURL string) (string, func(), error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("balcao_outbox_bench_%d", os.Getpid())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, err
	}
	base, query, _ := strings.Cut(serverURL, "?")
	url := base[:strings.LastIndex(base, "/")+1] + name
	if query != "" {
		url += "?" + query
	}
	return url, func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); admin.Close() }, nil
}

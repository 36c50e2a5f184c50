package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"balcao/internal/config"
	"balcao/internal/queue"
	"balcao/internal/store/storetest"
)

// TestTwoServersBehaveAsOne runs two balcao servers on one PostgreSQL database: a ticket
// taken through the first is called by an agent on the second, and the citizen's live
// page, connected to the first, hears it at once through LISTEN/NOTIFY.
func TestTwoServersBehaveAsOne(t *testing.T) {
	url := storetest.NewPostgresDatabase(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var sites []*httptest.Server
	var apps []*App
	for range 2 {
		a, err := New(ctx, config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: url, LogLevel: "error"}, quiet, Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(func() { srv.Close(); a.Close() })
		sites, apps = append(sites, srv), append(apps, a)
	}
	res, err := http.Post(sites[0].URL+"/api/v1/tickets", "application/json",
		strings.NewReader(`{"service":"informacoes","citizen":{"name":"Rui"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var ticket struct{ ID, Token, Number string }
	json.NewDecoder(res.Body).Decode(&ticket)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("take a ticket on server 1: %d", res.StatusCode)
	}
	c, _, err := websocket.Dial(ctx, strings.Replace(sites[0].URL, "http", "ws", 1)+"/ticket/"+ticket.ID+"/live",
		&websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {"tk=" + ticket.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() queue.Update {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, b, err := c.Read(rctx)
		if err != nil {
			t.Fatalf("read the live page: %v", err)
		}
		var u queue.Update
		json.Unmarshal(b, &u)
		return u
	}
	if u := read(); u.Status != queue.StatusWaiting || u.Position != 1 {
		t.Fatalf("first update: %+v", u)
	}
	called, err := apps[1].Queue.CallNext(ctx, queue.Agent{ID: "ana-martins", Services: []string{"informacoes"}})
	if err != nil || called.ID != ticket.ID {
		t.Fatalf("call next on server 2: %+v %v", called, err)
	}
	start := time.Now()
	// An update for the taking itself may still be on its way; the call's follows it.
	u := read()
	for u.Status == queue.StatusWaiting && time.Since(start) < 5*time.Second {
		u = read()
	}
	if u.Status != queue.StatusCalled {
		t.Fatalf("server 1's page after the call on server 2: %+v", u)
	}
	t.Logf("server 2's call reached the citizen on server 1 in %s", time.Since(start).Round(time.Millisecond))
}

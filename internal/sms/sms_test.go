package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"balcao/internal/outbox"
)

func TestSegments(t *testing.T) {
	cases := []struct {
		text string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // two septets each
		{strings.Repeat("€", 81), 2},
		{"Olá, a sua marcação é às 9h", 1}, // ç and ã are not GSM-7: UCS-2
		{strings.Repeat("ã", 70), 1},
		{strings.Repeat("ã", 71), 2},
		{strings.Repeat("😀", 35), 1}, // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
	}
	for _, c := range cases {
		if got := Segments(c.text); got != c.want {
			t.Errorf("Segments(%d runes of %q...) = %d, want %d", len([]rune(c.text)), []rune(c.text + " ")[0], got, c.want)
		}
	}
}

func TestProviderSendsTheConfiguredRequest(t *testing.T) {
	var mu sync.Mutex
	var got struct {
		auth, key, contentType string
		body                   map[string]string
	}
	status := http.StatusCreated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got.auth, got.key, got.contentType = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(status)
		w.Write([]byte(`{"id":"prov-42","status":"queued"}`))
	}))
	defer srv.Close()
	p, err := New(Config{URL: srv.URL, Token: "secret", From: "Balcao", IDField: "id", CentsPerPart: 4}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	msg := outbox.Message{Channel: outbox.SMS, Text: &outbox.Text{To: "+351912345678", Body: "Lembrete: amanhã às 09:00 \"vídeo\""}}
	receipt, err := p.Send(context.Background(), "appt:x:reminder", msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.auth != "Bearer secret" || got.key != "appt:x:reminder" || got.contentType != "application/json" {
		t.Errorf("headers: %+v", got)
	}
	if got.body["to"] != "+351912345678" || got.body["text"] != msg.Text.Body || got.body["from"] != "Balcao" {
		t.Errorf("body: %v", got.body)
	}
	if receipt.ProviderRef != "prov-42" || receipt.Segments != 1 || receipt.CostCents != 4 {
		t.Errorf("receipt: %+v", receipt)
	}
	status = http.StatusBadRequest
	_, err = p.Send(context.Background(), "k2", msg)
	var permanent *outbox.PermanentError
	if !errors.As(err, &permanent) {
		t.Errorf("400: %v, want a permanent error", err)
	}
	status = http.StatusServiceUnavailable
	if _, err = p.Send(context.Background(), "k3", msg); err == nil || errors.As(err, &permanent) {
		t.Errorf("503: %v, want a retryable error", err)
	}
}

func TestFormBodyTemplate(t *testing.T) {
	var form string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm.Get("Body") + "|" + r.PostForm.Get("To")
		user, pass, _ := r.BasicAuth()
		form += "|" + user + ":" + pass
	}))
	defer srv.Close()
	p, err := New(Config{URL: srv.URL, User: "AC1", Password: "pw", ContentType: "application/x-www-form-urlencoded",
		BodyTemplate: "To={{query .To}}&Body={{query .Body}}"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(context.Background(), "k", outbox.Message{Channel: outbox.SMS, Text: &outbox.Text{To: "+351912345678", Body: "a & b = c"}}); err != nil {
		t.Fatal(err)
	}
	if form != "a & b = c|+351912345678|AC1:pw" {
		t.Errorf("form: %q", form)
	}
}

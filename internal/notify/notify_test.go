package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	ical "github.com/arran4/golang-ical"

	"balcao/internal/booking"
	"balcao/internal/calendar"
	"balcao/internal/demo"
	"balcao/internal/directory"
	"balcao/internal/i18n"
	balcaomail "balcao/internal/mail"
	"balcao/internal/mail/mailpittest"
	"balcao/internal/notify"
	"balcao/internal/outbox"
	"balcao/internal/sms"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
	"balcao/web"
)

// Monday 30 November 2026, 07:00 in Lisbon; the demo agency.
var now = time.Date(2026, 11, 30, 7, 0, 0, 0, calendar.Lisbon())

type world struct {
	db     *store.DB
	svc    *booking.Service
	worker *outbox.Worker
	mail   *mailpittest.Server
	texts  *[]map[string]string
}

func setup(t *testing.T, db *store.DB) world {
	t.Helper()
	ctx := context.Background()
	cfg, err := demo.Config()
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.Apply(ctx, db, cfg); err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	n, err := notify.New(catalog, notify.Options{BaseURL: "https://balcao.example.pt", FromEmail: "noreply@balcao.example.pt", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	svc := booking.NewService(db, clock)
	svc.SetNotifier(n)
	srv := mailpittest.Start(t, mailpittest.Plain)
	sender, err := balcaomail.NewSender(balcaomail.Config{Addr: srv.SMTPAddr, From: "Balcão <noreply@balcao.example.pt>", TLS: balcaomail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	texts := &[]map[string]string{}
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		*texts = append(*texts, body)
		mu.Unlock()
		w.Write([]byte(`{"id":"sms-1"}`))
	}))
	t.Cleanup(provider.Close)
	smsProvider, err := sms.New(sms.Config{URL: provider.URL, IDField: "id", CentsPerPart: 5}, provider.Client())
	if err != nil {
		t.Fatal(err)
	}
	w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: sender, outbox.SMS: smsProvider},
		slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	return world{db: db, svc: svc, worker: w, mail: srv, texts: texts}
}

// parts reads a delivered message's text body and calendar.
func parts(t *testing.T, raw []byte) (text string, cal *ical.Calendar) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(io.Reader, string)
	walk = func(r io.Reader, ct string) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(r, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				if p.Header.Get("Content-Transfer-Encoding") == "base64" {
					continue // the attached copy of the calendar
				}
				walk(p, p.Header.Get("Content-Type"))
			}
		}
		b, _ := io.ReadAll(r)
		switch mt {
		case "text/plain":
			text = string(b)
		case "text/calendar":
			c, err := ical.ParseCalendar(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("calendar does not parse: %v\n%s", err, b)
			}
			cal = c
		}
	}
	walk(m.Body, m.Header.Get("Content-Type"))
	return text, cal
}

func prop(c *ical.Calendar, name ical.ComponentProperty) string {
	if p := c.Events()[0].GetProperty(name); p != nil {
		return p.Value
	}
	return ""
}

func TestAppointmentMessages(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		start := time.Date(2026, 12, 2, 9, 0, 0, 0, calendar.Lisbon())
		b, err := w.svc.Book(ctx, booking.Request{ThemeID: "pensao-velhice", Start: start, TimeZone: "Europe/Paris",
			Citizen: booking.Citizen{Name: "Maria José", Email: "maria@example.pt", Language: "pt"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.worker.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("delivered %d (%v), want the confirmation only; reminders wait", n, err)
		}
		got := w.mail.Wait(t, 1, 5*time.Second)
		if len(got) != 1 || !strings.HasPrefix(got[0].Subject, "Marcação confirmada: Pensão de velhice, quarta-feira, 2 de dezembro de 2026, 10:00") {
			t.Fatalf("confirmation: %+v", got)
		}
		text, cal := parts(t, w.mail.Raw(t, got[0].ID))
		for _, want := range []string{"Olá, Maria José.", "https://balcao.example.pt/join/" + b.ID + "?t=" + b.JoinToken,
			"https://balcao.example.pt/a/" + b.ID + "?t=" + b.ManageToken, "09:00 em Lisboa", "não é gravada"} {
			if !strings.Contains(text, want) {
				t.Errorf("confirmation text lacks %q:\n%s", want, text)
			}
		}
		if cal == nil || prop(cal, ical.ComponentPropertyUniqueId) != b.ID+"@balcao" || prop(cal, ical.ComponentPropertySequence) != "0" {
			t.Fatalf("confirmation calendar: %v", cal)
		}
		if method := cal.CalendarProperties; len(method) == 0 || !strings.Contains(cal.Serialize(), "METHOD:REQUEST") {
			t.Errorf("no METHOD:REQUEST")
		}
		if s, _ := cal.Events()[0].GetStartAt(); !s.Equal(start) {
			t.Errorf("DTSTART %v, want %v", s, start)
		}
		pending, _ := outbox.List(ctx, db, outbox.StatusPending, 10)
		if len(pending) != 2 {
			t.Fatalf("%d reminders pending, want 24 h and 1 h", len(pending))
		}
		for _, p := range pending {
			if d := start.Sub(p.NotBefore); d != 24*time.Hour && d != time.Hour {
				t.Errorf("reminder due %v before the start", d)
			}
		}

		moved, err := w.svc.Reschedule(ctx, b.ID, b.ManageToken, start.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		w.worker.RunOnce(ctx)
		got = w.mail.Wait(t, 2, 5*time.Second)
		if len(got) != 2 || !strings.HasPrefix(got[0].Subject, "Marcação reagendada") {
			t.Fatalf("after reschedule: %+v", got)
		}
		_, cal = parts(t, w.mail.Raw(t, got[0].ID))
		if prop(cal, ical.ComponentPropertySequence) != "1" || prop(cal, ical.ComponentPropertyUniqueId) != b.ID+"@balcao" {
			t.Errorf("reschedule calendar: sequence %q uid %q", prop(cal, ical.ComponentPropertySequence), prop(cal, ical.ComponentPropertyUniqueId))
		}
		if s, _ := cal.Events()[0].GetStartAt(); !s.Equal(moved.Start) {
			t.Errorf("moved DTSTART %v, want %v", s, moved.Start)
		}
		pending, _ = outbox.List(ctx, db, outbox.StatusPending, 10)
		cancelledReminders, _ := outbox.List(ctx, db, outbox.StatusCancelled, 10)
		if len(pending) != 2 || len(cancelledReminders) != 2 {
			t.Errorf("reminders after the move: %d pending, %d cancelled", len(pending), len(cancelledReminders))
		}
		for _, p := range pending {
			if d := moved.Start.Sub(p.NotBefore); d != 24*time.Hour && d != time.Hour {
				t.Errorf("new reminder due %v before the new start", d)
			}
		}

		if _, err := w.svc.Cancel(ctx, b.ID, b.ManageToken); err != nil {
			t.Fatal(err)
		}
		w.worker.RunOnce(ctx)
		got = w.mail.Wait(t, 3, 5*time.Second)
		if len(got) != 3 || !strings.HasPrefix(got[0].Subject, "Marcação cancelada") {
			t.Fatalf("after cancel: %+v", got)
		}
		_, cal = parts(t, w.mail.Raw(t, got[0].ID))
		if !strings.Contains(cal.Serialize(), "METHOD:CANCEL") || prop(cal, ical.ComponentPropertyStatus) != "CANCELLED" || prop(cal, ical.ComponentPropertySequence) != "2" {
			t.Errorf("cancel calendar:\n%s", cal.Serialize())
		}
		if pending, _ = outbox.List(ctx, db, outbox.StatusPending, 10); len(pending) != 0 {
			t.Errorf("%d messages still pending after the cancellation", len(pending))
		}
	})
}

func TestContactRequestAcknowledgedBySMSWithoutEmail(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		if _, err := w.svc.RequestContact(ctx, booking.ContactRequest{Subject: "Abono",
			Citizen: booking.Citizen{Name: "Rui", Phone: "+33 6 12 34 56 78", Language: "en"}}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.worker.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("delivered %d, %v", n, err)
		}
		if len(*w.texts) != 1 || (*w.texts)[0]["to"] != "+33612345678" || !strings.Contains((*w.texts)[0]["text"], "we have received your contact request") {
			t.Fatalf("texts: %v", *w.texts)
		}
		sent, _ := outbox.List(ctx, db, outbox.StatusSent, 1)
		if len(sent) != 1 || sent[0].ProviderID != "sms-1" {
			t.Fatalf("sent: %+v", sent)
		}
		var segments, cents int
		db.QueryRow(ctx, "SELECT segments, cost_cents FROM outbox WHERE id = ?", sent[0].ID).Scan(&segments, &cents)
		if segments != 1 || cents != 5 {
			t.Errorf("segments %d cost %d, want 1 and 5", segments, cents)
		}
	})
}

func TestNoShowLinkAndTurnNear(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		start := time.Date(2026, 12, 2, 9, 0, 0, 0, calendar.Lisbon())
		b, err := w.svc.Book(ctx, booking.Request{ThemeID: "informacao-geral", Start: start,
			Citizen: booking.Citizen{Name: "Ana", Email: "ana@example.pt", Language: "en"}})
		if err != nil {
			t.Fatal(err)
		}
		catalog, _ := i18n.Load(web.FS, "i18n")
		n, _ := notify.New(catalog, notify.Options{BaseURL: "https://balcao.example.pt", Now: func() time.Time { return now }})
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := n.NoShowLink(ctx, tx, b.Appointment, "https://balcao.example.pt/call/x?token=abc", 1); err != nil {
				return err
			}
			return n.TurnNear(ctx, tx, notify.Turn{Key: "ticket:t1:near", Subject: "ticket:t1", Number: "A023", Position: 2,
				URL: "https://balcao.example.pt/ticket/t1", Citizen: booking.Citizen{Name: "Rui", Phone: "+351912345678", Language: "pt-PT"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if k, _ := w.worker.RunOnce(ctx); k == 0 {
				break
			}
		}
		var found bool
		for _, m := range w.mail.Wait(t, 2, 5*time.Second) {
			if m.Subject == "We are waiting for you: General information" {
				found = true
				text, _ := parts(t, w.mail.Raw(t, m.ID))
				if !strings.Contains(text, "https://balcao.example.pt/call/x?token=abc") {
					t.Errorf("no-show mail lacks the join link:\n%s", text)
				}
			}
		}
		if !found {
			t.Error("no no-show e-mail")
		}
		if len(*w.texts) != 1 || !strings.Contains((*w.texts)[0]["text"], "senha A023 é a número 2") {
			t.Errorf("turn-near SMS: %v", *w.texts)
		}
	})
}

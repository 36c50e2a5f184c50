package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	ical "github.com/arran4/golang-ical"

	"balcao/internal/ics"
	balcaomail "balcao/internal/mail"
	"balcao/internal/mail/mailpittest"
	"balcao/internal/outbox"
)

func testMessage() outbox.Message {
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	cal := ics.Calendar{ProdID: "-//balcao//test//PT", Method: "REQUEST", Events: []ics.Event{{
		UID: "abc@balcao", Sequence: 1, Stamp: start.Add(-time.Hour), Start: start, End: start.Add(30 * time.Minute),
		Summary: "Videochamada: Pensão de velhice", Description: "Entre com https://example.pt/join/abc?t=x",
		Organizer: "Instituto", OrganizerEmail: "noreply@balcao.example", Attendee: "Maria José", AttendeeEmail: "maria@example.pt",
		Alarm: time.Hour, AlarmText: "Lembrete",
	}}}
	return outbox.Message{Channel: outbox.Email, Key: "appt:abc:booked", Mail: &outbox.Mail{
		To: "maria@example.pt", Subject: "Marcação confirmada: Pensão de velhice, quarta-feira", Language: "pt-PT",
		TextBody:    "Olá, Maria José.\nA sua marcação está confirmada.\nhttps://example.pt/join/abc?t=" + strings.Repeat("x", 80),
		HTMLBody:    "<p>Olá, Maria José.</p>",
		Attachments: []outbox.Attachment{{Name: "marcacao.ics", ContentType: "text/calendar; method=REQUEST", Data: cal.Bytes()}},
	}}
}

func TestDeliveryToARealSMTPServer(t *testing.T) {
	for _, mode := range []string{mailpittest.Plain, mailpittest.StartTLS, mailpittest.Implicit} {
		name := mode
		if name == "" {
			name = "plain"
		}
		t.Run(name, func(t *testing.T) {
			srv := mailpittest.Start(t, mode)
			tlsMode := map[string]string{"": balcaomail.TLSNone, "starttls": balcaomail.TLSStartTLS, "tls": balcaomail.TLSImplicit}[mode]
			sender, err := balcaomail.NewSender(balcaomail.Config{Addr: srv.SMTPAddr, From: "Instituto <noreply@balcao.example>",
				User: "balcao", Password: "secret", TLS: tlsMode, TLSConfig: srv.TLSConfig})
			if err != nil {
				t.Fatal(err)
			}
			msg := testMessage()
			receipt, err := sender.Send(context.Background(), msg.Key, msg)
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 1, 5*time.Second)
			if len(got) != 1 || got[0].To[0].Address != "maria@example.pt" || got[0].Subject != msg.Mail.Subject {
				t.Fatalf("received %+v", got)
			}
			if "<"+got[0].MessageID+">" != receipt.ProviderRef {
				t.Errorf("Message-ID %q, receipt %q", got[0].MessageID, receipt.ProviderRef)
			}
			checkMIME(t, srv.Raw(t, got[0].ID), msg)
		})
	}
}

// checkMIME parses the message as a mail client would and checks each part, and has the
// calendar file parsed by an independent iCalendar implementation.
func checkMIME(t *testing.T, raw []byte, sent outbox.Message) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != sent.Mail.Subject {
		t.Errorf("subject %q (%v)", subject, err)
	}
	parts := map[string]string{}
	var walk func(r io.Reader, contentType, cte string)
	walk = func(r io.Reader, contentType, cte string) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			b, _ := io.ReadAll(r)
			if cte == "base64" {
				b, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
				mt += ";attachment"
			}
			parts[mt] = string(b)
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walk(p, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"))
		}
	}
	walk(m.Body, m.Header.Get("Content-Type"), "")
	if parts["text/calendar;attachment"] != parts["text/calendar"] || parts["text/calendar"] == "" {
		t.Errorf("the attached calendar differs from the inline one:\n%q\n%q", parts["text/calendar;attachment"], parts["text/calendar"])
	}
	if parts["text/plain"] != strings.ReplaceAll(sent.Mail.TextBody, "\n", "\r\n") {
		t.Errorf("text part:\n%q\nwant\n%q", parts["text/plain"], sent.Mail.TextBody)
	}
	if parts["text/html"] != sent.Mail.HTMLBody {
		t.Errorf("html part %q", parts["text/html"])
	}
	cal, err := ical.ParseCalendar(strings.NewReader(parts["text/calendar"]))
	if err != nil {
		t.Fatalf("calendar does not parse: %v\n%s", err, parts["text/calendar"])
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	ev := events[0]
	start, err := ev.GetStartAt()
	if err != nil || !start.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("DTSTART %v (%v)", start, err)
	}
	if prop := ev.GetProperty(ical.ComponentPropertySummary); prop == nil || prop.Value != "Videochamada: Pensão de velhice" {
		t.Errorf("SUMMARY %+v", prop)
	}
	if prop := ev.GetProperty(ical.ComponentPropertyOrganizer); prop == nil || prop.Value != "mailto:noreply@balcao.example" {
		t.Errorf("ORGANIZER %+v", prop)
	}
	if prop := cal.CalendarProperties; len(prop) == 0 {
		t.Error("no calendar properties")
	}
}

func TestRefusesAPasswordWithoutTLSToARemoteServer(t *testing.T) {
	_, err := balcaomail.NewSender(balcaomail.Config{Addr: "smtp.example.pt:25", From: "a@b.pt", User: "u", Password: "p", TLS: balcaomail.TLSNone})
	if err == nil {
		t.Fatal("accepted")
	}
}

func TestSessionIsReusedThenRenewed(t *testing.T) {
	srv := mailpittest.Start(t, mailpittest.Plain)
	sender, err := balcaomail.NewSender(balcaomail.Config{Addr: srv.SMTPAddr, From: "noreply@balcao.example", TLS: balcaomail.TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	balcaomail.SetIdle(sender, 300*time.Millisecond)
	for i := range 5 {
		msg := testMessage()
		msg.Key = fmt.Sprint("k", i)
		if i == 3 {
			time.Sleep(400 * time.Millisecond) // past the idle time: a new session
		}
		if _, err := sender.Send(context.Background(), msg.Key, msg); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := srv.Wait(t, 5, 5*time.Second); len(got) != 5 {
		t.Fatalf("%d messages received, want 5", len(got))
	}
}

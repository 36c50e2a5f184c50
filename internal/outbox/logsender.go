package outbox

import (
	"context"
	"log/slog"
)

// LogSender stands in for a provider that is not configured: it records in the log that
// a message was due, by its key and channel only (the body holds personal data and
// links with tokens), and counts it as delivered.
type LogSender struct {
	Logger *slog.Logger
}

// Send logs the message.
func (s LogSender) Send(ctx context.Context, key string, m Message) (Receipt, error) {
	subject := ""
	if m.Mail != nil {
		subject = m.Mail.Subject
	}
	s.Logger.Info("message not sent: no provider configured", "channel", m.Channel, "key", key, "subject_chars", len(subject))
	return Receipt{ProviderRef: "log"}, nil
}

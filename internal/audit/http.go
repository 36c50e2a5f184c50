package audit

import (
	"context"
	"net"
	"net/http"

	"balcao/internal/store"
)

type ctxKey struct{}

// recorder is what a request's context carries: the log, and who is asking from where.
type recorder struct {
	log   *Log
	actor string
	ip    string
}

// Middleware puts the log in the context of every request, with the request's actor —
// actor(r), the signed-in staff member's id, or Citizen when it returns "" — and client
// address, for Record. It must run after the middleware that loads the staff session.
func (l *Log) Middleware(actor func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who := ""
			if actor != nil {
				who = actor(r)
			}
			if who == "" {
				who = Citizen
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), l, who, ClientIP(r))))
		})
	}
}

// NewContext returns ctx carrying the log, for Record, with the actor and address that
// entries recorded through it get.
func NewContext(ctx context.Context, l *Log, actor, ip string) context.Context {
	return context.WithValue(ctx, ctxKey{}, recorder{log: l, actor: actor, ip: ip})
}

// Record appends an entry for the request whose context ctx is: its actor and address
// (see Middleware), the action, the object acted on ("appointment:ID"), the contact it
// served and details (ids only). Handlers that show or change a citizen's personal data
// call it before they answer, and answer with its error: a read that cannot be recorded
// does not happen. Without a log in ctx it returns ErrNotWired.
func Record(ctx context.Context, action, object, contact, details string) error {
	rec, ok := ctx.Value(ctxKey{}).(recorder)
	if !ok || rec.log == nil {
		return ErrNotWired
	}
	_, err := rec.log.Append(ctx, Entry{Actor: rec.actor, Action: action, Object: object, Contact: contact, IP: rec.ip, Details: details})
	return err
}

// RecordTx is Record inside tx: the entry commits if and only if tx does, so a change
// and the entry that records it (or a claim that a read is recorded) stand or fall
// together. Append last in tx: the chain's head stays locked until tx ends.
func RecordTx(ctx context.Context, tx *store.Tx, action, object, contact, details string) error {
	rec, ok := ctx.Value(ctxKey{}).(recorder)
	if !ok || rec.log == nil {
		return ErrNotWired
	}
	_, err := rec.log.AppendTx(ctx, tx, Entry{Actor: rec.actor, Action: action, Object: object, Contact: contact, IP: rec.ip, Details: details})
	return err
}

// RecordRead records that the request's staff member was shown the personal data of a
// contact, such as "appointment:ID" or "ticket:ID", on the page being answered.
func RecordRead(r *http.Request, contact string) error {
	return Record(r.Context(), ReadPersonalData, contact, contact, "path="+r.URL.Path)
}

// ClientIP is the address a request comes from (without the port).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

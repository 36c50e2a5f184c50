// Package httpx holds balcao's HTTP plumbing: handlers that return an error, one boundary
// that turns errors into safe answers, JSON bodies, and the middleware every request
// passes through (request id, panic recovery, access log, security headers, compression).
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Handler serves a request and returns an error instead of writing one itself.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Error is an error with what the user should see kept apart from the cause that is
// logged: a status, a stable code, a translation key for the message, and per-field keys.
type Error struct {
	Status int
	Code   string
	Key    string            // translation key of the message shown to the user
	Args   []any             // arguments of the message
	Fields map[string]string // field path -> translation key
	Extra  map[string]any    // further members of an API error body, such as "opens_at"
	Cause  error             // logged, never shown
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Code, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Code)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error.
func Errorf(status int, code, key string, cause error) *Error {
	return &Error{Status: status, Code: code, Key: key, Cause: cause}
}

// Internal wraps an unexpected error: the user sees a generic message and the request id.
func Internal(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Key: "error.internal", Cause: cause}
}

// AsError returns err as an *Error, turning anything unexpected into an internal error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Serve adapts a Handler: a returned error is logged (server errors at error level, with
// the request id) and handed to render, which shows the user a safe message.
func Serve(logger *slog.Logger, h Handler, render func(w http.ResponseWriter, r *http.Request, e *Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		e := AsError(err)
		level := slog.LevelInfo
		if e.Status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(r.Context(), level, "request failed", slog.String("request_id", RequestID(r.Context())),
			slog.String("path", r.URL.Path), slog.Int("status", e.Status), slog.String("code", e.Code),
			slog.Any("error", e.Cause))
		render(w, r, e)
	})
}

type requestIDKey struct{}

// RequestID returns the id of the request being served.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

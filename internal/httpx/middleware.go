package httpx

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so that the first listed is the outermost.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observe gives each request an id (answered in X-Request-Id), recovers from panics with
// a 500 instead of a dropped connection, and logs one line per request. It logs the path
// only: query strings can carry tokens.
func Observe(logger *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := newRequestID()
			r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
			w.Header().Set("X-Request-Id", id)
			sw := &statusWriter{ResponseWriter: w}
			start := time.Now()
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					logger.Error("panic", "request_id", id, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
					if sw.status == 0 {
						http.Error(sw, "Internal Server Error / Erro interno ("+id+")", http.StatusInternalServerError)
					}
				}
				logger.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("request_id", id),
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
					slog.Int("bytes", sw.bytes), slog.Duration("took", time.Since(start)))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// SecureHeaders sets the headers every answer carries: a strict Content-Security-Policy
// (no inline script, nothing from other origins), no framing, no Referer (links can carry
// tokens), and no powerful browser features (call pages will grant their own).
func SecureHeaders(tls bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Permissions-Policy", "camera=(), microphone=(), display-capture=(), geolocation=(), payment=(), usb=()")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if tls {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// minGzip is the smallest answer worth compressing: below about one packet, gzip saves no
// round trip and costs a compressor's set-up.
const minGzip = 1400

// gzipWriter holds back the start of a compressible answer until it is clear whether it
// is big enough to compress.
type gzipWriter struct {
	http.ResponseWriter
	status      int
	compresible bool
	decided     bool
	buf         []byte
	gz          *gzip.Writer
}

func (w *gzipWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	ct := w.Header().Get("Content-Type")
	w.compresible = status != http.StatusNoContent && status != http.StatusNotModified && w.Header().Get("Content-Encoding") == "" &&
		(strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "javascript"))
	if !w.compresible {
		w.decided = true
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.decided {
		if w.gz != nil {
			return w.gz.Write(b)
		}
		return w.ResponseWriter.Write(b)
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) >= minGzip {
		w.startGzip()
	}
	return len(b), nil
}

func (w *gzipWriter) startGzip() {
	w.decided = true
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	w.gz = gzipPool.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
	w.gz.Write(w.buf)
	w.buf = nil
}

// finish sends what was held back, as it is when it stayed small.
func (w *gzipWriter) finish() {
	switch {
	case w.gz != nil:
		w.gz.Close()
		gzipPool.Put(w.gz)
	case !w.decided && w.status != 0:
		w.ResponseWriter.WriteHeader(w.status)
		w.ResponseWriter.Write(w.buf)
	}
}

// Flush sends what is held back, compressed or not, for answers that stream.
func (w *gzipWriter) Flush() {
	if !w.decided && w.status != 0 {
		if len(w.buf) > 0 {
			w.startGzip()
		} else {
			w.decided = true
			w.ResponseWriter.WriteHeader(w.status)
		}
	}
	if w.gz != nil {
		w.gz.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Compress gzips text answers of some size for clients that accept it: citizens on 3G pay
// per byte.
func Compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.finish()
		next.ServeHTTP(gw, r)
	})
}

// mediaPolicy is the Permissions-Policy of call pages: camera, microphone and screen
// capture for this origin only; the rest stays denied as on every other page.
const mediaPolicy = "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"

// AllowMedia grants the page being answered the camera, the microphone and screen
// capture, overriding SecureHeaders' denial. Call it before writing the answer, from
// the handlers of call pages only.
func AllowMedia(w http.ResponseWriter) { w.Header().Set("Permissions-Policy", mediaPolicy) }

package call

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"balcao/internal/httpx"
	"balcao/internal/view"
)

// CheckPath is the device check: camera, microphone, speakers, browser support and the
// connection to this server, with plain-language advice. Citizens reach it from the
// join page and the lobby; it needs no appointment.
const CheckPath = "/call/check"

// CheckBytes is the size of the download and the largest upload of the connection
// test: enough to time on a 3G link (about 2 s at 1 Mbit/s), little on a metered one.
const CheckBytes = 256 << 10

// maxChecks bounds the transfers of connection tests served at once.
const maxChecks = 16

type checkPage struct {
	view.Page
	Back         string // the page to return to, a path on this site
	OpensMinutes int    // how early the waiting room opens
	Config       checkConfig
}

type checkConfig struct {
	Ping     string            `json:"ping"`
	Download string            `json:"download"`
	Upload   string            `json:"upload"`
	Bytes    int               `json:"bytes"`
	Text     map[string]string `json:"text"`
}

// checkText are the catalogue keys check.js shows.
var checkText = []string{
	"check.yes", "check.no", "check.camera.ok", "check.camera.error", "check.mic.ok", "check.mic.quiet", "check.mic.error",
	"check.speaker.playing", "check.speaker.done", "check.net.running", "check.net.result", "check.net.good",
	"check.net.fair", "check.net.poor", "check.net.error", "check.support.all", "check.support.missing",
	"check.support.share_missing",
}

// checkPage is GET /call/check.
func (s *Server) checkPage(w http.ResponseWriter, r *http.Request) error {
	pg := s.page(r, "check.title")
	text := make(map[string]string, len(checkText))
	for _, k := range checkText {
		text[k] = pg.T(k)
	}
	data := checkPage{Page: pg, Back: localPath(r.URL.Query().Get("back")), OpensMinutes: int(OpensBefore.Minutes()),
		Config: checkConfig{Ping: CheckPath + "/ping", Download: CheckPath + "/download", Upload: CheckPath + "/upload",
			Bytes: CheckBytes, Text: text}}
	httpx.AllowMedia(w)
	return s.view.Render(w, http.StatusOK, "call_check", data)
}

// localPath returns p if it is a path on this site, else "".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

// checkBody is the download of the connection test: random bytes, which no proxy or
// gzip can shrink, made once.
var checkBody = func() []byte {
	b := make([]byte, CheckBytes)
	r := rand.NewChaCha8([32]byte{'b', 'a', 'l', 'c', 'a', 'o'})
	r.Read(b)
	return b
}()

// checkPing is GET /call/check/ping: nothing, as fast as possible, for the round trip.
func (s *Server) checkPing(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// checkDownload is GET /call/check/download: CheckBytes random bytes, never cached.
func (s *Server) checkDownload(w http.ResponseWriter, r *http.Request) {
	if !s.startCheck(w) {
		return
	}
	defer s.endCheck()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(checkBody)))
	w.Write(checkBody)
}

// checkUpload is POST /call/check/upload: it reads and drops at most CheckBytes and
// says how many arrived.
func (s *Server) checkUpload(w http.ResponseWriter, r *http.Request) {
	if !s.startCheck(w) {
		return
	}
	defer s.endCheck()
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, CheckBytes))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]int64{"bytes": n})
}

// startCheck takes one of the maxChecks places of the connection tests; when all are
// taken the visitor is asked to try again.
func (s *Server) startCheck(w http.ResponseWriter) bool {
	select {
	case s.checks <- struct{}{}:
		return true
	default:
		w.Header().Set("Retry-After", "2")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return false
	}
}

func (s *Server) endCheck() { <-s.checks }

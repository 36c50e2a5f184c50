package call_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"balcao/internal/call"
)

// TestDeviceCheckEndpoints: the device check's page grants the camera, and its
// connection test answers a ping, a download of incompressible bytes that is never
// gzipped or cached, and an upload of at most CheckBytes.
func TestDeviceCheckEndpoints(t *testing.T) {
	s := newServer(t)
	do := func(method, path string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
		if strings.HasSuffix(path, "/download") {
			req.Header.Set("Accept-Encoding", "gzip") // and still plain bytes
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, page := do("GET", call.CheckPath+"?back=/join/abc/call", nil)
	if !bytes.Contains(page, []byte(`href="/join/abc/call"`)) {
		t.Error("the check page has no way back to the lobby")
	}
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Permissions-Policy"), "microphone=(self)") {
		t.Errorf("check page: %d, Permissions-Policy %q", resp.StatusCode, resp.Header.Get("Permissions-Policy"))
	}
	for _, back := range []string{"//evil.example/x", "https://evil.example/", "javascript:alert(1)"} {
		_, p := do("GET", call.CheckPath+"?back="+back, nil)
		if bytes.Contains(p, []byte(`href="`+back)) || bytes.Contains(p, []byte(`href="javascript`)) {
			t.Errorf("check page links back to %q", back)
		}
	}

	if resp, _ := do("GET", call.CheckPath+"/ping", nil); resp.StatusCode != 204 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("ping: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, body := do("GET", call.CheckPath+"/download", nil)
	if resp.StatusCode != 200 || len(body) != call.CheckBytes || resp.Header.Get("Content-Encoding") != "" ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("download: %d, %d bytes, Content-Encoding %q, Cache-Control %q; want %d plain bytes, not cached",
			resp.StatusCode, len(body), resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"), call.CheckBytes)
	}
	if resp, b := do("POST", call.CheckPath+"/upload", body); resp.StatusCode != 200 || string(b) != `{"bytes":262144}`+"\n" {
		t.Errorf("upload: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do("POST", call.CheckPath+"/upload", make([]byte, call.CheckBytes+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("upload over the limit: %d, want 413", resp.StatusCode)
	}
}

// Package mailpittest runs a real SMTP server for tests — Mailpit, listening on loopback —
// and reads back what it received through Mailpit's HTTP API.
package mailpittest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	SMTPAddr string
	APIURL   string
	// TLSConfig trusts the server's self-signed certificate (when started with TLS).
	TLSConfig *tls.Config
}

// TLS modes Mailpit can be started in.
const (
	Plain    = ""
	StartTLS = "starttls"
	Implicit = "tls"
)

// Binary finds the mailpit binary: $BALCAO_MAILPIT, the PATH, or Go's bin folder.
func Binary() (string, error) {
	if p := os.Getenv("BALCAO_MAILPIT"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	dirs := []string{os.Getenv("GOBIN")}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		dirs = append(dirs, filepath.Join(gopath, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, "mailpit"); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("mailpit not found: go install github.com/axllent/mailpit@v1.33.1")
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

// IgnoreDuplicateIDs makes Mailpit drop a message whose Message-ID it already holds, as
// mail providers that deduplicate do.
const IgnoreDuplicateIDs = "--ignore-duplicate-ids"

// Start runs Mailpit for the test in the given TLS mode, with extra flags, and stops it
// when the test ends. Without the binary the test is skipped, unless CI=true, where that
// is a failure.
func Start(t testing.TB, mode string, flags ...string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Mailpit is required in CI: %v", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	smtpPort, httpPort := freePort(t), freePort(t)
	s := &Server{SMTPAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort), APIURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	args := []string{"--smtp", s.SMTPAddr, "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns",
		"--smtp-auth-accept-any", "--quiet"}
	if mode == Plain {
		args = append(args, "--smtp-auth-allow-insecure")
	} else {
		cert, key, pool := selfSigned(t, dir)
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		if mode == StartTLS {
			args = append(args, "--smtp-require-starttls")
		} else {
			args = append(args, "--smtp-require-tls")
		}
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
	cmd := exec.Command(bin, append(args, flags...)...)
	cmd.Env = append(os.Environ(), "MP_DISABLE_VERSION_CHECK=1")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get(s.APIURL + "/api/v1/messages")
		if err == nil {
			res.Body.Close()
			if conn, err := net.Dial("tcp", s.SMTPAddr); err == nil {
				conn.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func selfSigned(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailpit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Message is a received message as Mailpit lists it.
type Message struct {
	ID        string
	MessageID string
	Subject   string
	To        []struct{ Address string }
}

// Messages lists the received messages, newest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var out struct {
		Total    int
		Messages []Message
	}
	res, err := http.Get(s.APIURL + "/api/v1/messages?limit=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// Wait waits until n messages have arrived (or the timeout passes) and returns them.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.Messages(t)
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Raw returns the message's source as received.
func (s *Server) Raw(t testing.TB, id string) []byte {
	t.Helper()
	res, err := http.Get(s.APIURL + "/api/v1/message/" + id + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

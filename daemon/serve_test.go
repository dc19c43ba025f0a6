package daemon_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/daemon"
	"github.com/scimbridge/scimbridge/store"
)

// server is one Serve started in the test.
type server struct {
	addrs  daemon.Addrs
	cancel context.CancelFunc
	done   chan error
}

// startServe runs Serve with cfg until the test ends and waits until it
// listens.
func startServe(t *testing.T, cfg configs.Config) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan daemon.Addrs, 1)
	s := &server{cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- daemon.Serve(ctx, cfg, daemon.Options{Stderr: io.Discard, Ready: ready})
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.addrs = <-ready:
	case err := <-s.done:
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not get ready in 30s")
	}
	return s
}

// stop cancels Serve and returns its error, once.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
			return err
		}
		return nil
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop in 30s")
		return nil
	}
}

// testConfig is a configuration on port 0 with its data in a temporary
// directory.
func testConfig(t *testing.T) configs.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := configs.Load("", func(name string) string {
		return map[string]string{
			"SCIMBRIDGE_DATA_DIR":   dir,
			"SCIMBRIDGE_LISTEN":     "127.0.0.1:0",
			"SCIMBRIDGE_OPS_LISTEN": "127.0.0.1:0",
		}[name]
	})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServe(t *testing.T) {
	cfg := testConfig(t)
	s := startServe(t, cfg)
	ops := "http://" + s.addrs.Ops.String()
	main := "http://" + s.addrs.Main.String()

	t.Run("Healthz", func(t *testing.T) {
		if code, body := get(t, ops+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
			t.Errorf("/healthz = %d %q", code, body)
		}
	})
	t.Run("Readyz", func(t *testing.T) {
		if code, body := get(t, ops+"/readyz"); code != 200 {
			t.Errorf("/readyz = %d %q", code, body)
		}
	})
	t.Run("PublicURLHasBoundPort", func(t *testing.T) {
		if s.addrs.PublicURL != main {
			t.Errorf("public URL %q, want %q", s.addrs.PublicURL, main)
		}
	})
	t.Run("SCIMMounted", func(t *testing.T) {
		resp, err := http.Get(main + "/api/connect/v1/Users")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 401 || !strings.HasPrefix(ct, "application/scim+json") {
			t.Errorf("unauthenticated SCIM request = %d %q, want 401 application/scim+json", resp.StatusCode, ct)
		}
		creds := readCredentials(t, filepath.Join(cfg.DataDir, "bootstrap-credentials"))
		list := scimRequest(t, "GET", main+"/api/connect/v1/Users", creds["scim_token"], "", 200)
		if list["totalResults"] != float64(0) {
			t.Errorf("GET /Users with the bootstrap token = %v", list)
		}
		if code, _ := get(t, main+"/elsewhere"); code != 404 {
			t.Errorf("/elsewhere = %d, want 404", code)
		}
	})
	t.Run("Bootstrap", func(t *testing.T) {
		path := filepath.Join(cfg.DataDir, "bootstrap-credentials")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("bootstrap credentials: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("bootstrap credentials mode %v, want 0600", fi.Mode().Perm())
		}
		creds := readCredentials(t, path)
		if slug, ok := scimbridge.SCIMTokenSlug(creds["scim_token"]); !ok || slug != "default" {
			t.Errorf("scim_token %q is not a token of organization default", creds["scim_token"])
		}
		if !strings.HasPrefix(creds["admin_token"], "scba_") {
			t.Errorf("admin_token %q", creds["admin_token"])
		}
		if creds["scim_base_url"] != main+"/api/connect/v1" {
			t.Errorf("scim_base_url %q", creds["scim_base_url"])
		}
	})

	if err := s.stop(t); err != nil {
		t.Fatalf("Serve returned %v after cancel, want nil", err)
	}
	t.Run("SecondStartDoesNotBootstrap", func(t *testing.T) {
		path := filepath.Join(cfg.DataDir, "bootstrap-credentials")
		before := readCredentials(t, path)
		s2 := startServe(t, cfg)
		if err := s2.stop(t); err != nil {
			t.Fatal(err)
		}
		if after := readCredentials(t, path); after["scim_token"] != before["scim_token"] {
			t.Error("the second start bootstrapped again")
		}
	})
}

// readCredentials parses a bootstrap-credentials file.
func readCredentials(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

func TestServe_NoBootstrap(t *testing.T) {
	cfg := testConfig(t)
	off := false
	cfg.BootstrapSetting = &off
	s := startServe(t, cfg)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "bootstrap-credentials")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bootstrap credentials with bootstrap off: %v", err)
	}
}

func TestServe_RefusesNewerSchema(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg.Database.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+cfg.SQLitePath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	err = daemon.Serve(ctx, cfg, daemon.Options{Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Serve on a newer schema = %v", err)
	}
}

func TestServe_SecondServeOnSQLite(t *testing.T) {
	cfg := testConfig(t)
	startServe(t, cfg)
	err := daemon.Serve(context.Background(), cfg, daemon.Options{Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Serve on the same SQLite file = %v", err)
	}
}

func TestServe_InvalidConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.Listen = "nowhere"
	cfg.Log.Format = "xml"
	err := daemon.Serve(context.Background(), cfg, daemon.Options{Stderr: io.Discard})
	var ve *configs.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("Serve with a bad config = %v, want both problems", err)
	}
	if _, err := os.Stat(cfg.SQLitePath()); err == nil {
		t.Error("the database was created despite the invalid configuration")
	}
}

func TestServe_TLS(t *testing.T) {
	cfg := testConfig(t)
	certPEM, keyPEM := selfSignedCert(t)
	cfg.TLSCertFile = filepath.Join(cfg.DataDir, "tls.crt")
	cfg.TLSKeyFile = filepath.Join(cfg.DataDir, "tls.key")
	if err := os.WriteFile(cfg.TLSCertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.TLSKeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, cfg)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + s.addrs.Main.String() + "/api/connect/v1/Users")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil {
		t.Error("the main listener did not answer over TLS")
	}
	// net/http answers plain HTTP on a TLS port with a 400, never with
	// the API.
	if code, _ := get(t, "http://"+s.addrs.Main.String()+"/api/connect/v1/Users"); code != http.StatusBadRequest {
		t.Errorf("plain HTTP on the TLS port = %d, want 400", code)
	}

	t.Run("BadCertificate", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.TLSCertFile = filepath.Join(cfg.DataDir, "missing.crt")
		cfg.TLSKeyFile = filepath.Join(cfg.DataDir, "missing.key")
		err := daemon.Serve(context.Background(), cfg, daemon.Options{Stderr: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "TLS certificate") {
			t.Errorf("Serve with a missing certificate = %v", err)
		}
	})
}

// selfSignedCert returns a PEM certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "scimbridge test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestServer_OpenRunClose(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	t.Run("CloseAfterFailedOpen", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		bad := cfg
		bad.OpsListen = taken.Addr().String()
		s := daemon.NewServer(bad, daemon.Options{Stderr: io.Discard})
		if err := s.Open(ctx); err == nil || !strings.Contains(err.Error(), "listen") {
			t.Fatalf("Open on a taken ops address = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close after a failed Open: %v", err)
		}
	})
	// The failed server released the SQLite file: another one opens it.
	ready := make(chan daemon.Addrs, 1)
	s := daemon.NewServer(cfg, daemon.Options{Stderr: io.Discard, Ready: ready})
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	addrs := <-ready
	if code, _ := get(t, "http://"+addrs.Ops.String()+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

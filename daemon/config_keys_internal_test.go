package daemon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// keyEffect shows that setting a configuration key changes what serve
// does: check sets it and observes the effect, or coveredBy names the test
// that does ("TestX" in this directory, "../scimserver.TestX" in another),
// whose file must mention the key's variable or field.
type keyEffect struct {
	check     func(t *testing.T)
	coveredBy string
	mentions  string // what the covering test's file sets: variable or field name
}

// keyEffects has an entry for every configuration key: a key added
// without a test of its effect fails TestConfig_EveryKeyHasAnEffect.
func keyEffects() map[string]keyEffect {
	return map[string]keyEffect{
		"listen": {check: func(t *testing.T) {
			addr := freeAddr(t)
			if s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_LISTEN": addr}); s.mainLn.Addr().String() != addr {
				t.Errorf("main listener on %s, want %s", s.mainLn.Addr(), addr)
			}
		}},
		"ops_listen": {check: func(t *testing.T) {
			addr := freeAddr(t)
			if s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_OPS_LISTEN": addr}); s.opsLn.Addr().String() != addr {
				t.Errorf("ops listener on %s, want %s", s.opsLn.Addr(), addr)
			}
		}},
		"admin_listen": {check: func(t *testing.T) {
			addr := freeAddr(t)
			if s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_ADMIN_LISTEN": addr}); s.adminLn == nil || s.adminLn.Addr().String() != addr {
				t.Errorf("admin listener %v, want %s", s.adminLn, addr)
			}
		}},
		"admin_allowed_cidrs": {check: func(t *testing.T) {
			// Refused before authentication: 403 instead of 401.
			for cidrs, want := range map[string]int{"": 401, "192.0.2.0/24": 403, "127.0.0.0/8": 401} {
				s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_ADMIN_ALLOWED_CIDRS": cidrs})
				main, _ := runTestServer(t, s)
				res, err := http.Get(main + "/api/admin/v1/orgs")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("admin_allowed_cidrs %q: status %d, want %d", cidrs, res.StatusCode, want)
				}
			}
		}},
		"public_url": {check: func(t *testing.T) {
			const u = "https://scim.example.test/base"
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_PUBLIC_URL": u})
			if s.publicURL != u {
				t.Errorf("public URL %q, want %q", s.publicURL, u)
			}
			creds, _ := os.ReadFile(filepath.Join(s.cfg.DataDir, bootstrapCredentialsFile))
			if !strings.Contains(string(creds), "scim_base_url: "+u+scim.BasePath) {
				t.Errorf("bootstrap credentials do not use the public URL:\n%s", creds)
			}
		}},
		"data_dir": {check: func(t *testing.T) {
			dir := t.TempDir()
			openTestServer(t, map[string]string{"SCIMBRIDGE_DATA_DIR": dir})
			for _, name := range []string{"scimbridge.db", bootstrapCredentialsFile} {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("data_dir: %v", err)
				}
			}
		}},
		"database.url": {check: func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "elsewhere.db")
			openTestServer(t, map[string]string{"SCIMBRIDGE_DATABASE_URL": "sqlite://" + file})
			if _, err := os.Stat(file); err != nil {
				t.Errorf("database.url: %v", err)
			}
		}},
		// The pool of PostgreSQL is "main".
		"database.max_open_conns": {check: func(t *testing.T) {
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_DATABASE_URL": storetest.PostgresURL(t),
				"SCIMBRIDGE_ENCRYPTION_KEY_FILE": testKeyFile(t), "SCIMBRIDGE_DATABASE_MAX_OPEN_CONNS": "2"})
			_, ops := runTestServer(t, s)
			if line := metricLine(t, ops, `scimbridge_db_connections_max_open{pool="main"}`); line != `scimbridge_db_connections_max_open{pool="main"} 2` {
				t.Errorf("metric %q, want 2", line)
			}
		}},
		"log.level": {check: func(t *testing.T) {
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_LOG_LEVEL": "debug"})
			if !s.logger.Enabled(context.Background(), slog.LevelDebug) {
				t.Error("log.level=debug: debug is not logged")
			}
		}},
		"log.format": {check: func(t *testing.T) {
			_, logs := openTestServer(t, map[string]string{"SCIMBRIDGE_LOG_FORMAT": "json"})
			if first, _, _ := strings.Cut(logs.String(), "\n"); !strings.HasPrefix(first, `{"time":`) {
				t.Errorf("log.format=json: first line %q", first)
			}
		}},
		"database.statement_timeout":      {coveredBy: "TestServe_StatementTimeoutEndsHungRequests", mentions: "SCIMBRIDGE_DATABASE_STATEMENT_TIMEOUT"},
		"tls_cert_file":                   {coveredBy: "TestServe_TLS", mentions: "TLSCertFile"},
		"tls_key_file":                    {coveredBy: "TestServe_TLS", mentions: "TLSKeyFile"},
		"encryption_key_file":             {coveredBy: "TestServe_RefusesWithoutRecordedKey", mentions: "SCIMBRIDGE_ENCRYPTION_KEY_FILE"},
		"encryption_previous_keys":        {coveredBy: "TestServe_RefusesWithoutRecordedKey", mentions: "SCIMBRIDGE_ENCRYPTION_PREVIOUS_KEYS"},
		"google.api_endpoint":             {coveredBy: "TestCLI_Bridge", mentions: "SCIMBRIDGE_GOOGLE_API_ENDPOINT"},
		"google.token_url":                {coveredBy: "TestCLI_Bridge", mentions: "SCIMBRIDGE_GOOGLE_TOKEN_URL"},
		"google.auth_url":                 {coveredBy: "TestServe_GoogleOAuthConnect", mentions: "SCIMBRIDGE_GOOGLE_AUTH_URL"},
		"google.oauth_client_id":          {coveredBy: "TestServe_GoogleOAuthConnect", mentions: "SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_ID"},
		"google.oauth_client_secret_file": {coveredBy: "TestServe_GoogleOAuthConnect", mentions: "SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE"},
		"trusted_proxies": {check: func(t *testing.T) {
			// One failed authentication per client IP is allowed; behind
			// a trusted proxy each forwarded address is its own client.
			vars := map[string]string{"SCIMBRIDGE_SCIM_AUTH_FAILURE_LIMIT": "1"}
			for _, trusted := range []bool{false, true} {
				if trusted {
					vars["SCIMBRIDGE_TRUSTED_PROXIES"] = "127.0.0.1"
				}
				s, _ := openTestServer(t, vars)
				main, _ := runTestServer(t, s)
				var last int
				for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
					last = scimGet(t, main, "scb_default_"+strings.Repeat("x", 43), ip)
				}
				if want := map[bool]int{false: 429, true: 401}[trusted]; last != want {
					t.Errorf("trusted proxies %v: second client's status %d, want %d", trusted, last, want)
				}
			}
		}},
		"events.retention": {check: func(t *testing.T) {
			if s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_EVENTS_RETENTION": "3d"}); s.purger.events != 72*time.Hour {
				t.Errorf("purge keeps events %s, want 72h", s.purger.events)
			}
		}},
		"changes.retention": {check: func(t *testing.T) {
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_CHANGES_RETENTION": "3d"})
			if s.purger.changes != 72*time.Hour {
				t.Errorf("purge keeps change records %s, want 72h", s.purger.changes)
			}
			// A record four days old goes, one two days old stays.
			ctx := context.Background()
			org := scimbridge.Organization{ID: uuid.NewString(), Slug: "retained", Name: "R", CreatedAt: time.Now()}
			if err := s.db.CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
			for _, age := range []time.Duration{96 * time.Hour, 48 * time.Hour} {
				g := scimbridge.Group{ID: uuid.NewString(), OrgID: org.ID, DisplayName: age.String(), Source: scimbridge.SourceSCIM,
					Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				err := s.db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{
					Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g},
					Event:  scimbridge.Event{Time: time.Now().Add(-age), Method: "POST", Status: 201, Source: scimbridge.EventIdP}})
				if err != nil {
					t.Fatal(err)
				}
			}
			s.purger.once(ctx)
			recs, err := s.db.ChangesAfter(ctx, org.ID, scimbridge.ChangePosition{}, 10)
			if err != nil || len(recs) != 1 || time.Since(recs[0].Time) > 72*time.Hour {
				t.Errorf("after the purge: %d records, %v; want the one two days old", len(recs), err)
			}
		}},
		"events.buffer":       {coveredBy: "../scimserver.TestEventWriter_FullQueueDropsAndCounts", mentions: "EventBuffer"},
		"events.buffer_bytes": {coveredBy: "../scimserver.TestEventWriter_LargeBodiesBoundedInBytes", mentions: "EventBufferBytes"},
		"reports.retention": {check: func(t *testing.T) {
			if s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_REPORTS_RETENTION": "3d"}); s.scheduler.ReportRetention != 72*time.Hour {
				t.Errorf("reports kept %s, want 72h", s.scheduler.ReportRetention)
			}
		}},
		"scim.rate_limit": {check: func(t *testing.T) {
			if got := rateLimited(t, map[string]string{"SCIMBRIDGE_SCIM_RATE_LIMIT": "0.001", "SCIMBRIDGE_SCIM_RATE_BURST": "1"}, 3); got != 1 {
				t.Errorf("requests allowed at a rate of 0.001/s with burst 1: %d, want 1", got)
			}
		}},
		"scim.rate_burst": {check: func(t *testing.T) {
			if got := rateLimited(t, map[string]string{"SCIMBRIDGE_SCIM_RATE_LIMIT": "0.001", "SCIMBRIDGE_SCIM_RATE_BURST": "3"}, 5); got != 3 {
				t.Errorf("requests allowed with burst 3: %d, want 3", got)
			}
		}},
		"scim.auth_failure_limit": {check: func(t *testing.T) {
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_SCIM_AUTH_FAILURE_LIMIT": "2"})
			main, _ := runTestServer(t, s)
			var codes []int
			for range 3 {
				codes = append(codes, scimGet(t, main, "scb_default_"+strings.Repeat("x", 43), ""))
			}
			if codes[1] != 401 || codes[2] != 429 {
				t.Errorf("statuses %v, want the third refused (429)", codes)
			}
		}},
		// Delivery to a loopback receiver over plain http works only
		// when allowed_cidrs lists it.
		"webhooks.allowed_cidrs": {coveredBy: "TestServe_WebhookDelivery", mentions: "SCIMBRIDGE_WEBHOOKS_ALLOWED_CIDRS"},
		"webhooks.ca_file": {check: func(t *testing.T) {
			srv := httptest.NewTLSServer(http.NotFoundHandler())
			defer srv.Close()
			caFile := filepath.Join(t.TempDir(), "ca.pem")
			os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_WEBHOOKS_CA_FILE": caFile})
			if s.webhooks == nil || s.webhooks.Guard.RootCAs == nil {
				t.Fatal("no CA pool for webhook receivers")
			}
			opts := x509.VerifyOptions{Roots: s.webhooks.Guard.RootCAs, DNSName: "example.com"}
			if _, err := srv.Certificate().Verify(opts); err != nil {
				t.Errorf("the receiver's certificate is not trusted through webhooks.ca_file: %v", err)
			}
		}},
		"webhooks.timeout": {check: func(t *testing.T) {
			s, _ := openTestServer(t, map[string]string{"SCIMBRIDGE_WEBHOOKS_TIMEOUT": "7s"})
			if s.webhooks == nil || s.webhooks.Timeout != 7*time.Second || s.webhooks.Client != nil && s.webhooks.Client.Timeout != 7*time.Second {
				t.Errorf("webhook attempts time out after %v, want 7s", s.webhooks)
			}
		}},
		"bootstrap":        {coveredBy: "TestServe_NoBootstrap", mentions: "BootstrapSetting"},
		"shutdown_timeout": {coveredBy: "TestServe_SIGTERMDuringOutageLosesQueueAndExits", mentions: "SCIMBRIDGE_SHUTDOWN_TIMEOUT"},
	}
}

func TestConfig_EveryKeyHasAnEffect(t *testing.T) {
	effects := keyEffects()
	keys := configs.Keys()
	for _, key := range keys {
		if _, ok := effects[key]; !ok {
			t.Errorf("configuration key %s has no test of its effect: add it to keyEffects", key)
		}
	}
	for key := range effects {
		if !strings.Contains(" "+strings.Join(keys, " ")+" ", " "+key+" ") {
			t.Errorf("keyEffects names %s, which is not a configuration key", key)
		}
	}
	for _, key := range keys {
		e, ok := effects[key]
		if !ok {
			continue
		}
		t.Run(key, func(t *testing.T) {
			if e.check != nil {
				e.check(t)
				return
			}
			checkCoveredBy(t, e.coveredBy, e.mentions)
		})
	}
}

// checkCoveredBy fails unless the test named ref exists and its file
// mentions the key's variable or field.
func checkCoveredBy(t *testing.T, ref, mentions string) {
	t.Helper()
	dir, name := ".", ref
	if i := strings.LastIndex(ref, "."); i > 0 && strings.Contains(ref, "/") {
		dir, name = ref[:i], ref[i+1:]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == name {
				src, _ := os.ReadFile(path)
				if !bytes.Contains(src, []byte(mentions)) {
					t.Errorf("%s (%s) does not mention %s", ref, path, mentions)
				}
				return
			}
		}
	}
	t.Errorf("no test %s in %s", name, dir)
}

// syncBuffer collects a server's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openTestServer loads the configuration from the SCIMBRIDGE_* variables
// (a fresh SQLite data directory and port-0 listeners unless vars say
// otherwise) and opens a server, closed when the test ends.
func openTestServer(t *testing.T, vars map[string]string) (*Server, *syncBuffer) {
	t.Helper()
	env := map[string]string{"SCIMBRIDGE_DATA_DIR": t.TempDir(), "SCIMBRIDGE_LISTEN": "127.0.0.1:0",
		"SCIMBRIDGE_OPS_LISTEN": "127.0.0.1:0"}
	for k, v := range vars {
		env[k] = v
	}
	getenv := func(name string) string { return env[name] }
	cfg, err := configs.Load("", getenv)
	if err != nil {
		t.Fatalf("load configuration: %v", err)
	}
	logs := &syncBuffer{}
	s := NewServer(cfg, Options{Stderr: logs, Stdout: io.Discard, Getenv: getenv})
	t.Cleanup(func() { s.Close() })
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("open: %v", err)
	}
	return s, logs
}

// runTestServer runs s until the test ends and returns its main and ops
// base URLs.
func runTestServer(t *testing.T, s *Server) (mainURL, opsURL string) {
	t.Helper()
	ready := make(chan Addrs, 1)
	s.opts.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-ready:
		return "http://" + a.Main.String(), "http://" + a.Ops.String()
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return "", ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testKeyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, bytes.Repeat([]byte{'k'}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// metricLine is the line of /metrics starting with series.
func metricLine(t *testing.T, opsURL, series string) string {
	t.Helper()
	res, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), series+" ") {
			return sc.Text()
		}
	}
	return ""
}

// scimGet lists users with token, from forwardedFor when not empty, and
// returns the status.
func scimGet(t *testing.T, mainURL, token, forwardedFor string) int {
	t.Helper()
	req, err := http.NewRequest("GET", mainURL+scim.BasePath+"/Users", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

var bootstrapSCIMToken = regexp.MustCompile(`(?m)^scim_token: (\S+)$`)

// rateLimited sends n requests with the bootstrap SCIM token and returns
// how many were allowed before the first 429.
func rateLimited(t *testing.T, vars map[string]string, n int) int {
	t.Helper()
	s, _ := openTestServer(t, vars)
	main, _ := runTestServer(t, s)
	creds, err := os.ReadFile(filepath.Join(s.cfg.DataDir, bootstrapCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	m := bootstrapSCIMToken.FindSubmatch(creds)
	if m == nil {
		t.Fatalf("no SCIM token in the bootstrap credentials")
	}
	for i := range n {
		switch code := scimGet(t, main, string(m[1]), ""); code {
		case 200:
		case 429:
			return i
		default:
			t.Fatalf("request %d: status %d", i+1, code)
		}
	}
	return n
}

package daemon_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// enableSCIM creates an organization with SCIM on and returns its token.
func (c *cluster) enableSCIM(slug string) string {
	c.t.Helper()
	c.cli("org", "create", slug)
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(c.cli("scim", "enable", "--org", slug, "--json")), &tok); err != nil {
		c.t.Fatal(err)
	}
	return tok.Token
}

// Writes whose unique key collides with a 40,000-character one make
// PostgreSQL answer with an error too long for lib/pq to read whole. Twice
// the pool size of them must leave the daemon serving every organization
// and able to stop.
func TestServe_OversizedKeyCollisionsDoNotHangPostgres(t *testing.T) {
	const poolSize, shutdown = 3, 10 * time.Second
	c := newCluster(t, fmt.Sprintf("SCIMBRIDGE_DATABASE_MAX_OPEN_CONNS=%d", poolSize),
		fmt.Sprintf("SCIMBRIDGE_SHUTDOWN_TIMEOUT=%s", shutdown))
	acme, other := c.enableSCIM("acme"), c.enableSCIM("other")
	p := runDaemon(t, "serve", c.bin, c.env)
	mainURL, opsURL := p.ready()
	api := mainURL + "/api/connect/v1"

	// Generous: the colliding writes only have to be answered.
	slow := &http.Client{Timeout: time.Minute}
	key := strings.Repeat("L", 40000)
	user := func(name, externalID string) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"externalId":%q,"active":true}`,
			name, externalID)
	}
	// 201, or 400 where value limits refuse the key before any SQL.
	if _, _, err := httpDo(slow, "POST", api+"/Users", acme, user("first@acme.test", key)); err != nil {
		t.Fatalf("POST with the long externalId got no answer: %v", err)
	}
	for i := range 2 * poolSize {
		name := fmt.Sprintf("u%d@acme.test", i)
		code, body, err := httpDo(slow, "POST", api+"/Users", acme, user(name, name))
		if err != nil || code != http.StatusCreated {
			t.Fatalf("POST %s: %d %s %v", name, code, body, err)
		}
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &created); err != nil {
			t.Fatal(err)
		}
		code, _, err = httpDo(slow, "PUT", api+"/Users/"+created.ID, acme, user(name, key))
		if err != nil {
			t.Fatalf("colliding PUT %d got no answer: %v", i, err)
		}
		if code < 400 {
			t.Fatalf("colliding PUT %d = %d, want an error", i, code)
		}
	}

	// Another organization is served at once, and the daemon is ready.
	quick := &http.Client{Timeout: time.Second}
	if code, body, err := httpDo(quick, "GET", api+"/Users", other, ""); err != nil || code != http.StatusOK {
		t.Fatalf("other organization's GET /Users: %d %s %v", code, body, err)
	}
	if code, body, err := httpDo(quick, "GET", opsURL+"/readyz", "", ""); err != nil || code != http.StatusOK {
		t.Fatalf("GET /readyz: %d %s %v", code, body, err)
	}

	p.signal(syscall.SIGTERM)
	if code := p.exitCode(shutdown); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM\n%s", code, p.log())
	}
}

// database.max_open_conns sizes the pool: PostgreSQL's one pool, SQLite's
// read pool (SQLite writes through one connection).
func TestServe_MaxOpenConnsSizesThePool(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		c := newCluster(t, "SCIMBRIDGE_DATABASE_MAX_OPEN_CONNS=2")
		p := runDaemon(t, "serve", c.bin, c.env)
		_, opsURL := p.ready()
		checkGauge(t, scrape(t, opsURL), "scimbridge_db_connections_max_open", map[string]string{"pool": "main"}, 2)
	})
	t.Run("sqlite", func(t *testing.T) {
		bin := buildScimbridge(t)
		home := t.TempDir()
		p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"),
			"SCIMBRIDGE_DATABASE_MAX_OPEN_CONNS=3"))
		_, opsURL := p.ready()
		fams := scrape(t, opsURL)
		checkGauge(t, fams, "scimbridge_db_connections_max_open", map[string]string{"pool": "read"}, 3)
		checkGauge(t, fams, "scimbridge_db_connections_max_open", map[string]string{"pool": "write"}, 1)
	})
}

func checkGauge(t *testing.T, fams metricFamilies, name string, labels map[string]string, want float64) {
	t.Helper()
	if got, ok := fams.value(name, labels); !ok || got != want {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
	}
}

// When the database stops answering (a hung network: no reply, no error),
// SIGTERM still ends serve: the event flush and the database's close are
// abandoned at the shutdown timeout rather than awaited. The statement
// timeout is set far beyond the test so that only the shutdown bound can
// end it.
func TestServe_ShutdownWithHungPostgres(t *testing.T) {
	const shutdown = time.Second
	c := newCluster(t)
	acme := c.enableSCIM("acme")
	u, err := url.Parse(c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewFreezeProxy(t, u.Host)
	u.Host = proxy.Addr()
	p := runDaemon(t, "serve", c.bin, append(slices.Clone(c.env),
		"SCIMBRIDGE_DATABASE_URL="+u.String(),
		"SCIMBRIDGE_DATABASE_STATEMENT_TIMEOUT=1h",
		fmt.Sprintf("SCIMBRIDGE_SHUTDOWN_TIMEOUT=%s", shutdown)))
	mainURL, _ := p.ready()
	api := mainURL + "/api/connect/v1"
	// Fill the pool with connections and prepared statements.
	for range 4 {
		if code, body, err := httpDo(http.DefaultClient, "GET", api+"/Users", acme, ""); err != nil || code != http.StatusOK {
			t.Fatalf("GET /Users: %d %s %v", code, body, err)
		}
	}

	proxy.Freeze()
	// A request that will wait on the database (already, or once the
	// signal is handled; refused if the listener closed first).
	hung := make(chan struct{})
	go func() {
		defer close(hung)
		httpDo(http.DefaultClient, "GET", api+"/Users", acme, "")
	}()
	p.signal(syscall.SIGTERM)
	// Within the shutdown timeout, the 5 s more a stopping reconcile may
	// take, a second each for the abandoned flush and close, and 2 s to
	// spare; unbounded, the event writer alone waits 12 s on the database.
	if code := p.exitCode(shutdown + 5*time.Second + 2*time.Second + 2*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM\n%s", code, p.log())
	}
	<-hung
}

// database.statement_timeout bounds a request waiting on a database that
// stopped answering: it gets an error instead of waiting for ever, and the
// pool serves again once the network is back.
func TestServe_StatementTimeoutEndsHungRequests(t *testing.T) {
	c := newCluster(t)
	acme := c.enableSCIM("acme")
	u, err := url.Parse(c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewFreezeProxy(t, u.Host)
	u.Host = proxy.Addr()
	p := runDaemon(t, "serve", c.bin, append(slices.Clone(c.env),
		"SCIMBRIDGE_DATABASE_URL="+u.String(), "SCIMBRIDGE_DATABASE_STATEMENT_TIMEOUT=1s"))
	mainURL, _ := p.ready()
	api := mainURL + "/api/connect/v1"
	// Generous for a 1 s timeout (plus 2 s for the cancel request), short
	// of the 30 s default.
	client := &http.Client{Timeout: 15 * time.Second}

	proxy.Freeze()
	code, body, err := httpDo(client, "GET", api+"/Users", acme, "")
	if err != nil || code < 500 {
		t.Fatalf("GET /Users with the database frozen: %d %s %v", code, body, err)
	}
	proxy.Thaw()
	if code, body, err := httpDo(client, "GET", api+"/Users", acme, ""); err != nil || code != http.StatusOK {
		t.Fatalf("GET /Users once the database answers again: %d %s %v", code, body, err)
	}
}

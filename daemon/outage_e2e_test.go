package daemon_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/faultproxy"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// The daemon's path to PostgreSQL is cut under SCIM load and restored:
// every request, answered before, during or after the outage, ends up
// with exactly one event, carrying the status the client got. The
// outage is a proxy between this daemon and the shared server, which
// other tests keep using.
func TestServe_DatabaseOutageKeepsEveryEvent(t *testing.T) {
	bin := buildScimbridge(t)
	dbURL := storetest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	proxied := *u
	proxied.Host = proxy.Addr()

	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+dataDir,
		"SCIMBRIDGE_DATABASE_URL="+proxied.String(), "SCIMBRIDGE_BOOTSTRAP=true", keyVar(t),
		"SCIMBRIDGE_SCIM_RATE_LIMIT=0", "SCIMBRIDGE_SCIM_AUTH_FAILURE_LIMIT=0"))
	mainURL, _ := p.ready()
	token := readCredentials(t, filepath.Join(dataDir, "bootstrap-credentials"))["scim_token"]
	api := mainURL + "/api/connect/v1"

	var (
		mu     sync.Mutex
		status = map[string]int{} // request id -> status answered
		next   atomic.Int64
	)
	client := &http.Client{Timeout: time.Minute}
	// load sends n requests from 6 workers, each pausing between two
	// requests: creates, searches and reads of a missing user, each with
	// its own request id; onProgress sees how many were answered.
	load := func(phase string, n int, pause time.Duration, onProgress func(done int64)) {
		var issued, done atomic.Int64
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if issued.Add(1) > int64(n) {
						return
					}
					i := next.Add(1)
					var method, target, body string
					switch i % 3 {
					case 0:
						method, target = "POST", api+"/Users"
						body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com"}`, i)
					case 1:
						method, target = "GET", api+fmt.Sprintf(`/Users?filter=userName%%20eq%%20%%22u%d@example.com%%22`, i-1)
					default:
						method, target = "GET", api+"/Users/6c1bd1a5-8a4e-4f0e-9d8c-3f1b0a9e2c11"
					}
					id := fmt.Sprintf("outage-%s-%d", phase, i)
					code, err := sendWithID(client, method, target, token, body, id)
					if err != nil {
						t.Errorf("%s %s (%s): %v", method, target, id, err)
						return
					}
					mu.Lock()
					status[id] = code
					mu.Unlock()
					if d := done.Add(1); onProgress != nil {
						onProgress(d)
					}
					time.Sleep(pause)
				}
			}()
		}
		wg.Wait()
	}

	// Before and into the outage: the cut starts while requests run.
	cutDone := make(chan struct{})
	var cutOnce sync.Once
	load("cut", 300, 0, func(done int64) {
		if done == 100 {
			cutOnce.Do(func() {
				go func() {
					proxy.Cut()
					close(cutDone)
				}()
			})
		}
	})
	<-cutDone
	// The outage lasts a few seconds, requests going on; then it ends.
	load("down", 90, 200*time.Millisecond, nil)
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	load("after", 150, 0, nil)
	if t.Failed() {
		return
	}

	failed := 0
	for _, code := range status {
		if code >= 500 {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no request failed: the outage did not happen")
	}
	t.Logf("%d requests, %d of them answered 5xx during the outage", len(status), failed)

	// Every event reaches the database once it is back; read it directly,
	// not through the proxy.
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events := func() map[string][]int {
		rows, err := db.QueryContext(context.Background(),
			`SELECT request_id, status FROM events WHERE request_id LIKE 'outage-%' ORDER BY id`)
		if err != nil {
			t.Fatalf("read events: %v", err)
		}
		defer rows.Close()
		out := map[string][]int{}
		for rows.Next() {
			var id string
			var code int
			if err := rows.Scan(&id, &code); err != nil {
				t.Fatal(err)
			}
			out[id] = append(out[id], code)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	deadline := time.Now().Add(2 * time.Minute) // a hang, not a timing assertion
	got := events()
	for len(got) < len(status) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		got = events()
	}
	for id, code := range status {
		switch evs := got[id]; {
		case len(evs) == 0:
			t.Errorf("request %s (answered %d) has no event", id, code)
		case len(evs) > 1:
			t.Errorf("request %s (answered %d) has %d events: %v", id, code, len(evs), evs)
		case evs[0] != code:
			t.Errorf("request %s answered %d but its event says %d", id, code, evs[0])
		}
	}
	if len(got) != len(status) {
		t.Errorf("%d request ids in the events log, %d requests sent", len(got), len(status))
	}

	p.signal(syscall.SIGTERM)
	if code := p.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// sendWithID is httpDo with an X-Request-Id.
func sendWithID(client *http.Client, method, target, token, body, requestID string) (int, error) {
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-Id", requestID)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// When the database is still unreachable at SIGTERM, the daemon gives up
// on the queued events after the shutdown timeout, says how many it lost,
// and exits 0.
func TestServe_SIGTERMDuringOutageLosesQueueAndExits(t *testing.T) {
	bin := buildScimbridge(t)
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr()

	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+dataDir,
		"SCIMBRIDGE_DATABASE_URL="+u.String(), "SCIMBRIDGE_BOOTSTRAP=true", keyVar(t),
		"SCIMBRIDGE_SCIM_RATE_LIMIT=0", "SCIMBRIDGE_SHUTDOWN_TIMEOUT=2s"))
	mainURL, _ := p.ready()
	token := readCredentials(t, filepath.Join(dataDir, "bootstrap-credentials"))["scim_token"]

	proxy.Cut()
	client := &http.Client{Timeout: time.Minute}
	const n = 5
	for i := range n {
		code, err := sendWithID(client, "GET", mainURL+"/api/connect/v1/Users", token, "", fmt.Sprintf("lost-%d", i))
		if err != nil || code < 500 {
			t.Fatalf("GET during the outage: %d, %v; want a 5xx", code, err)
		}
	}
	p.signal(syscall.SIGTERM)
	if code := p.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if l := p.find(regexp.MustCompile(`scim events lost.* lost=` + fmt.Sprint(n) + ` `)); l == "" {
		t.Errorf("no log line saying %d events were lost", n)
	}
}

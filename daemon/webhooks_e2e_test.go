package daemon_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// hookReceiver is a webhook receiver that checks every signature as the
// Standard Webhooks specification says and records the change positions
// it was sent, in arrival order.
type hookReceiver struct {
	*httptest.Server
	t         *testing.T
	mu        sync.Mutex
	secret    string
	positions []string // every change received, repeats included
	badSigs   int
	delay     time.Duration
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	r := &hookReceiver{t: t, delay: delay}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	ok := false
	for _, s := range strings.Fields(req.Header.Get("webhook-signature")) {
		ok = ok || hmac.Equal([]byte(s), []byte(want))
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Position string `json:"position"`
			Changes  []struct {
				Position string `json:"position"`
			} `json:"changes"`
		} `json:"data"`
	}
	json.Unmarshal(body, &p)
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		r.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if p.Type == "changes" {
		for _, c := range p.Data.Changes {
			r.positions = append(r.positions, c.Position)
		}
	} else {
		r.positions = append(r.positions, p.Data.Position)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *hookReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.positions...)
}

// checkDelivered checks that want (every change record, in order) was
// received at least once each, in order: a change may come again only
// right after a redelivery point, never before a change that follows it.
func checkDelivered(t *testing.T, got []string, want []scimbridge.ChangeRecord) {
	t.Helper()
	seen := map[string]bool{}
	var distinct []string
	last := scimbridge.ChangePosition{}
	for _, p := range got {
		pos := parsePos(t, p)
		if seen[p] {
			continue
		}
		if pos.Less(last) {
			t.Fatalf("change %s arrived after %d.%d", p, last.Tx, last.Seq)
		}
		seen[p], last = true, pos
		distinct = append(distinct, p)
	}
	if len(distinct) != len(want) {
		t.Fatalf("received %d distinct changes, the feed has %d", len(distinct), len(want))
	}
	for i, r := range want {
		if w := fmt.Sprintf("%d.%d", r.Position.Tx, r.Position.Seq); distinct[i] != w {
			t.Fatalf("change %d received is %s, the feed's is %s", i, distinct[i], w)
		}
	}
}

func parsePos(t *testing.T, s string) scimbridge.ChangePosition {
	tx, seq, _ := strings.Cut(s, ".")
	a, err1 := strconv.ParseInt(tx, 10, 64)
	b, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad position %q", s)
	}
	return scimbridge.ChangePosition{Tx: a, Seq: b}
}

// allChanges reads every change record of the organization.
func allChanges(t *testing.T, db *store.DB, orgID string) []scimbridge.ChangeRecord {
	t.Helper()
	var all []scimbridge.ChangeRecord
	after := scimbridge.ChangePosition{}
	for {
		recs, err := db.ChangesAfter(context.Background(), orgID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
		if len(recs) < 1000 {
			return all
		}
		after = recs[len(recs)-1].Position
	}
}

func addWebhook(t *testing.T, bin string, env []string, slug, url string, extra ...string) (id, secret string) {
	t.Helper()
	var out struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	args := append([]string{"webhooks", "add", "--org", slug, "--url", url, "--json"}, extra...)
	if err := json.Unmarshal([]byte(runCLI(t, bin, env, args...)), &out); err != nil {
		t.Fatal(err)
	}
	return out.ID, out.Secret
}

func createUsers(t *testing.T, base, token string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		scimRequest(t, "POST", base+"/api/connect/v1/Users", token,
			fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"hook.user%d@example.net"}`, i), 201)
	}
}

// SCIM writes reach a receiver on loopback, signed, in order, when
// webhooks.allowed_cidrs lets plain http reach it; without it the attempts
// are refused.
func TestServe_WebhookDelivery(t *testing.T) {
	t.Parallel()
	bin := buildScimbridge(t)
	home := t.TempDir()
	env := daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"),
		"SCIMBRIDGE_TEST_WEBHOOK_POLL=100ms", "SCIMBRIDGE_TEST_WEBHOOK_BACKOFF=100ms")
	runCLI(t, bin, env, "migrate")
	runCLI(t, bin, env, "org", "create", "acme")
	var tok struct{ Token string }
	json.Unmarshal([]byte(runCLI(t, bin, env, "scim", "enable", "--org", "acme", "--json")), &tok)
	rc := newHookReceiver(t, 0)
	id, secret := addWebhook(t, bin, env, "acme", rc.URL+"/hook")
	rc.secret = secret

	// Without allowed_cidrs: refused at connect time.
	p, addrs := startBinary(t, bin, env)
	base := "http://" + addrs["main"]
	createUsers(t, base, tok.Token, 0, 3)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(runCLI(t, bin, env, "webhooks", "attempts", "--org", "acme", id), "plain http only to loopback") {
		if time.Now().After(deadline) {
			t.Fatalf("no refused attempt:\n%s", runCLI(t, bin, env, "webhooks", "attempts", "--org", "acme", id))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rc.received()) != 0 {
		t.Fatal("delivered without webhooks.allowed_cidrs")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited

	// With it: every change arrives.
	env = append(env, "SCIMBRIDGE_WEBHOOKS_ALLOWED_CIDRS=127.0.0.1/32")
	_, addrs = startBinary(t, bin, env)
	base = "http://" + addrs["main"]
	createUsers(t, base, tok.Token, 3, 20)
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(home, "data", "scimbridge.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _ := db.OrganizationBySlug(context.Background(), "acme")
	want := allChanges(t, db, org.ID)
	if len(want) < 23 {
		t.Fatalf("the feed has %d changes, want at least 23", len(want))
	}
	deadline = time.Now().Add(60 * time.Second)
	for len(rc.received()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	checkDelivered(t, rc.received(), want)
	if rc.badSigs != 0 {
		t.Errorf("%d deliveries failed the signature check", rc.badSigs)
	}

	// The metrics: deliveries by outcome, and the endpoint up to date.
	resp, err := http.Get("http://" + addrs["ops"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(body)
	if !strings.Contains(metrics, `scimbridge_webhook_deliveries_total{outcome="delivered"}`) {
		t.Errorf("no delivered count in the metrics")
	}
	if line := `scimbridge_webhook_oldest_undelivered_seconds{endpoint_id="` + id + `",org_id="` + org.ID + `"} 0`; !strings.Contains(metrics, line) {
		t.Errorf("metrics lack %s", line)
	}
}

// Two replicas on PostgreSQL; the one delivering the endpoint is killed
// (SIGKILL) mid-stream: the other takes the lease over once it expires and
// every change arrives, in order.
func TestReplicas_WebhookTakeoverAfterKill(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "SCIMBRIDGE_TEST_LEASE_TTL=2s", "SCIMBRIDGE_TEST_WEBHOOK_POLL=100ms",
		"SCIMBRIDGE_TEST_WEBHOOK_BACKOFF=100ms", "SCIMBRIDGE_WEBHOOKS_ALLOWED_CIDRS=127.0.0.0/8")
	c.cli("org", "create", "alpha")
	var tok struct{ Token string }
	json.Unmarshal([]byte(c.cli("scim", "enable", "--org", "alpha", "--json")), &tok)
	rc := newHookReceiver(t, 10*time.Millisecond) // slow enough to kill mid-stream
	epID, secret := addWebhook(t, c.bin, c.env, "alpha", rc.URL+"/hook")
	rc.secret = secret
	a := runDaemon(t, "replica-a", c.bin, c.env)
	b := runDaemon(t, "replica-b", c.bin, c.env)
	mainA, _ := a.ready()
	mainB, _ := b.ready()

	// Writers on both replicas.
	var org scimbridge.Organization
	c.withStore(func(db *store.DB) { org, _ = db.OrganizationBySlug(context.Background(), "alpha") })
	var wg sync.WaitGroup
	var written atomic.Int32
	for w, base := range []string{mainA, mainB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				status, _, _ := httpDo(http.DefaultClient, "POST", base+"/api/connect/v1/Users", tok.Token,
					fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"r%d.u%d@example.net"}`, w, i))
				if status == 201 {
					written.Add(1)
				}
			}
		}()
	}
	// Kill the replica holding the endpoint's lease once deliveries flow.
	deadline := time.Now().Add(60 * time.Second)
	for len(rc.received()) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries", len(rc.received()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var holder string
	c.withStore(func(db *store.DB) {
		db.SQLX().QueryRow(`SELECT holder FROM webhook_leases WHERE endpoint_id = $1`, epID).Scan(&holder)
	})
	victim, survivor, survivorURL := a, b, mainB
	if strings.Contains(holder, fmt.Sprintf("-%d-", b.cmd.Process.Pid)) {
		victim, survivor, survivorURL = b, a, mainA
	} else if !strings.Contains(holder, fmt.Sprintf("-%d-", a.cmd.Process.Pid)) {
		t.Fatalf("lease holder %q is neither replica", holder)
	}
	before := len(rc.received())
	victim.signal(syscall.SIGKILL)
	victim.exitCode(10 * time.Second)
	wg.Wait()
	// More writes after the kill, on the survivor.
	createUsers(t, survivorURL, tok.Token, 1000, 20)

	// The feed shows a record once every transaction begun before it has
	// ended (the killed replica's are rolled back).
	var want []scimbridge.ChangeRecord
	for end := time.Now().Add(30 * time.Second); ; {
		c.withStore(func(db *store.DB) { want = allChanges(t, db, org.ID) })
		if len(want) >= int(written.Load())+20 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("%d users written, %d changes in the feed", int(written.Load())+20, len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		got := rc.received()
		distinct := map[string]bool{}
		for _, p := range got {
			distinct[p] = true
		}
		if len(distinct) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d changes delivered after the kill (%d before it)", len(distinct), len(want), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkDelivered(t, rc.received(), want)
	var newHolder string
	c.withStore(func(db *store.DB) {
		db.SQLX().QueryRow(`SELECT holder FROM webhook_leases WHERE endpoint_id = $1`, epID).Scan(&newHolder)
	})
	if !strings.Contains(newHolder, fmt.Sprintf("-%d-", survivor.cmd.Process.Pid)) {
		t.Errorf("lease held by %q after the kill, want the survivor", newHolder)
	}
	if rc.badSigs != 0 {
		t.Errorf("%d deliveries failed the signature check", rc.badSigs)
	}
}

package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// feed writes real directory changes through the store, which records
// them in its changes feed, and remembers the records they wrote.
type feed struct {
	t    *testing.T
	db   *store.DB
	mu   sync.Mutex
	recs []scimbridge.ChangeRecord
	last scimbridge.Profile // the last profile created
	n    int
}

// add writes one change of type typ (user.created: a new profile;
// user.deleted: the last profile created is deleted) and returns its
// record.
func (f *feed) add(orgID string, typ scimbridge.ChangeType) scimbridge.ChangeRecord {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx := context.Background()
	now := time.Now().UTC()
	ce := scimbridge.ChangeEvent{Event: scimbridge.Event{Time: now, Method: "POST", Status: 201, Source: scimbridge.EventIdP, Count: 1}}
	switch typ {
	case scimbridge.ChangeUserCreated:
		f.n++
		name := fmt.Sprintf("user%d@acme.example", f.n)
		p := scimbridge.Profile{ID: uuid.NewString(), OrgID: orgID, Attributes: scimbridge.Attributes{UserName: name,
			Emails: []scimbridge.Email{{Value: name, Type: "work"}}}, Email: name, State: scimbridge.StateActive,
			Source: scimbridge.SourceSCIM, Version: 1, Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
		ce.Change = scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}
		f.last = p
	case scimbridge.ChangeUserDeleted:
		p := f.last
		p.Version, p.UpdatedAt = p.Version+1, now
		ce.Change = scimbridge.Change{Kind: scimbridge.ChangeDetach, Profile: p, ExpectedVersion: f.last.Version}
		f.last = p
	default:
		f.t.Fatalf("feed.add: no write for %s", typ)
	}
	if err := f.db.ApplyChange(ctx, ce); err != nil {
		f.t.Fatalf("write %s: %v", typ, err)
	}
	after := scimbridge.ChangePosition{}
	if len(f.recs) > 0 {
		after = f.recs[len(f.recs)-1].Position
	}
	// A reader sees a record once no transaction that began before it
	// is still in progress (on PostgreSQL): wait for it.
	var recs []scimbridge.ChangeRecord
	for deadline := time.Now().Add(30 * time.Second); len(recs) == 0; {
		var err error
		if recs, err = f.db.ChangesAfter(ctx, orgID, after, 100); err != nil || len(recs) == 0 && time.Now().After(deadline) {
			f.t.Fatalf("read the record of %s: %d records, %v", typ, len(recs), err)
		}
		if len(recs) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	f.recs = append(f.recs, recs...)
	return recs[len(recs)-1]
}

// pos is the position text of the n-th record written (from 1).
func (f *feed) pos(n int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Position(f.recs[n-1].Position)
}

// head is the position of the last record written. An endpoint that has
// every record has its cursor at it or, once its idle cursor followed the
// feed's head, past it.
func (f *feed) head() scimbridge.ChangePosition {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recs[len(f.recs)-1].Position
}

func (f *feed) positions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.recs))
	for i, r := range f.recs {
		out[i] = Position(r.Position)
	}
	return out
}

// env is a store with an organization, a keyring and a worker's settings.
type env struct {
	t     *testing.T
	db    *store.DB
	feed  *feed
	st    Store
	org   scimbridge.Organization
	ring  *seal.Keyring
	clock *testClock
}

type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func newEnv(t *testing.T, db *store.DB) *env {
	ring, err := seal.NewKeyring(bytes.Repeat([]byte{'k'}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "Acme", CreatedAt: time.Now()}
	if err := db.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, feed: &feed{t: t, db: db}, st: db, org: org, ring: ring, clock: &testClock{}}
}

func sqliteEnv(t *testing.T) *env { return newEnv(t, storetest.OpenSQLite(t)) }

// endpoint creates an enabled endpoint for url and returns it with its
// secret.
func (e *env) endpoint(url string, batch int, onReject scimbridge.OnReject) (scimbridge.WebhookEndpoint, string) {
	secret, err := NewSecret()
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := e.ring.Seal(e.org.ID, []byte(secret))
	if err != nil {
		e.t.Fatal(err)
	}
	ep := scimbridge.WebhookEndpoint{ID: uuid.NewString(), OrgID: e.org.ID, URL: url, Enabled: true, Batch: batch,
		OnReject: onReject, SealedSecret: sealed, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.db.CreateWebhookEndpoint(context.Background(), ep, scimbridge.Event{Time: time.Now(), Source: scimbridge.EventAdmin, Count: 1}); err != nil {
		e.t.Fatal(err)
	}
	return ep, secret
}

// worker returns a worker with fast timings over loopback receivers.
func (e *env) worker(holder string) *Worker {
	return &Worker{Store: e.st, Keyring: e.ring, Holder: holder, Clock: e.clock.now,
		Guard:    &Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		LeaseTTL: 3 * time.Second, Poll: 20 * time.Millisecond, Timeout: 2 * time.Second,
		BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond}
}

// run runs w until the test ends.
func run(t *testing.T, w *Worker) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

// delivery is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	ok     bool // signature verified
}

// receiver records requests, verifies signatures from the spec and
// answers with answer(n) for the n-th request (from 1).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	secrets []string
	answer  func(n int, w http.ResponseWriter) bool // false: answer 204
}

func newReceiver(t *testing.T, secrets []string, answer func(n int, w http.ResponseWriter) bool) *receiver {
	r := &receiver{secrets: secrets, answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	h := map[string]string{}
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		h[k] = req.Header.Get(k)
	}
	ok := len(r.secrets) > 0
	r.mu.Lock()
	for _, s := range r.secrets {
		if specVerify(s, h, body, time.Now()) != nil {
			ok = false
		}
	}
	r.got = append(r.got, received{header: req.Header.Clone(), body: body, ok: ok})
	n := len(r.got)
	r.mu.Unlock()
	if r.answer != nil && r.answer(n, w) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// positions are the change positions of a delivery's body.
func positions(t *testing.T, body []byte) []string {
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload: %v: %s", err, body)
	}
	if p.Type == BatchType {
		var b struct {
			Changes []Change `json:"changes"`
		}
		json.Unmarshal(p.Data, &b)
		out := make([]string, len(b.Changes))
		for i, c := range b.Changes {
			out[i] = c.Position
		}
		return out
	}
	var c Change
	json.Unmarshal(p.Data, &c)
	return []string{c.Position}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// On PostgreSQL the feed stops below the oldest transaction of its
	// database in progress: allow for a loaded machine.
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) attempts(ep scimbridge.WebhookEndpoint) []scimbridge.WebhookAttempt {
	a, err := e.db.WebhookAttempts(context.Background(), e.org.ID, ep.ID, 0, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	// oldest first
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
	}
	return a
}

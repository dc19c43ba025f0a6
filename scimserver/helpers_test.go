package scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// backends runs fn once per database: SQLite and PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, db scimbridge.Store)) {
	t.Helper()
	t.Run("SQLite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is the SCIM server over HTTP on loopback, its event writer
// running, and one organization with a SCIM token.
type testEnv struct {
	t        testing.TB
	db       scimbridge.Store
	srv      *Server
	http     *httptest.Server
	base     string // SCIM base URL of the test server
	org      scimbridge.Organization
	token    string
	inflight sync.WaitGroup
	stop     func() // stops the event writer and waits for its drain
}

// newEnv starts a server on db; cfg, when given, adjusts the
// configuration (Store, PublicURL are set for it).
func newEnv(t testing.TB, db scimbridge.Store, cfg ...func(*Config)) *testEnv {
	t.Helper()
	e := startEnv(t, db, cfg...)
	e.org, e.token = e.newOrg("acme")
	return e
}

// startEnv is newEnv without an organization.
func startEnv(t testing.TB, db scimbridge.Store, cfg ...func(*Config)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, db: db}
	e.http = httptest.NewUnstartedServer(nil)
	c := Config{Store: db, PublicURL: "http://" + e.http.Listener.Addr().String()}
	for _, f := range cfg {
		f(&c)
	}
	e.srv = New(c)
	h := e.srv.Handler()
	e.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inflight.Add(1)
		defer e.inflight.Done()
		h.ServeHTTP(w, r)
	})
	e.http.Start()
	t.Cleanup(e.http.Close)
	e.base = e.http.URL + scim.BasePath

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

// newOrg creates an organization with SCIM enabled and returns its token.
func (e *testEnv) newOrg(slug string) (scimbridge.Organization, string) {
	e.t.Helper()
	ctx := context.Background()
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: slug, Name: slug, CreatedAt: time.Now().UTC(), AdoptExisting: true}
	if err := e.db.CreateOrganization(ctx, org); err != nil {
		e.t.Fatalf("create organization: %v", err)
	}
	return org, e.setToken(org)
}

// setToken enables SCIM for org (or rotates its token) and returns the
// new token.
func (e *testEnv) setToken(org scimbridge.Organization) string {
	e.t.Helper()
	token, hash := scimbridge.NewSCIMToken(org.Slug)
	now := time.Now().UTC()
	err := e.db.PutSCIMConfig(context.Background(), scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: now},
		scimbridge.Event{OrgID: org.ID, Time: now, Source: scimbridge.EventAdmin, Method: "POST", Path: "scim enable", Status: 200})
	if err != nil {
		e.t.Fatalf("put scim config: %v", err)
	}
	return token
}

// response is one HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// req is one request to send.
type req struct {
	method string
	path   string // below the SCIM base, with query
	body   any    // string or []byte sent as is, anything else as JSON; nil for none
	token  string // "" uses the environment's token; "-" sends none
	header map[string]string
}

// do sends r to the server.
func (e *testEnv) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, e.base+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	switch r.token {
	case "":
		hr.Header.Set("Authorization", "Bearer "+e.token)
	case "-":
	default:
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	res, err := e.http.Client().Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// mustStatus fails unless res has status want.
func mustStatus(t testing.TB, res response, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("status %d, want %d; body: %s", res.status, want, res.body)
	}
}

// createUser POSTs a user and returns its id.
func (e *testEnv) createUser(body map[string]any) string {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/Users", body: body})
	mustStatus(e.t, res, http.StatusCreated)
	id, _ := res.json(e.t)["id"].(string)
	if id == "" {
		e.t.Fatalf("created user has no id: %s", res.body)
	}
	return id
}

// user is a minimal valid SCIM User body.
func user(userName string, extra ...any) map[string]any {
	u := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Given", "familyName": "Family"},
		"emails":   []map[string]any{{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		u[extra[i].(string)] = extra[i+1]
	}
	return u
}

// flush waits for in-flight requests and writes every buffered event.
func (e *testEnv) flush() {
	e.t.Helper()
	e.inflight.Wait()
	e.srv.events.flush(context.Background())
}

// events returns the SCIM request events of orgID ("" for those naming no
// organization), oldest first, after a flush.
func (e *testEnv) events(orgID string) []scimbridge.Event {
	e.t.Helper()
	e.flush()
	return listEvents(e.t, e.db, orgID, scimbridge.EventIdP)
}

// listEvents returns every event of orgID from source, oldest first.
func listEvents(t testing.TB, db scimbridge.Store, orgID string, source scimbridge.EventSource) []scimbridge.Event {
	t.Helper()
	var out []scimbridge.Event
	q := scimbridge.EventQuery{OrgID: orgID, Source: source, Limit: 1000}
	for {
		page, err := db.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		out = append(out, page.Events...)
		if page.NextCursor == 0 {
			break
		}
		q.Cursor = page.NextCursor
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// eventFor returns the one event with the request id, failing unless there
// is exactly one.
func eventFor(t testing.TB, events []scimbridge.Event, requestID string) scimbridge.Event {
	t.Helper()
	var found []scimbridge.Event
	for _, ev := range events {
		if ev.RequestID == requestID {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d events for request %s, want 1: %+v", len(found), requestID, found)
	}
	return found[0]
}

// failingStore fails AppendEvents for events whose request id starts with
// "fail".
type failingStore struct {
	scimbridge.Store
}

func (f failingStore) AppendEvents(ctx context.Context, events []scimbridge.Event) error {
	for _, ev := range events {
		if strings.HasPrefix(ev.RequestID, "fail") {
			return errors.New("append events: injected failure")
		}
	}
	return f.Store.AppendEvents(ctx, events)
}

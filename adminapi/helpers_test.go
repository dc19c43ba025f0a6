package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// clientIP is the address every test request is forwarded for, through
// the trusted proxy 127.0.0.1.
const clientIP = "203.0.113.9"

// fixture is the admin API over a real store, with organization acme
// (tokens owner, viewer, app) and beta (token ownerB), an operator token,
// a fake Google and a clock tests move.
type fixture struct {
	t      testing.TB
	db     *store.DB
	a      *admin.Admin
	api    *Server
	srv    *httptest.Server
	google *fakegoogle.Server
	key    []byte // the fake Google's service-account key

	mu  sync.Mutex
	now time.Time

	acme, beta scimbridge.Organization
	tokens     map[string]string // principal name: token
	tokenIDs   map[string]string
}

// eachBackend runs fn against SQLite and PostgreSQL.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

var operatorCaller = admin.Caller{Actor: admin.CLIActor("root"), ClientIP: "192.0.2.1"}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, db: db, now: time.Now().UTC().Truncate(time.Second), tokens: map[string]string{}, tokenIDs: map[string]string{}}
	f.google = fakegoogle.NewServer()
	gs := httptest.NewServer(f.google.Handler())
	t.Cleanup(gs.Close)
	f.google.SetUsers(googleUsers(40))
	raw := make([]byte, 32)
	rand.Read(raw)
	k, err := seal.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	f.a = &admin.Admin{Store: db, Clock: f.clock, Logger: slog.New(slog.DiscardHandler), Keyring: k,
		Google: bridge.Endpoints{APIEndpoint: gs.URL + "/", TokenURL: gs.URL + fakegoogle.TokenPath}}
	f.a.Runner = &bridge.Runner{Store: db, Keyring: k, Endpoints: f.a.Google, Clock: f.clock, Holder: "adminapi-test"}
	f.key = f.google.ServiceAccountKey(f.a.Google.TokenURL)
	f.api = New(Config{Admin: f.a, SCIMBaseURL: "https://scim.example.test/api/connect/v1",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	mux := http.NewServeMux()
	mux.Handle(BasePath+"/", f.api)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)

	if f.acme, err = f.a.CreateOrg(ctx, operatorCaller, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	if f.beta, err = f.a.CreateOrg(ctx, operatorCaller, "beta", "Beta"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name, slug string
		role       scimbridge.AdminRole
	}{{"owner", "acme", scimbridge.AdminOwner}, {"viewer", "acme", scimbridge.AdminViewer},
		{"app", "acme", scimbridge.AdminApp}, {"ownerB", "beta", scimbridge.AdminOwner}} {
		tok, rec, err := f.a.CreateToken(ctx, operatorCaller, p.slug, admin.TokenSpec{Role: p.role, Name: p.name + " token"})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[p.name], f.tokenIDs[p.name] = tok, rec.ID
	}
	tok, rec, err := f.a.CreateOperatorToken(ctx, operatorCaller, admin.TokenSpec{Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["operator"], f.tokenIDs["operator"] = tok, rec.ID
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func googleUsers(n int) []*directory.User {
	out := make([]*directory.User, n)
	for i := range out {
		out[i] = &directory.User{Id: fmt.Sprintf("1000000000000000%05d", i), PrimaryEmail: fmt.Sprintf("u%02d@example.com", i),
			OrgUnitPath: "/", Name: &directory.UserName{GivenName: "User", FamilyName: fmt.Sprint(i)}}
	}
	return out
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d, body %q: %v", r.status, r.body, err)
	}
}

// errorCode is the code of an error reply; it fails the test when the
// body is not the API's error object.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d: not an error object: %q", r.status, r.body)
	}
	return e.Error.Code
}

// do sends a request as principal (a name of f.tokens, or a raw token
// when it has a scb prefix, or "" for none), forwarded for clientIP.
func (f *fixture) do(principal, method, path, body string) response {
	f.t.Helper()
	token := f.tokens[principal]
	if strings.HasPrefix(principal, "scb") || strings.HasPrefix(principal, "Bearer") {
		token = principal
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+BasePath+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Forwarded-For", clientIP)
	req.Header.Set("User-Agent", "adminapi-test")
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// want sends a request and checks its status.
func (f *fixture) want(status int, principal, method, path, body string) response {
	f.t.Helper()
	r := f.do(principal, method, path, body)
	if r.status != status {
		f.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, principal, r.status, status, r.body)
	}
	return r
}

// adminEvents are the organization's admin events, newest first.
func (f *fixture) adminEvents(org scimbridge.Organization) []scimbridge.Event {
	f.t.Helper()
	p, err := f.db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventAdmin, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Events
}

// change sends a request that changes org and checks it answered status
// and recorded exactly one admin event of the call's method and path (a
// run may record others, such as pinning exclusions) with the principal
// as actor and the forwarded client IP.
func (f *fixture) change(org scimbridge.Organization, status int, principal, method, path, body string) response {
	f.t.Helper()
	before := len(f.adminEvents(org))
	r := f.want(status, principal, method, path, body)
	evs := f.adminEvents(org)
	wantPath := BasePath + strings.SplitN(path, "?", 2)[0]
	var mine []scimbridge.Event
	for _, ev := range evs[:len(evs)-before] {
		if ev.Method == method && ev.Path == wantPath {
			mine = append(mine, ev)
		}
	}
	if len(mine) != 1 {
		f.t.Fatalf("%s %s: %d admin events of the call recorded, want 1", method, path, len(mine))
	}
	ev := mine[0]
	if ev.Status != status {
		f.t.Errorf("event status %d, want %d", ev.Status, status)
	}
	prefix := "token:" + f.tokenIDs[principal] + " ("
	if principal == "operator" {
		prefix = "operator:" + f.tokenIDs[principal] + " ("
	}
	if !strings.HasPrefix(ev.Actor, prefix) || ev.ClientIP != clientIP || ev.UserAgent != "adminapi-test" {
		f.t.Errorf("event actor %q, client IP %q, user agent %q; want %s..., %s", ev.Actor, ev.ClientIP, ev.UserAgent, prefix, clientIP)
	}
	return r
}

func storeSQLite(t testing.TB) *store.DB { return storetest.OpenSQLite(t) }

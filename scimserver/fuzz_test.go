package scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// eventCounter is a store that counts, per request id, the events it
// committed: inserted by the buffered writer or with a change.
type eventCounter struct {
	scimbridge.Store
	mu     sync.Mutex
	status map[string][]int // request id: the status of each event
}

func (c *eventCounter) count(events ...scimbridge.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		if ev.RequestID != "" { // a side change carries a zero event
			c.status[ev.RequestID] = append(c.status[ev.RequestID], ev.Status)
		}
	}
}

func (c *eventCounter) events(requestID string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status[requestID]
}

func (c *eventCounter) AppendEvents(ctx context.Context, events []scimbridge.Event) error {
	err := c.Store.AppendEvents(ctx, events)
	if err == nil {
		c.count(events...)
	}
	return err
}

func (c *eventCounter) ApplyChange(ctx context.Context, ce scimbridge.ChangeEvent) error {
	err := c.Store.ApplyChange(ctx, ce)
	if err == nil {
		c.count(ce.Event)
	}
	return err
}

func (c *eventCounter) ApplyChanges(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	err := c.Store.ApplyChanges(ctx, batch, lease)
	if err == nil {
		for _, ce := range batch {
			c.count(ce.Event)
		}
	}
	return err
}

func (c *eventCounter) ApplyGroupChange(ctx context.Context, ce scimbridge.GroupChangeEvent) error {
	err := c.Store.ApplyGroupChange(ctx, ce)
	if err == nil {
		c.count(ce.Event)
	}
	return err
}

// Authorization modes of FuzzHandler.
const (
	authNone      = iota // no Authorization header
	authValid            // the organization's token
	authPrefix           // "Bearer scb_acme_" + the fuzzed rest
	authRaw              // the fuzzed rest as the whole header
	authModeCount        // number of modes
)

// FuzzHandler sends arbitrary requests (method, path below the base URL,
// query, Authorization, Content-Type, If-Match, body, one of four client
// IPs) to the whole SCIM handler on a real SQLite store and checks that
// no request gets a 5xx or a redirect, that every error has the SCIM error
// shape and content type, and that every request has exactly one event
// with its status, unless it is a 401/429 folded into an aggregate event
// (counted in Stats). In a path, {id} stands for an existing user's id and
// {gid} for an existing group's (that user its member).
func FuzzHandler(f *testing.F) {
	db := &eventCounter{Store: storetest.OpenSQLite(f), status: map[string][]int{}}
	env := &testEnv{t: f, db: db}
	_, token := env.newOrg("acme")
	srv := New(Config{Store: db, PublicURL: "https://scim.example.com", RateLimit: 50, RateBurst: 200, AuthFailureLimit: 20})
	h := srv.Handler()
	ctx := context.Background()
	var n atomic.Uint64

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		srv.events.flush(ctx)
		return w
	}
	seed, _ := json.Marshal(user("seed@example.com"))
	r := httptest.NewRequest("POST", scim.BasePath+"/Users", bytes.NewReader(seed))
	r.Header.Set("Authorization", "Bearer "+token)
	w := serve(r)
	var created struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &created); w.Code != http.StatusCreated || err != nil {
		f.Fatalf("create seed user: %d %s", w.Code, w.Body)
	}
	seed, _ = json.Marshal(map[string]any{"schemas": []string{scim.SchemaGroup}, "displayName": "Seed",
		"members": []map[string]any{{"value": created.ID}}})
	r = httptest.NewRequest("POST", scim.BasePath+"/Groups", bytes.NewReader(seed))
	r.Header.Set("Authorization", "Bearer "+token)
	w = serve(r)
	var group struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &group); w.Code != http.StatusCreated || err != nil {
		f.Fatalf("create seed group: %d %s", w.Code, w.Body)
	}
	ids := strings.NewReplacer("{id}", created.ID, "{gid}", group.ID)

	f.Fuzz(func(t *testing.T, method, path, query string, auth uint8, authRest, contentType, ifMatch string, body []byte, ip uint8) {
		// What net/http refuses before any handler runs is made valid.
		if !validMethod(method) {
			method = "GET"
		}
		query, authRest, contentType, ifMatch = requestLineSafe(query), headerSafe(authRest), headerSafe(contentType), headerSafe(ifMatch)
		id := fmt.Sprintf("fuzz-%d", n.Add(1))
		body = []byte(ids.Replace(string(body))) // {id} and {gid} in a body too
		r := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: scim.BasePath + ids.Replace(path), RawQuery: query},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{"X-Request-Id": {id}},
			Host:       "scim.example.com",
			RemoteAddr: fmt.Sprintf("192.0.2.%d:40000", ip%4),
		}
		r = r.WithContext(ctx)
		r.RequestURI = r.URL.RequestURI()
		if len(body) > 0 {
			r.Body, r.ContentLength = httpBody(body), int64(len(body))
		} else {
			r.Body = http.NoBody
		}
		switch auth % authModeCount {
		case authValid:
			r.Header.Set("Authorization", "Bearer "+token)
		case authPrefix:
			r.Header.Set("Authorization", "Bearer scb_acme_"+authRest)
		case authRaw:
			r.Header.Set("Authorization", authRest)
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		aggregated := srv.Stats().EventsAggregated
		w := serve(r)

		desc := fmt.Sprintf("%s %s?%s (auth %d): %d %s", method, r.URL.Path, query, auth%authModeCount, w.Code, w.Body)
		if w.Code >= 500 || w.Code/100 == 3 || w.Code < 200 {
			t.Fatalf("status %d: %s", w.Code, desc)
		}
		if ct := w.Header().Get("Content-Type"); w.Body.Len() > 0 && ct != scimContentType {
			t.Fatalf("content type %q: %s", ct, desc)
		}
		if w.Code >= 400 {
			var e struct {
				Schemas []string
				Status  any
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != scim.SchemaError || e.Status != strconv.Itoa(w.Code) {
				t.Fatalf("not a SCIM error body (%v): %s", err, desc)
			}
		}
		switch events := db.events(id); {
		case len(events) == 1 && events[0] == w.Code:
		case len(events) == 0 && (w.Code == http.StatusUnauthorized || w.Code == http.StatusTooManyRequests) &&
			srv.Stats().EventsAggregated == aggregated+1:
			// Folded into its client IP's aggregate event.
		default:
			t.Fatalf("events %v for one request: %s", events, desc)
		}
	})
}

// httpBody is a request body as a server hands it to a handler.
func httpBody(b []byte) *bodyReader { return &bodyReader{Reader: bytes.NewReader(b)} }

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

// validMethod reports whether m is an HTTP token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// requestLineSafe escapes what cannot be sent in a request line's query.
func requestLineSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerSafe drops what cannot be sent in a header value, and the spaces
// net/http trims.
func headerSafe(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, v)
	return strings.Trim(v, " \t")
}

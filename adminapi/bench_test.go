package adminapi

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// benchEvents is how many events the events benchmark's organization
// holds: SCIMBRIDGE_BENCH_EVENTS, default 1,000,000.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchUsers is how many usernames the events spread over.
const benchUsers = 10_000

// eventsFixture is a fixture whose acme holds benchEvents() SCIM events:
// 80% 2xx, 15% 4xx, 5% 5xx, over benchUsers usernames, one a second.
func eventsFixture(b *testing.B, backend string) *fixture {
	var db *store.DB
	if backend == "SQLite" {
		db = storetest.OpenSQLite(b)
	} else {
		db = storetest.OpenPostgres(b)
	}
	f := newFixture(b, db)
	n := benchEvents()
	start := time.Now()
	t0 := f.clock().Add(-time.Duration(n) * time.Second)
	batch := make([]scimbridge.Event, 0, scimbridge.MaxBatch)
	for i := range n {
		status := 200
		switch i % 20 {
		case 1, 2, 3:
			status = 409
		case 4:
			status = 503
		}
		batch = append(batch, scimbridge.Event{OrgID: f.acme.ID, Time: t0.Add(time.Duration(i) * time.Second), Method: "PATCH",
			Path: "/api/connect/v1/Users/x", Status: status, TargetUserName: fmt.Sprintf("user%05d@acme.example", (i*7919)%benchUsers),
			ClientIP: "198.51.100.7", Source: scimbridge.EventIdP, RequestBody: `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`,
			Duration: time.Millisecond, Count: 1})
		if len(batch) == cap(batch) || i == n-1 {
			if err := db.AppendEvents(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("%s: %d events written in %s", backend, n, time.Since(start).Round(time.Second))
	// The statistics autovacuum keeps on a live PostgreSQL database
	// after a bulk load.
	if backend == "PostgreSQL" {
		if _, err := db.SQLX().ExecContext(context.Background(), "ANALYZE events"); err != nil {
			b.Fatal(err)
		}
	}
	return f
}

// BenchmarkAPI_EventsPage is the server time of one events page through
// the admin API handler over an organization of benchEvents() events:
// the first page, a status-class filter, and status class plus username.
func BenchmarkAPI_EventsPage(b *testing.B) {
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		var f *fixture // loaded once per backend, by the parent: it outlives each case
		for _, c := range []struct{ name, query string }{
			{"All", "limit=100"},
			{"Status4xx", "status=4xx&limit=100"},
			{"Status4xxUser", "status=4xx&username=user04242@acme.example&limit=100"},
			{"Status5xxUserSince", "status=5xx&username=user04242@acme.example&since=30d&limit=100"},
		} {
			if f == nil && benchSelected(backend) {
				f = eventsFixture(b, backend)
			}
			b.Run(backend+"/"+c.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", BasePath+"/orgs/acme/events?"+c.query, nil)
				req.Header.Set("Authorization", "Bearer "+f.tokens["viewer"])
				b.ResetTimer()
				for b.Loop() {
					w := httptest.NewRecorder()
					f.api.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}

// benchSelected reports whether -test.bench names backend's cases, so a
// run of one backend does not load the other's million events.
func benchSelected(backend string) bool {
	pattern := ""
	if fl := flag.Lookup("test.bench"); fl != nil {
		pattern = fl.Value.String()
	}
	_, sub, found := strings.Cut(pattern, "/")
	return !found || strings.Contains(backend, strings.SplitN(sub, "/", 2)[0])
}

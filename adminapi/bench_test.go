package adminapi

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/internal/seal"
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
//
// With SCIMBRIDGE_BENCH_SEEDED_URL set (bench/scale-rest.sh), the same
// pages of the seeded database's organization (PostgreSQL_seeded: 2,000,000
// events of its own beside another organization's 10,000,000), with a
// username of its SCIM events.
func BenchmarkAPI_EventsPage(b *testing.B) {
	backends := []string{"SQLite", "PostgreSQL"}
	if storetest.SeededURL() != "" {
		backends = append(backends, "PostgreSQL_seeded")
	}
	for _, backend := range backends {
		// Loaded once per backend, by the parent: they outlive each case.
		var api http.Handler
		var slug, user, token string
		for _, c := range []struct{ name, query string }{
			{"All", "limit=100"},
			{"Status4xx", "status=4xx&limit=100"},
			{"Status4xxUser", "status=4xx&username=USER&limit=100"},
			{"Status5xxUserSince", "status=5xx&username=USER&since=30d&limit=100"},
		} {
			if api == nil && benchSelected(backend) {
				if backend == "PostgreSQL_seeded" {
					api, slug, user, token = seededAPI(b)
				} else {
					f := eventsFixture(b, backend)
					api, slug, user, token = f.api, "acme", "user04242@acme.example", f.tokens["viewer"]
				}
			}
			b.Run(backend+"/"+c.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", BasePath+"/orgs/"+slug+"/events?"+
					strings.ReplaceAll(c.query, "USER", url.QueryEscape(user)), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				b.ResetTimer()
				for b.Loop() {
					w := httptest.NewRecorder()
					api.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}

// seededAPI is the admin API over the seeded database, its organization's
// slug, a username of its SCIM events with 4xx statuses and a new viewer
// token of that organization.
func seededAPI(b *testing.B) (api http.Handler, slug, user, token string) {
	ctx := context.Background()
	db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
	raw := make([]byte, 32)
	rand.Read(raw)
	k, err := seal.NewKeyring(raw)
	if err != nil {
		b.Fatal(err)
	}
	a := &admin.Admin{Store: db, Clock: time.Now, Logger: slog.New(slog.DiscardHandler), Keyring: k}
	token, _, err = a.CreateToken(ctx, operatorCaller, org.Slug, admin.TokenSpec{Role: scimbridge.AdminViewer,
		Name: "events benchmark " + uuid.NewString()})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.SQLX().GetContext(ctx, &user, `SELECT target_username FROM events
		WHERE org_id = $1 AND source = 'idp' AND status / 100 = 4 AND target_username IS NOT NULL
		ORDER BY id DESC LIMIT 1`, org.ID); err != nil {
		b.Fatal(err)
	}
	return New(Config{Admin: a, SCIMBaseURL: "https://scim.example.test/api/connect/v1"}), org.Slug, user, token
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

package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// benchSize reads a benchmark's data size from the environment.
func benchSize(b *testing.B, env string, def int) int {
	if v := os.Getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", env, v)
		}
		return n
	}
	return def
}

// seedEvents appends n events of one organization: 10,000 target
// usernames, statuses 200 (80%), 404 (10%), 409 (7%) and 500 (3%), and one
// event in 20 without a username (a 401 of a wrong token), a minute apart
// going back from now.
func seedEvents(b *testing.B, db *store.DB, orgID string, n int) {
	ctx := context.Background()
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	const chunk = 5000
	evs := make([]scimbridge.Event, 0, chunk)
	for i := 0; i < n; i++ {
		e := scimbridge.Event{OrgID: orgID, Time: start.Add(time.Duration(i) * time.Minute), Method: "PATCH",
			Path: "/scim/v2/bench/Users/" + uuid.NewString(), ClientIP: "192.0.2.1", UserAgent: "Okta SCIM Client 1.0.0",
			RequestID: strconv.Itoa(i), Duration: 3 * time.Millisecond, Source: scimbridge.EventIdP, Count: 1,
			RequestBody:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`,
			ResponseBody: `{"id":"` + strconv.Itoa(i) + `"}`}
		switch r := i % 100; {
		case r < 80:
			e.Status = 200
		case r < 90:
			e.Status = 404
		case r < 97:
			e.Status = 409
		default:
			e.Status = 500
		}
		if i%20 == 19 {
			e.Status, e.Method, e.Path = 401, "GET", "/scim/v2/bench/Users"
		} else {
			e.TargetUserName = fmt.Sprintf("user%05d@bench.example", (i*7919)%10000)
		}
		evs = append(evs, e)
		if len(evs) == chunk || i == n-1 {
			if err := db.AppendEvents(ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
}

// BenchmarkEventsPage times one filtered page of the events log (the
// console's and the admin API's query) over SCIMBRIDGE_BENCH_EVENTS
// (default 1,000,000) events of one organization, first on fresh tables
// that were never analysed (PostgreSQL's autovacuum is off for events
// while the benchmark runs), then after ANALYZE.
//
//	SCIMBRIDGE_TEST_REQUIRE_POSTGRES=1 go test ./store -run '^$' -bench BenchmarkEventsPage -benchtime 200x -timeout 60m
func BenchmarkEventsPage(b *testing.B) {
	n := benchSize(b, "SCIMBRIDGE_BENCH_EVENTS", 1_000_000)
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			if db.Dialect() == store.DialectPostgres {
				if _, err := db.WriteSQLX().Exec(`ALTER TABLE events SET (autovacuum_enabled = false)`); err != nil {
					b.Fatal(err)
				}
			}
			org := benchOrg(b, db)
			t0 := time.Now()
			seedEvents(b, db, org, n)
			b.Logf("%s: seeded %d events in %s", be.name, n, time.Since(t0).Round(time.Second))
			user := func(i int) string { return fmt.Sprintf("user%05d@bench.example", i%10000) }
			queries := eventsQueries(org, user)
			run := func(state string) {
				timeEventsPages(b, db, state, queries)
				b.Logf("%s %s plan of class+username: %s", be.name, state, eventsPlan(b, db, org, "user00042@bench.example"))
			}
			run("fresh")
			analyse := "ANALYZE events"
			if db.Dialect() == store.DialectSQLite {
				analyse = "ANALYZE"
			}
			if _, err := db.WriteSQLX().Exec(analyse); err != nil {
				b.Fatal(err)
			}
			run("analysed")
		})
	}
	// The organization bench/seedscale filled (bench/scale-rest.sh): a
	// first sync's 1,000,000 events and 1,000,000 SCIM events after it,
	// analysed, beside another organization's 10,000,000 old ones.
	if storetest.SeededURL() != "" {
		b.Run("postgres_seeded", func(b *testing.B) {
			db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
			var names []string
			if err := db.SQLX().Select(&names, `SELECT DISTINCT target_username FROM events
				WHERE org_id = $1 AND source = 'idp' AND target_username IS NOT NULL LIMIT 1000`, org.ID); err != nil || len(names) == 0 {
				b.Fatalf("seeded usernames: %v (%d)", err, len(names))
			}
			timeEventsPages(b, db, "analysed", eventsQueries(org.ID, func(i int) string { return names[i%len(names)] }))
			b.Logf("seeded plan of class+username: %s", eventsPlan(b, db, org.ID, names[0]))
		})
	}
}

// eventsQueries are BenchmarkEventsPage's pages of org's events; user
// names the i-th username a page looks for.
func eventsQueries(org string, user func(i int) string) []eventsPageQuery {
	return []eventsPageQuery{
		{"class+username", func(i int) scimbridge.EventQuery {
			return scimbridge.EventQuery{OrgID: org, StatusClass: 4, UserName: strings.ToUpper(user(i))}
		}},
		{"class", func(i int) scimbridge.EventQuery {
			return scimbridge.EventQuery{OrgID: org, StatusClass: 5}
		}},
		{"username", func(i int) scimbridge.EventQuery {
			return scimbridge.EventQuery{OrgID: org, UserName: user(i)}
		}},
		{"none", func(i int) scimbridge.EventQuery { return scimbridge.EventQuery{OrgID: org} }},
		{"class+method+source", func(i int) scimbridge.EventQuery {
			return scimbridge.EventQuery{OrgID: org, StatusClass: 4, Method: "PATCH", Source: scimbridge.EventIdP}
		}},
	}
}

// eventsPageQuery is one page BenchmarkEventsPage times.
type eventsPageQuery struct {
	name string
	q    func(i int) scimbridge.EventQuery
}

// timeEventsPages times each query's page of 100 as state/name.
func timeEventsPages(b *testing.B, db *store.DB, state string, queries []eventsPageQuery) {
	ctx := context.Background()
	for _, qq := range queries {
		b.Run(state+"/"+qq.name, func(b *testing.B) {
			rows := 0
			for i := 0; b.Loop(); i++ {
				q := qq.q(i)
				q.Limit = 100
				page, err := db.ListEvents(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				rows += len(page.Events)
			}
			b.ReportMetric(float64(rows)/float64(b.N), "events/page")
		})
	}
}

// eventsPlan is the query plan of a class + username page.
func eventsPlan(b *testing.B, db *store.DB, org, user string) string {
	q := `SELECT id FROM events WHERE org_id = ? AND status / 100 = ? AND target_username_key IS NOT NULL
		AND target_username_key = ? ORDER BY id DESC LIMIT 101`
	explain := "EXPLAIN QUERY PLAN "
	if db.Dialect() == store.DialectPostgres {
		explain = "EXPLAIN "
		q = `SELECT id FROM events WHERE org_id = $1 AND status / 100 = $2 AND target_username_key IS NOT NULL
			AND target_username_key = $3 ORDER BY id DESC LIMIT 101`
	}
	rows, err := db.SQLX().Query(explain+q, org, 4, user)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(out, " | ")
}

// BenchmarkDirectoryUsers times one page of the directory over
// SCIMBRIDGE_BENCH_USERS (default 100,000) profiles of one organization:
// the first page, a page deep in the listing, a prefix search and a source
// filter.
//
//	SCIMBRIDGE_TEST_REQUIRE_POSTGRES=1 go test ./store -run '^$' -bench BenchmarkDirectoryUsers -benchtime 200x -timeout 60m
func BenchmarkDirectoryUsers(b *testing.B) {
	n := benchSize(b, "SCIMBRIDGE_BENCH_USERS", 100_000)
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			ctx := context.Background()
			org := benchOrg(b, db)
			batch := make([]scimbridge.ChangeEvent, 0, scimbridge.MaxBatch)
			for i := 0; i < n; i++ {
				c := benchChange(org, i)
				if i%10 == 0 {
					c.Change.Profile.Source = scimbridge.SourceGoogle
				}
				batch = append(batch, c)
				if len(batch) == scimbridge.MaxBatch || i == n-1 {
					if err := db.ApplyChanges(ctx, batch, nil); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			// after is the id halfway through the listing.
			after := ""
			for seen := 0; seen < n/2; {
				ps, err := db.DirectoryUsers(ctx, scimbridge.DirectoryQuery{OrgID: org, After: after, Limit: min(1000, n/2-seen)})
				if err != nil {
					b.Fatal(err)
				}
				seen += len(ps)
				after = ps[len(ps)-1].ID
			}
			for _, qq := range []struct {
				name string
				q    scimbridge.DirectoryQuery
			}{
				{"first", scimbridge.DirectoryQuery{}},
				{"deep", scimbridge.DirectoryQuery{After: after}},
				{"search-narrow", scimbridge.DirectoryQuery{Search: "USER00420"}},
				{"search-wide", scimbridge.DirectoryQuery{Search: "user0"}},
				{"search-displayname", scimbridge.DirectoryQuery{Search: "user 4"}},
				{"source-google", scimbridge.DirectoryQuery{Source: scimbridge.SourceGoogle, After: after}},
				{"inactive-none", scimbridge.DirectoryQuery{Active: new(false)}},
			} {
				b.Run(qq.name, func(b *testing.B) {
					q := qq.q
					q.OrgID, q.Limit = org, 101
					rows := 0
					for b.Loop() {
						ps, err := db.DirectoryUsers(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						rows += len(ps)
					}
					b.ReportMetric(float64(rows)/float64(b.N), "users/page")
				})
			}
		})
	}
}

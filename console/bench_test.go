package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// benchUsers is the organization size the console's pages are timed at.
const benchUsers = 100_000

// BenchmarkConsolePages times the server side of each console page (the
// handler, its queries and the template; no network) for an organization
// of 100,000 SCIM users, their 100,000 events and a bridge report of
// 100,000 items, on both databases.
func BenchmarkConsolePages(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) *store.DB
	}{
		{"sqlite", func(b *testing.B) *store.DB { return storetest.OpenSQLite(b) }},
		{"postgres", func(b *testing.B) *store.DB { return storetest.OpenPostgres(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			ctx := context.Background()
			a := &admin.Admin{Store: db, Clock: func() time.Time { return time.Now().UTC() }}
			by := admin.Caller{Actor: "cli:bench"}
			org, err := a.CreateOrg(ctx, by, "acme", "Acme")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := a.EnableSCIM(ctx, by, "acme"); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for n := 0; n < benchUsers; {
				batch := make([]scimbridge.ChangeEvent, scimbridge.MaxBatch)
				for i := range batch {
					batch[i] = benchUser(org.ID, n)
					n++
				}
				if err := db.ApplyChanges(ctx, batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("seeded %d users and their events in %s", benchUsers, time.Since(start).Round(time.Second))
			rep := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual,
				Status: scimbridge.ReportDryRun, StartedAt: time.Now().UTC(), Counts: scimbridge.ReportCounts{Created: benchUsers}}
			for i := range benchUsers {
				rep.Items = append(rep.Items, scimbridge.ReportItem{Kind: scimbridge.ChangeCreate, GoogleID: strconv.Itoa(i),
					UserName: fmt.Sprintf("user%07d@bench.example", i), Reason: "new in Google",
					Fields: []scimbridge.FieldChange{{Field: "active", After: "true"}}})
			}
			if err := db.PutReport(ctx, rep); err != nil {
				b.Fatal(err)
			}
			b.Logf("seeded a report of %d items in %s", benchUsers, time.Since(start).Round(time.Second))
			if err := db.Optimize(ctx); err != nil {
				b.Fatal(err)
			}
			if db.Dialect() == store.DialectPostgres {
				if _, err := db.SQLX().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
					b.Fatal(err)
				}
			}
			tok, _, err := a.CreateAdminToken(ctx, by, "acme", scimbridge.AdminOwner, 0)
			if err != nil {
				b.Fatal(err)
			}
			sess, err := a.SignIn(ctx, tok)
			if err != nil {
				b.Fatal(err)
			}
			h := console.New(console.Config{Admin: a, Store: db, PublicURL: "https://scim.example.test"})
			page, err := db.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			pages := []string{
				"/console/",
				"/console/provisioning",
				"/console/provisioning/bridge",
				"/console/provisioning/events",
				"/console/provisioning/events?status=2xx&username=user0050000@bench.example",
				"/console/provisioning/events/" + strconv.FormatInt(page.Events[0].ID, 10),
				"/console/directory",
				"/console/directory?q=user0050000",
				"/console/directory?tab=groups",
				"/console/reports",
				"/console/reports/" + rep.ID,
				"/console/admin-tokens",
				"/console/integrations/google",
			}
			// What the overview's chart costs when it is counted: all 24
			// hours (an organization's first render in a process), and the
			// background count every 30 seconds, which reads again only the
			// last 5 minutes, here all 100,000 events (its worst case).
			b.Run("chart-query", func(b *testing.B) {
				since := time.Now().UTC().Truncate(time.Hour).Add(-23 * time.Hour)
				for b.Loop() {
					if _, err := db.EventCountsByHour(ctx, org.ID, since, 24); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("chart-refresh", func(b *testing.B) {
				hour := start.UTC().Truncate(time.Hour)
				from := start.UTC().Add(-time.Second)
				if from.Before(hour) {
					from = hour
				}
				for b.Loop() {
					if _, err := db.EventCountsBetween(ctx, org.ID, from, hour.Add(time.Hour)); err != nil {
						b.Fatal(err)
					}
				}
			})
			// The overview when its counts are always stale: its clock moves
			// on 30 seconds a call, so every request starts a count in the
			// background (one at a time) and is served the counts it has.
			b.Run("/console/ stale", func(b *testing.B) {
				var mu sync.Mutex
				now := time.Now().UTC()
				clock := func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					now = now.Add(30 * time.Second)
					return now
				}
				stale := console.New(console.Config{Admin: a, Store: db, PublicURL: "https://scim.example.test", Clock: clock})
				get := func() {
					req := httptest.NewRequest("GET", "/console/", nil)
					req.AddCookie(&http.Cookie{Name: "scimbridge_session", Value: sess.Token})
					w := httptest.NewRecorder()
					stale.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("GET /console/: %d", w.Code)
					}
				}
				// The first render starts the first count.
				untilCounted(b, stale, sess.Token)
				for b.Loop() {
					get()
				}
			})
			// An organization's first overview in a process: the page waits
			// for the first count at most chartFirstWait, then says the chart
			// is being counted (the count goes on in the background).
			b.Run("/console/ first", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					fresh := console.New(console.Config{Admin: a, Store: db, PublicURL: "https://scim.example.test"})
					b.StartTimer()
					req := httptest.NewRequest("GET", "/console/", nil)
					req.AddCookie(&http.Cookie{Name: "scimbridge_session", Value: sess.Token})
					w := httptest.NewRecorder()
					fresh.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("GET /console/: %d", w.Code)
					}
					// The count it started ends before the next one.
					b.StopTimer()
					untilCounted(b, fresh, sess.Token)
					b.StartTimer()
				}
			})
			for _, p := range pages {
				b.Run(p, func(b *testing.B) {
					if p == "/console/" {
						// The overview's first render counts its chart (see
						// chart-query); this row is the page from its counts.
						untilCounted(b, h, sess.Token)
					}
					for b.Loop() {
						req := httptest.NewRequest("GET", p, nil)
						req.AddCookie(&http.Cookie{Name: "scimbridge_session", Value: sess.Token})
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						if w.Code != 200 {
							b.Fatalf("GET %s: %d", p, w.Code)
						}
					}
				})
			}
		})
	}
}

// untilCounted loads the overview until its chart has been counted.
func untilCounted(b *testing.B, h http.Handler, session string) {
	b.Helper()
	for range 1000 {
		req := httptest.NewRequest("GET", "/console/", nil)
		req.AddCookie(&http.Cookie{Name: "scimbridge_session", Value: session})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("GET /console/: %d", w.Code)
		}
		if !strings.Contains(w.Body.String(), `id="chart-counting"`) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("the overview's chart was never counted")
}

func benchUser(orgID string, n int) scimbridge.ChangeEvent {
	now := time.Now().UTC()
	name := fmt.Sprintf("user%07d@bench.example", n)
	p := scimbridge.Profile{
		ID: uuid.NewString(), OrgID: orgID,
		Attributes: scimbridge.Attributes{UserName: name, DisplayName: fmt.Sprintf("User %d", n),
			GivenName: "User", FamilyName: fmt.Sprint(n),
			Emails: []scimbridge.Email{{Value: name, Type: "work", Primary: new(true)}}},
		Email: name, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now,
	}
	return scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: now, Method: "POST", Path: "/api/connect/v1/Users", Status: 201,
			TargetUserName: name, ClientIP: "192.0.2.1", UserAgent: "bench", RequestID: p.ID,
			Duration: time.Millisecond, Source: scimbridge.EventIdP, Count: 1,
			RequestBody: `{"userName":"` + name + `"}`, ResponseBody: `{"id":"` + p.ID + `"}`},
	}
}

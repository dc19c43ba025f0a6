package feed_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/feed"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

var lagRate = flag.Int("lag-rate", 100, "BenchmarkFeedLag: changes per second")
var lagFor = flag.Duration("lag-for", 20*time.Second, "BenchmarkFeedLag: how long to write")

// BenchmarkFeedLag measures the feed's lag: one writer creates users at
// -lag-rate per second (SCIM-like single-change commits) for -lag-for while
// a consumer long-polls the feed; the lag of a change is from its commit
// returning to the writer to the consumer receiving it. Sub-benchmarks:
// SQLite, PostgreSQL (writer and consumer on one store handle, woken by
// the in-process notifier) and PostgreSQL_replicas (writer on another
// handle: woken by LISTEN/NOTIFY). Reports p50-ms, p99-ms, max-ms. Run:
//
//	go test -run '^$' -bench FeedLag -benchtime 1x ./feed/ [-args -lag-rate 100 -lag-for 20s]
func BenchmarkFeedLag(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		db := storetest.OpenSQLite(b)
		measureLag(b, db, db, "")
	})
	b.Run("PostgreSQL", func(b *testing.B) {
		db := storetest.OpenPostgres(b)
		measureLag(b, db, db, "")
	})
	b.Run("PostgreSQL_replicas", func(b *testing.B) {
		dsn := storetest.PostgresURL(b)
		measureLag(b, openReplica(b, dsn), openReplica(b, dsn), dsn)
	})
	// The seeded database's organization (bench/scale-rest.sh), whose feed
	// already holds a first sync's 1,000,000 records.
	if storetest.SeededURL() != "" {
		b.Run("PostgreSQL_seeded", func(b *testing.B) {
			db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
			measureLagIn(b, db, db, "", org)
		})
	}
}

func measureLag(b *testing.B, reader, writer *store.DB, dsn string) {
	measureLagIn(b, reader, writer, dsn, newOrg(b, writer, "acme"))
}

// measureLagIn is measureLag in org.
func measureLagIn(b *testing.B, reader, writer *store.DB, dsn string, org scimbridge.Organization) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tag := uuid.NewString()[:8] // the seeded database keeps earlier runs' users
	n := feed.NewNotifier(nil)
	reader.SetChangeNotifier(n.Notify)
	if dsn != "" {
		wn := feed.NewNotifier(nil)
		writer.SetChangeNotifier(wn.Notify)
		go wn.Publish(ctx, writer.WriteSQLX().DB)
		if err := n.Listen(ctx, dsn); err != nil {
			b.Fatal(err)
		}
	}
	f := &feed.Feed{Store: reader, Notifier: n}
	head, err := f.Head(ctx, org.ID)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	committed := map[string]time.Time{}
	total := int(lagFor.Seconds() * float64(*lagRate))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / time.Duration(*lagRate))
		defer tick.Stop()
		for i := range total {
			<-tick.C
			p := newProfile(org.ID, fmt.Sprintf("u%d.%s@x.example", i, tag))
			if err := createUser(writer, p); err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			committed[p.ID] = time.Now()
			mu.Unlock()
		}
	}()
	b.ResetTimer()
	var lags []time.Duration
	cursor := head
	for len(lags) < total {
		page, err := f.Read(ctx, org.ID, cursor, 1000, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		mu.Lock()
		for _, c := range page.Changes {
			at, ok := committed[c.ResourceID]
			if !ok { // received before the writer noted its commit
				at = now
			}
			lags = append(lags, now.Sub(at))
		}
		mu.Unlock()
		cursor = page.NextCursor
	}
	b.StopTimer()
	<-done
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lags[len(lags)/2]), "p50-ms")
	b.ReportMetric(ms(lags[len(lags)*99/100]), "p99-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "max-ms")
	b.ReportMetric(float64(len(lags))/lagFor.Seconds(), "changes/s")
}

// BenchmarkFeedReadAll measures a consumer reading the seeded
// organization's feed from its start (bench/scale-rest.sh: a first sync's
// 1,000,000 records, then whatever earlier benchmarks added): GET
// changes?after=CURSOR&limit=1000 through the feed's HTTP handler over
// 127.0.0.1, page after page, until a page has no more. Reports pages/s,
// changes/s and the slowest page. Its one case, PostgreSQL_seeded, runs
// when SCIMBRIDGE_BENCH_SEEDED_URL is set; b.N is ignored.
//
//	go test -run '^$' -bench FeedReadAll -benchtime 1x ./feed/
func BenchmarkFeedReadAll(b *testing.B) {
	if storetest.SeededURL() != "" {
		b.Run("PostgreSQL_seeded", readAll)
	}
}

func readAll(b *testing.B) {
	db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
	f := &feed.Feed{Store: db}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.ServeChanges(w, r, org) }))
	defer srv.Close()
	b.ResetTimer()
	start := time.Now()
	var pages, changes int
	var slowest time.Duration
	cursor := ""
	for {
		t := time.Now()
		resp, err := http.Get(srv.URL + "/changes?limit=1000&after=" + url.QueryEscape(cursor))
		if err != nil {
			b.Fatal(err)
		}
		var p feed.Page
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("page %d: status %d: %v", pages, resp.StatusCode, err)
		}
		slowest = max(slowest, time.Since(t))
		pages++
		changes += len(p.Changes)
		cursor = p.NextCursor
		if !p.HasMore {
			break
		}
	}
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(pages)/elapsed, "pages/s")
	b.ReportMetric(float64(changes)/elapsed, "changes/s")
	b.ReportMetric(float64(changes), "changes")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "max-page-ms")
}

package feed_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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
}

func measureLag(b *testing.B, reader, writer *store.DB, dsn string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	org := newOrg(b, writer, "acme")
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
			p := newProfile(org.ID, fmt.Sprintf("u%d@x.example", i))
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

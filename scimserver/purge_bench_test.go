package scimserver

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

var (
	purgeBatch = flag.Int("purge-batch", 1000,
		"BenchmarkPurgeUnderLoad: rows per DELETE (the daemon's purger deletes 1,000)")
	purgeFor = flag.Duration("purge-for", 0,
		"BenchmarkPurgeUnderLoad: stop the purge after this long (0: let it finish)")
	purgeRetention = flag.Duration("purge-retention", 90*24*time.Hour,
		"BenchmarkPurgeUnderLoad: events older than this are purged (events.retention's default)")
)

// purgeWindow is how long each window of POSTs runs.
const purgeWindow = 10 * time.Second

// BenchmarkPurgeUnderLoad measures the events retention purge on the
// seeded database (bench/scale-rest.sh: 10,000,000 events of organization
// archive older than retention) while loadClients SCIM clients, in a child
// process, POST users to the seeded organization: two windows of POSTs
// before the purge, then windows while PurgeEvents runs as the daemon's
// purger runs it (-purge-batch rows per statement, until none is left),
// then one after. It reports the purge's rows, seconds and rows/s, and
// POST req/s, p50 and p99 before, during (p50: the median of the windows',
// p99 and max: the worst window's) and after. The purge deletes the old
// events: seed them again (bench/seedscale -old-events-only) to run it
// again. Its one case, PostgreSQL_seeded, runs when
// SCIMBRIDGE_BENCH_SEEDED_URL is set; b.N is ignored.
//
//	go test -run '^$' -bench PurgeUnderLoad -benchtime 1x -timeout 60m ./scimserver/ [-args -purge-batch 1000]
func BenchmarkPurgeUnderLoad(b *testing.B) {
	if storetest.SeededURL() != "" {
		b.Run("PostgreSQL_seeded", purgeUnderLoad)
	}
}

func purgeUnderLoad(b *testing.B) {
	ctx := context.Background()
	db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
	e := startEnv(b, db)
	e.org, e.token = org, e.setToken(org)
	idsFile := filepath.Join(b.TempDir(), "ids")
	if err := os.WriteFile(idsFile, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	// Each window logs the checkpoints the server started and the WAL it
	// wrote meanwhile: a checkpoint's first writes of a page carry its
	// full image, and the purge's deletions write WAL too.
	window := func() loadResult {
		c0 := readPostgresCounters(b, db)
		res, err := runLoadInChild(e.base, e.token, 1<<30, &workload{kind: "POST", duration: purgeWindow}, idsFile, func() {})
		if err == nil && res.Error != "" {
			b.Fatal(res.Error)
		}
		if err != nil {
			b.Fatal(err)
		}
		c1 := readPostgresCounters(b, db)
		b.Logf("window: %d checkpoints started, %.0f MB of WAL, %d full-page images",
			c1.checkpoints-c0.checkpoints, float64(c1.walBytes-c0.walBytes)/(1<<20), c1.walFPI-c0.walFPI)
		return res
	}
	before := time.Now().Add(-*purgeRetention)
	var old int
	if err := db.SQLX().GetContext(ctx, &old, `SELECT count(*) FROM events WHERE time < $1`, before); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events older than %s", old, *purgeRetention)
	b.ResetTimer()
	pre := []loadResult{window(), window()}

	type purged struct {
		n       int
		elapsed time.Duration
		err     error
	}
	done := make(chan purged, 1)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *purgeFor > 0 {
		pctx, cancel = context.WithTimeout(ctx, *purgeFor)
		defer cancel()
	}
	t0 := time.Now()
	go func() {
		n, err := db.PurgeEvents(pctx, before, *purgeBatch)
		done <- purged{n, time.Since(t0), err}
	}()
	var during []loadResult
	var p purged
	deleted := eventsDeleted(b, db)
	for finished := false; !finished; {
		during = append(during, window())
		d := eventsDeleted(b, db)
		b.Logf("purge: %d rows deleted in the last window (%.0f/s)", d-deleted, float64(d-deleted)/purgeWindow.Seconds())
		deleted = d
		select {
		case p = <-done:
			finished = true
		default:
		}
	}
	post := []loadResult{window()}
	b.StopTimer()
	if p.err != nil && !(*purgeFor > 0 && pctx.Err() != nil) {
		b.Fatalf("purge: %v", p.err)
	}
	if p.err != nil {
		b.Logf("purge stopped after %s (-purge-for): %d of %d rows", *purgeFor, p.n, old)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	report := func(name string, rs []loadResult) {
		var count int
		var elapsed, worst, maxd time.Duration
		var p50s []time.Duration
		for _, r := range rs {
			count += r.Count
			elapsed += r.Elapsed
			worst, maxd = max(worst, r.P99), max(maxd, r.Max)
			p50s = append(p50s, r.P50)
			b.Logf("%s window: %d POSTs, %.0f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms", name, r.Count,
				float64(r.Count)/r.Elapsed.Seconds(), ms(r.P50), ms(r.P99), ms(r.Max))
		}
		slices.Sort(p50s)
		b.ReportMetric(float64(count)/elapsed.Seconds(), name+"-req/s")
		b.ReportMetric(ms(p50s[len(p50s)/2]), name+"-p50-ms")
		b.ReportMetric(ms(worst), name+"-p99-ms")
		b.ReportMetric(ms(maxd), name+"-max-ms")
	}
	report("before", pre)
	report("during", during)
	report("after", post)
	b.ReportMetric(float64(p.n), "purged-rows")
	b.ReportMetric(p.elapsed.Seconds(), "purge-s")
	b.ReportMetric(float64(p.n)/p.elapsed.Seconds(), "purged-rows/s")
}

// eventsDeleted is PostgreSQL's count of rows deleted from events (its
// statistics, a second or so behind).
func eventsDeleted(b *testing.B, db *store.DB) int64 {
	var n int64
	if err := db.SQLX().Get(&n, `SELECT n_tup_del FROM pg_stat_user_tables WHERE relname = 'events'`); err != nil {
		b.Fatal(err)
	}
	return n
}

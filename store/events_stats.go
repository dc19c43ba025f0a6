package store

import (
	"context"
	"sync"
)

// PostgreSQL's planner statistics of the events table, refreshed by the
// store as events accumulate rather than left to autovacuum (which may be
// late or off). Without them the planner takes any organization's
// filtered events for a handful of rows, and a page filtered by status
// class and method was read as a bitmap of every event of the class, then
// sorted (600 ms over 1,000,000 events), instead of walking the
// (org_id, status / 100, id) index backwards until the page is full.
// SQLite needs no statistics for these queries: it takes the index with
// the most equality terms.

// Events appended before the first ANALYZE; after it, one follows when the
// appended events reach the table's size at the last one (so while the
// table doubles), and at the latest every eventsAnalyseMax events.
const (
	eventsAnalyseFirst = 1000
	eventsAnalyseMax   = 200_000
)

// eventsAnalyser runs one background ANALYZE of the events table at a time.
type eventsAnalyser struct {
	mu      sync.Mutex
	running bool
	stopped bool
	since   int64
	rows    int64
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// countEvents counts n appended events and starts an ANALYZE of events
// when they reach the threshold (PostgreSQL only).
func (db *DB) countEvents(n int) {
	if db.dialect != DialectPostgres || n <= 0 {
		return
	}
	a := &db.eventStats
	a.mu.Lock()
	defer a.mu.Unlock()
	a.since += int64(n)
	threshold := min(max(a.rows, eventsAnalyseFirst), eventsAnalyseMax)
	if a.running || a.stopped || a.since < threshold {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), analyseTimeout)
	a.running, a.since, a.cancel = true, 0, cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel()
		rows := int64(-1)
		_, err := db.write.ExecContext(ctx, `ANALYZE events`)
		if err == nil {
			var reltuples float64
			err = db.write.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'events'::regclass`).Scan(&reltuples)
			rows = int64(reltuples)
		}
		if err != nil && ctx.Err() == nil {
			db.logger.Warn("postgres analyze of events failed", "err", err)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.running = false
		if rows >= 0 {
			a.rows = rows
		}
	}()
}

// stop cancels a running ANALYZE and waits for it; no other starts.
func (a *eventsAnalyser) stop() {
	a.mu.Lock()
	a.stopped = true
	if a.cancel != nil {
		a.cancel()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

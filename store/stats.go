package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// Stats returns the statistics of the connection pools by name: "main" on
// PostgreSQL (one pool serves reads and writes); "read" and "write" on
// SQLite.
func (db *DB) Stats() map[string]sql.DBStats {
	if db.write == db.read {
		return map[string]sql.DBStats{"main": db.read.Stats()}
	}
	return map[string]sql.DBStats{"read": db.read.Stats(), "write": db.write.Stats()}
}

// analyseFirst is how many profile changes pass before PostgreSQL's first
// ANALYZE in this process; after that an ANALYZE follows once the changes
// since the last one reach the table's size then (so statistics keep up
// while a table grows by doubling), and at the latest every optimizeEvery
// changes, as SQLite's optimize does.
const analyseFirst = 200

// analyseTimeout bounds one background ANALYZE.
const analyseTimeout = time.Minute

// analyser runs PostgreSQL's ANALYZE of the profile tables in the
// background after large batches, without blocking writers (ANALYZE takes
// a lock that conflicts with no insert, update or read), one at a time.
// Autovacuum alone leaves a new organization's lookups planned for an
// empty table for up to a minute, and until then the partial indexes look
// empty to the planner.
type analyser struct {
	mu      sync.Mutex
	running bool
	stopped bool
	// since counts the changes since the last ANALYZE started; rows is
	// the table's size that ANALYZE found.
	since, rows int64
	runs        int64
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// countChanges refreshes the planner's statistics as profile changes
// accumulate: SQLite's PRAGMA optimize every optimizeEvery changes, on the
// write connection; PostgreSQL's ANALYZE in the background when the
// changes since the last one reach the table's size then (between
// analyseFirst and optimizeEvery).
func (db *DB) countChanges(ctx context.Context, n int) {
	if db.dialect == DialectSQLite {
		total := db.changes.Add(int64(n))
		if total/optimizeEvery != (total-int64(n))/optimizeEvery {
			if err := db.Optimize(ctx); err != nil {
				db.logger.Warn("sqlite optimize failed", "err", err)
			}
		}
		return
	}
	a := &db.analyser
	a.mu.Lock()
	defer a.mu.Unlock()
	a.since += int64(n)
	threshold := min(max(a.rows, analyseFirst), optimizeEvery)
	if a.running || a.stopped || a.since < threshold {
		return
	}
	if a.ctx == nil {
		a.ctx, a.cancel = context.WithCancel(context.Background())
	}
	a.running, a.since = true, 0
	a.wg.Add(1)
	go db.analyse(a.ctx)
}

// analyse runs one ANALYZE of the profile tables and records the size it
// found.
func (db *DB) analyse(ctx context.Context) {
	a := &db.analyser
	defer a.wg.Done()
	ctx, cancel := context.WithTimeout(ctx, analyseTimeout)
	defer cancel()
	rows := int64(-1)
	err := db.Optimize(ctx)
	if err == nil {
		var reltuples float64
		err = db.write.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'profiles'::regclass`).Scan(&reltuples)
		rows = int64(reltuples)
	}
	if err != nil && ctx.Err() == nil {
		db.logger.Warn("postgres analyze failed", "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running = false
	a.runs++
	if rows >= 0 {
		a.rows = rows
	}
}

// stop cancels a running ANALYZE and waits for it; no other starts.
func (a *analyser) stop() {
	a.mu.Lock()
	a.stopped = true
	if a.cancel != nil {
		a.cancel()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

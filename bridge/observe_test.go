package bridge_test

import (
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// runRecorder is an Observer keeping what it is told.
type runRecorder struct {
	mu      sync.Mutex
	reports []scimbridge.Report
	stats   []bridge.Stats
}

func (r *runRecorder) RunFinished(rep scimbridge.Report, google bridge.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
	r.stats = append(r.stats, google)
}

func TestRunner_Observer(t *testing.T) {
	t.Run("AppliedRun", func(t *testing.T) {
		e := newSyncEnv(t, storetest.OpenSQLite(t))
		rec := &runRecorder{}
		e.runner.Observer = rec
		e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
		rep := e.sync()
		if len(rec.reports) != 1 || rec.reports[0].ID != rep.ID || rec.reports[0].Status != scimbridge.ReportApplied {
			t.Fatalf("observed %+v, want the one applied run %s", rec.reports, rep.ID)
		}
		if rec.reports[0].Counts.Created != 2 || rec.stats[0].Requests != 1 || rec.stats[0].Pages != 1 {
			t.Errorf("observed counts %+v and google stats %+v", rec.reports[0].Counts, rec.stats[0])
		}
	})
	t.Run("RetriesAndFailure", func(t *testing.T) {
		e := newSyncEnv(t, storetest.OpenSQLite(t))
		rec := &runRecorder{}
		e.runner.Observer = rec
		e.setUsers(gUser("1001", "ann@example.com"))
		e.google.FailPage(1, 503, "backendError", 1)
		e.sync()
		e.google.FailPage(1, 403, "forbidden", -1)
		if _, err := e.syncErr(); err == nil {
			t.Fatal("a run refused by Google succeeded")
		}
		if len(rec.reports) != 2 || rec.reports[1].Status != scimbridge.ReportFailed {
			t.Fatalf("observed %+v, want an applied and a failed run", rec.reports)
		}
		if got := rec.stats[0].RetriesByReason["backendError"]; got != 1 {
			t.Errorf("first run retries by reason %v, want one backendError", rec.stats[0].RetriesByReason)
		}
		if got := rec.stats[1].ErrorsByReason; len(got) != 1 {
			t.Errorf("failed run errors by reason %v, want one reason", got)
		}
	})
}

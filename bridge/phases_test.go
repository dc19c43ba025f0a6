package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// TestRunner_ReportPhases records where each run's time went: a first
// sync lists its pages and applies its creates; a sync that changes
// nothing lists the same pages and applies nothing. The stored report
// carries the same phases.
func TestRunner_ReportPhases(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(manyUsers(1201, 0)...)
		first := e.sync()
		p := first.Phases
		if p == nil || p.Pages != 3 || p.Changes != 1201 || p.ListingSeconds <= 0 || p.ApplyingSeconds <= 0 ||
			p.PagesPerSecond <= 0 || p.ChangesPerSecond <= 0 {
			t.Fatalf("first sync phases = %+v", p)
		}
		if stored := e.report(first.ID).Phases; stored == nil || *stored != *p {
			t.Fatalf("stored phases = %+v, want %+v", stored, p)
		}
		again := e.sync()
		if p := again.Phases; p == nil || p.Pages != 3 || p.Changes != 0 || p.ChangesPerSecond != 0 || p.ListingSeconds <= 0 {
			t.Fatalf("unchanged sync phases = %+v", p)
		}
	})
}

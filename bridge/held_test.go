package bridge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/store"
)

// heldReportID returns the report id of the organization's held plan.
func (e *syncEnv) heldReportID() string {
	e.t.Helper()
	hp, ok, err := bridge.PendingHeldPlan(context.Background(), e.db, e.org.ID, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return hp.ReportID
}

func inactive(ps []scimbridge.Profile) int {
	n := 0
	for _, p := range ps {
		if !p.Active() {
			n++
		}
	}
	return n
}

func TestBridge_ZeroUsersHeld(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		// Even with the guard off, an empty listing is never applied.
		e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) { s.Guard = false })
		e.setUsers(manyUsers(5, 0)...)
		e.sync()
		e.setUsers()
		rep := e.sync()
		if rep.Status != scimbridge.ReportHeld || rep.HeldUntil == nil {
			t.Fatalf("status %s, held until %v; want held", rep.Status, rep.HeldUntil)
		}
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Held: 5})
		if n := inactive(e.profiles()); n != 0 {
			t.Errorf("%d profiles deactivated by an empty listing", n)
		}
		if id := e.heldReportID(); id != rep.ID {
			t.Errorf("held plan report = %q, want %q", id, rep.ID)
		}
		for _, it := range rep.Items {
			if it.Kind != scimbridge.ChangeDeactivate || !it.Held {
				t.Errorf("item %+v is not a held deactivation", it)
			}
		}
	})
}

func TestBridge_GuardBreach(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(manyUsers(40, 0)...)
		e.sync()
		all := e.users
		// 10 of 40 leave (the limit is max(3, 5%) = 3) and 2 join.
		e.setUsers(append(e.users[10:], manyUsers(2, 100)...)...)
		rep := e.sync()
		if rep.Status != scimbridge.ReportHeld {
			t.Fatalf("status %s, want held", rep.Status)
		}
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 2, Unchanged: 30, Held: 10})
		if n := inactive(e.profiles()); n != 0 {
			t.Fatalf("%d deactivations applied by a guarded run", n)
		}
		if want := time.Now().Add(bridge.HeldPlanTTL); rep.HeldUntil == nil || rep.HeldUntil.Sub(want).Abs() > time.Minute {
			t.Errorf("held until %v, want about %v", rep.HeldUntil, want)
		}
		first := rep.ID

		t.Run("SameSetRefreshes", func(t *testing.T) {
			rep := e.sync()
			if rep.Status != scimbridge.ReportHeld || e.heldReportID() != first {
				t.Fatalf("status %s, held plan %s; want the first plan refreshed", rep.Status, e.heldReportID())
			}
		})
		t.Run("ApprovalOfAnUnknownReportFails", func(t *testing.T) {
			if _, err := e.runner.Approve(context.Background(), e.org.ID, "nope"); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Fatalf("approve unknown report: %v", err)
			}
		})
		t.Run("ApprovedAfterRelisting", func(t *testing.T) {
			// One of the ten came back before the approval: it is not
			// deactivated.
			e.setUsers(append(e.users, all[0])...)
			rep, err := e.runner.Approve(context.Background(), e.org.ID, first)
			if err != nil {
				t.Fatalf("approve: %v", err)
			}
			if rep.Trigger != scimbridge.TriggerApproval || rep.Status != scimbridge.ReportApplied {
				t.Fatalf("approval report = %s %s", rep.Trigger, rep.Status)
			}
			if rep.Counts.Deactivated != 9 {
				t.Errorf("counts = %+v, want 9 deactivations", rep.Counts)
			}
			if n := inactive(e.profiles()); n != 9 {
				t.Errorf("%d inactive profiles, want 9", n)
			}
			if e.heldReportID() != "" {
				t.Error("the held plan is still pending after its approval")
			}
			if old := e.report(first); old.HeldUntil != nil || !strings.Contains(old.Error, rep.ID) {
				t.Errorf("approved report = held until %v, note %q", old.HeldUntil, old.Error)
			}
			if _, err := e.runner.Approve(context.Background(), e.org.ID, first); err == nil {
				t.Error("a plan was approved twice")
			}
		})
	})
}

func TestBridge_HeldPlanLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(manyUsers(40, 0)...)
		e.sync()
		e.setUsers(e.users[10:]...)
		first := e.sync().ID

		t.Run("DifferentSetSupersedes", func(t *testing.T) {
			e.setUsers(e.users[1:]...)
			rep := e.sync()
			if rep.Status != scimbridge.ReportHeld || rep.Counts.Held != 11 || e.heldReportID() != rep.ID {
				t.Fatalf("status %s held %d plan %s", rep.Status, rep.Counts.Held, e.heldReportID())
			}
			if old := e.report(first); !strings.Contains(old.Error, "superseded by report "+rep.ID) || old.HeldUntil != nil {
				t.Errorf("superseded report note %q, held until %v", old.Error, old.HeldUntil)
			}
			if _, err := e.runner.Approve(context.Background(), e.org.ID, first); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("approving a superseded plan: %v", err)
			}
			first = rep.ID
		})
		t.Run("ExpiredCannotBeApproved", func(t *testing.T) {
			ctx := context.Background()
			id, raw, _, err := db.HeldPlan(ctx, e.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.PutHeldPlan(ctx, e.org.ID, id, raw, time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			_, err = e.runner.Approve(ctx, e.org.ID, first)
			if err == nil || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("approving an expired plan: %v", err)
			}
			if n := inactive(e.profiles()); n != 0 {
				t.Errorf("%d deactivations applied", n)
			}
			// The next run holds the changes again, in a new plan.
			rep := e.sync()
			if rep.Status != scimbridge.ReportHeld || e.heldReportID() != rep.ID {
				t.Fatalf("after expiry: status %s, plan %s", rep.Status, e.heldReportID())
			}
			first = rep.ID
		})
		t.Run("Discarded", func(t *testing.T) {
			if err := e.runner.Discard(context.Background(), e.org.ID, first); err != nil {
				t.Fatal(err)
			}
			if e.heldReportID() != "" {
				t.Fatal("plan still pending after discard")
			}
			if old := e.report(first); old.Error != "discarded" {
				t.Errorf("discarded report note %q", old.Error)
			}
			if n := inactive(e.profiles()); n != 0 {
				t.Errorf("%d deactivations applied by a discard", n)
			}
			if err := e.runner.Discard(context.Background(), e.org.ID, first); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("second discard: %v", err)
			}
		})
		t.Run("RunHoldingNothingEndsThePlan", func(t *testing.T) {
			rep := e.sync() // holds again
			e.setUsers(manyUsers(40, 0)...)
			if got := e.sync(); got.Status != scimbridge.ReportApplied || e.heldReportID() != "" {
				t.Fatalf("status %s, plan %q", got.Status, e.heldReportID())
			}
			if old := e.report(rep.ID); old.HeldUntil != nil || old.Error == "" {
				t.Errorf("moot plan's report: held until %v, note %q", old.HeldUntil, old.Error)
			}
		})
	})
}

func TestBridge_ReactivationSurgeHeld(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) { s.Guard = false })
		e.setUsers(manyUsers(40, 0)...)
		for _, u := range e.users[:10] {
			u.Suspended = true
		}
		e.touch()
		e.sync()
		e.settings(func(s *scimbridge.BridgeSettings) { s.Guard = true })
		for _, u := range e.users[:10] {
			u.Suspended = false
		}
		e.touch()
		rep := e.sync()
		if rep.Status != scimbridge.ReportHeld {
			t.Fatalf("status %s, want held", rep.Status)
		}
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Unchanged: 30, Held: 10})
		for _, it := range rep.Items {
			if it.Held && it.Kind != scimbridge.ChangeReactivate {
				t.Errorf("held item %+v is not a reactivation", it)
			}
		}
		if n := inactive(e.profiles()); n != 10 {
			t.Errorf("%d inactive, want the 10 reactivations held", n)
		}
	})
}

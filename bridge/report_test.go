package bridge

import (
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

func TestReport_Items(t *testing.T) {
	skipA := scimbridge.ReportItem{Kind: reconcile.ItemSkip, GoogleID: "1", UserName: "a@x", Reason: "managed by scim"}
	skipB := scimbridge.ReportItem{Kind: reconcile.ItemSkip, GoogleID: "2", UserName: "b@x", Reason: "invalid: no email"}
	excl := scimbridge.ReportItem{Kind: reconcile.ItemExcluded, ProfileID: "p", UserName: "c@x", Reason: reconcile.ReasonExcludedActive}
	var tl tally
	tl.plan(reconcile.DirectoryPlan{Skipped: []scimbridge.ReportItem{skipA, skipB, excl}, Unchanged: 4})
	tl.applied(reconcile.PlannedChange{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate,
		Profile: scimbridge.Profile{ID: "n", Attributes: scimbridge.Attributes{UserName: "n@x"}}}, Reason: reconcile.ReasonNew})
	tl.applied(reconcile.PlannedChange{Change: scimbridge.Change{Kind: scimbridge.ChangeRelease, Reason: reconcile.ReasonCycle}})

	if want := (scimbridge.ReportCounts{Created: 1, Unchanged: 4, Skipped: 3}); tl.counts != want {
		t.Fatalf("counts = %+v, want %+v (a cycle's temporary release is not counted)", tl.counts, want)
	}
	t.Run("FirstReportItemisesEverySkip", func(t *testing.T) {
		items, keys := tl.items(nil)
		if len(items) != 5 || len(keys) != 3 {
			t.Fatalf("%d items, %d keys", len(items), len(keys))
		}
	})
	t.Run("UnchangedSkipsAreOnlyCounted", func(t *testing.T) {
		_, keys := tl.items(nil)
		delete(keys, skipKey(skipB))
		items, _ := tl.items(keys)
		var kinds []string
		for _, it := range items {
			kinds = append(kinds, string(it.Kind)+":"+it.UserName)
		}
		// The changes, skip B (new) and the exclusion (always listed).
		if len(items) != 4 || items[2].UserName != "b@x" || items[3].Kind != reconcile.ItemExcluded {
			t.Fatalf("items = %v", kinds)
		}
	})
	t.Run("ChangedReasonIsNew", func(t *testing.T) {
		_, keys := tl.items(nil)
		var t2 tally
		changed := skipA
		changed.Reason = "uniqueness: held by a manual profile"
		t2.plan(reconcile.DirectoryPlan{Skipped: []scimbridge.ReportItem{changed}})
		if items, _ := t2.items(keys); len(items) != 1 {
			t.Fatalf("a skip whose reason changed is not itemised: %v", items)
		}
	})
}

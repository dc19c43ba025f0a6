package bridge

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// TestGroupSplit checks a group change of more members than one write
// takes is split into writes of at most MaxMemberChanges members whose
// versions chain, the first carrying the event and the others none.
func TestGroupSplit(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("p", i)
		}
		return out
	}
	a := &groupApplier{r: &Runner{}, st: &run{report: scimbridge.Report{ID: "run"}}}
	now := time.Unix(100, 0).UTC()
	for _, tc := range []struct {
		name     string
		pc       reconcile.PlannedGroupChange
		versions []int64 // the group version each write leaves
		expected []int64
		sizes    []int
	}{
		{"Create", reconcile.PlannedGroupChange{Hash: "h", Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate,
			Group: scimbridge.Group{ID: "g", Version: 1}, AddMembers: ids(25000)}},
			[]int64{1, 2, 3}, []int64{0, 1, 2}, []int{10000, 10000, 5000}},
		{"Update", reconcile.PlannedGroupChange{Hash: "h", Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate,
			Group: scimbridge.Group{ID: "g", Version: 8}, ExpectedVersion: 7, AddMembers: ids(10001), RemoveMembers: ids(3)}},
			[]int64{8, 9, 10}, []int64{7, 8, 9}, []int{10000, 1, 3}},
		{"Small", reconcile.PlannedGroupChange{Hash: "h", Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate,
			Group: scimbridge.Group{ID: "g", Version: 2}, ExpectedVersion: 1, AddMembers: ids(10000)}},
			[]int64{2}, []int64{1}, []int{10000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := a.split(tc.pc, now)
			if len(out) != len(tc.versions) || writesOf(tc.pc) != len(out) {
				t.Fatalf("%d writes (writesOf %d), want %d", len(out), writesOf(tc.pc), len(tc.versions))
			}
			for i, ce := range out {
				c := ce.Change
				n := len(c.AddMembers) + len(c.RemoveMembers)
				if c.Group.Version != tc.versions[i] || (i > 0 && c.ExpectedVersion != tc.expected[i]) || n != tc.sizes[i] ||
					c.Group.DesiredHash != "h" {
					t.Errorf("write %d: version %d expected %d, %d members, hash %q", i, c.Group.Version, c.ExpectedVersion, n, c.Group.DesiredHash)
				}
				if (i == 0) == ce.Event.Time.IsZero() {
					t.Errorf("write %d event time %v: only the first write carries the event", i, ce.Event.Time)
				}
				if i > 0 && c.Kind != scimbridge.ChangeGroupUpdate {
					t.Errorf("write %d kind %s", i, c.Kind)
				}
			}
		})
	}
}

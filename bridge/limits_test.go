package bridge_test

import (
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

// TestRunner_ValueLimits: a Google user with a value over the limits is
// skipped with the reason in the report, on create and on update, and the
// others still apply.
func TestRunner_ValueLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		long := gUser("100000000000000002", "long@example.com")
		long.Name.FullName = strings.Repeat("n", 5000)
		e.setUsers(gUser("100000000000000001", "ann@example.com"), long, gUser("100000000000000003", "cid@example.com"))

		rep := e.report(e.sync().ID)
		if rep.Counts.Created != 2 || rep.Counts.Skipped != 1 {
			t.Fatalf("counts = %+v, want 2 created and 1 skipped", rep.Counts)
		}
		it, ok := findItem(rep, reconcile.ItemSkip, "long@example.com")
		if !ok || !strings.Contains(it.Reason, "displayName is 5000 bytes long; the limit is 4096 bytes") {
			t.Fatalf("skip of long@example.com = %+v, %v; items %+v", it, ok, rep.Items)
		}

		// An applied user that grows over a limit keeps its stored profile.
		before := e.byGoogleID("100000000000000003")
		e.user("100000000000000003").Organizations = []admin.UserOrganization{{Title: strings.Repeat("t", 4097), Primary: true}}
		e.user("100000000000000001").Name.FullName = "Ann Renamed"
		e.touch()
		rep = e.report(e.sync().ID)
		it, ok = findItem(rep, reconcile.ItemSkip, "cid@example.com")
		if !ok || !strings.Contains(it.Reason, "title is 4097 bytes long") {
			t.Fatalf("skip of cid@example.com = %+v, %v; items %+v", it, ok, rep.Items)
		}
		if after := e.byGoogleID("100000000000000003"); after.Version != before.Version || after.Title != "" || !after.Active() {
			t.Fatalf("over-limit update changed the profile: %+v", after)
		}
		if got := e.byGoogleID("100000000000000001").DisplayName; got != "Ann Renamed" {
			t.Fatalf("the other user's update did not apply: displayName %q", got)
		}
	})
}

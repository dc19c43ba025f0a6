package bridge_test

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// perUserBudget is what a run may keep per directory user: the compact
// index entry of its stored profile, its addresses' hashes and its place
// in the set of ids seen.
const perUserBudget = 150

// TestRunner_HeapPerUnchangedUser measures the live heap's high-water mark
// of a run that changes nothing, over directories of two sizes whose users
// carry Google's full projection: between them it may grow by at most
// perUserBudget bytes a user. The live heap is sampled after each garbage
// collection, run often meanwhile (GOGC 10), so what is measured is what
// the run keeps, not the garbage it has yet to collect. Not a timing test.
func TestRunner_HeapPerUnchangedUser(t *testing.T) {
	if per := heapPerUser(t, true); per > perUserBudget {
		t.Fatalf("a run keeps %.0f bytes per unchanged user, budget %d", per, perUserBudget)
	}
}

// perNewUserBudget is what a first sync may keep per new user: its place
// in the set of Google ids seen and the hashes of its addresses (the user
// itself waits in the spill file).
const perNewUserBudget = 150

// TestRunner_HeapPerNewUser measures, as TestRunner_HeapPerUnchangedUser
// does, the live heap's high-water mark of first syncs of two directories
// of full-projection users into an empty organization: between them it
// may grow by at most perNewUserBudget bytes a user.
func TestRunner_HeapPerNewUser(t *testing.T) {
	if per := heapPerUser(t, false); per > perNewUserBudget {
		t.Fatalf("a first sync keeps %.0f bytes per new user, budget %d", per, perNewUserBudget)
	}
}

// heapSizes are the two directory sizes the heap tests compare.
func heapSizes() [2]int {
	if raceEnabled {
		// The race detector makes the same run several times slower.
		return [2]int{25_000, 100_000}
	}
	return [2]int{50_000, 200_000}
}

// heapPerUser syncs directories of the two heap sizes, each into an
// organization of its own (seeded by a first sync when unchanged is set,
// so the run changes nothing; else empty, so the run creates every user),
// and returns by how many bytes a user the live heap's high-water mark
// grew between them.
func heapPerUser(t *testing.T, unchanged bool) float64 {
	sizes := heapSizes()
	db := storetest.OpenPostgres(t)
	var growth [2]uint64
	for i, n := range sizes {
		g := newGoogle(t)
		g.SetSource(fakegoogle.NewGenerated(n, int64(i+1), fakegoogle.ShapeFull))
		e := newSyncEnvWith(t, db, g, newKeyring(t), func(s *scimbridge.BridgeSettings) { s.Guard = false })
		stored := 0
		if unchanged {
			stored = seedFirstSync(t, e, db)
		}
		var rep scimbridge.Report
		growth[i] = liveHeapGrowth(func() { rep = e.sync() })
		c := rep.Counts
		switch {
		case unchanged && (c.Unchanged != stored || c.Created+c.Updated+c.Deactivated != 0):
			t.Fatalf("%d users: resync counts %+v, want %d unchanged", n, c, stored)
		case !unchanged && (c.Created < n*9/10 || c.Failed != 0):
			t.Fatalf("%d users: first sync counts %+v", n, c)
		}
		t.Logf("%d users: live heap high-water grew by %.1f MB during the run (%.0f bytes a user)",
			n, float64(growth[i])/(1<<20), float64(growth[i])/float64(n))
	}
	per := (float64(growth[1]) - float64(growth[0])) / float64(sizes[1]-sizes[0])
	t.Logf("between %d and %d users: %.0f bytes a user", sizes[0], sizes[1], per)
	return per
}

// Groups of the heap test with groups: one group per usersPerGroup users,
// of about membersPerGroup members each (the proportions of 5,000 groups
// of 50 members in a directory of 1M users).
const (
	usersPerGroup   = 200
	membersPerGroup = 50
	// perMembershipBudget is what a run with groups may keep per group
	// membership besides perUserBudget: the member's Google id in its
	// group's listing, in the set of members to resolve and with its
	// profile id, and the profile id in the group's member set.
	perMembershipBudget = 200
)

// computedGroups are generated groups whose members are users of the
// generated directory, each computed when listed: the test process holds
// no user, as a heap of them would slow every collection (and what is
// allocated while one marks counts live). Group i's members are users
// i*usersPerGroup, 4 apart.
type computedGroups struct {
	*fakegoogle.GeneratedGroups
	gen *fakegoogle.Generated
	n   int
}

func (c computedGroups) Member(i, j int) *admin.Member {
	u := c.gen.User((i*usersPerGroup + j*(usersPerGroup/membersPerGroup)) % c.n)
	return &admin.Member{Kind: "admin#directory#member", Id: u.Id, Email: u.PrimaryEmail, Role: "MEMBER",
		Type: fakegoogle.MemberUser, Status: "ACTIVE"}
}

// TestRunner_HeapPerUnchangedUserWithGroups is TestRunner_HeapPerUnchangedUser
// with groups on (groups all, one group per usersPerGroup users): the run
// that changes neither users nor groups may grow by at most perUserBudget
// bytes a user plus perMembershipBudget bytes a membership between the two
// sizes. An unchanged user is kept as its index entry only, as without
// groups.
func TestRunner_HeapPerUnchangedUserWithGroups(t *testing.T) {
	heapWithGroups(t, true, perUserBudget)
}

// TestRunner_HeapPerNewUserWithGroups is TestRunner_HeapPerNewUser with
// groups on: a first sync that creates the users and the groups, their
// new users members in the same run, may grow by at most perNewUserBudget
// bytes a user plus perMembershipBudget bytes a membership between the
// two sizes: its new users wait in the spill file, as without groups.
func TestRunner_HeapPerNewUserWithGroups(t *testing.T) {
	heapWithGroups(t, false, perNewUserBudget)
}

// heapWithGroups measures, as heapPerUser does, runs with groups on over
// the two heap sizes: a run that changes nothing after one that created
// the groups (unchanged), or a first sync of users and groups into an
// empty organization; it fails when the live heap's high-water mark grew
// by more than perUser bytes a user and perMembershipBudget a membership
// between them.
func heapWithGroups(t *testing.T, unchanged bool, perUser int) {
	sizes := heapSizes()
	db := storetest.OpenPostgres(t)
	var growth [2]uint64
	var memberships [2]int
	for i, n := range sizes {
		g := newGoogle(t)
		gen := fakegoogle.NewGenerated(n, int64(i+1), fakegoogle.ShapeFull)
		g.SetSource(gen)
		g.SetQuota(0) // the quota is the benchmark's (bench/bridge-groups.sh)
		g.SetGroups(computedGroups{GeneratedGroups: fakegoogle.GenerateGroups(nil, n/usersPerGroup, membersPerGroup, int64(i+1)),
			gen: gen, n: n})
		e := newSyncEnvWith(t, db, g, newKeyring(t), func(s *scimbridge.BridgeSettings) { s.Guard, s.Groups = false, "all" })
		var rep scimbridge.Report
		if unchanged {
			stored := seedFirstSync(t, e, db)
			first := e.sync() // creates the groups; the users are unchanged
			if first.Counts.Unchanged != stored || first.Counts.Groups == nil || first.Counts.Groups.Created != n/usersPerGroup {
				t.Fatalf("%d users: first sync with groups: counts %+v, groups %+v", n, first.Counts, first.Counts.Groups)
			}
			memberships[i] = first.Counts.Groups.MembersAdded
			growth[i] = liveHeapGrowth(func() { rep = e.sync() })
			if rep.Counts.Unchanged != stored || rep.Counts.Created+rep.Counts.Updated+rep.Counts.Deactivated != 0 ||
				*rep.Counts.Groups != (scimbridge.GroupCounts{Unchanged: n / usersPerGroup, ListingMillis: rep.Counts.Groups.ListingMillis}) {
				t.Fatalf("%d users: resync counts %+v, groups %+v; want all unchanged", n, rep.Counts, rep.Counts.Groups)
			}
		} else {
			growth[i] = liveHeapGrowth(func() { rep = e.sync() })
			c := rep.Counts
			if c.Created < n*9/10 || c.Failed != 0 || c.Groups == nil || c.Groups.Created != n/usersPerGroup ||
				c.Groups.MembersAdded < n/usersPerGroup*membersPerGroup*8/10 {
				t.Fatalf("%d users: first sync with groups: counts %+v, groups %+v", n, c, c.Groups)
			}
			memberships[i] = c.Groups.MembersAdded
		}
		t.Logf("%d users, %d groups, %d memberships: live heap high-water grew by %.1f MB during the run (%.0f bytes a user)",
			n, n/usersPerGroup, memberships[i], float64(growth[i])/(1<<20), float64(growth[i])/float64(n))
	}
	du, dm := float64(sizes[1]-sizes[0]), float64(memberships[1]-memberships[0])
	budget := float64(perUser)*du + perMembershipBudget*dm
	grew := float64(growth[1]) - float64(growth[0])
	t.Logf("between %d and %d users: %.0f bytes a user (budget %d a user + %d a membership, %.0f a user here)",
		sizes[0], sizes[1], grew/du, perUser, perMembershipBudget, budget/du)
	if grew > budget {
		t.Fatalf("a run with groups keeps %.0f bytes per user, budget %.0f", grew/du, budget/du)
	}
}

// seedFirstSync writes what a first sync of e's directory writes (every
// in-scope user's profile with its event), by COPY, and returns how many
// profiles it wrote.
func seedFirstSync(t *testing.T, e *syncEnv, db *store.DB) int {
	t.Helper()
	ctx := context.Background()
	creds, err := bridge.ParseServiceAccount(e.google.ServiceAccountKey(e.ep.TokenURL), "admin@example.com", e.ep.TokenURL)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := bridge.NewDirectory(ctx, creds, e.ep, nil, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	settings := e.bridge().Settings
	n := 0
	_, err = dir.EachPage(ctx, "", false, func(page []bridge.GoogleUser) error {
		rows, err := bridge.FirstSyncRows(e.org, settings, uuid.NewString(), "http://127.0.0.1", page,
			func() string { return uuid.Must(uuid.NewV7()).String() }, time.Now().UTC())
		if err != nil {
			return err
		}
		n += len(rows)
		return db.CopyCreates(ctx, rows)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// liveHeapGrowth runs fn and returns how far the live heap (as of each
// garbage collection) rose above what it was before.
func liveHeapGrowth(fn func()) uint64 {
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	runtime.GC()
	base := read()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			v := read()
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

package bridge_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// loadCounter counts the whole profiles a run loads; it reads the profile
// index at once unless wrapped in a streamingCounter.
type loadCounter struct {
	hooks *hookStore
	scimbridge.Store
	db     *store.DB
	stream bool
	mu     sync.Mutex
	loaded []string
}

func (c *loadCounter) ProfilesByID(ctx context.Context, orgID string, ids []string) ([]scimbridge.Profile, error) {
	c.mu.Lock()
	c.loaded = append(c.loaded, ids...)
	c.mu.Unlock()
	return c.Store.ProfilesByID(ctx, orgID, ids)
}

func (c *loadCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.loaded
	c.loaded = nil
	sort.Strings(out)
	return out
}

// streamingCounter is a loadCounter whose store streams the index.
type streamingCounter struct{ *loadCounter }

// AppendReportItems and PutReportFrom stream the report, as the daemon's
// store does.
func (c streamingCounter) AppendReportItems(ctx context.Context, orgID, reportID string, start int, items []scimbridge.ReportItem) error {
	return c.hooks.AppendReportItems(ctx, orgID, reportID, start, items)
}

func (c streamingCounter) PutReportFrom(ctx context.Context, r scimbridge.Report, start int) error {
	return c.hooks.PutReportFrom(ctx, r, start)
}

func (c streamingCounter) EachProfileIndex(ctx context.Context, orgID string, size func(int), fn func(scimbridge.StoredProfile) error) error {
	return c.db.EachProfileIndex(ctx, orgID, size, fn)
}

// TestRunner_ComparesListingWithIndex checks that a run compares each
// listed user with the compact index: unchanged users cost no load; only
// the profiles whose users changed, and the absent ones, are loaded whole;
// an inactive profile that is not listed but holds an address a new user
// takes is found and releases it. Both with the index streamed row by row
// and read at once.
func TestRunner_ComparesListingWithIndex(t *testing.T) {
	for _, streamed := range []bool{true, false} {
		t.Run(fmt.Sprintf("Streamed=%v", streamed), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, db *store.DB) {
				e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) { s.Guard = false })
				c := &loadCounter{hooks: e.hooks, Store: e.hooks, db: db}
				e.runner.Store = c
				if streamed {
					e.runner.Store = streamingCounter{c}
				}
				e.setUsers(manyUsers(1200, 0)...)
				checkCounts(t, e.sync().Counts, scimbridge.ReportCounts{Created: 1200})
				c.take()

				checkCounts(t, e.sync().Counts, scimbridge.ReportCounts{Unchanged: 1200})
				if got := c.take(); len(got) != 0 {
					t.Fatalf("an unchanged resync loaded %d profiles", len(got))
				}

				e.users[10].Name.FamilyName = "Changed"
				e.users[700].Suspended = true
				gone := e.users[1199]
				e.setUsers(e.users[:1199]...)
				rep := e.sync()
				checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 1, Deactivated: 2, Unchanged: 1197})
				want := []string{e.profileOf(e.users[10].Id).ID, e.profileOf(e.users[700].Id).ID, e.profileOf(gone.Id).ID}
				sort.Strings(want)
				if got := c.take(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("loaded %v, want the changed and absent profiles %v", got, want)
				}

				// gone is inactive and not listed; a new user takes its address,
				// which gone releases (an update of an inactive profile).
				reuse := gUser("900000000000000001", gone.PrimaryEmail)
				e.setUsers(append(e.users, reuse)...)
				rep = e.sync()
				checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 1, Updated: 1, Unchanged: 1199})
				old := e.profileOf(gone.Id)
				if old.UserName != "" || old.FormerUserName != gone.PrimaryEmail {
					t.Errorf("old holder = userName %q former %q, want its address released", old.UserName, old.FormerUserName)
				}
				if fresh := e.profileOf(reuse.Id); fresh.UserName != gone.PrimaryEmail || !fresh.Active() {
					t.Errorf("new profile = %+v", fresh)
				}
				if _, ok := findItem(rep, scimbridge.ChangeCreate, gone.PrimaryEmail); !ok {
					t.Errorf("report lacks the create of %s", gone.PrimaryEmail)
				}
			})
		})
	}
}

// TestRunner_ListedTwiceAcrossPages fails the plan when one Google id is
// listed twice, even when its first listing was unchanged.
func TestRunner_ListedTwiceAcrossPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(manyUsers(600, 0)...)
		e.sync()
		dup := *e.users[3]
		dup.PrimaryEmail = "other@example.com"
		e.setUsers(append(e.users, &dup)...)
		rep, err := e.syncErr()
		if err == nil || rep.Status != scimbridge.ReportFailed {
			t.Fatalf("run = %s, %v; want failed", rep.Status, err)
		}
		if want := "google id " + dup.Id + " is listed twice"; !strings.Contains(rep.Error, want) {
			t.Errorf("report error %q lacks %q", rep.Error, want)
		}
	})
}

// profileOf returns the live profile with Google id gid, in directories of
// any size.
func (e *syncEnv) profileOf(gid string) scimbridge.Profile {
	e.t.Helper()
	found, err := e.db.LookupProfiles(context.Background(), e.org.ID, scimbridge.ProfileLookup{GoogleID: gid})
	if err != nil || len(found) != 1 {
		e.t.Fatalf("profile with google id %s: %d found, %v", gid, len(found), err)
	}
	return found[0]
}

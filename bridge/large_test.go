package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/store"
)

// plainStore hides the optional store methods (ReportStreamer): a run then
// writes its items at the end.
type plainStore struct{ scimbridge.Store }

func TestRunner_WithoutOptionalStoreMethods(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.runner.Store = plainStore{db}
		if _, ok := e.runner.Store.(bridge.ReportStreamer); ok {
			t.Fatal("plainStore is a ReportStreamer")
		}
		e.setUsers(manyUsers(30, 0)...)
		checkCounts(t, e.sync().Counts, scimbridge.ReportCounts{Created: 30})
		checkCounts(t, e.sync().Counts, scimbridge.ReportCounts{Unchanged: 30})
		e.user(e.users[3].Id).Name.FamilyName = "Changed"
		e.setUsers(e.without(e.users[7].Id)...)
		rep := e.sync()
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 1, Deactivated: 1, Unchanged: 28})
		if it, ok := findItem(rep, scimbridge.ChangeUpdate, "u0003@example.com"); !ok || len(it.Fields) == 0 {
			t.Errorf("update not itemised with its fields: %+v", rep.Items)
		}
	})
}

func TestRunner_LargeRun(t *testing.T) {
	// More items than a report returned by a run carries: they are written
	// as the run goes and the stored report has them all, in order.
	n := bridge.ReportInline + scimbridge.MaxBatch + 37
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.runner.PublicURL = "https://scim.example.com/"
		e.setUsers(manyUsers(n, 0)...)
		rep := e.sync()
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: n})
		t.Run("ReportItems", func(t *testing.T) {
			if len(rep.Items) != bridge.ReportInline {
				t.Errorf("returned report has %d items, want the first %d", len(rep.Items), bridge.ReportInline)
			}
			stored := e.report(rep.ID)
			if len(stored.Items) != n {
				t.Fatalf("stored report has %d items, want %d", len(stored.Items), n)
			}
			for i, it := range stored.Items {
				// Creates are applied in userName order.
				if want := fmt.Sprintf("u%04d@example.com", i); it.Kind != scimbridge.ChangeCreate || it.UserName != want || len(it.Fields) == 0 {
					t.Fatalf("item %d = %s %s (%d fields), want create %s with its fields", i, it.Kind, it.UserName, len(it.Fields), want)
				}
				if i < len(rep.Items) && rep.Items[i].UserName != it.UserName {
					t.Fatalf("returned item %d is %s, stored %s", i, rep.Items[i].UserName, it.UserName)
				}
			}
			var streamed []string
			if err := db.EachReportItem(context.Background(), e.org.ID, rep.ID, func(it scimbridge.ReportItem) error {
				streamed = append(streamed, it.UserName)
				return nil
			}); err != nil || len(streamed) != n || streamed[n-1] != stored.Items[n-1].UserName {
				t.Errorf("EachReportItem: %d items, %v", len(streamed), err)
			}
		})
		t.Run("Events", func(t *testing.T) {
			evs := e.events(scimbridge.EventGoogle)
			if len(evs) < 10 {
				t.Fatalf("%d google events", len(evs))
			}
			p := byGID(t, e, e.users[n-1].Id) // among the newest events listed
			var ev scimbridge.Event
			for _, x := range evs {
				if x.ProfileID == p.ID {
					ev = x
				}
			}
			if ev.Method != "POST" || ev.Path != "/Users" || ev.Status != 201 || ev.RunID != rep.ID {
				t.Fatalf("event of %s: %s %s %d run %s", p.UserName, ev.Method, ev.Path, ev.Status, ev.RunID)
			}
			var req scimbridge.DesiredProfile
			if err := json.Unmarshal([]byte(ev.RequestBody), &req); err != nil || req.UserName != p.UserName || req.GoogleID != p.GoogleID {
				t.Errorf("request body is not the desired profile: %s (%v)", ev.RequestBody, err)
			}
			var res struct {
				Schemas  []string `json:"schemas"`
				ID       string   `json:"id"`
				UserName string   `json:"userName"`
				Active   bool     `json:"active"`
				Meta     struct {
					ResourceType string `json:"resourceType"`
					Location     string `json:"location"`
					Version      string `json:"version"`
				} `json:"meta"`
			}
			if err := json.Unmarshal([]byte(ev.ResponseBody), &res); err != nil {
				t.Fatalf("response body: %v: %s", err, ev.ResponseBody)
			}
			wantLoc := "https://scim.example.com/api/connect/v1/Users/" + p.ID
			if res.ID != p.ID || res.UserName != p.UserName || !res.Active || res.Meta.ResourceType != "User" ||
				res.Meta.Location != wantLoc || res.Meta.Version != `W/"1"` ||
				len(res.Schemas) == 0 || !strings.HasSuffix(res.Schemas[0], ":User") {
				t.Errorf("response body is not the stored SCIM resource at %s: %s", wantLoc, ev.ResponseBody)
			}
		})
		t.Run("ProfileIDsInOrder", func(t *testing.T) {
			// New profiles get time-ordered ids in the order they are
			// created, so inserts append to the id indexes.
			a, b := byGID(t, e, e.users[1].Id), byGID(t, e, e.users[n-1].Id)
			if a.ID[14] != '7' || b.ID[14] != '7' || a.ID >= b.ID {
				t.Errorf("ids %s and %s are not version 7 UUIDs in creation order", a.ID, b.ID)
			}
		})
		t.Run("SecondRun", func(t *testing.T) {
			e.user(e.users[n-2].Id).Name.GivenName = "Changed"
			e.touch()
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 1, Unchanged: n - 1})
			if len(rep.Items) != 1 || byGID(t, e, e.users[n-2].Id).GivenName != "Changed" {
				t.Errorf("second run items %+v", rep.Items)
			}
		})
	})
}

// byGID finds a profile by Google id in any number of profiles.
func byGID(t *testing.T, e *syncEnv, gid string) scimbridge.Profile {
	t.Helper()
	ps, err := e.db.LookupProfiles(context.Background(), e.org.ID, scimbridge.ProfileLookup{GoogleID: gid})
	if err != nil || len(ps) != 1 {
		t.Fatalf("profile with google id %s: %d found, %v", gid, len(ps), err)
	}
	return ps[0]
}

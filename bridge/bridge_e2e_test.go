package bridge_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

func TestBridge_FirstSync(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		held := gUser("1003", "cat@example.com")
		held.Suspended = true
		e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"), held)
		rep := e.sync()
		if rep.Status != scimbridge.ReportApplied || rep.Trigger != scimbridge.TriggerManual || rep.FinishedAt == nil {
			t.Fatalf("report = %s %s", rep.Status, rep.Trigger)
		}
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 3})
		ann := e.byGoogleID("1001")
		if ann.Source != scimbridge.SourceGoogle || ann.UserName != "ann@example.com" || ann.ExternalID != "1001" || !ann.Active() {
			t.Errorf("ann = %+v", ann)
		}
		if cat := e.byGoogleID("1003"); cat.Active() {
			t.Errorf("a user suspended when first seen is created inactive")
		}
		t.Run("EveryChangeIsOneEvent", func(t *testing.T) {
			evs := e.events(scimbridge.EventGoogle)
			if len(evs) != 3 {
				t.Fatalf("%d google events, want 3", len(evs))
			}
			for _, ev := range evs {
				if ev.RunID != rep.ID || ev.Method != "POST" || ev.Path != "/Users" || ev.Status != 201 ||
					ev.Kind != scimbridge.ChangeCreate || ev.ProfileID == "" || ev.TargetUserName == "" ||
					ev.RequestBody == "" || ev.ResponseBody == "" {
					t.Errorf("event = %+v", ev)
				}
			}
		})
		t.Run("StateRecorded", func(t *testing.T) {
			b := e.bridge()
			if b.LastSyncAt == nil || b.LastSuccessAt == nil || b.NextSyncAt == nil || !b.NextSyncAt.After(*b.LastSyncAt) {
				t.Errorf("bridge state: last %v success %v next %v", b.LastSyncAt, b.LastSuccessAt, b.NextSyncAt)
			}
		})
	})
}

func TestBridge_Rename(t *testing.T) {
	t.Run("OneUpdateSameProfile", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
			e.sync()
			before := e.byGoogleID("1001")
			e.user("1001").PrimaryEmail = "ann.new@example.com"
			e.touch()
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 1, Unchanged: 1})
			after := e.byGoogleID("1001")
			if after.ID != before.ID || after.UserName != "ann.new@example.com" || after.Email != "ann.new@example.com" {
				t.Errorf("after rename: %s %s %s (was %s)", after.ID, after.UserName, after.Email, before.ID)
			}
			it, ok := findItem(rep, scimbridge.ChangeUpdate, "ann.new@example.com")
			if !ok || it.Reason != reconcile.ReasonRenamed || len(it.Fields) == 0 {
				t.Errorf("rename item = %+v", it)
			}
			evs := e.events(scimbridge.EventGoogle)
			last := evs[len(evs)-1]
			if last.RunID != rep.ID || last.Method != "PATCH" || last.Path != "/Users/"+before.ID || last.Status != 200 {
				t.Errorf("rename event = %s %s %d run %s", last.Method, last.Path, last.Status, last.RunID)
			}
		})
	})
	t.Run("Cycle", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "a@example.com"), gUser("1002", "b@example.com"))
			e.sync()
			a, b := e.byGoogleID("1001"), e.byGoogleID("1002")
			e.user("1001").PrimaryEmail, e.user("1002").PrimaryEmail = "b@example.com", "a@example.com"
			e.touch()
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 2})
			a2, b2 := e.byGoogleID("1001"), e.byGoogleID("1002")
			if a2.ID != a.ID || b2.ID != b.ID || a2.UserName != "b@example.com" || b2.UserName != "a@example.com" {
				t.Errorf("after the swap: %s=%s %s=%s", a2.ID, a2.UserName, b2.ID, b2.UserName)
			}
			// The temporary release that breaks the cycle names the user
			// whose address it releases.
			it, ok := findItem(rep, scimbridge.ChangeRelease, "a@example.com")
			if !ok || it.Reason != reconcile.ReasonCycle || it.ProfileID != a.ID {
				t.Errorf("cycle release item missing or without its user name: %+v", rep.Items)
			}
		})
	})
	t.Run("ExcludedUserRenamedStaysExcluded", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
			e.sync()
			e.settings(func(s *scimbridge.BridgeSettings) { s.ExcludedUsers = []string{"BOB@example.com"} })
			rep := e.sync()
			if it, ok := findItem(rep, reconcile.ItemExcluded, "bob@example.com"); !ok || it.Reason != reconcile.ReasonExcludedActive {
				t.Errorf("excluded user still active is not listed: %+v", rep.Items)
			}
			if ids := e.bridge().Settings.ExcludedGoogleID; !slices.Contains(ids, "1002") {
				t.Fatalf("exclusion not pinned to the google id: %v", ids)
			}
			bob := e.byGoogleID("1002")
			e.user("1002").PrimaryEmail = "robert@example.com"
			e.user("1002").Suspended = true
			e.touch()
			rep = e.sync()
			if after := e.byGoogleID("1002"); after.Version != bob.Version || after.UserName != "bob@example.com" || !after.Active() {
				t.Errorf("excluded user changed after a rename: %+v", after)
			}
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Unchanged: 1, Skipped: 1})
		})
	})
}

func TestBridge_AddressReused(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) { s.Guard = false })
		e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
		e.sync()
		old := e.byGoogleID("1001")
		// ann left; a new Google user got her address.
		e.setUsers(gUser("2001", "ann@example.com"), e.user("1002"))
		rep := e.sync()
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 1, Deactivated: 1, Unchanged: 1})
		gone := e.byGoogleID("1001")
		if gone.ID != old.ID || gone.Active() || gone.UserName != "" || gone.FormerUserName != "ann@example.com" {
			t.Errorf("old profile = active %v userName %q former %q", gone.Active(), gone.UserName, gone.FormerUserName)
		}
		if it, ok := findItem(rep, scimbridge.ChangeDeactivate, "ann@example.com"); !ok || it.Reason != reconcile.ReasonAddressReused {
			t.Errorf("deactivation item = %+v", it)
		}
		if fresh := e.byGoogleID("2001"); fresh.ID == old.ID || fresh.UserName != "ann@example.com" || !fresh.Active() {
			t.Errorf("new profile = %+v", fresh)
		}
	})
}

func TestBridge_Absence(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) {
			s.Guard = false
			s.OrgUnits = []string{"/Staff"}
		})
		users := []*admin.User{gUser("1001", "sus@example.com"), gUser("1002", "arc@example.com"),
			gUser("1003", "del@example.com"), gUser("1004", "moved@example.com"), gUser("1005", "gone@example.com"),
			gUser("1006", "stay@example.com")}
		for _, u := range users {
			u.OrgUnitPath = "/Staff"
		}
		e.setUsers(users...)
		e.sync()
		e.user("1001").Suspended = true
		e.user("1002").Archived = true
		e.user("1004").OrgUnitPath = "/Contractors"
		deleted := e.user("1003")
		e.setUsers(e.without("1003", "1005")...)
		e.google.SetDeleted([]*admin.User{deleted})
		rep := e.sync()
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Deactivated: 5, Unchanged: 1})
		if e.google.ShowDeletedPages() == 0 {
			t.Error("no showDeleted=true pass confirmed the deletion")
		}
		for gid, reason := range map[string]string{
			"1001": reconcile.ReasonSuspended, "1002": reconcile.ReasonArchived, "1003": reconcile.ReasonDeleted,
			"1004": reconcile.ReasonOutOfScope, "1005": reconcile.ReasonMissing,
		} {
			p := e.byGoogleID(gid)
			if p.Active() || !p.AccessRevoked || p.Detached() {
				t.Errorf("%s: active %v revoked %v detached %v; want deactivated, never deleted", p.UserName, p.Active(), p.AccessRevoked, p.Detached())
			}
			if it, ok := findItem(rep, scimbridge.ChangeDeactivate, p.UserName); !ok || it.Reason != reason {
				t.Errorf("%s: item %+v, want reason %q", p.UserName, it, reason)
			}
		}
		if n := len(e.profiles()); n != 6 {
			t.Errorf("%d profiles, want all 6 kept", n)
		}
		t.Run("Reactivation", func(t *testing.T) {
			e.user("1001").Suspended = false
			e.touch()
			rep := e.sync()
			if rep.Counts.Reactivated != 1 {
				t.Fatalf("counts = %+v", rep.Counts)
			}
			if p := e.byGoogleID("1001"); !p.Active() || p.AccessRevoked || p.Role != scimbridge.RoleMember {
				t.Errorf("reactivated profile = active %v revoked %v role %s", p.Active(), p.AccessRevoked, p.Role)
			}
			if it, ok := findItem(rep, scimbridge.ChangeReactivate, "sus@example.com"); !ok || it.Reason != reconcile.ReasonReactivated {
				t.Errorf("reactivation item = %+v", it)
			}
		})
	})
}

func TestBridge_OtherSourcesLeftAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		manual := e.addProfile(scimbridge.Profile{Source: scimbridge.SourceManual,
			Attributes: scimbridge.Attributes{UserName: "man@example.com", Emails: []scimbridge.Email{{Value: "man@example.com"}}}})
		scim := e.addProfile(scimbridge.Profile{Source: scimbridge.SourceSCIM,
			Attributes: scimbridge.Attributes{UserName: "sam@example.com", Emails: []scimbridge.Email{{Value: "sam@example.com"}}}})
		e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "sam@example.com"))
		rep := e.sync()
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 1, Skipped: 1})
		it, ok := findItem(rep, reconcile.ItemSkip, "sam@example.com")
		if !ok || it.Reason != "managed by scim" {
			t.Errorf("skip item = %+v, %v", it, ok)
		}
		for _, p := range e.profiles() {
			switch p.ID {
			case manual.ID, scim.ID:
				if p.Version != 1 || !p.Active() || p.Source == scimbridge.SourceGoogle {
					t.Errorf("%s profile touched: version %d active %v source %s", p.UserName, p.Version, p.Active(), p.Source)
				}
			}
		}
		t.Run("RepeatedSkipIsCountedNotItemised", func(t *testing.T) {
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Unchanged: 1, Skipped: 1})
			if _, ok := findItem(rep, reconcile.ItemSkip, "sam@example.com"); ok {
				t.Errorf("an unchanged skip is itemised again: %+v", rep.Items)
			}
		})
		t.Run("AnotherReplicaReadsTheSkipsBack", func(t *testing.T) {
			// A runner that did not write the last report reads its skips
			// from the store: the first report, which itemised the skip.
			e.runner = e.newRunner("replica-b")
			e.sync() // reads back the report before, which itemised nothing
			e.runner = e.newRunner("replica-c")
			rep := e.sync()
			if _, ok := findItem(rep, reconcile.ItemSkip, "sam@example.com"); ok {
				t.Errorf("an unchanged skip is itemised again by another replica: %+v", rep.Items)
			}
		})
	})
}

func TestBridge_UnchangedWritesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(manyUsers(200, 0)...)
		e.sync()
		versions := map[string]int64{}
		for _, p := range e.profiles() {
			versions[p.ID] = p.Version
		}
		events := len(e.events(scimbridge.EventGoogle))
		t.Run("SecondSync", func(t *testing.T) {
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Unchanged: 200})
			for _, p := range e.profiles() {
				if p.Version != versions[p.ID] {
					t.Fatalf("%s rewritten (version %d -> %d)", p.UserName, versions[p.ID], p.Version)
				}
			}
			if n := len(e.events(scimbridge.EventGoogle)); n != events {
				t.Errorf("%d new google events", n-events)
			}
		})
		t.Run("OnePercentChanged", func(t *testing.T) {
			e.user(e.users[10].Id).Name.FamilyName = "Changed"
			e.user(e.users[150].Id).Name.FamilyName = "Changed"
			e.touch()
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 2, Unchanged: 198})
			changed := 0
			for _, p := range e.profiles() {
				if p.Version != versions[p.ID] {
					changed++
				}
			}
			if changed != 2 {
				t.Errorf("%d profiles rewritten, want 2", changed)
			}
			evs := e.events(scimbridge.EventGoogle)
			if n := len(evs) - events; n != 2 || evs[len(evs)-1].RunID != rep.ID {
				t.Errorf("%d new events, want 2 with run id %s", n, rep.ID)
			}
		})
	})
}

func TestRunner_Apply(t *testing.T) {
	t.Run("OneBadUserIsRecordedTheRestApply", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(manyUsers(5, 0)...)
			e.hooks.before = func(batch []scimbridge.ChangeEvent) error {
				for _, c := range batch {
					if c.Change.Profile.UserName == "u0003@example.com" {
						return scimbridge.ScimErrorf(scimbridge.ECONFLICT, "uniqueness", "userName is already taken")
					}
				}
				return nil
			}
			rep, err := e.syncErr()
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 4, Failed: 1})
			it, ok := findItem(rep, bridge.ItemFail, "u0003@example.com")
			if !ok || !strings.Contains(it.Error, "already taken") {
				t.Errorf("fail item = %+v, %v", it, ok)
			}
			if n := len(e.profiles()); n != 4 {
				t.Errorf("%d profiles, want 4", n)
			}
		})
	})
	t.Run("ChangedSincePlanIsDecidedAgain", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
			e.sync()
			e.user("1001").Name.FamilyName = "Renamed"
			e.user("1002").Name.FamilyName = "Renamed"
			e.touch()
			bumped := false
			e.hooks.before = func([]scimbridge.ChangeEvent) error {
				if bumped {
					return nil
				}
				bumped = true
				// Another writer changes ann between plan and apply.
				p := e.byGoogleID("1001")
				after := p
				after.Version++
				after.Title = "Edited"
				return db.ApplyChange(context.Background(), scimbridge.ChangeEvent{
					Change: scimbridge.Change{Kind: scimbridge.ChangeUpdate, Profile: after, ExpectedVersion: p.Version},
					Event:  scimbridge.Event{OrgID: e.org.ID, Time: time.Now(), Method: "PATCH", Path: "/x", Status: 200, Source: scimbridge.EventAdmin, Count: 1},
				})
			}
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Updated: 2})
			if p := e.byGoogleID("1001"); p.FamilyName != "Renamed" || p.Version != 3 {
				t.Errorf("ann = %q version %d, want the Google change on top of the other write (version 3)", p.FamilyName, p.Version)
			}
		})
	})
}

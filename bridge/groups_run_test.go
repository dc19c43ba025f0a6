package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

func gGroup(id, email, name string) *admin.Group {
	return &admin.Group{Kind: "admin#directory#group", Id: id, Email: email, Name: name}
}

func mUser(u *admin.User) *admin.Member {
	return &admin.Member{Kind: "admin#directory#member", Id: u.Id, Email: u.PrimaryEmail, Role: "MEMBER", Type: "USER", Status: "ACTIVE"}
}

func mGroup(g *admin.Group) *admin.Member {
	return &admin.Member{Kind: "admin#directory#member", Id: g.Id, Email: g.Email, Role: "MEMBER", Type: "GROUP", Status: "ACTIVE"}
}

func mExternal(email string) *admin.Member {
	return &admin.Member{Kind: "admin#directory#member", Id: "ext-" + email, Email: email, Role: "MEMBER", Type: "EXTERNAL", Status: "ACTIVE"}
}

func mCustomer() *admin.Member {
	return &admin.Member{Kind: "admin#directory#member", Id: "C01abc", Role: "MEMBER", Type: "CUSTOMER"}
}

// gset is a Google group directory a test edits between runs.
type gset struct {
	groups  []*admin.Group
	members [][]*admin.Member
}

func (g *gset) add(gr *admin.Group, members ...*admin.Member) *admin.Group {
	g.groups = append(g.groups, gr)
	g.members = append(g.members, members)
	return gr
}

func (g *gset) remove(id string) {
	for i, gr := range g.groups {
		if gr.Id == id {
			g.groups = slices.Delete(g.groups, i, i+1)
			g.members = slices.Delete(g.members, i, i+1)
			return
		}
	}
}

func (g *gset) set(id string, members ...*admin.Member) {
	for i, gr := range g.groups {
		if gr.Id == id {
			g.members[i] = members
		}
	}
}

func (e *syncEnv) publish(g *gset) {
	e.google.SetGroups(&fakegoogle.StaticGroups{Groups: slices.Clone(g.groups), Members: slices.Clone(g.members)})
}

// storedGroup is a stored Google group with its members' userNames.
type storedGroup struct {
	scimbridge.Group
	members []string
}

// groups returns the organization's Google groups by Google id.
func (e *syncEnv) groups() map[string]storedGroup {
	e.t.Helper()
	ctx := context.Background()
	gs, err := e.db.ManagedGroups(ctx, e.org.ID, scimbridge.SourceGoogle)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]storedGroup{}
	for _, g := range gs {
		ms, err := e.db.GroupMembers(ctx, e.org.ID, g.ID, "", scimbridge.MaxMemberPage)
		if err != nil {
			e.t.Fatal(err)
		}
		sg := storedGroup{Group: g}
		for _, m := range ms {
			sg.members = append(sg.members, m.UserName)
		}
		slices.Sort(sg.members)
		out[g.GoogleID] = sg
	}
	return out
}

func checkMembers(t *testing.T, g storedGroup, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(g.members, want) {
		t.Fatalf("group %s members = %v, want %v", g.DisplayName, g.members, want)
	}
}

func groupsOn(scope string) func(*scimbridge.BridgeSettings) {
	return func(s *scimbridge.BridgeSettings) { s.Groups = scope }
}

func checkGroupCounts(t *testing.T, rep scimbridge.Report, want scimbridge.GroupCounts) {
	t.Helper()
	if rep.Counts.Groups == nil {
		t.Fatalf("report %s has no group counts", rep.ID)
	}
	got := *rep.Counts.Groups
	got.ListingMillis = 0
	if got != want {
		t.Fatalf("group counts = %+v, want %+v", got, want)
	}
}

func TestGroups_Lifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		var logs bytes.Buffer
		e.runner.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		ann, bob, cat, dan := gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"),
			gUser("1003", "cat@example.com"), gUser("1004", "dan@example.com")
		e.setUsers(ann, bob, cat, dan)
		var g gset
		eng := g.add(gGroup("g01", "eng@example.com", "Engineering"), mUser(ann), mUser(bob),
			mExternal("partner@other.com"), mCustomer())
		ops := g.add(gGroup("g02", "ops@example.com", ""), mUser(cat))
		e.publish(&g)

		// First run: users and groups in one run, new users already members
		// (spilled while listing, created before the groups are planned).
		rep := e.sync()
		if rep.Counts.Created != 4 {
			t.Fatalf("users created %d, want 4", rep.Counts.Created)
		}
		if !strings.Contains(logs.String(), "spilled=4") {
			t.Fatalf("the first run did not spill its 4 new users: %s", logs.String())
		}
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 2, MembersAdded: 3})
		it, ok := findItem(rep, scimbridge.ChangeGroupCreate, "Engineering")
		if !ok || it.Reason != reconcile.ReasonGroupNew || it.GoogleID != "g01" {
			t.Fatalf("no create item for Engineering with its reason: %+v", rep.Items)
		}
		gs := e.groups()
		checkMembers(t, gs["g01"], "ann@example.com", "bob@example.com")
		checkMembers(t, gs["g02"], "cat@example.com")
		if gs["g02"].DisplayName != "ops@example.com" || gs["g01"].ExternalID != "g01" || gs["g01"].Source != scimbridge.SourceGoogle {
			t.Fatalf("stored groups %+v %+v", gs["g01"].Group, gs["g02"].Group)
		}
		var groupEvents int
		for _, ev := range e.events(scimbridge.EventGoogle) {
			if ev.Kind == scimbridge.ChangeGroupCreate {
				groupEvents++
				if ev.RunID != rep.ID || ev.Method != "POST" || ev.Path != "/Groups" {
					t.Errorf("group event %+v", ev)
				}
			}
		}
		if groupEvents != 2 {
			t.Fatalf("%d group create events, want 2", groupEvents)
		}

		// No change: nothing written, versions stay.
		rep = e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Unchanged: 2})
		again := e.groups()
		for id, sg := range gs {
			if again[id].Version != sg.Version || !again[id].UpdatedAt.Equal(sg.UpdatedAt) {
				t.Fatalf("unchanged group %s written: version %d -> %d", id, sg.Version, again[id].Version)
			}
		}

		// Rename, a member added and one removed.
		eng.Name = "Platform Engineering"
		g.set("g01", mUser(ann), mUser(dan))
		e.publish(&g)
		rep = e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Updated: 1, Unchanged: 1, MembersAdded: 1, MembersRemoved: 1})
		it, ok = findItem(rep, scimbridge.ChangeGroupUpdate, "Platform Engineering")
		if !ok || it.Reason != reconcile.ReasonGroupRenamed+"; "+reconcile.ReasonGroupMembers ||
			len(it.Fields) == 0 || it.Fields[0].Before != "Engineering" {
			t.Fatalf("update item %+v", it)
		}
		gs = e.groups()
		checkMembers(t, gs["g01"], "ann@example.com", "dan@example.com")
		if gs["g01"].DisplayName != "Platform Engineering" || gs["g01"].Version != 2 {
			t.Fatalf("renamed group %+v", gs["g01"].Group)
		}

		// Deleted in Google.
		g.remove(ops.Id)
		e.publish(&g)
		rep = e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Deleted: 1, Unchanged: 1})
		if it, ok := findItem(rep, scimbridge.ChangeGroupDelete, "ops@example.com"); !ok || it.Reason != reconcile.ReasonGroupNotListed {
			t.Fatalf("delete item %+v", it)
		}
		if gs = e.groups(); len(gs) != 1 {
			t.Fatalf("%d groups after the delete, want 1", len(gs))
		}
		// The profile stays.
		if p := e.byGoogleID("1003"); !p.Active() {
			t.Fatalf("member of a deleted group deactivated")
		}
	})
}

func TestGroups_Nesting(t *testing.T) {
	users := []*admin.User{gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"), gUser("1003", "cat@example.com")}
	build := func() *gset {
		// a contains b, b contains c, c contains a: a cycle.
		var g gset
		a, b, c := gGroup("g0a", "a@example.com", "A"), gGroup("g0b", "b@example.com", "B"), gGroup("g0c", "c@example.com", "C")
		g.add(a, mUser(users[0]), mGroup(b))
		g.add(b, mUser(users[1]), mGroup(c))
		g.add(c, mUser(users[2]), mGroup(a))
		return &g
	}
	eachBackend(t, func(t *testing.T, db *store.DB) {
		t.Run("Direct", func(t *testing.T) {
			e := newSyncEnv(t, db, groupsOn("all"))
			e.setUsers(users...)
			e.publish(build())
			e.sync()
			gs := e.groups()
			checkMembers(t, gs["g0a"], "ann@example.com")
			checkMembers(t, gs["g0b"], "bob@example.com")
			checkMembers(t, gs["g0c"], "cat@example.com")
		})
		t.Run("Flattened", func(t *testing.T) {
			e := newSyncEnv(t, db, groupsOn("all"), func(s *scimbridge.BridgeSettings) { s.FlattenGroups = true })
			e.setUsers(users...)
			e.publish(build())
			e.sync()
			gs := e.groups()
			for _, id := range []string{"g0a", "g0b", "g0c"} {
				checkMembers(t, gs[id], "ann@example.com", "bob@example.com", "cat@example.com")
			}
		})
		t.Run("FlattenedOutsideScope", func(t *testing.T) {
			// Only a is synced; b and c are listed for their members.
			e := newSyncEnv(t, db, groupsOn("emails:A@example.com"), func(s *scimbridge.BridgeSettings) { s.FlattenGroups = true })
			e.setUsers(users...)
			e.publish(build())
			rep := e.sync()
			checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 1, MembersAdded: 3})
			gs := e.groups()
			if len(gs) != 1 {
				t.Fatalf("%d groups synced, want only a", len(gs))
			}
			checkMembers(t, gs["g0a"], "ann@example.com", "bob@example.com", "cat@example.com")
		})
	})
}

func TestGroups_MembersOutsideTheSyncedSet(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("query:email:team*"), func(s *scimbridge.BridgeSettings) {
			s.Domains = []string{"example.com"}
			s.ExcludedUsers = []string{"eve@example.com"}
		})
		ann, sus, eve, out := gUser("1001", "ann@example.com"), gUser("1002", "sus@example.com"),
			gUser("1003", "eve@example.com"), gUser("1004", "out@other.example")
		sus.Suspended = true
		e.setUsers(ann, sus, eve, out)
		var g gset
		sm := mUser(sus)
		sm.Status = "SUSPENDED"
		g.add(gGroup("g01", "team@example.com", "Team"), mUser(ann), sm, mUser(eve), mUser(out),
			mExternal("x@partner.test"), mCustomer())
		g.add(gGroup("g02", "other@example.com", "Not in the query"), mUser(ann))
		e.publish(&g)
		rep := e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 1, MembersAdded: 2})
		gs := e.groups()
		if len(gs) != 1 {
			t.Fatalf("%d groups, want the one matching the query", len(gs))
		}
		// The suspended user is synced inactive and stays a member; the
		// excluded user, the user outside the domain scope, the external
		// address and the customer are left out.
		checkMembers(t, gs["g01"], "ann@example.com", "sus@example.com")
		if p := e.byGoogleID("1002"); p.Active() {
			t.Fatal("suspended user synced active")
		}
		// Suspended later: the membership is kept, the group unchanged.
		ann.Suspended = true
		e.touch()
		rep = e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Unchanged: 1})
		checkMembers(t, e.groups()["g01"], "ann@example.com", "sus@example.com")
	})
}

func TestGroups_UsersFromGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("emails:staff@example.com"), func(s *scimbridge.BridgeSettings) {
			s.UsersFromGroups, s.FlattenGroups = true, true
		})
		ann, bob, cat := gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"), gUser("1003", "cat@example.com")
		e.setUsers(ann, bob, cat)
		var g gset
		sub := gGroup("g02", "sub@example.com", "Sub")
		staff := g.add(gGroup("g01", "staff@example.com", "Staff"), mUser(ann), mGroup(sub))
		g.add(sub, mUser(bob))
		e.publish(&g)
		rep := e.sync()
		if rep.Counts.Created != 2 {
			t.Fatalf("users created %d, want the 2 members of staff", rep.Counts.Created)
		}
		for _, p := range e.profiles() {
			if p.GoogleID == "1003" {
				t.Fatal("a user outside the groups was synced")
			}
		}
		checkMembers(t, e.groups()["g01"], "ann@example.com", "bob@example.com")
		// ann leaves staff: she is out of scope and deactivated.
		g.set(staff.Id, mGroup(sub))
		e.publish(&g)
		rep = e.sync()
		if rep.Counts.Deactivated != 1 {
			t.Fatalf("counts %+v, want ann deactivated", rep.Counts)
		}
		if it, ok := findItem(rep, scimbridge.ChangeDeactivate, "ann@example.com"); !ok || it.Reason != reconcile.ReasonOutOfScope {
			t.Fatalf("deactivation item %+v", it)
		}
		checkMembers(t, e.groups()["g01"], "bob@example.com")
	})
}

func TestGroups_FailedMembersPageAppliesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		users := manyUsers(250, 0)
		e.setUsers(users...) // one users.list page
		var g gset
		var members []*admin.Member
		for _, u := range users {
			members = append(members, mUser(u))
		}
		g.add(gGroup("g01", "big@example.com", "Big"), members...) // two members.list pages
		e.publish(&g)
		e.google.FailPage(2, 503, "backendError", -1)
		rep, err := e.syncErr()
		if err == nil || rep.Status != scimbridge.ReportFailed || !strings.Contains(rep.Error, "incomplete listing") {
			t.Fatalf("run = %s %q, %v; want failed, incomplete listing", rep.Status, rep.Error, err)
		}
		if n := len(e.profiles()); n != 0 {
			t.Fatalf("%d profiles written by a run whose members listing failed", n)
		}
		if n := len(e.groups()); n != 0 {
			t.Fatalf("%d groups written", n)
		}
		e.google.ClearFailures()
		e.sync()
		checkMembers(t, e.groups()["g01"], userNames(users)...)
	})
}

func userNames(us []*admin.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.PrimaryEmail
	}
	return out
}

func TestGroups_MissingScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		e.setUsers(gUser("1001", "ann@example.com"))
		var g gset
		g.add(gGroup("g01", "eng@example.com", "Eng"), mUser(e.users[0]))
		e.publish(&g)
		e.google.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope)
		rep := e.sync()
		if rep.Status != scimbridge.ReportApplied || rep.Counts.Created != 1 {
			t.Fatalf("run %s %+v; users must still sync", rep.Status, rep.Counts)
		}
		if !strings.Contains(rep.Error, "groups need attention") {
			t.Errorf("report note %q", rep.Error)
		}
		b := e.bridge()
		if !b.NeedsAttention || !strings.Contains(b.LastError, "groups need attention") || !strings.Contains(b.LastError, bridge.GroupScope) {
			t.Fatalf("bridge attention %v, last error %q", b.NeedsAttention, b.LastError)
		}
		if n := len(e.groups()); n != 0 {
			t.Fatalf("%d groups written without the scope", n)
		}
		// Granted: the next run syncs the groups and clears the attention.
		e.google.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope, fakegoogle.GroupReadonlyScope)
		rep = e.sync()
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 1, MembersAdded: 1})
		if b := e.bridge(); b.NeedsAttention || b.LastError != "" {
			t.Fatalf("bridge attention %v, last error %q after the scope was granted", b.NeedsAttention, b.LastError)
		}
	})
}

func TestGroups_MassDeletionHeld(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		ann := gUser("1001", "ann@example.com")
		e.setUsers(ann)
		var g gset
		for i := range 10 {
			g.add(gGroup(fmt.Sprintf("g%02d", i), fmt.Sprintf("team%02d@example.com", i), fmt.Sprintf("Team %d", i)), mUser(ann))
		}
		e.publish(&g)
		e.sync()
		// 6 of 10 disappear (the limit is max(3, 5%) = 3); one is new.
		kept := &gset{groups: g.groups[6:], members: g.members[6:]}
		kept.add(gGroup("g99", "new@example.com", "New"), mUser(ann))
		e.publish(kept)
		rep := e.sync()
		if rep.Status != scimbridge.ReportHeld || rep.HeldUntil == nil {
			t.Fatalf("status %s, want held", rep.Status)
		}
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 1, Unchanged: 4, MembersAdded: 1, Held: 6})
		if rep.Counts.Held != 6 {
			t.Fatalf("report held %d", rep.Counts.Held)
		}
		if n := len(e.groups()); n != 11 {
			t.Fatalf("%d groups; a held run must not delete", n)
		}
		heldID := e.heldReportID()
		if heldID != rep.ID {
			t.Fatalf("held plan of report %q, want %q", heldID, rep.ID)
		}
		// The same plan again refreshes the held plan.
		rep2 := e.sync()
		if rep2.Status != scimbridge.ReportHeld || e.heldReportID() != rep.ID {
			t.Fatalf("second run %s, held plan %q; want the plan refreshed", rep2.Status, e.heldReportID())
		}
		app, err := e.runner.Approve(context.Background(), e.org.ID, rep.ID)
		if err != nil || app.Status != scimbridge.ReportApplied {
			t.Fatalf("approve = %s, %v", app.Status, err)
		}
		checkGroupCounts(t, app, scimbridge.GroupCounts{Deleted: 6, Unchanged: 5})
		if n := len(e.groups()); n != 5 {
			t.Fatalf("%d groups after approval, want 5", n)
		}
		if e.heldReportID() != "" {
			t.Fatal("held plan still pending after its approval")
		}
	})
}

func TestGroups_MassRemovalHeldAndDiscarded(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		users := manyUsers(20, 0)
		e.setUsers(users...)
		var g gset
		var all []*admin.Member
		for _, u := range users {
			all = append(all, mUser(u))
		}
		g.add(gGroup("g01", "all@example.com", "All"), all...)
		e.publish(&g)
		e.sync()
		g.set("g01", all[:10]...) // 10 of 20 memberships removed
		e.publish(&g)
		rep := e.sync()
		if rep.Status != scimbridge.ReportHeld {
			t.Fatalf("status %s, want held", rep.Status)
		}
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Held: 1})
		if err := e.runner.Discard(context.Background(), e.org.ID, rep.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(e.groups()["g01"].members); n != 20 {
			t.Fatalf("%d members after a discard, want 20", n)
		}
	})
}

func TestGroups_DryRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("all"))
		ann := gUser("1001", "ann@example.com")
		e.setUsers(ann)
		var g gset
		g.add(gGroup("g01", "eng@example.com", "Eng"), mUser(ann))
		e.publish(&g)
		rep, err := e.runner.RunOnce(context.Background(), e.org.ID, scimbridge.TriggerManual, true)
		if err != nil || rep.Status != scimbridge.ReportDryRun {
			t.Fatalf("dry run %s, %v", rep.Status, err)
		}
		// The user is not created yet, so the planned group has no member.
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Created: 1})
		if n := len(e.groups()); n != 0 {
			t.Fatalf("a dry run wrote %d groups", n)
		}
	})
}

// Users that leave every group of the scope while their profile is
// unchanged are left out of the planner's input by the listing (kept as
// their index entry): they are still deactivated as out of scope, in
// listing order among the users that changed, and the others stay members.
func TestGroups_UsersFromGroupsLeftUnchanged(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, groupsOn("emails:staff@example.com"), func(s *scimbridge.BridgeSettings) {
			s.UsersFromGroups = true
		})
		us := manyUsers(6, 0)
		e.setUsers(us...)
		var g gset
		var all []*admin.Member
		for _, u := range us {
			all = append(all, mUser(u))
		}
		staff := g.add(gGroup("g01", "staff@example.com", "Staff"), all...)
		e.publish(&g)
		if rep := e.sync(); rep.Counts.Created != 6 {
			t.Fatalf("counts %+v, want 6 created", rep.Counts)
		}
		// u0 and u2 leave unchanged, u4 leaves renamed in Google, u3 stays
		// renamed.
		us[3].Name.GivenName, us[4].Name.GivenName = "Renamed", "Renamed"
		e.touch()
		g.set(staff.Id, mUser(us[1]), mUser(us[3]), mUser(us[5]))
		e.publish(&g)
		rep := e.sync()
		if c := rep.Counts; c.Deactivated != 3 || c.Updated != 1 || c.Unchanged != 2 || c.Created != 0 {
			t.Fatalf("counts %+v, want 3 deactivated, 1 updated, 2 unchanged", rep.Counts)
		}
		var order []string
		for _, it := range rep.Items {
			if it.Kind == scimbridge.ChangeDeactivate {
				if it.Reason != reconcile.ReasonOutOfScope {
					t.Errorf("deactivation %+v: want reason %q", it, reconcile.ReasonOutOfScope)
				}
				order = append(order, it.UserName)
			}
		}
		if want := userNames([]*admin.User{us[0], us[2], us[4]}); !slices.Equal(order, want) {
			t.Fatalf("deactivated %v, want %v", order, want)
		}
		checkGroupCounts(t, rep, scimbridge.GroupCounts{Updated: 1, MembersRemoved: 3})
		checkMembers(t, e.groups()["g01"], userNames([]*admin.User{us[1], us[3], us[5]})...)
		// Nothing changes afterwards.
		rep = e.sync()
		if c := rep.Counts; c.Deactivated+c.Updated+c.Created != 0 {
			t.Fatalf("resync counts %+v, want nothing changed", rep.Counts)
		}
	})
}

package storetest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// groupEventCount counts the organization's events of kind.
func groupEventCount(t *testing.T, s scimbridge.Store, orgID string, kind scimbridge.ChangeKind) int {
	t.Helper()
	page, err := s.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: orgID, Limit: 1000})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	n := 0
	for _, e := range page.Events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func testGroupMembership(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	var ps []string
	for _, u := range []string{"ada@example.com", "bob@example.com", "cy@example.com"} {
		ps = append(ps, create(t, s, newProfile(org.ID, u)).ID)
	}
	g := createGroup(t, s, newGroup(org.ID, "Eng", scimbridge.SourceSCIM), ps[0], ps[0])
	if got := memberIDs(t, s, org.ID, g.ID); !sameSet(got, ps[:1]) {
		t.Fatalf("members after create: %v", got)
	}

	t.Run("ChangeCommitsWithEvent", func(t *testing.T) {
		// Adding a member already there is a no-op; removing one absent too.
		if err := s.ApplyGroupChange(ctx, groupUpdate(g, 1, []string{ps[0], ps[1], ps[2]}, []string{ps[2], uuid.NewString()})); err != nil {
			t.Fatal(err)
		}
		if got := memberIDs(t, s, org.ID, g.ID); !sameSet(got, ps[:2]) {
			t.Errorf("members = %v, want %v", got, ps[:2])
		}
		if n := groupEventCount(t, s, org.ID, scimbridge.ChangeGroupUpdate); n != 1 {
			t.Errorf("%d update events, want 1", n)
		}
		members, err := s.GroupMembers(ctx, org.ID, g.ID, "", 10)
		if err != nil || len(members) != 2 || members[0].ProfileID > members[1].ProfileID || members[0].UserName == "" {
			t.Errorf("members page: %+v, %v", members, err)
		}
	})

	t.Run("FailedBatchCommitsNothing", func(t *testing.T) {
		other := newGroup(org.ID, "Ops", scimbridge.SourceSCIM)
		batch := []scimbridge.GroupChangeEvent{
			groupUpdate(g, 2, []string{ps[2]}, []string{ps[0]}),
			{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: other,
				AddMembers: []string{ps[1], uuid.NewString()}}, Event: groupEvent("POST", "/Groups", 201)},
		}
		err := s.ApplyGroupChanges(ctx, batch, nil)
		wantCode(t, err, scimbridge.EINVALID)
		if scimbridge.ErrorScimType(err) != "invalidValue" {
			t.Errorf("scimType = %q, want invalidValue", scimbridge.ErrorScimType(err))
		}
		if got := memberIDs(t, s, org.ID, g.ID); !sameSet(got, ps[:2]) {
			t.Errorf("members = %v after a failed batch, want %v", got, ps[:2])
		}
		if v := mustGroup(t, s, org.ID, g.ID).Version; v != 2 {
			t.Errorf("version %d after a failed batch, want 2", v)
		}
		if _, err := s.Group(ctx, org.ID, other.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			t.Errorf("failed batch created its group: %v", err)
		}
		if n := groupEventCount(t, s, org.ID, scimbridge.ChangeGroupUpdate); n != 1 {
			t.Errorf("%d update events after a failed batch, want 1", n)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		many := make([]string, scimbridge.MaxMemberChanges+1)
		for i := range many {
			many[i] = uuid.NewString()
		}
		wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(g, 2, many, nil)), scimbridge.EINVALID)
		for _, limit := range []int{0, -1, scimbridge.MaxMemberPage + 1} {
			_, err := s.GroupMembers(ctx, org.ID, g.ID, "", limit)
			wantCode(t, err, scimbridge.EINVALID)
		}
		_, err := s.GroupMembers(ctx, org.ID, uuid.NewString(), "", 10)
		wantCode(t, err, scimbridge.ENOTFOUND)
		wantCode(t, s.ApplyGroupChanges(ctx, make([]scimbridge.GroupChangeEvent, scimbridge.MaxBatch+1), nil), scimbridge.EINVALID)
	})
}

// testGroupRemoval checks that deleting a group or detaching a profile
// removes memberships and deactivating keeps them.
func testGroupRemoval(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	ada := create(t, s, newProfile(org.ID, "ada@example.com"))
	bob := create(t, s, newProfile(org.ID, "bob@example.com"))
	g1 := createGroup(t, s, newGroup(org.ID, "One", scimbridge.SourceSCIM), ada.ID, bob.ID)
	g2 := newGroup(org.ID, "Two", scimbridge.SourceGoogle)
	g2.DesiredHash = "h2"
	createGroup(t, s, g2, ada.ID)

	t.Run("DeactivateKeeps", func(t *testing.T) {
		p := ada
		now := at(time.Hour)
		p.State, p.AccessRevoked, p.DeactivatedAt, p.UpdatedAt = scimbridge.StateInactive, true, &now, now
		if err := tryUpdate(s, scimbridge.ChangeDeactivate, p, 1); err != nil {
			t.Fatal(err)
		}
		ada = mustGet(t, s, org.ID, ada.ID)
		if gs, err := s.ProfileGroups(ctx, org.ID, ada.ID); err != nil || len(gs) != 2 {
			t.Errorf("a deactivated profile's groups: %v, %v", groupIDs(gs), err)
		}
		if v := mustGroup(t, s, org.ID, g1.ID).Version; v != 1 {
			t.Errorf("deactivation bumped the group to version %d", v)
		}
	})

	t.Run("FailedDetachKeeps", func(t *testing.T) {
		p := ada
		now := at(2 * time.Hour)
		p.DetachedAt, p.UpdatedAt = &now, now
		wantCode(t, tryUpdate(s, scimbridge.ChangeDetach, p, 1), scimbridge.EPRECONDITION)
		if gs, _ := s.ProfileGroups(ctx, org.ID, ada.ID); len(gs) != 2 {
			t.Errorf("a failed detach left %d groups", len(gs))
		}
	})

	t.Run("DetachRemoves", func(t *testing.T) {
		p := ada
		now := at(2 * time.Hour)
		p.DetachedAt, p.UpdatedAt = &now, now
		if err := tryUpdate(s, scimbridge.ChangeDetach, p, ada.Version); err != nil {
			t.Fatal(err)
		}
		if gs, err := s.ProfileGroups(ctx, org.ID, ada.ID); err != nil || len(gs) != 0 {
			t.Errorf("a detached profile's groups: %v, %v", groupIDs(gs), err)
		}
		if got := memberIDs(t, s, org.ID, g1.ID); !sameSet(got, []string{bob.ID}) {
			t.Errorf("group one's members: %v, want bob", got)
		}
		for _, g := range []scimbridge.Group{g1, g2} {
			got := mustGroup(t, s, org.ID, g.ID)
			if got.Version != 2 || !got.UpdatedAt.Equal(now) || got.DesiredHash != "" {
				t.Errorf("group %s after the detach: version %d, updated %v, hash %q", g.DisplayName, got.Version, got.UpdatedAt, got.DesiredHash)
			}
		}
		// A detached profile cannot join a group.
		wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(mustGroup(t, s, org.ID, g1.ID), 2, []string{ada.ID}, nil)), scimbridge.EINVALID)
	})

	t.Run("DeleteRemoves", func(t *testing.T) {
		cur := mustGroup(t, s, org.ID, g1.ID)
		del := scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete, Group: cur,
			ExpectedVersion: cur.Version}, Event: groupEvent("DELETE", "/Groups/"+cur.ID, 204)}
		if err := s.ApplyGroupChange(ctx, del); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Group(ctx, org.ID, g1.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			t.Errorf("deleted group read: %v", err)
		}
		if gs, err := s.ProfileGroups(ctx, org.ID, bob.ID); err != nil || len(gs) != 0 {
			t.Errorf("bob's groups after the delete: %v, %v", groupIDs(gs), err)
		}
		if got := listGroups(t, s, scimbridge.GroupQuery{OrgID: org.ID, MemberID: bob.ID}); len(got) != 0 {
			t.Errorf("member filter after the delete: %v", got)
		}
		mustGet(t, s, org.ID, bob.ID)
		if n := groupEventCount(t, s, org.ID, scimbridge.ChangeGroupDelete); n != 1 {
			t.Errorf("%d delete events, want 1", n)
		}
	})
}

func testGroupTenantIsolation(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	a, b := newOrg(t, s, "a"), newOrg(t, s, "b")
	pa := create(t, s, newProfile(a.ID, "ada@a.example"))
	pb := create(t, s, newProfile(b.ID, "bob@b.example"))
	ga := createGroup(t, s, newGroup(a.ID, "Eng", scimbridge.SourceSCIM), pa.ID)
	gb := createGroup(t, s, newGroup(b.ID, "Eng", scimbridge.SourceSCIM), pb.ID)

	if _, err := s.Group(ctx, a.ID, gb.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("A reads B's group: %v", err)
	}
	if _, err := s.GroupMembers(ctx, a.ID, gb.ID, "", 10); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("A lists B's members: %v", err)
	}
	if got := listGroups(t, s, scimbridge.GroupQuery{OrgID: a.ID}); !sameSet(got, []string{ga.ID}) {
		t.Errorf("A's listing: %v", got)
	}
	if got := listGroups(t, s, scimbridge.GroupQuery{OrgID: a.ID, MemberID: pb.ID}); len(got) != 0 {
		t.Errorf("A's groups of B's profile: %v", got)
	}
	if gs, _ := s.ProfileGroups(ctx, a.ID, pb.ID); len(gs) != 0 {
		t.Errorf("A sees B's profile's groups: %v", groupIDs(gs))
	}
	if gs, _ := s.ManagedGroups(ctx, a.ID, scimbridge.SourceSCIM); !sameSet(groupIDs(gs), []string{ga.ID}) {
		t.Errorf("A's managed groups: %v", groupIDs(gs))
	}
	// Adding B's profile to A's group is refused; changing B's group as A
	// finds nothing.
	wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(ga, 1, []string{pb.ID}, nil)), scimbridge.EINVALID)
	wantCode(t, tryCreateGroup(s, newGroup(a.ID, "Other", scimbridge.SourceSCIM), pb.ID), scimbridge.EINVALID)
	stolen := gb
	stolen.OrgID = a.ID
	wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(stolen, 1, nil, []string{pb.ID})), scimbridge.ENOTFOUND)
	if got := memberIDs(t, s, b.ID, gb.ID); !sameSet(got, []string{pb.ID}) {
		t.Errorf("B's members: %v", got)
	}
}

// SeedProfiles inserts n SCIM profiles of the organization, without
// emails or events, and returns their ids: with one INSERT ... SELECT on
// the package store's databases, else in batches of ApplyChanges.
func SeedProfiles(t testing.TB, s scimbridge.Store, orgID string, n int) []string {
	t.Helper()
	ctx := context.Background()
	if db, ok := s.(*store.DB); ok {
		id, step := "gen_random_uuid()::text", "SELECT i + 1 FROM n WHERE i < ?"
		if db.Dialect() == store.DialectSQLite {
			id = `(SELECT lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-a' ||
				substr(h, 18, 3) || '-' || substr(h, 21, 12)) FROM (SELECT hex(randomblob(16)) AS h WHERE i = i))`
		}
		query := `WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL ` + step + `)
			INSERT INTO profiles (id, org_id, user_name, user_name_key, email, email_key, state, source, version, created_at, updated_at)
			SELECT ` + id + `, ?, 'u' || i || '@example.com', 'u' || i || '@example.com', 'u' || i || '@example.com',
				'u' || i || '@example.com', 'active', 'scim', 1, ?, ? FROM n`
		now := any(base.UTC())
		if db.Dialect() == store.DialectSQLite {
			now = base.UnixMicro()
		}
		x := db.WriteSQLX()
		if _, err := x.ExecContext(ctx, x.Rebind(query), n, orgID, now, now); err != nil {
			t.Fatalf("seed profiles: %v", err)
		}
		var ids []string
		if err := x.SelectContext(ctx, &ids, x.Rebind(`SELECT id FROM profiles WHERE org_id = ?`), orgID); err != nil {
			t.Fatalf("read seeded profiles: %v", err)
		}
		if len(ids) != n {
			t.Fatalf("seeded %d profiles, want %d", len(ids), n)
		}
		return ids
	}
	ids := make([]string, n)
	batch := make([]scimbridge.ChangeEvent, 0, scimbridge.MaxBatch)
	for i := range ids {
		p := newProfile(orgID, uuid.NewString()+"@example.com")
		p.Emails = nil
		ids[i] = p.ID
		batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.ApplyChanges(ctx, batch, nil); err != nil {
				t.Fatalf("seed profiles: %v", err)
			}
			batch = batch[:0]
		}
	}
	return ids
}

// largeGroup is the member count of testGroupLargeMembership.
const largeGroup = 100_000

// testGroupLargeMembership pages through a 100,000-member group a page at
// a time: no call returns more than a page.
func testGroupLargeMembership(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	ids := SeedProfiles(t, s, org.ID, largeGroup)
	g := createGroup(t, s, newGroup(org.ID, "Everyone", scimbridge.SourceGoogle))
	var adds []scimbridge.GroupChangeEvent
	for i := 0; i < largeGroup; i += scimbridge.MaxMemberChanges {
		v := int64(len(adds) + 1)
		adds = append(adds, groupUpdate(g, v, ids[i:i+scimbridge.MaxMemberChanges], nil))
	}
	if err := s.ApplyGroupChanges(ctx, adds, nil); err != nil {
		t.Fatalf("seed members: %v", err)
	}
	if v := mustGroup(t, s, org.ID, g.ID).Version; v != int64(len(adds)+1) {
		t.Errorf("version %d after %d member changes", v, len(adds))
	}

	const pageSize = 5000
	seen, after, pages := 0, "", 0
	for {
		page, err := s.GroupMembers(ctx, org.ID, g.ID, after, pageSize)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if len(page) > pageSize {
			t.Fatalf("page of %d members, asked for %d", len(page), pageSize)
		}
		for _, m := range page {
			if m.ProfileID <= after || m.UserName == "" {
				t.Fatalf("member %+v out of order after %s", m, after)
			}
			after = m.ProfileID
		}
		seen += len(page)
		pages++
		if len(page) < pageSize {
			break
		}
	}
	if seen != largeGroup || pages != largeGroup/pageSize+1 {
		t.Errorf("paged %d members in %d pages, want %d", seen, pages, largeGroup)
	}
	sort.Strings(ids)
	if last := ids[len(ids)-1]; after != last {
		t.Errorf("last member %s, want %s", after, last)
	}
	if gs, err := s.ProfileGroups(ctx, org.ID, ids[0]); err != nil || len(gs) != 1 {
		t.Errorf("a member's groups: %v, %v", groupIDs(gs), err)
	}
}

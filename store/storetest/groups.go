package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// newGroup returns a group of source at version 1.
func newGroup(orgID, name string, source scimbridge.Source) scimbridge.Group {
	return scimbridge.Group{ID: uuid.NewString(), OrgID: orgID, DisplayName: name, Source: source,
		Version: 1, CreatedAt: base, UpdatedAt: base}
}

func groupEvent(method, path string, status int) scimbridge.Event {
	return scimbridge.Event{Time: at(time.Minute), Method: method, Path: path, Status: status, Source: scimbridge.EventIdP}
}

// tryCreateGroup creates g with members.
func tryCreateGroup(s scimbridge.Store, g scimbridge.Group, members ...string) error {
	return s.ApplyGroupChange(context.Background(), scimbridge.GroupChangeEvent{
		Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g, AddMembers: members},
		Event:  groupEvent("POST", "/Groups", 201),
	})
}

func createGroup(t *testing.T, s scimbridge.Store, g scimbridge.Group, members ...string) scimbridge.Group {
	t.Helper()
	if err := tryCreateGroup(s, g, members...); err != nil {
		t.Fatalf("create group %s: %v", g.DisplayName, err)
	}
	return g
}

// groupUpdate is the change writing g as version expected+1 with members
// added and removed.
func groupUpdate(g scimbridge.Group, expected int64, add, remove []string) scimbridge.GroupChangeEvent {
	g.Version = expected + 1
	return scimbridge.GroupChangeEvent{
		Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate, Group: g, ExpectedVersion: expected,
			AddMembers: add, RemoveMembers: remove},
		Event: groupEvent("PATCH", "/Groups/"+g.ID, 200),
	}
}

func mustGroup(t *testing.T, s scimbridge.Store, orgID, id string) scimbridge.Group {
	t.Helper()
	g, err := s.Group(context.Background(), orgID, id)
	if err != nil {
		t.Fatalf("get group %s: %v", id, err)
	}
	return g
}

// storedGroup returns g as the store gives it back.
func storedGroup(g scimbridge.Group) scimbridge.Group {
	g.CreatedAt, g.UpdatedAt = utc(g.CreatedAt), utc(g.UpdatedAt)
	return g
}

// memberIDs reads every member of a group, a page of 1,000 at a time.
func memberIDs(t *testing.T, s scimbridge.Store, orgID, groupID string) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		page, err := s.GroupMembers(context.Background(), orgID, groupID, after, 1000)
		if err != nil {
			t.Fatalf("group members: %v", err)
		}
		for _, m := range page {
			out = append(out, m.ProfileID)
		}
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ProfileID
	}
}

func groupIDs(gs []scimbridge.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.ID
	}
	return out
}

func listGroups(t *testing.T, s scimbridge.Store, q scimbridge.GroupQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	page, err := s.ListGroups(context.Background(), q)
	if err != nil {
		t.Fatalf("list groups %+v: %v", q, err)
	}
	if page.Total != len(page.Groups) && q.Offset == 0 && q.Limit >= page.Total {
		t.Errorf("total %d, %d groups", page.Total, len(page.Groups))
	}
	return groupIDs(page.Groups)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]int, len(a))
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		if m[x]--; m[x] < 0 {
			return false
		}
	}
	return true
}

func testGroupRoundTrip(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	ada := create(t, s, newProfile(org.ID, "ada@example.com"))

	sg := newGroup(org.ID, "Engineering", scimbridge.SourceSCIM)
	sg.ExternalID, sg.UpdatedAt = "ext-Eng", at(time.Minute+999*time.Nanosecond)
	gg := newGroup(org.ID, "Sales", scimbridge.SourceGoogle)
	gg.GoogleID, gg.Version, gg.DesiredHash = "123456789012345678901", 4, "h1"
	mg := newGroup(org.ID, "Ops", scimbridge.SourceManual)
	createGroup(t, s, sg, ada.ID)
	createGroup(t, s, gg)
	createGroup(t, s, mg)
	for _, g := range []scimbridge.Group{sg, gg, mg} {
		if got, want := mustGroup(t, s, org.ID, g.ID), storedGroup(g); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
	if _, err := s.Group(ctx, org.ID, "not-a-uuid"); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("bad id: %v", err)
	}
	if _, err := s.Group(ctx, org.ID, uuid.NewString()); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("unknown id: %v", err)
	}

	for name, c := range map[string]struct {
		q    scimbridge.GroupQuery
		want []string
	}{
		"All":               {scimbridge.GroupQuery{}, []string{sg.ID, gg.ID, mg.ID}},
		"DisplayNameFolded": {scimbridge.GroupQuery{DisplayName: "eNGINEERING"}, []string{sg.ID}},
		"ExternalID":        {scimbridge.GroupQuery{ExternalID: "ext-Eng"}, []string{sg.ID}},
		"ExternalIDExact":   {scimbridge.GroupQuery{ExternalID: "ext-eng"}, nil},
		"GoogleID":          {scimbridge.GroupQuery{GoogleID: gg.GoogleID}, []string{gg.ID}},
		"Sources":           {scimbridge.GroupQuery{Sources: []scimbridge.Source{scimbridge.SourceGoogle, scimbridge.SourceManual}}, []string{gg.ID, mg.ID}},
		"Member":            {scimbridge.GroupQuery{MemberID: ada.ID}, []string{sg.ID}},
		"MemberAndName":     {scimbridge.GroupQuery{MemberID: ada.ID, DisplayName: "sales"}, nil},
	} {
		c.q.OrgID = org.ID
		if got := listGroups(t, s, c.q); !sameSet(got, c.want) {
			t.Errorf("%s: got %v, want %v", name, got, c.want)
		}
	}
	page, err := s.ListGroups(ctx, scimbridge.GroupQuery{OrgID: org.ID, Offset: 1, Limit: 1})
	if err != nil || page.Total != 3 || len(page.Groups) != 1 {
		t.Errorf("second page: %+v, %v", page, err)
	}
	managed, err := s.ManagedGroups(ctx, org.ID, scimbridge.SourceGoogle)
	if err != nil || !sameSet(groupIDs(managed), []string{gg.ID}) {
		t.Errorf("managed google groups: %v, %v", groupIDs(managed), err)
	}
	groups, err := s.ProfileGroups(ctx, org.ID, ada.ID)
	if err != nil || len(groups) != 1 || !reflect.DeepEqual(groups[0], storedGroup(sg)) {
		t.Errorf("ada's groups: %+v, %v", groups, err)
	}
	bob := create(t, s, newProfile(org.ID, "bob@example.com"))
	if err := s.ApplyGroupChange(ctx, groupUpdate(mg, 1, []string{ada.ID, bob.ID}, nil)); err != nil {
		t.Fatal(err)
	}
	mg.Version = 2
	many, err := s.ProfilesGroups(ctx, org.ID, []string{ada.ID, bob.ID, ada.ID, uuid.NewString()})
	if err != nil || len(many) != 2 || !sameSet(groupIDs(many[ada.ID]), []string{sg.ID, mg.ID}) ||
		!reflect.DeepEqual(many[bob.ID], []scimbridge.Group{storedGroup(mg)}) {
		t.Errorf("profiles' groups: %+v, %v", many, err)
	}
	if other, _ := s.ProfilesGroups(ctx, uuid.NewString(), []string{ada.ID}); len(other) != 0 {
		t.Errorf("another organization sees ada's groups: %+v", other)
	}
	// A listing marks the members among its page's profiles, on every
	// path ListProfiles takes: a first page with its count, a short
	// filtered page, a later page.
	carl := create(t, s, newProfile(org.ID, "carl@example.com"))
	for name, c := range map[string]struct {
		q    scimbridge.ProfileQuery
		want []string
	}{
		"Page":       {scimbridge.ProfileQuery{Limit: 10}, []string{ada.ID, bob.ID}},
		"Filtered":   {scimbridge.ProfileQuery{Limit: 10, Filter: fltOr(fltEq("userName", "bob@example.com"), fltEq("userName", "carl@example.com"))}, []string{bob.ID}},
		"NoMember":   {scimbridge.ProfileQuery{Limit: 10, Filter: fltEq("userName", "carl@example.com")}, nil},
		"SecondPage": {scimbridge.ProfileQuery{Limit: 2, Offset: 1, SortBy: "userName"}, []string{bob.ID}},
	} {
		c.q.OrgID, c.q.MarkGrouped = org.ID, true
		page, err := s.ListProfiles(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for id, ok := range page.Grouped {
			if ok {
				got = append(got, id)
			}
		}
		if page.Grouped == nil || !sameSet(got, c.want) {
			t.Errorf("%s: grouped %v, want %v (carl %s)", name, page.Grouped, c.want, carl.ID)
		}
	}
	if page, _ := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: 10}); page.Grouped != nil {
		t.Errorf("a listing that did not ask marks %v", page.Grouped)
	}
	evs, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	kinds := 0
	for _, e := range evs.Events {
		if e.Kind == scimbridge.ChangeGroupCreate {
			kinds++
		}
	}
	if kinds != 3 {
		t.Errorf("%d group_create events, want 3", kinds)
	}
}

func testGroupUniqueness(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org, other := newOrg(t, s, "acme"), newOrg(t, s, "other")
	eng := createGroup(t, s, newGroup(org.ID, "Engineering", scimbridge.SourceSCIM))

	wantConflict(t, tryCreateGroup(s, newGroup(org.ID, "ENGINEERING", scimbridge.SourceSCIM)), "displayName")
	// Not unique across organizations, nor among Google groups, nor between
	// a SCIM group and a Google one.
	createGroup(t, s, newGroup(other.ID, "engineering", scimbridge.SourceSCIM))
	g1 := newGroup(org.ID, "Engineering", scimbridge.SourceGoogle)
	g1.GoogleID = "1"
	g2 := newGroup(org.ID, "engineering", scimbridge.SourceGoogle)
	g2.GoogleID = "2"
	createGroup(t, s, g1)
	createGroup(t, s, g2)
	createGroup(t, s, newGroup(org.ID, "Engineering", scimbridge.SourceManual))
	if got := listGroups(t, s, scimbridge.GroupQuery{OrgID: org.ID, DisplayName: "engineering"}); len(got) != 4 {
		t.Errorf("displayName eq engineering: %d groups, want 4", len(got))
	}

	g3 := newGroup(org.ID, "Other", scimbridge.SourceGoogle)
	g3.GoogleID = "1"
	wantConflict(t, tryCreateGroup(s, g3), "googleId")

	// A rename onto a taken name conflicts; onto its own name in another
	// case it does not.
	sales := createGroup(t, s, newGroup(org.ID, "Sales", scimbridge.SourceSCIM))
	renamed := sales
	renamed.DisplayName = "engineering"
	wantConflict(t, s.ApplyGroupChange(ctx, groupUpdate(renamed, 1, nil, nil)), "displayName")
	renamed.DisplayName = "SALES"
	if err := s.ApplyGroupChange(ctx, groupUpdate(renamed, 1, nil, nil)); err != nil {
		t.Fatalf("rename to own name: %v", err)
	}
	// A deleted SCIM group frees its name.
	del := scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete, Group: eng,
		ExpectedVersion: 1}, Event: groupEvent("DELETE", "/Groups/"+eng.ID, 204)}
	if err := s.ApplyGroupChange(ctx, del); err != nil {
		t.Fatalf("delete: %v", err)
	}
	createGroup(t, s, newGroup(org.ID, "engineering", scimbridge.SourceSCIM))
	wantCode(t, tryCreateGroup(s, newGroup(org.ID, "", scimbridge.SourceSCIM)), scimbridge.EINVALID)
	// An over-long key is refused before PostgreSQL could answer with an
	// error larger than lib/pq reads.
	long := newGroup(org.ID, strings.Repeat("x", 3000), scimbridge.SourceSCIM)
	wantCode(t, tryCreateGroup(s, long), scimbridge.EINVALID)
}

// testGroupVersions checks every change, membership ones included, bumps
// the version, and a stale version is refused.
func testGroupVersions(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	ada := create(t, s, newProfile(org.ID, "ada@example.com"))
	g := createGroup(t, s, newGroup(org.ID, "Eng", scimbridge.SourceSCIM))

	steps := []struct{ add, remove []string }{{[]string{ada.ID}, nil}, {nil, []string{ada.ID}}, {nil, nil}}
	for i, st := range steps {
		expected := int64(i + 1)
		g.DisplayName, g.DesiredHash = "Eng"+strings.Repeat("!", i), "h"+strings.Repeat("!", i)
		if err := s.ApplyGroupChange(ctx, groupUpdate(g, expected, st.add, st.remove)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := mustGroup(t, s, org.ID, g.ID)
		if got.Version != expected+1 || got.DisplayName != g.DisplayName || got.DesiredHash != g.DesiredHash {
			t.Errorf("step %d: %+v, want version %d", i, got, expected+1)
		}
	}
	wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(g, 1, []string{ada.ID}, nil)), scimbridge.EPRECONDITION)
	if n := len(memberIDs(t, s, org.ID, g.ID)); n != 0 {
		t.Errorf("a stale change added %d members", n)
	}
	missing := newGroup(org.ID, "Missing", scimbridge.SourceSCIM)
	wantCode(t, s.ApplyGroupChange(ctx, groupUpdate(missing, 1, nil, nil)), scimbridge.ENOTFOUND)
	del := scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete, Group: g,
		ExpectedVersion: 1}, Event: groupEvent("DELETE", "/Groups/"+g.ID, 204)}
	wantCode(t, s.ApplyGroupChange(ctx, del), scimbridge.EPRECONDITION)
}

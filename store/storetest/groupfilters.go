package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// testGroupFilters checks /Groups filters and sorting through the Group
// attribute catalogue: every operator on displayName (case-insensitive),
// externalId, id, members.value and meta.created / meta.lastModified /
// meta.resourceType, sortBy on each sortable attribute in both directions,
// and a search over every resource type, where an attribute only users have
// is unassigned for groups (and the other way round).
func testGroupFilters(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	ada := create(t, s, newProfile(org.ID, "ada@example.com")).ID
	bob := create(t, s, newProfile(org.ID, "bob@example.com")).ID

	mk := func(name, ext string, created, updated time.Duration, members ...string) string {
		g := newGroup(org.ID, name, scimbridge.SourceSCIM)
		g.ExternalID, g.CreatedAt, g.UpdatedAt = ext, at(created), at(updated)
		return createGroup(t, s, g, members...).ID
	}
	eng := mk("Engineering", "ext-eng", 0, 5*time.Hour, ada, bob)
	ops := mk("ops", "", time.Hour, time.Hour, bob)
	sales := mk("Sales 100%", "ext-sales", 2*time.Hour, 3*time.Hour)
	google := newGroup(org.ID, "engineering", scimbridge.SourceGoogle)
	google.CreatedAt, google.UpdatedAt = at(3*time.Hour), at(3*time.Hour)
	createGroup(t, s, google, ada)
	theirs := newGroup(other.ID, "Engineering", scimbridge.SourceSCIM)
	createGroup(t, s, theirs)

	scimOnly := []scimbridge.Source{scimbridge.SourceSCIM}
	ts := func(d time.Duration) string { return at(d).UTC().Format(time.RFC3339Nano) }
	list := func(q scimbridge.GroupQuery) ([]string, int, error) {
		q.OrgID = org.ID
		if q.Limit == 0 {
			q.Limit = 100
		}
		page, err := s.ListGroups(ctx, q)
		return groupIDs(page.Groups), page.Total, err
	}

	filters := []struct {
		name   string
		filter scimbridge.Filter
		want   []string
	}{
		{"DisplayNameFoldsCase", fltEq("displayName", "ENGINEERING"), []string{eng}},
		{"DisplayNameURN", fltEq("urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "ops"), []string{ops}},
		{"DisplayNameSw", fltOp("displayName", scimbridge.OpSw, "eng"), []string{eng}},
		{"DisplayNameCoLiteralPercent", fltOp("displayName", scimbridge.OpCo, "100%"), []string{sales}},
		{"DisplayNameNe", fltOp("displayName", scimbridge.OpNe, "ops"), []string{eng, sales}},
		{"ExternalIDPr", fltPr("externalId"), []string{eng, sales}},
		{"ExternalIDNotPr", fltNot(fltPr("externalId")), []string{ops}},
		{"ExternalIDCaseExact", fltEq("externalId", "EXT-ENG"), nil},
		{"ExternalIDNeMatchesUnassigned", fltOp("externalId", scimbridge.OpNe, "ext-eng"), []string{ops, sales}},
		{"ID", fltEq("id", strings.ToUpper(ops)), []string{ops}},
		{"IDNotUUID", fltEq("id", "nope"), nil},
		{"MembersValue", fltEq("members.value", bob), []string{eng, ops}},
		{"MembersAlias", fltEq("members", ada), []string{eng}},
		{"MembersValuePath", fltVP("members", fltEq("value", ada)), []string{eng}},
		{"MembersNe", fltOp("members.value", scimbridge.OpNe, ada), []string{ops, sales}},
		{"MembersPr", fltPr("members"), []string{eng, ops}},
		{"MembersNotUUID", fltEq("members.value", "nope"), nil},
		{"CreatedGt", fltOp("meta.created", scimbridge.OpGt, ts(0)), []string{ops, sales}},
		{"CreatedGeLe", fltAnd(fltOp("meta.created", scimbridge.OpGe, ts(time.Hour)),
			fltOp("meta.created", scimbridge.OpLe, ts(time.Hour))), []string{ops}},
		{"LastModifiedLt", fltOp("meta.lastModified", scimbridge.OpLt, ts(4*time.Hour)), []string{ops, sales}},
		{"LastModifiedEq", fltEq("meta.lastModified", ts(5*time.Hour)), []string{eng}},
		{"ResourceType", fltEq("meta.resourceType", "Group"), []string{eng, ops, sales}},
		{"ResourceTypeOther", fltEq("meta.resourceType", "User"), nil},
		{"OrMembersOrName", fltOr(fltEq("members.value", ada), fltEq("displayName", "ops")), []string{eng, ops}},
	}
	for _, tc := range filters {
		t.Run("Filter/"+tc.name, func(t *testing.T) {
			got, total, err := list(scimbridge.GroupQuery{Sources: scimOnly, Filter: tc.filter})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if !sameSet(got, tc.want) || total != len(tc.want) {
				t.Errorf("got %v (total %d), want %v", got, total, tc.want)
			}
		})
	}

	t.Run("Filter/EverySourceAndOrgOnly", func(t *testing.T) {
		got, _, err := list(scimbridge.GroupQuery{Filter: fltEq("displayName", "engineering")})
		if err != nil || !sameSet(got, []string{eng, google.ID}) {
			t.Errorf("got %v, %v; want Engineering of SCIM and Google, not the other organization's", got, err)
		}
	})

	for _, bad := range []scimbridge.Filter{
		fltEq("userName", "ada@example.com"),
		fltVP("emails", fltEq("type", "work")),
		fltOp("meta.created", scimbridge.OpCo, "2024"),
		fltEq("meta.created", "yesterday"),
		fltEq("urn:ietf:params:scim:schemas:core:2.0:User:displayName", "ops"),
		fltVP("members", fltEq("nope", "x")),
	} {
		t.Run("Invalid", func(t *testing.T) {
			_, _, err := list(scimbridge.GroupQuery{Filter: bad})
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidFilter" {
				t.Errorf("%#v: got %v, want invalidFilter", bad, err)
			}
		})
	}

	sorts := []struct {
		sortBy string
		desc   bool
		want   []string
	}{
		{"displayName", false, []string{eng, ops, sales}}, // on the case-insensitive key
		{"displayName", true, []string{sales, ops, eng}},
		{"meta.created", true, []string{sales, ops, eng}},
		{"meta.lastModified", false, []string{ops, sales, eng}},
		{"externalId", false, []string{ops, eng, sales}}, // unassigned first
		{"externalId", true, []string{sales, eng, ops}},
	}
	for _, tc := range sorts {
		t.Run("Sort/"+tc.sortBy, func(t *testing.T) {
			got, _, err := list(scimbridge.GroupQuery{Sources: scimOnly, SortBy: tc.sortBy, Descending: tc.desc})
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("desc %v: got %v, %v; want %v", tc.desc, got, err, tc.want)
			}
			// Paging follows the same order.
			got, total, err := list(scimbridge.GroupQuery{Sources: scimOnly, SortBy: tc.sortBy, Descending: tc.desc, Offset: 1, Limit: 1})
			if err != nil || total != 3 || !slices.Equal(got, tc.want[1:2]) {
				t.Errorf("second page: got %v (total %d), %v", got, total, err)
			}
		})
	}
	t.Run("Sort/ID", func(t *testing.T) {
		want := []string{eng, ops, sales}
		slices.Sort(want)
		got, _, err := list(scimbridge.GroupQuery{Sources: scimOnly, SortBy: "id"})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
	})
	for _, bad := range []string{"userName", "members", "members.value", "nope"} {
		t.Run("Sort/Invalid/"+bad, func(t *testing.T) {
			_, _, err := list(scimbridge.GroupQuery{SortBy: bad})
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Errorf("got %v, want EINVALID", err)
			}
		})
	}

	// A search over every resource type: the other type's attributes are
	// unassigned, unknown ones still refused.
	anyType := []struct {
		name   string
		filter scimbridge.Filter
		groups []string
		users  []string
	}{
		{"UserNameEq", fltEq("userName", "ada@example.com"), nil, []string{ada}},
		{"UserNameNe", fltOp("userName", scimbridge.OpNe, "ada@example.com"), []string{eng, ops, sales}, []string{bob}},
		{"EmailsValuePath", fltVP("emails", fltEq("type", "work")), nil, []string{ada, bob}},
		{"NotEmails", fltNot(fltVP("emails", fltEq("type", "work"))), []string{eng, ops, sales}, nil},
		{"MembersValue", fltEq("members.value", ada), []string{eng}, nil},
		{"DisplayNameBoth", fltPr("displayName"), []string{eng, ops, sales}, nil},
		{"ResourceType", fltEq("meta.resourceType", "User"), nil, []string{ada, bob}},
		{"CreatedBoth", fltPr("meta.created"), []string{eng, ops, sales}, []string{ada, bob}},
	}
	for _, tc := range anyType {
		t.Run("AnyType/"+tc.name, func(t *testing.T) {
			got, _, err := list(scimbridge.GroupQuery{Sources: scimOnly, Filter: tc.filter, AnyType: true})
			if err != nil || !sameSet(got, tc.groups) {
				t.Errorf("groups: got %v, %v; want %v", got, err, tc.groups)
			}
			page, err := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Sources: scimOnly,
				Filter: tc.filter, AnyType: true, Limit: 100})
			var users []string
			for _, p := range page.Profiles {
				users = append(users, p.ID)
			}
			if err != nil || !sameSet(users, tc.users) {
				t.Errorf("users: got %v, %v; want %v", users, err, tc.users)
			}
		})
	}
	t.Run("AnyType/Unknown", func(t *testing.T) {
		_, _, err := list(scimbridge.GroupQuery{Filter: fltEq("nope", "x"), AnyType: true})
		if scimbridge.ErrorScimType(err) != "invalidFilter" {
			t.Errorf("groups: got %v, want invalidFilter", err)
		}
		_, err = s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Filter: fltEq("nope", "x"), AnyType: true, Limit: 1})
		if scimbridge.ErrorScimType(err) != "invalidFilter" {
			t.Errorf("users: got %v, want invalidFilter", err)
		}
		// A value the other type would refuse is refused here too.
		_, _, err = list(scimbridge.GroupQuery{Filter: fltOp("active", scimbridge.OpGt, true), AnyType: true})
		if scimbridge.ErrorScimType(err) != "invalidFilter" {
			t.Errorf("active gt true: got %v, want invalidFilter", err)
		}
	})
	t.Run("AnyType/SortByOtherTypeAttribute", func(t *testing.T) {
		want := []string{eng, ops, sales}
		slices.Sort(want)
		got, _, err := list(scimbridge.GroupQuery{Sources: scimOnly, SortBy: "userName", AnyType: true})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v; want id order %v", got, err, want)
		}
	})
}

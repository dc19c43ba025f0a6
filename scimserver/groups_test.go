package scimserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// groupBody is a SCIM Group body with these member ids.
func groupBody(name string, members ...string) map[string]any {
	ms := []map[string]any{}
	for _, id := range members {
		ms = append(ms, map[string]any{"value": id})
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": ms}
}

func (e *testEnv) createGroup(name string, members ...string) string {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/Groups", body: groupBody(name, members...)})
	mustStatus(e.t, res, http.StatusCreated)
	return res.json(e.t)["id"].(string)
}

// putProfile stores a profile of org from source directly.
func putProfile(t *testing.T, db scimbridge.Store, orgID string, src scimbridge.Source, userName string) scimbridge.Profile {
	t.Helper()
	now := time.Now().UTC()
	p, err := reconcile.NewProfile(orgID, src, reconcile.Normalize(scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{UserName: userName}, Active: true}), uuid.NewString(), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyChange(context.Background(), scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: now, Source: scimbridge.EventAdmin}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func memberOp(op, path string, ids ...string) map[string]any {
	m := map[string]any{"op": op, "path": path}
	if len(ids) > 0 {
		vs := []map[string]any{}
		for _, id := range ids {
			vs = append(vs, map[string]any{"value": id})
		}
		m["value"] = vs
	}
	return m
}

func TestGroups_IfMatch(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		a := e.createUser(user("a@example.com"))
		g := e.createGroup("Sales")
		res := e.do(req{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("add", "members", a)),
			header: map[string]string{"If-Match": `W/"1"`}})
		mustStatus(t, res, http.StatusOK)
		if res.header.Get("ETag") != `W/"2"` {
			t.Fatalf("ETag %q, want W/\"2\"", res.header.Get("ETag"))
		}
		for _, r := range []req{
			{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("remove", `members[value eq "`+a+`"]`))},
			{method: "PUT", path: "/Groups/" + g, body: groupBody("Sales")},
			{method: "DELETE", path: "/Groups/" + g},
		} {
			r.header = map[string]string{"If-Match": `W/"1"`}
			mustStatus(t, e.do(r), http.StatusPreconditionFailed)
		}
		res = e.do(req{method: "GET", path: "/Groups/" + g})
		if res.header.Get("ETag") != `W/"2"` || !strings.Contains(string(res.body), a) {
			t.Fatalf("after 412s: ETag %q body %s; want unchanged", res.header.Get("ETag"), res.body)
		}
		mustStatus(t, e.do(req{method: "DELETE", path: "/Groups/" + g, header: map[string]string{"If-Match": `W/"2"`}}), http.StatusNoContent)
	})
}

func TestGroups_MembersMustBeSCIMUsers(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		ctx := context.Background()
		a := e.createUser(user("a@example.com"))
		detached := e.createUser(user("gone@example.com"))
		mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + detached}), http.StatusNoContent)
		other, otherToken := e.newOrg("other")
		foreign := putProfile(t, db, other.ID, scimbridge.SourceSCIM, "x@other.example.com")
		google := putProfile(t, db, e.org.ID, scimbridge.SourceGoogle, "g@example.com")
		g := e.createGroup("Sales", a)
		bad := map[string]string{
			"OtherOrg": foreign.ID, "Detached": detached, "Google": google.ID,
			"Missing": uuid.NewString(), "NotUUID": "not-a-uuid",
		}
		for name, id := range bad {
			t.Run(name, func(t *testing.T) {
				res := e.do(req{method: "POST", path: "/Groups", body: groupBody("New "+name, a, id)})
				mustStatus(t, res, http.StatusBadRequest)
				if res.json(t)["scimType"] != "invalidValue" {
					t.Fatalf("body %s; want invalidValue", res.body)
				}
				for _, r := range []req{
					{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("add", "members", id))},
					{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("Add", "members", id))},
					{method: "PUT", path: "/Groups/" + g, body: groupBody("Sales", a, id)},
				} {
					mustStatus(t, e.do(r), http.StatusBadRequest)
				}
			})
		}
		grp, err := db.Group(ctx, e.org.ID, g)
		if err != nil || grp.Version != 1 {
			t.Fatalf("group %+v, %v; want version 1 (nothing written)", grp, err)
		}
		list := e.do(req{method: "GET", path: "/Groups"}).json(t)
		if list["totalResults"] != float64(1) {
			t.Fatalf("groups %v; only Sales was created", list)
		}
		// The other organization sees none of them.
		res := e.do(req{method: "GET", path: "/Groups/" + g, token: otherToken})
		mustStatus(t, res, http.StatusNotFound)
	})
}

func TestGroups_TooManyMemberChanges(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		g := e.createGroup("Big")
		ids := make([]string, scimbridge.MaxMemberChanges+1)
		for i := range ids {
			ids[i] = uuid.NewString()
		}
		res := e.do(req{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("add", "members", ids...))})
		mustStatus(t, res, http.StatusBadRequest)
		if !strings.Contains(string(res.body), "10000") {
			t.Fatalf("body %s; want the limit named", res.body)
		}
	})
}

func TestGroups_OnlySCIMGroupsVisible(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		gg := scimbridge.Group{ID: uuid.NewString(), OrgID: e.org.ID, DisplayName: "Google Sales", Source: scimbridge.SourceGoogle,
			GoogleID: "123", Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.ApplyGroupChange(context.Background(), scimbridge.GroupChangeEvent{
			Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: gg},
			Event:  scimbridge.Event{Time: now, Source: scimbridge.EventAdmin}}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			var body any
			switch m {
			case "PUT":
				body = groupBody("Mine")
			case "PATCH":
				body = patchBody(map[string]any{"op": "replace", "path": "displayName", "value": "Mine"})
			}
			mustStatus(t, e.do(req{method: m, path: "/Groups/" + gg.ID, body: body}), http.StatusNotFound)
		}
		for _, q := range []string{"", "?filter=" + url.QueryEscape(`displayName eq "Google Sales"`), "?filter=" + url.QueryEscape(`id eq "`+gg.ID+`"`)} {
			if l := e.do(req{method: "GET", path: "/Groups" + q}).json(t); l["totalResults"] != float64(0) {
				t.Fatalf("GET /Groups%s: %v; the Google group is not SCIM's", q, l)
			}
		}
		// A SCIM group may take the Google group's name.
		e.createGroup("Google Sales")
	})
}

func TestGroups_ListFiltersAndPaging(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		a := e.createUser(user("a@example.com"))
		ids := map[string]string{}
		for _, n := range []string{"One", "Two", "Three"} {
			ids[n] = e.createGroup(n)
		}
		mustStatus(t, e.do(req{method: "PATCH", path: "/Groups/" + ids["Two"], body: patchBody(
			map[string]any{"op": "replace", "value": map[string]any{"externalId": "ext-2"}}, memberOp("add", "members", a))}), http.StatusOK)
		count := func(q string) float64 {
			t.Helper()
			res := e.do(req{method: "GET", path: "/Groups?" + q})
			mustStatus(t, res, http.StatusOK)
			return res.json(t)["totalResults"].(float64)
		}
		f := func(s string) string { return "filter=" + url.QueryEscape(s) }
		for q, want := range map[string]float64{
			"":                                 3,
			f(`displayName eq "two"`):          1,
			f(`externalId eq "ext-2"`):         1,
			f(`externalId eq "EXT-2"`):         0,
			f(`members.value eq "` + a + `"`):  1,
			f(`members[value eq "` + a + `"]`): 1,
			f(`id eq "` + ids["One"] + `"`):    1,
			f(`id eq "` + ids["One"] + `" and displayName eq "Two"`): 0,
			f(`displayName eq "One" and displayName eq "Two"`):       0,
			f(`members.value eq "nope"`):                             0,
			f(`displayName co "T"`):                                  2,
			f(`displayName eq "one" or displayName eq "three"`):      2,
			f(`not (externalId pr)`):                                 2,
			f(`meta.created ge "2000-01-01T00:00:00Z"`):              3,
			f(`meta.lastModified lt "2000-01-01T00:00:00Z"`):         0,
			f(`meta.resourceType eq "Group"`):                        3,
		} {
			if got := count(q); got != want {
				t.Errorf("GET /Groups?%s: totalResults %v, want %v", q, got, want)
			}
		}
		page := e.do(req{method: "GET", path: "/Groups?startIndex=2&count=1&attributes=displayName"}).json(t)
		res := page["Resources"].([]any)
		if page["itemsPerPage"] != float64(1) || len(res) != 1 || res[0].(map[string]any)["meta"] != nil {
			t.Fatalf("page %v; want one group with only id and displayName", page)
		}
		search := e.do(req{method: "POST", path: "/Groups/.search", body: map[string]any{"filter": `displayName eq "Two"`, "excludedAttributes": []string{"members"}}})
		mustStatus(t, search, http.StatusOK)
		if s := search.json(t); s["totalResults"] != float64(1) || strings.Contains(string(search.body), `"members"`) {
			t.Fatalf("search %s", search.body)
		}
		for bad, scimType := range map[string]string{f(`userName eq "x"`): "invalidFilter", f(`title eq "x"`): "invalidFilter",
			f(`meta.created eq "yesterday"`): "invalidFilter", f(`displayName eq`): "invalidFilter",
			"sortBy=members": "invalidValue", "sortBy=userName": "invalidValue", "sortOrder=sideways": "invalidValue"} {
			res := e.do(req{method: "GET", path: "/Groups?" + bad})
			mustStatus(t, res, http.StatusBadRequest)
			if res.json(t)["scimType"] != scimType {
				t.Errorf("%s: %s; want %s", bad, res.body, scimType)
			}
		}
	})
}

func TestGroups_UserGroupsAttribute(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		a := e.createUser(user("a@example.com"))
		b := e.createUser(user("b@example.com"))
		g1 := e.createGroup("One", a, b)
		g2 := e.createGroup("Two", a)
		got := e.do(req{method: "GET", path: "/Users/" + a}).json(t)
		groups, _ := got["groups"].([]any)
		if len(groups) != 2 {
			t.Fatalf("groups %v; want One and Two", got["groups"])
		}
		seen := map[string]bool{}
		for _, x := range groups {
			m := x.(map[string]any)
			seen[m["value"].(string)] = true
			if m["$ref"] != e.base+"/Groups/"+m["value"].(string) || m["display"] == "" {
				t.Errorf("group entry %v", m)
			}
		}
		if !seen[g1] || !seen[g2] {
			t.Fatalf("groups %v; want %s and %s", groups, g1, g2)
		}
		list := e.do(req{method: "GET", path: "/Users?sortBy=userName"}).json(t)["Resources"].([]any)
		if n := len(list[0].(map[string]any)["groups"].([]any)); n != 2 {
			t.Errorf("list: a has %d groups, want 2", n)
		}
		if n := len(list[1].(map[string]any)["groups"].([]any)); n != 1 {
			t.Errorf("list: b has %d groups, want 1", n)
		}
		ex := e.do(req{method: "GET", path: "/Users/" + a + "?excludedAttributes=groups"})
		if strings.Contains(string(ex.body), `"groups"`) {
			t.Errorf("excludedAttributes=groups: %s", ex.body)
		}
		// The attribute is read-only: a PUT carrying it changes nothing.
		put := user("a@example.com", "groups", []map[string]any{{"value": uuid.NewString()}})
		mustStatus(t, e.do(req{method: "PUT", path: "/Users/" + a, body: put}), http.StatusOK)
		// Detaching the user takes it out of its groups.
		mustStatus(t, e.do(req{method: "DELETE", path: "/Users/" + b}), http.StatusNoContent)
		g := e.do(req{method: "GET", path: "/Groups/" + g1}).json(t)
		if ms := g["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != a {
			t.Fatalf("members after detach %v; want only %s", g["members"], a)
		}
	})
}

func TestGroups_OneEventPerRequest(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		a := e.createUser(user("a@example.com"))
		g := e.createGroup("Sales")
		requests := []req{
			{method: "POST", path: "/Groups", body: groupBody("Ops", a)},
			{method: "POST", path: "/Groups", body: groupBody("ops")},
			{method: "GET", path: "/Groups?filter=" + url.QueryEscape(`displayName eq "Ops"`)},
			{method: "GET", path: "/Groups/" + g},
			{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("Add", "members", a))},
			{method: "PATCH", path: "/Groups/" + g, body: patchBody(memberOp("add", "members", uuid.NewString()))},
			{method: "PUT", path: "/Groups/" + g, body: groupBody("Sales")},
			{method: "PUT", path: "/Groups/" + g, body: groupBody("Sales")},
			{method: "POST", path: "/Groups/.search", body: map[string]any{"count": 1}},
			{method: "DELETE", path: "/Groups/" + g},
			{method: "DELETE", path: "/Groups/" + g},
			{method: "POST", path: "/Groups", body: `{"displayName":`},
		}
		wantKind := map[int]scimbridge.ChangeKind{0: scimbridge.ChangeGroupCreate, 4: scimbridge.ChangeGroupUpdate,
			6: scimbridge.ChangeGroupUpdate, 9: scimbridge.ChangeGroupDelete}
		statuses := map[string]int{}
		for i, r := range requests {
			rid := fmt.Sprintf("grp-%02d", i)
			r.header = map[string]string{"X-Request-Id": rid}
			res := e.do(r)
			statuses[rid] = res.status
			if res.status >= 500 {
				t.Fatalf("%s %s: %d %s", r.method, r.path, res.status, res.body)
			}
		}
		events := e.events(e.org.ID)
		for i := range requests {
			rid := fmt.Sprintf("grp-%02d", i)
			ev := eventFor(t, events, rid)
			if ev.Status != statuses[rid] || ev.Kind != wantKind[i] {
				t.Errorf("%s: event status %d kind %q; want %d %q", rid, ev.Status, ev.Kind, statuses[rid], wantKind[i])
			}
			if wantKind[i] != "" && wantKind[i] != scimbridge.ChangeGroupDelete && !strings.Contains(ev.ResponseBody, `"displayName"`) {
				t.Errorf("%s: event response body %q; want the group sent", rid, ev.ResponseBody)
			}
		}
	})
}

// TestGroups_ThousandMembersOneEvent adds 1,000 members with one PATCH
// operation: one write, one event, and every member is in the group.
func TestGroups_ThousandMembersOneEvent(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		ctx := context.Background()
		now := time.Now().UTC()
		ids := make([]string, 1000)
		var batch []scimbridge.ChangeEvent
		for i := range ids {
			p, err := reconcile.NewProfile(e.org.ID, scimbridge.SourceSCIM, reconcile.Normalize(scimbridge.DesiredProfile{
				Attributes: scimbridge.Attributes{UserName: fmt.Sprintf("u%04d@example.com", i)}, Active: true}), uuid.NewString(), now)
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = p.ID
			batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}})
			if len(batch) == scimbridge.MaxBatch {
				if err := db.ApplyChanges(ctx, batch, nil); err != nil {
					t.Fatal(err)
				}
				batch = nil
			}
		}
		g := e.createGroup("All")
		res := e.do(req{method: "PATCH", path: "/Groups/" + g + "?excludedAttributes=members",
			body: patchBody(memberOp("Add", "members", ids...)), header: map[string]string{"X-Request-Id": "thousand"}})
		mustStatus(t, res, http.StatusOK)
		if res.header.Get("ETag") != `W/"2"` {
			t.Fatalf("ETag %q; want one write (W/\"2\")", res.header.Get("ETag"))
		}
		eventFor(t, e.events(e.org.ID), "thousand")
		members, err := db.GroupMembers(ctx, e.org.ID, g, "", scimbridge.MaxMemberPage)
		if err != nil || len(members) != len(ids) {
			t.Fatalf("%d members, %v; want %d", len(members), err, len(ids))
		}
		l := e.do(req{method: "GET", path: "/Groups?excludedAttributes=members&filter=" + url.QueryEscape(`members.value eq "`+ids[999]+`"`)}).json(t)
		if l["totalResults"] != float64(1) {
			t.Fatalf("member filter: %v", l)
		}
	})
}

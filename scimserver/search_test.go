package scimserver

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// resourceIDs returns the ids and resource types of a ListResponse's
// resources, in order.
func resourceIDs(t *testing.T, l map[string]any) (ids, types []string) {
	t.Helper()
	res, ok := l["Resources"].([]any)
	if !ok {
		t.Fatalf("no Resources array: %v", l)
	}
	for _, r := range res {
		m := r.(map[string]any)
		ids = append(ids, m["id"].(string))
		typ := ""
		if meta, ok := m["meta"].(map[string]any); ok {
			typ, _ = meta["resourceType"].(string)
		}
		types = append(types, typ)
	}
	return ids, types
}

func TestSearch_RootCoversUsersAndGroups(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		a := e.createUser(user("a@example.com"))
		b := e.createUser(user("b@example.com"))
		c := e.createUser(user("c@example.com"))
		users := []string{a, b, c}
		slices.Sort(users)
		g1 := e.createGroup("Admins", a)
		g2 := e.createGroup("Builders", b, c)
		groups := []string{g1, g2}
		slices.Sort(groups)
		// Another organization's resources never show.
		_, otherToken := e.newOrg("other")
		mustStatus(t, e.do(req{method: "POST", path: "/Users", body: user("z@example.com"), token: otherToken}), http.StatusCreated)

		search := func(body map[string]any) map[string]any {
			t.Helper()
			res := e.do(req{method: "POST", path: "/.search", body: body})
			mustStatus(t, res, http.StatusOK)
			return res.json(t)
		}
		all := search(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}})
		ids, types := resourceIDs(t, all)
		if all["totalResults"] != float64(5) || all["itemsPerPage"] != float64(5) ||
			!slices.Equal(ids, append(slices.Clone(users), groups...)) ||
			!slices.Equal(types, []string{"User", "User", "User", "Group", "Group"}) {
			t.Fatalf("search all: ids %v types %v; %v", ids, types, all)
		}

		// Paging runs through users, then groups.
		for _, tc := range []struct {
			start, count int
			want         []string
		}{
			{1, 2, users[:2]},
			{3, 2, []string{users[2], groups[0]}},
			{4, 10, groups},
			{5, 1, groups[1:]},
			{6, 10, nil},
			{1, 0, nil},
		} {
			l := search(map[string]any{"startIndex": tc.start, "count": tc.count})
			ids, _ := resourceIDs(t, l)
			if l["totalResults"] != float64(5) || l["startIndex"] != float64(tc.start) ||
				l["itemsPerPage"] != float64(len(tc.want)) || !slices.Equal(ids, tc.want) {
				t.Errorf("startIndex %d count %d: ids %v; want %v; %v", tc.start, tc.count, ids, tc.want, l)
			}
		}

		// The filter applies to each type; an attribute one type lacks does
		// not match there.
		for filter, want := range map[string][]string{
			`userName sw "A"`:                    {a},
			`displayName eq "admins"`:            {g1},
			`members.value eq "` + b + `"`:       {g2},
			`meta.resourceType eq "Group"`:       groups,
			`meta.resourceType eq "User"`:        users,
			`userName ne "a@example.com"`:        append(slices.DeleteFunc(slices.Clone(users), func(s string) bool { return s == a }), groups...),
			`emails[type eq "work"]`:             users,
			`not (emails[type eq "work"])`:       groups,
			`members pr or userName eq "nobody"`: groups,
			`meta.created pr`:                    append(slices.Clone(users), groups...),
		} {
			l := search(map[string]any{"filter": filter})
			ids, _ := resourceIDs(t, l)
			if l["totalResults"] != float64(len(want)) || !slices.Equal(ids, want) {
				t.Errorf("filter %s: ids %v (total %v); want %v", filter, ids, l["totalResults"], want)
			}
		}

		// sortBy orders each type; users come first.
		l := search(map[string]any{"sortBy": "userName", "sortOrder": "descending"})
		ids, _ = resourceIDs(t, l)
		wantDesc := []string{c, b, a}
		gDesc := slices.Clone(groups)
		slices.Reverse(gDesc)
		if !slices.Equal(ids, append(wantDesc, gDesc...)) {
			t.Errorf("sortBy userName descending: %v", ids)
		}
		l = search(map[string]any{"sortBy": "displayName", "filter": `meta.resourceType eq "Group"`})
		if ids, _ := resourceIDs(t, l); !slices.Equal(ids, []string{g1, g2}) {
			t.Errorf("sortBy displayName: %v, want Admins then Builders", ids)
		}

		// attributes and excludedAttributes apply to each type.
		res := e.do(req{method: "POST", path: "/.search", body: map[string]any{"excludedAttributes": []string{"members", "emails"}}})
		mustStatus(t, res, http.StatusOK)
		if strings.Contains(string(res.body), `"members"`) || strings.Contains(string(res.body), `"emails"`) {
			t.Errorf("excludedAttributes ignored: %s", res.body)
		}

		// Errors are SCIM error bodies with their scimType.
		for _, tc := range []struct {
			body     any
			status   int
			scimType string
		}{
			{map[string]any{"filter": `nope eq "x"`}, http.StatusBadRequest, "invalidFilter"},
			{map[string]any{"filter": `userName eq`}, http.StatusBadRequest, "invalidFilter"},
			{map[string]any{"filter": `active gt true`}, http.StatusBadRequest, "invalidFilter"},
			{map[string]any{"filter": `meta.created eq "soon"`}, http.StatusBadRequest, "invalidFilter"},
			{map[string]any{"sortBy": "nope"}, http.StatusBadRequest, "invalidValue"},
			{map[string]any{"sortOrder": "up"}, http.StatusBadRequest, "invalidValue"},
			{map[string]any{"count": "ten"}, http.StatusBadRequest, "invalidValue"},
			{"[1,2", http.StatusBadRequest, "invalidSyntax"},
		} {
			res := e.do(req{method: "POST", path: "/.search", body: tc.body})
			mustStatus(t, res, tc.status)
			m := res.json(t)
			if m["scimType"] != tc.scimType || m["status"] != "400" ||
				!strings.Contains(string(res.body), "urn:ietf:params:scim:api:messages:2.0:Error") {
				t.Errorf("%v: %s; want %s", tc.body, res.body, tc.scimType)
			}
		}
		mustStatus(t, e.do(req{method: "GET", path: "/.search"}), http.StatusMethodNotAllowed)
	})
}

func TestGroups_SortAndSearch(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		e := newEnv(t, db)
		ids := map[string]string{}
		for _, n := range []string{"beta", "Alpha", "gamma"} {
			ids[n] = e.createGroup(n)
		}
		for q, want := range map[string][]string{
			"sortBy=displayName":                                                     {ids["Alpha"], ids["beta"], ids["gamma"]},
			"sortBy=displayName&sortOrder=descending":                                {ids["gamma"], ids["beta"], ids["Alpha"]},
			"sortBy=meta.created&startIndex=2&count=1":                               {ids["Alpha"]},
			"sortBy=urn:ietf:params:scim:schemas:core:2.0:Group:displayName&count=1": {ids["Alpha"]},
		} {
			res := e.do(req{method: "GET", path: "/Groups?" + q})
			mustStatus(t, res, http.StatusOK)
			if got, _ := resourceIDs(t, res.json(t)); !slices.Equal(got, want) {
				t.Errorf("GET /Groups?%s: %v, want %v", q, got, want)
			}
		}
		res := e.do(req{method: "POST", path: "/Groups/.search", body: map[string]any{
			"filter": `displayName sw "g" or displayName sw "B"`, "sortBy": "displayName", "sortOrder": "descending"}})
		mustStatus(t, res, http.StatusOK)
		if got, _ := resourceIDs(t, res.json(t)); !slices.Equal(got, []string{ids["gamma"], ids["beta"]}) {
			t.Errorf("POST /Groups/.search: %v", got)
		}
		res = e.do(req{method: "POST", path: "/Users/.search", body: map[string]any{"filter": `displayName eq "beta"`}})
		mustStatus(t, res, http.StatusOK)
		if res.json(t)["totalResults"] != float64(0) {
			t.Errorf("POST /Users/.search found groups: %s", res.body)
		}
	})
}

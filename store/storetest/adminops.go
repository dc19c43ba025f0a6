package storetest

// The store methods of the admin API's and the console's operations:
// directory listings, one event, report items by kind, person erasure and
// organization deletion. Every method is checked for tenant isolation.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// RunAdminOps runs the admin operations' conformance tests; open returns
// a fresh, migrated, empty store for each subtest that also answers SQLX
// and Dialect (the raw rows are searched).
func RunAdminOps(t *testing.T, open func(t *testing.T) scimbridge.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s scimbridge.Store)
	}{
		{"DirectoryUsers", testDirectoryUsers},
		{"DirectorySearchDense", testDirectorySearchDense},
		{"DirectoryGroups", testDirectoryGroups},
		{"EventByID", testEventByID},
		{"EventAdminFilters", testEventAdminFilters},
		{"ReportItems", testReportItems},
		{"EraseProfile", testEraseProfile},
		{"DeleteOrganization", testDeleteOrganization},
		{"OwnedTablesCascade", testOwnedTablesCascade},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// rawDB is what the tests read rows through.
type rawDB interface {
	SQLX() *sqlx.DB
	Dialect() string
}

func raw(t *testing.T, s scimbridge.Store) rawDB {
	t.Helper()
	r, ok := s.(rawDB)
	if !ok {
		t.Fatalf("store %T does not give its SQL handle", s)
	}
	return r
}

// rebindQ turns ? placeholders into the store's.
func rebindQ(r rawDB, q string) string { return r.SQLX().Rebind(q) }

// directoryUsers lists every page of q with page size limit and returns the
// userNames in order, failing when a page is longer than limit.
func directoryUsers(t *testing.T, s scimbridge.Store, q scimbridge.DirectoryQuery, limit int) []string {
	t.Helper()
	var out []string
	q.Limit = limit
	for i := 0; i < 1000; i++ {
		ps, err := s.DirectoryUsers(context.Background(), q)
		if err != nil {
			t.Fatalf("directory users %+v: %v", q, err)
		}
		if len(ps) > limit {
			t.Fatalf("page of %d users, limit %d", len(ps), limit)
		}
		for j, p := range ps {
			if j > 0 && ps[j-1].ID >= p.ID {
				t.Fatalf("users out of id order")
			}
			if p.OrgID != q.OrgID {
				t.Fatalf("user %s of organization %s listed for %s", p.UserName, p.OrgID, q.OrgID)
			}
			out = append(out, p.UserName)
		}
		if len(ps) < limit {
			return out
		}
		q.After = ps[len(ps)-1].ID
	}
	t.Fatal("listing does not end")
	return nil
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func testDirectoryUsers(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	var all []string
	for i := 0; i < 23; i++ {
		p := newProfile(org.ID, fmt.Sprintf("user%02d@acme.example", i))
		if i%2 == 1 {
			p.Source = scimbridge.SourceGoogle
		}
		if i%3 == 0 {
			p.State = scimbridge.StateInactive
		}
		create(t, s, p)
		all = append(all, p.UserName)
		// The other organization has the same people: never listed here.
		create(t, s, newProfile(other.ID, p.UserName))
	}
	ada := newProfile(org.ID, "ADA.L")
	ada.Email, ada.Emails = "Lovelace@Math.example", []scimbridge.Email{{Value: "Lovelace@Math.example"}}
	ada.DisplayName = "Countess Ada"
	create(t, s, ada)
	all = append(all, ada.UserName)
	// A displayName longer than the part its index holds: found by a
	// search longer than that part, and not by one that differs after it.
	long := newProfile(org.ID, "long@acme.example")
	long.DisplayName = strings.Repeat("Ü", 250) + " Tail"
	create(t, s, long)
	all = append(all, long.UserName)
	gone := newProfile(org.ID, "gone@acme.example")
	create(t, s, gone)
	detached := gone
	now := at(time.Hour)
	detached.DetachedAt, detached.UpdatedAt = &now, now
	if err := tryUpdate(s, scimbridge.ChangeDetach, detached, 1); err != nil {
		t.Fatal(err)
	}

	t.Run("Paging", func(t *testing.T) {
		for _, limit := range []int{1, 5, 24, 100} {
			got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID}, limit)
			if !reflect.DeepEqual(sorted(got), sorted(all)) {
				t.Errorf("limit %d: got %d users %v, want %d", limit, len(got), got, len(all))
			}
		}
		_, err := s.DirectoryUsers(ctx, scimbridge.DirectoryQuery{OrgID: org.ID, Limit: 0})
		wantCode(t, err, scimbridge.EINVALID)
	})
	t.Run("Detached", func(t *testing.T) {
		got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, IncludeDetached: true}, 7)
		if len(got) != len(all)+1 || !slices.Contains(got, gone.UserName) {
			t.Errorf("with detached: %v", got)
		}
		got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, IncludeDetached: true, Search: "GONE"}, 7)
		if !reflect.DeepEqual(got, []string{gone.UserName}) {
			t.Errorf("detached by search: %v", got)
		}
	})
	t.Run("Search", func(t *testing.T) {
		for _, tc := range []struct {
			search string
			want   []string
		}{
			{"USER1", []string{"user10@acme.example", "user11@acme.example", "user12@acme.example",
				"user13@acme.example", "user14@acme.example", "user15@acme.example", "user16@acme.example",
				"user17@acme.example", "user18@acme.example", "user19@acme.example"}},
			{"user22@", []string{"user22@acme.example"}},
			{"ada", []string{"ADA.L"}},        // userName
			{"lovelace@m", []string{"ADA.L"}}, // email
			{"countess a", []string{"ADA.L"}}, // displayName
			{strings.Repeat("ü", 240), []string{"long@acme.example"}},
			{strings.Repeat("ü", 250) + " tail", []string{"long@acme.example"}},
			{strings.Repeat("ü", 250) + " tale", nil},
			{"acme", nil}, // not a prefix of anything
			{"zz", nil},
		} {
			got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Search: tc.search}, 3)
			if !reflect.DeepEqual(sorted(got), sorted(tc.want)) {
				t.Errorf("search %q = %v, want %v", tc.search, got, tc.want)
			}
		}
	})
	t.Run("Filters", func(t *testing.T) {
		got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Source: scimbridge.SourceGoogle}, 4)
		if len(got) != 11 {
			t.Errorf("google users = %d, want 11", len(got))
		}
		got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Active: no()}, 4)
		if len(got) != 8 {
			t.Errorf("inactive users = %d, want 8: %v", len(got), got)
		}
		got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Active: yes(),
			Source: scimbridge.SourceSCIM, Search: "user0"}, 4)
		// user00..09, scim (even), active (not a multiple of 3): 02, 04, 08.
		if !reflect.DeepEqual(sorted(got), []string{"user02@acme.example", "user04@acme.example", "user08@acme.example"}) {
			t.Errorf("active scim user0* = %v", got)
		}
		_, err := s.DirectoryUsers(ctx, scimbridge.DirectoryQuery{OrgID: org.ID, Source: "ldap", Limit: 10})
		wantCode(t, err, scimbridge.EINVALID)
	})
	t.Run("Emails", func(t *testing.T) {
		ps, err := s.DirectoryUsers(ctx, scimbridge.DirectoryQuery{OrgID: org.ID, Search: "ada", Limit: 10})
		if err != nil || len(ps) != 1 || len(ps[0].Emails) != 1 || ps[0].Email != ada.Email {
			t.Errorf("whole profile = %+v, %v", ps, err)
		}
	})
	t.Run("TenantIsolation", func(t *testing.T) {
		got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: other.ID, Search: "ada"}, 10)
		if len(got) != 0 {
			t.Errorf("other organization sees %v", got)
		}
		if got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: other.ID}, 100); len(got) != 23 {
			t.Errorf("other organization lists %d users, want 23", len(got))
		}
	})
}

func testDirectoryGroups(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	names := []string{"Engineering", "engineering-leads", "Sales", "Support", "Admins"}
	for i, n := range names {
		src := scimbridge.SourceSCIM
		if i%2 == 1 {
			src = scimbridge.SourceGoogle
		}
		createGroup(t, s, newGroup(org.ID, n, src))
		createGroup(t, s, newGroup(other.ID, n+" (other)", scimbridge.SourceSCIM))
	}
	list := func(q scimbridge.DirectoryQuery, limit int) []string {
		t.Helper()
		var out []string
		q.Limit = limit
		for {
			gs, err := s.DirectoryGroups(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				if g.OrgID != q.OrgID {
					t.Fatalf("group of another organization: %+v", g)
				}
				out = append(out, g.DisplayName)
			}
			if len(gs) < limit {
				return sorted(out)
			}
			q.After = gs[len(gs)-1].ID
		}
	}
	if got := list(scimbridge.DirectoryQuery{OrgID: org.ID}, 2); !reflect.DeepEqual(got, sorted(names)) {
		t.Errorf("groups = %v", got)
	}
	if got := list(scimbridge.DirectoryQuery{OrgID: org.ID, Search: "ENGINEER"}, 1); !reflect.DeepEqual(got,
		[]string{"Engineering", "engineering-leads"}) {
		t.Errorf("search = %v", got)
	}
	if got := list(scimbridge.DirectoryQuery{OrgID: org.ID, Source: scimbridge.SourceGoogle}, 10); !reflect.DeepEqual(got,
		[]string{"Support", "engineering-leads"}) {
		t.Errorf("google groups = %v", got)
	}
	if got := list(scimbridge.DirectoryQuery{OrgID: other.ID, Search: "sales"}, 10); !reflect.DeepEqual(got,
		[]string{"Sales (other)"}) {
		t.Errorf("other organization's search = %v", got)
	}
}

func testEventByID(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	ev := scimbridge.Event{OrgID: org.ID, Time: base, Method: "POST", Path: "/scim/v2/Users", Status: 409,
		TargetUserName: "ada@x", Source: scimbridge.EventIdP, RequestBody: `{"userName":"ada@x"}`,
		ResponseBody: `{"status":"409"}`, Error: "userName is already in use", Count: 1}
	if err := s.AppendEvents(ctx, []scimbridge.Event{ev}); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("events = %+v, %v", page, err)
	}
	id := page.Events[0].ID
	got, err := s.Event(ctx, org.ID, id)
	ev.ID, ev.Time = id, utc(base)
	if err != nil || !reflect.DeepEqual(got, ev) {
		t.Errorf("event:\n got %+v, %v\nwant %+v", got, err, ev)
	}
	_, err = s.Event(ctx, other.ID, id)
	wantCode(t, err, scimbridge.ENOTFOUND)
	_, err = s.Event(ctx, org.ID, id+1)
	wantCode(t, err, scimbridge.ENOTFOUND)
}

func testEventAdminFilters(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	var evs []scimbridge.Event
	for i := 0; i < 60; i++ {
		for _, o := range []scimbridge.Organization{org, other} {
			user := fmt.Sprintf("User%d@x", i%3)
			status := []int{200, 201, 404, 409, 500}[i%5]
			path := "/scim/v2/Users"
			if i%4 == 0 {
				path = "/scim/v2/Groups/" + fmt.Sprint(i)
			}
			evs = append(evs, scimbridge.Event{OrgID: o.ID, Time: at(time.Duration(i) * time.Minute), Method: "POST",
				Path: path, Status: status, TargetUserName: user, Source: scimbridge.EventIdP, Count: 1})
		}
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	count := func(q scimbridge.EventQuery) int {
		t.Helper()
		n := 0
		q.Limit = 7
		for {
			page, err := s.ListEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				if e.OrgID != q.OrgID {
					t.Fatalf("event of another organization")
				}
				if q.StatusClass != 0 && e.Status/100 != q.StatusClass {
					t.Fatalf("status %d in class %d", e.Status, q.StatusClass)
				}
				if q.UserName != "" && !strings.EqualFold(e.TargetUserName, q.UserName) {
					t.Fatalf("username %s for %s", e.TargetUserName, q.UserName)
				}
				if q.PathPrefix != "" && !strings.HasPrefix(e.Path, q.PathPrefix) {
					t.Fatalf("path %s for prefix %s", e.Path, q.PathPrefix)
				}
			}
			n += len(page.Events)
			if page.NextCursor == 0 {
				return n
			}
			q.Cursor = page.NextCursor
		}
	}
	// i%5 in {2,3} is 4xx: 24 of 60; user0 is i%3 == 0: 20; both: i%15 in {0..14} with i%5 in{2,3} and i%3==0: 12, 3 -> 8.
	for _, tc := range []struct {
		q    scimbridge.EventQuery
		want int
	}{
		{scimbridge.EventQuery{StatusClass: 4}, 24},
		{scimbridge.EventQuery{UserName: "user0@X"}, 20},
		{scimbridge.EventQuery{StatusClass: 4, UserName: "USER0@x"}, 8},
		{scimbridge.EventQuery{PathPrefix: "/scim/v2/Groups/"}, 15},
		{scimbridge.EventQuery{PathPrefix: "/scim/v2/groups/"}, 0},
		{scimbridge.EventQuery{StatusClass: 5, PathPrefix: "/scim/v2/Users"}, 9},
	} {
		q := tc.q
		q.OrgID = org.ID
		if got := count(q); got != tc.want {
			t.Errorf("%+v: %d events, want %d", tc.q, got, tc.want)
		}
		q.OrgID = other.ID
		if got := count(q); got != tc.want {
			t.Errorf("other organization %+v: %d events, want %d", tc.q, got, tc.want)
		}
	}
}

func testReportItems(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	r := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual,
		Status: scimbridge.ReportApplied, StartedAt: base}
	kinds := []scimbridge.ChangeKind{scimbridge.ChangeCreate, scimbridge.ChangeUpdate, "skip"}
	for i := 0; i < 30; i++ {
		r.Items = append(r.Items, scimbridge.ReportItem{Kind: kinds[i%3], UserName: fmt.Sprintf("u%d@x", i)})
	}
	if err := s.PutReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	page := func(kind scimbridge.ChangeKind, limit int) []int {
		t.Helper()
		var out []int
		after := -1
		for {
			items, err := s.ReportItems(ctx, org.ID, r.ID, kind, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if kind != "" && it.Kind != kind {
					t.Fatalf("item of kind %s for %s", it.Kind, kind)
				}
				if it.UserName != fmt.Sprintf("u%d@x", it.Position) {
					t.Fatalf("item %d is %s", it.Position, it.UserName)
				}
				out = append(out, it.Position)
			}
			if len(items) < limit {
				return out
			}
			after = items[len(items)-1].Position
		}
	}
	if got := page("skip", 4); !reflect.DeepEqual(got, []int{2, 5, 8, 11, 14, 17, 20, 23, 26, 29}) {
		t.Errorf("skips = %v", got)
	}
	if got := page("", 7); len(got) != 30 {
		t.Errorf("every item = %v", got)
	}
	if got := page("deactivate", 7); len(got) != 0 {
		t.Errorf("no deactivations = %v", got)
	}
	_, err := s.ReportItems(ctx, other.ID, r.ID, "", -1, 10)
	wantCode(t, err, scimbridge.ENOTFOUND)
}

// testDirectorySearchDense pages through a search matching more profiles
// than the store reads through the key indexes (it then walks the
// organization in id order) and one matching fewer.
func testDirectorySearchDense(t *testing.T, s scimbridge.Store) {
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	SeedProfiles(t, s, org.ID, 6000) // u1@example.com ... u6000@example.com
	SeedProfiles(t, s, other.ID, 30)
	create(t, s, newProfile(org.ID, "zed@example.com"))
	got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Search: "U"}, 1000)
	if len(got) != 6000 {
		t.Errorf("dense search = %d users, want 6000", len(got))
	}
	for _, u := range got {
		if !strings.HasPrefix(u, "u") {
			t.Fatalf("dense search found %s", u)
		}
	}
	got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Search: "u59"}, 50)
	if len(got) != 111 { // u59, u590..u599, u5900..u5999
		t.Errorf("sparse search = %d users, want 111", len(got))
	}
	if got := directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: other.ID, Search: "u"}, 1000); len(got) != 30 {
		t.Errorf("other organization's search = %d users, want 30", len(got))
	}
	// A displayName of 4,000 bytes is written and found by a prefix
	// longer than the indexed part.
	long := newProfile(org.ID, "long@example.com")
	long.DisplayName = strings.Repeat("Long Name ", 400)
	create(t, s, long)
	got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Search: long.DisplayName[:250]}, 10)
	if len(got) != 1 || got[0] != long.UserName {
		t.Errorf("search by a 250-character displayName prefix = %v", got)
	}
	got = directoryUsers(t, s, scimbridge.DirectoryQuery{OrgID: org.ID, Search: long.DisplayName[:250] + "x"}, 10)
	if len(got) != 0 {
		t.Errorf("search past the indexed part = %v, want none", got)
	}
}

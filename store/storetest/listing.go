package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

func testLookup(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	a := newProfile(org.ID, "Alice@x.example")
	a.ExternalID = "ext-a"
	create(t, s, a)
	b := newProfile(org.ID, "bob")
	b.Email, b.GoogleID, b.Source = "Bob@X.example", "g-b", scimbridge.SourceGoogle
	create(t, s, b)
	d := newProfile(org.ID, "dave@x.example")
	now := at(time.Hour)
	d.DetachedAt = &now
	create(t, s, d)
	create(t, s, newProfile(other.ID, "alice@x.example"))

	cases := []struct {
		name string
		l    scimbridge.ProfileLookup
		want []string
	}{
		{"UserName", scimbridge.ProfileLookup{UserName: "ALICE@X.EXAMPLE"}, []string{a.ID}},
		{"Email", scimbridge.ProfileLookup{Email: "bob@x.EXAMPLE"}, []string{b.ID}},
		{"EmailIsNotUserName", scimbridge.ProfileLookup{UserName: "bob@x.example"}, nil},
		{"ExternalIDCaseExact", scimbridge.ProfileLookup{ExternalID: "EXT-A"}, nil},
		{"ExternalID", scimbridge.ProfileLookup{ExternalID: "ext-a"}, []string{a.ID}},
		{"GoogleID", scimbridge.ProfileLookup{GoogleID: "g-b"}, []string{b.ID}},
		{"Detached", scimbridge.ProfileLookup{UserName: "dave@x.example"}, []string{d.ID}},
		{"AnyKeyOnce", scimbridge.ProfileLookup{UserName: "alice@x.example", Email: "alice@x.example",
			ExternalID: "ext-a", GoogleID: "g-b"}, []string{a.ID, b.ID}},
		{"Empty", scimbridge.ProfileLookup{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.LookupProfiles(ctx, org.ID, c.l)
			if err != nil {
				t.Fatal(err)
			}
			gotIDs := ids(got)
			sort.Strings(gotIDs)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if len(gotIDs) != 0 || len(want) != 0 {
				if !reflect.DeepEqual(gotIDs, want) {
					t.Errorf("lookup %+v = %v, want %v", c.l, gotIDs, want)
				}
			}
			for _, p := range got {
				if len(p.Emails) == 0 {
					t.Errorf("profile %s came without its emails", p.UserName)
				}
			}
		})
	}
}

func testList(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	var all []scimbridge.Profile
	for i := range 12 {
		p := newProfile(org.ID, fmt.Sprintf("user%02d@x.example", 11-i))
		p.CreatedAt = at(time.Duration(i) * time.Second)
		if i%4 == 3 {
			p.Source = scimbridge.SourceManual
		}
		all = append(all, create(t, s, p))
	}
	det := newProfile(org.ID, "detached@x.example")
	now := at(time.Hour)
	det.DetachedAt = &now
	create(t, s, det)
	create(t, s, newProfile(other.ID, "user00@x.example"))

	list := func(t *testing.T, q scimbridge.ProfileQuery) scimbridge.ProfilePage {
		t.Helper()
		q.OrgID = org.ID
		page, err := s.ListProfiles(ctx, q)
		if err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		return page
	}

	t.Run("DefaultOrderByID", func(t *testing.T) {
		page := list(t, scimbridge.ProfileQuery{Limit: 100})
		if page.Total != 12 || len(page.Profiles) != 12 {
			t.Fatalf("total %d, %d profiles; want 12 (detached and other org excluded)", page.Total, len(page.Profiles))
		}
		if !sort.StringsAreSorted(ids(page.Profiles)) {
			t.Errorf("not ordered by id: %v", ids(page.Profiles))
		}
		for _, p := range page.Profiles {
			if len(p.Emails) != 1 || p.Emails[0].Value != p.UserName {
				t.Errorf("profile %s emails = %+v", p.UserName, p.Emails)
			}
		}
	})

	t.Run("Sources", func(t *testing.T) {
		page := list(t, scimbridge.ProfileQuery{Sources: []scimbridge.Source{scimbridge.SourceSCIM}, Limit: 100})
		if page.Total != 9 || len(page.Profiles) != 9 {
			t.Errorf("scim profiles = %d/%d, want 9", page.Total, len(page.Profiles))
		}
		page = list(t, scimbridge.ProfileQuery{Sources: []scimbridge.Source{scimbridge.SourceSCIM, scimbridge.SourceManual}, Limit: 100})
		if page.Total != 12 {
			t.Errorf("scim+manual profiles = %d, want 12", page.Total)
		}
	})

	t.Run("IncludeDetached", func(t *testing.T) {
		if page := list(t, scimbridge.ProfileQuery{IncludeDetached: true, Limit: 100}); page.Total != 13 {
			t.Errorf("total with detached = %d, want 13", page.Total)
		}
	})

	t.Run("SortAndPage", func(t *testing.T) {
		var got []string
		for offset := 0; offset < 12; offset += 5 {
			page := list(t, scimbridge.ProfileQuery{SortBy: "userName", Descending: true, Offset: offset, Limit: 5})
			if page.Total != 12 {
				t.Fatalf("total = %d", page.Total)
			}
			got = append(got, userNames(page.Profiles)...)
		}
		want := userNames(all)
		sort.Sort(sort.Reverse(sort.StringSlice(want)))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
		page := list(t, scimbridge.ProfileQuery{SortBy: "meta.created", Limit: 3})
		if !reflect.DeepEqual(ids(page.Profiles), ids(all[:3])) {
			t.Errorf("by created = %v", userNames(page.Profiles))
		}
	})

	t.Run("CountOnly", func(t *testing.T) {
		page := list(t, scimbridge.ProfileQuery{Limit: 0})
		if page.Total != 12 || len(page.Profiles) != 0 {
			t.Errorf("count only = %d total, %d profiles", page.Total, len(page.Profiles))
		}
		page = list(t, scimbridge.ProfileQuery{Offset: 50, Limit: 10})
		if page.Total != 12 || len(page.Profiles) != 0 {
			t.Errorf("past the end = %d total, %d profiles", page.Total, len(page.Profiles))
		}
	})

	t.Run("Filter", func(t *testing.T) {
		page := list(t, scimbridge.ProfileQuery{Limit: 10,
			Filter: scimbridge.CompareFilter{Attr: "userName", Op: scimbridge.OpEq, Value: "USER03@X.example"}})
		if page.Total != 1 || len(page.Profiles) != 1 || page.Profiles[0].UserName != "user03@x.example" {
			t.Errorf("userName eq = %+v", userNames(page.Profiles))
		}
		page = list(t, scimbridge.ProfileQuery{Limit: 10,
			Filter: scimbridge.CompareFilter{Attr: "emails.value", Op: scimbridge.OpEq, Value: "user04@x.example"}})
		if page.Total != 1 {
			t.Errorf("emails.value eq total = %d, want 1", page.Total)
		}
		none := list(t, scimbridge.ProfileQuery{Limit: 10,
			Filter: scimbridge.CompareFilter{Attr: "userName", Op: scimbridge.OpEq, Value: "nobody@x.example"}})
		if none.Total != 0 || none.Profiles == nil || len(none.Profiles) != 0 {
			t.Errorf("no match = %d total, %#v", none.Total, none.Profiles)
		}
	})

	t.Run("FilterPages", func(t *testing.T) {
		sw := scimbridge.CompareFilter{Attr: "userName", Op: scimbridge.OpSw, Value: "user"}
		for _, c := range []struct {
			offset, limit, want int
		}{{0, 3, 3}, {0, 12, 12}, {0, 13, 12}, {10, 5, 2}, {12, 5, 0}, {20, 5, 0}} {
			page := list(t, scimbridge.ProfileQuery{Filter: sw, SortBy: "userName", Offset: c.offset, Limit: c.limit})
			if page.Total != 12 || len(page.Profiles) != c.want {
				t.Errorf("offset %d limit %d: total %d, %d profiles; want 12, %d", c.offset, c.limit, page.Total, len(page.Profiles), c.want)
			}
		}
	})

	t.Run("MaxBytes", func(t *testing.T) {
		// A byte budget of about three profiles ends each page early;
		// Total still counts every match and paging on by the page's
		// length reads every profile once.
		budget := 0
		for _, p := range all[:3] {
			budget += scimbridge.ValueBytes(scimbridge.DesiredProfile{Attributes: p.Attributes, ExternalID: p.ExternalID})
		}
		sw := scimbridge.CompareFilter{Attr: "userName", Op: scimbridge.OpSw, Value: "user"}
		for _, f := range []scimbridge.Filter{nil, sw} {
			seen := map[string]int{}
			for offset, pages := 0, 0; offset < 12; pages++ {
				page := list(t, scimbridge.ProfileQuery{Filter: f, SortBy: "userName", Offset: offset, Limit: 12, MaxBytes: budget})
				if page.Total != 12 || len(page.Profiles) == 0 || len(page.Profiles) > 4 {
					t.Fatalf("filter %v offset %d: total %d, %d profiles; want 12, 1 to 4", f, offset, page.Total, len(page.Profiles))
				}
				for _, p := range page.Profiles {
					seen[p.ID]++
				}
				offset += len(page.Profiles)
				if pages > 12 {
					t.Fatal("paging does not end")
				}
			}
			for _, p := range all {
				if seen[p.ID] != 1 {
					t.Errorf("filter %v: %s listed %d times; want once", f, p.UserName, seen[p.ID])
				}
			}
		}
	})

	t.Run("EmailsInOrder", func(t *testing.T) {
		multi := newOrg(t, s, "multi")
		var want []scimbridge.Profile
		for i := range 3 {
			p := newProfile(multi.ID, fmt.Sprintf("m%d@x.example", i))
			p.Emails = []scimbridge.Email{{Value: p.UserName, Type: "work", Primary: new(true)},
				{Value: fmt.Sprintf("z%d@home.example", i), Type: "home"}, {Value: fmt.Sprintf("a%d@other.example", i), Display: "A"}}
			want = append(want, stored(create(t, s, p)))
		}
		page, err := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: multi.ID, SortBy: "userName", Descending: true, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 3 || !reflect.DeepEqual(page.Profiles, []scimbridge.Profile{want[2], want[1]}) {
			t.Errorf("page = %d, %+v\nwant %+v", page.Total, page.Profiles, []scimbridge.Profile{want[2], want[1]})
		}
		got, err := s.LookupProfiles(ctx, multi.ID, scimbridge.ProfileLookup{Email: "m1@x.example"})
		if err != nil || !reflect.DeepEqual(got, want[1:2]) {
			t.Errorf("lookup = %+v, %v", got, err)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		_, err := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: 1,
			Filter: scimbridge.CompareFilter{Attr: "password", Op: scimbridge.OpEq, Value: "x"}})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: 1, SortBy: "nope"})
		wantCode(t, err, scimbridge.EINVALID)
		_, err = s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: -1})
		wantCode(t, err, scimbridge.EINVALID)
	})
}

func testManaged(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	var want []scimbridge.Profile
	for i := range 30 {
		p := newProfile(org.ID, fmt.Sprintf("g%02d@x.example", i))
		p.Source, p.GoogleID, p.DesiredHash = scimbridge.SourceGoogle, fmt.Sprintf("1000000000000000000%02d", i), fmt.Sprint("h", i)
		p.Emails = append(p.Emails, scimbridge.Email{Value: fmt.Sprintf("alias%02d@x.example", i)})
		want = append(want, stored(create(t, s, p)))
	}
	create(t, s, newProfile(org.ID, "scim@x.example"))
	det := newProfile(org.ID, "gone@x.example")
	now := at(time.Hour)
	det.Source, det.DetachedAt = scimbridge.SourceGoogle, &now
	create(t, s, det)
	g := newProfile(other.ID, "g00@x.example")
	g.Source = scimbridge.SourceGoogle
	create(t, s, g)

	got, err := s.ManagedProfiles(ctx, org.ID, scimbridge.SourceGoogle)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("managed profiles differ:\n got %v\nwant %v", userNames(got), userNames(want))
	}
	none, err := s.ManagedProfiles(ctx, org.ID, scimbridge.SourceSAML)
	if err != nil || len(none) != 0 {
		t.Errorf("saml profiles = %v, %v; want none", none, err)
	}
}

func testRelease(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	a := create(t, s, newProfile(org.ID, "a@x"))
	create(t, s, newProfile(org.ID, "b@x"))
	m := newProfile(org.ID, "m@x")
	m.Source = scimbridge.SourceManual
	create(t, s, m)

	n, err := s.ReleaseProfiles(ctx, org.ID, scimbridge.SourceSCIM,
		scimbridge.Event{Time: base, Method: "POST", Path: "profiles release", Status: 200, Source: scimbridge.EventAdmin})
	if err != nil || n != 2 {
		t.Fatalf("release = %d, %v; want 2", n, err)
	}
	got := mustGet(t, s, org.ID, a.ID)
	if got.Source != scimbridge.SourceManual || got.Version != 2 {
		t.Errorf("released profile = source %s version %d", got.Source, got.Version)
	}
	page, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventAdmin})
	if len(page.Events) != 1 || page.Events[0].Kind != scimbridge.ChangeRelease {
		t.Errorf("release events = %+v", page.Events)
	}
	if n, _ := s.ReleaseProfiles(ctx, org.ID, scimbridge.SourceSCIM, scimbridge.Event{Time: base}); n != 0 {
		t.Errorf("second release = %d, want 0", n)
	}
	t.Run("DropsDesiredHash", func(t *testing.T) {
		g := newProfile(org.ID, "g@x")
		g.Source, g.GoogleID, g.DesiredHash = scimbridge.SourceGoogle, "g1", "hash"
		create(t, s, g)
		if n, err := s.ReleaseProfiles(ctx, org.ID, scimbridge.SourceGoogle, scimbridge.Event{Time: base}); err != nil || n != 1 {
			t.Fatalf("release google = %d, %v; want 1", n, err)
		}
		if got := mustGet(t, s, org.ID, g.ID); got.Source != scimbridge.SourceManual || got.DesiredHash != "" {
			t.Errorf("released google profile: source %s, desired hash %q; want manual without a hash", got.Source, got.DesiredHash)
		}
	})
}

package fakegoogle

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

// getAt requests path?query with token as the bearer.
func (f *fixture) getAt(t *testing.T, token, path, query string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+path+"?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func membersPath(key string) string { return GroupsPath + "/" + url.PathEscape(key) + "/members" }

func TestServer_Groups(t *testing.T) {
	f := newFixture(t)
	users := GenerateUsers(300, 1)
	gen := GenerateGroups(users, 450, 20, 3)
	f.s.SetUsers(users)
	f.s.SetGroups(gen)

	t.Run("PagingWireFormat", func(t *testing.T) {
		resp, body := f.getAt(t, f.token, GroupsPath, "customer=my_customer&maxResults=200")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var raw map[string]any
		json.Unmarshal(body, &raw)
		if raw["kind"] != "admin#directory#groups" {
			t.Fatalf("kind = %v", raw["kind"])
		}
		g := raw["groups"].([]any)[0].(map[string]any)
		// directMembersCount is a string on the wire (int64 as JSON string).
		if g["kind"] != "admin#directory#group" || g["id"] != GeneratedGroupID(0) || g["email"] != GeneratedGroupEmail(0) {
			t.Fatalf("first group = %v", g)
		}
		if _, ok := g["directMembersCount"].(string); !ok {
			t.Fatalf("directMembersCount = %#v, want a JSON string", g["directMembersCount"])
		}
		var ids []string
		pages := 0
		for tok := ""; ; {
			_, body := f.getAt(t, f.token, GroupsPath, "customer=my_customer&maxResults=200&pageToken="+url.QueryEscape(tok))
			var p admin.Groups
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			pages++
			for _, g := range p.Groups {
				ids = append(ids, g.Id)
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		if len(ids) != 450 || pages != 3 {
			t.Fatalf("paged %d groups in %d pages, want 450 in 3", len(ids), pages)
		}
	})

	t.Run("MaxResultsRange", func(t *testing.T) {
		for _, p := range []string{GroupsPath, membersPath(GeneratedGroupID(1))} {
			if resp, _ := f.getAt(t, f.token, p, "customer=my_customer&maxResults=201"); resp.StatusCode != 400 {
				t.Fatalf("%s maxResults=201: status %d, want 400", p, resp.StatusCode)
			}
		}
	})

	t.Run("NeedsCustomerOrDomain", func(t *testing.T) {
		if resp, _ := f.getAt(t, f.token, GroupsPath, ""); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("Query", func(t *testing.T) {
		cases := map[string]int{
			"email:platform-*":                 len(gen.matching(func(g *admin.Group) bool { return strings.HasPrefix(g.Email, "platform-") })),
			"email=" + GeneratedGroupEmail(7):  1,
			"name:'Sales 1*'":                  len(gen.matching(func(g *admin.Group) bool { return strings.HasPrefix(g.Name, "Sales 1") })),
			"name='sales 3' email:sales*":      1,
			"name=Nobody":                      0,
			"NAME:eng* email:engineering-1*  ": -1, // field names are lower case
		}
		for q, want := range cases {
			resp, body := f.getAt(t, f.token, GroupsPath, "customer=my_customer&query="+url.QueryEscape(q))
			if want < 0 {
				if resp.StatusCode != 400 {
					t.Errorf("query %q: status %d, want 400", q, resp.StatusCode)
				}
				continue
			}
			var p admin.Groups
			json.Unmarshal(body, &p)
			if resp.StatusCode != 200 || len(p.Groups) != want {
				t.Errorf("query %q: status %d, %d groups, want %d", q, resp.StatusCode, len(p.Groups), want)
			}
		}
		if want := len(gen.matching(func(g *admin.Group) bool { return strings.HasPrefix(g.Email, "platform-") })); want < 30 {
			t.Fatalf("only %d platform groups: the query test proves little", want)
		}
	})

	t.Run("QueryPaging", func(t *testing.T) {
		// Matching groups 10 a page: the token continues the scan.
		want := gen.matching(func(g *admin.Group) bool { return strings.HasPrefix(g.Email, "platform-") })
		var got []string
		for tok := ""; ; {
			_, body := f.getAt(t, f.token, GroupsPath, "customer=my_customer&maxResults=10&query=email%3Aplatform-*&pageToken="+url.QueryEscape(tok))
			var p admin.Groups
			json.Unmarshal(body, &p)
			for _, g := range p.Groups {
				got = append(got, g.Email)
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("paged query listed %d groups, want %d", len(got), len(want))
		}
	})

	t.Run("Members", func(t *testing.T) {
		types := map[string]int{}
		statuses := map[string]int{}
		for i := 0; i < gen.Len(); i++ {
			n := 0
			for tok := ""; ; {
				resp, body := f.getAt(t, f.token, membersPath(GeneratedGroupID(i)), "maxResults=7&pageToken="+url.QueryEscape(tok))
				if resp.StatusCode != 200 {
					t.Fatalf("group %d: status %d: %s", i, resp.StatusCode, body)
				}
				var p admin.Members
				json.Unmarshal(body, &p)
				if p.Kind != "admin#directory#members" {
					t.Fatalf("kind %q", p.Kind)
				}
				for _, m := range p.Members {
					if m.Kind != "admin#directory#member" || m.Id == "" || m.Role == "" {
						t.Fatalf("member %+v", m)
					}
					types[m.Type]++
					statuses[m.Status]++
					n++
				}
				if tok = p.NextPageToken; tok == "" {
					break
				}
			}
			if n != gen.MemberCount(i) || int64(n) != gen.Group(i).DirectMembersCount {
				t.Fatalf("group %d: %d members, count says %d", i, n, gen.MemberCount(i))
			}
			if i > 50 {
				break
			}
		}
		for _, typ := range []string{MemberUser, MemberGroup, MemberExternal, MemberCustomer} {
			if types[typ] == 0 {
				t.Errorf("no %s members among %v", typ, types)
			}
		}
		if statuses["SUSPENDED"] == 0 {
			t.Errorf("no suspended members among %v", statuses)
		}
	})

	t.Run("MembersByEmailAndRoles", func(t *testing.T) {
		_, body := f.getAt(t, f.token, membersPath(strings.ToUpper(GeneratedGroupEmail(3))), "roles=OWNER")
		var p admin.Members
		json.Unmarshal(body, &p)
		if len(p.Members) != 1 || p.Members[0].Role != "OWNER" {
			t.Fatalf("owners = %+v", p.Members)
		}
		if resp, _ := f.getAt(t, f.token, membersPath("nobody@example.com"), ""); resp.StatusCode != 404 {
			t.Fatalf("unknown group: status %d, want 404", resp.StatusCode)
		}
	})

	t.Run("FieldsMask", func(t *testing.T) {
		_, body := f.getAt(t, f.token, membersPath(GeneratedGroupID(2)), "fields="+url.QueryEscape("nextPageToken,members(id,type)")+"&maxResults=2")
		var raw map[string]any
		json.Unmarshal(body, &raw)
		if _, ok := raw["kind"]; ok || raw["nextPageToken"] == nil {
			t.Fatalf("mask not applied to the page: %s", body)
		}
		if m := raw["members"].([]any)[0].(map[string]any); len(m) != 2 || m["id"] == nil || m["type"] == nil {
			t.Fatalf("member = %v, want id and type", m)
		}
		_, body = f.getAt(t, f.token, GroupsPath, "customer=my_customer&maxResults=1&fields="+url.QueryEscape("groups(id,email)"))
		json.Unmarshal(body, &raw)
		if g := raw["groups"].([]any)[0].(map[string]any); len(g) != 2 {
			t.Fatalf("group = %v, want id and email", g)
		}
	})
}

func TestServer_DerivedMembership(t *testing.T) {
	f := newFixture(t)
	m := func(typ, id, email string) *admin.Member {
		return &admin.Member{Kind: "admin#directory#member", Type: typ, Id: id, Email: email, Role: "MEMBER", Status: "ACTIVE"}
	}
	f.s.SetGroups(&StaticGroups{
		Groups: []*admin.Group{{Id: "g1", Email: "outer@example.com"}, {Id: "g2", Email: "inner@example.com"}},
		Members: [][]*admin.Member{
			{m(MemberUser, "u1", "a@example.com"), m(MemberGroup, "g2", "inner@example.com")},
			{m(MemberUser, "u2", "b@example.com"), m(MemberUser, "u1", "a@example.com")},
		},
	})
	count := func(q string) int {
		_, body := f.getAt(t, f.token, membersPath("outer@example.com"), q)
		var p admin.Members
		json.Unmarshal(body, &p)
		return len(p.Members)
	}
	if direct, derived := count(""), count("includeDerivedMembership=true"); direct != 2 || derived != 3 {
		t.Fatalf("direct %d, derived %d; want 2 and 3 (u1, g2, u2)", direct, derived)
	}
}

func TestServer_GroupScope(t *testing.T) {
	f := newFixture(t)
	f.s.SetGroups(GenerateGroups(GenerateUsers(10, 1), 3, 5, 1))
	f.s.SetRefreshTokenScopes(DirectoryReadonlyScope)
	usersOnly := f.refresh(t)
	for _, p := range []string{GroupsPath, membersPath(GeneratedGroupID(0))} {
		resp, body := f.getAt(t, usersOnly, p, "customer=my_customer")
		gerr, ok := googleapi.CheckResponseWithBody(resp, body).(*googleapi.Error)
		if !ok || gerr.Code != 403 || gerr.Errors[0].Reason != "insufficientPermissions" {
			t.Fatalf("%s with a users-only token: %s", p, body)
		}
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
	if resp, _ := f.getAt(t, usersOnly, UsersPath, "customer=my_customer"); resp.StatusCode != 200 {
		t.Fatalf("users with a users-only token: %d", resp.StatusCode)
	}
	f.s.SetRefreshTokenScopes(GroupReadonlyScope)
	groupsOnly := f.refresh(t)
	if resp, _ := f.getAt(t, groupsOnly, UsersPath, "customer=my_customer"); resp.StatusCode != 403 {
		t.Fatalf("users with a groups-only token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.getAt(t, groupsOnly, GroupsPath, "customer=my_customer"); resp.StatusCode != 200 {
		t.Fatalf("groups with a groups-only token: %d", resp.StatusCode)
	}
}

func TestServer_Quota(t *testing.T) {
	f := newFixture(t)
	f.s.SetUsers(GenerateUsers(3, 1))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.s.SetClock(func() time.Time { return now })
	f.s.SetQuota(5)
	for i := 0; i < 5; i++ {
		if resp, _ := f.getAt(t, f.token, UsersPath, "customer=my_customer"); resp.StatusCode != 200 {
			t.Fatalf("request %d within the quota: %d", i+1, resp.StatusCode)
		}
		now = now.Add(10 * time.Second)
	}
	// Five in the last minute (at 0..40 s, now 50 s): the sixth is refused
	// until the first leaves the window at 60 s.
	resp, body := f.getAt(t, f.token, GroupsPath, "customer=my_customer")
	gerr, ok := googleapi.CheckResponseWithBody(resp, body).(*googleapi.Error)
	if !ok || gerr.Code != 403 || gerr.Errors[0].Reason != "userRateLimitExceeded" {
		t.Fatalf("over quota: %s", body)
	}
	if !strings.Contains(string(body), `"domain":"usageLimits"`) {
		t.Fatalf("over quota: domain is not usageLimits: %s", body)
	}
	if resp.Header.Get("Retry-After") != "11" {
		t.Fatalf("Retry-After = %q, want 11", resp.Header.Get("Retry-After"))
	}
	if f.s.RateLimited() != 1 {
		t.Fatalf("rate limited = %d", f.s.RateLimited())
	}
	now = now.Add(10 * time.Second)
	if resp, _ := f.getAt(t, f.token, UsersPath, "customer=my_customer"); resp.StatusCode != 200 {
		t.Fatalf("after the window moved: %d", resp.StatusCode)
	}
	f.s.SetQuota(0)
	for i := 0; i < 20; i++ {
		if resp, _ := f.getAt(t, f.token, UsersPath, "customer=my_customer"); resp.StatusCode != 200 {
			t.Fatalf("quota off: %d", resp.StatusCode)
		}
	}
}

func TestGenerateGroups_Deterministic(t *testing.T) {
	users := GenerateUsers(500, 2)
	a, b := GenerateGroups(users, 200, 50, 4), GenerateGroups(users, 200, 50, 4)
	total := 0
	for i := 0; i < a.Len(); i++ {
		if a.MemberCount(i) != b.MemberCount(i) || a.Group(i).Email != b.Group(i).Email {
			t.Fatalf("group %d differs", i)
		}
		seen := map[string]bool{}
		for j := 0; j < a.MemberCount(i); j++ {
			m := a.Member(i, j)
			if o := b.Member(i, j); m.Id != o.Id || m.Email != o.Email || m.Type != o.Type || m.Role != o.Role || m.Status != o.Status {
				t.Fatalf("member %d/%d differs", i, j)
			}
			if seen[m.Id] {
				t.Fatalf("group %d lists member %s twice", i, m.Id)
			}
			seen[m.Id] = true
			if m.Type == MemberGroup && m.Id >= GeneratedGroupID(i) {
				t.Fatalf("group %d nests group %s, not an earlier one", i, m.Id)
			}
		}
		total += a.MemberCount(i)
	}
	if avg := total / a.Len(); avg < 45 || avg > 55 {
		t.Fatalf("average members %d, want about 50", avg)
	}
}

// matching lists the emails of the generated groups that pass keep.
func (g *GeneratedGroups) matching(keep func(*admin.Group) bool) []string {
	var out []string
	for i := 0; i < g.Len(); i++ {
		if gr := g.Group(i); keep(gr) {
			out = append(out, gr.Email)
		}
	}
	return out
}

// refresh gets a new access token through the refresh-token grant.
func (f *fixture) refresh(t *testing.T) string {
	t.Helper()
	resp, err := http.PostForm(f.ts.URL+TokenPath, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {f.s.auth.clientID},
		"client_secret": {f.s.auth.clientSecret}, "refresh_token": {f.s.auth.refreshToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	return tok.AccessToken
}

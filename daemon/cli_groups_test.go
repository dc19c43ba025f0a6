package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// addGroup creates g in org with the given member profile ids through the
// store, as the SCIM API and the bridge do.
func (e *testEnv) addGroup(org scimbridge.Organization, g scimbridge.Group, members ...string) scimbridge.Group {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	g.ID, g.OrgID, g.Version = uuid.NewString(), org.ID, 1
	g.CreatedAt, g.UpdatedAt = now, now
	e.withStore(func(db *store.DB) {
		err := db.ApplyGroupChange(context.Background(), scimbridge.GroupChangeEvent{
			Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g, AddMembers: members},
			Event: scimbridge.Event{Time: now, Method: "POST", Path: "/Groups", Status: 201,
				Source: scimbridge.EventIdP, Count: 1},
		})
		if err != nil {
			e.t.Fatalf("add group %s: %v", g.DisplayName, err)
		}
	})
	return g
}

func TestCLI_Groups(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			e.mustRun("org", "create", "other")
			org, other := e.org("acme"), e.org("other")
			alice := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "alice@acme.test", DisplayName: "Alice"}, Source: scimbridge.SourceSCIM})
			bob := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "bob@acme.test"}, Source: scimbridge.SourceGoogle})
			mallory := e.addProfile(other, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "mallory@other.test"}, Source: scimbridge.SourceSCIM})
			eng := e.addGroup(org, scimbridge.Group{DisplayName: "Engineering", ExternalID: "ext-eng", Source: scimbridge.SourceSCIM},
				alice.ID, bob.ID)
			sales := e.addGroup(org, scimbridge.Group{DisplayName: "Sales", Source: scimbridge.SourceGoogle,
				GoogleID: "03x8tuzt1234567"}, bob.ID)
			e.addGroup(other, scimbridge.Group{DisplayName: "Secret", Source: scimbridge.SourceSCIM}, mallory.ID)

			byID := func(rs []map[string]any) map[string]map[string]any {
				m := map[string]map[string]any{}
				for _, r := range rs {
					m[r["id"].(string)] = r
				}
				return m
			}
			t.Run("ListJSON", func(t *testing.T) {
				var all []map[string]any
				e.mustJSON(&all, "groups", "list", "--org", "acme", "--json")
				m := byID(all)
				if len(all) != 2 || m[eng.ID] == nil || m[sales.ID] == nil {
					t.Fatalf("groups list --json = %v", all)
				}
				g := m[eng.ID]
				if g["displayName"] != "Engineering" || g["externalId"] != "ext-eng" || g["source"] != "scim" {
					t.Errorf("engineering = %v", g)
				}
				if v, ok := g["googleId"]; !ok || v != nil {
					t.Errorf("engineering googleId = %v, want present and null", v)
				}
				schemas, _ := g["schemas"].([]any)
				if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:schemas:core:2.0:Group" {
					t.Errorf("schemas = %v", g["schemas"])
				}
				meta, _ := g["meta"].(map[string]any)
				if meta["resourceType"] != "Group" || meta["location"] != "https://scim.example.test/api/connect/v1/Groups/"+eng.ID {
					t.Errorf("meta = %v", meta)
				}
				members, _ := g["members"].([]any)
				got := map[string]bool{}
				for _, mm := range members {
					got[mm.(map[string]any)["value"].(string)] = true
				}
				if len(members) != 2 || !got[alice.ID] || !got[bob.ID] {
					t.Errorf("members = %v", g["members"])
				}
				if s := m[sales.ID]; s["source"] != "google" || s["googleId"] != "03x8tuzt1234567" {
					t.Errorf("sales = %v", s)
				}
			})
			t.Run("SourceFilter", func(t *testing.T) {
				var got []map[string]any
				e.mustJSON(&got, "groups", "list", "--org", "acme", "--source", "google", "--json")
				if len(got) != 1 || got[0]["id"] != sales.ID {
					t.Errorf("--source google = %v", got)
				}
				var empty []any
				e.mustJSON(&empty, "groups", "list", "--org", "acme", "--source", "manual", "--json")
				if empty == nil || len(empty) != 0 {
					t.Errorf("--source manual = %v, want []", empty)
				}
				if r := e.run("groups", "list", "--org", "acme", "--source", "saml"); r.code != 2 {
					t.Errorf("--source saml: exit %d, want 2", r.code)
				}
			})
			t.Run("Table", func(t *testing.T) {
				out := e.mustRun("groups", "list", "--org", "acme")
				for _, s := range []string{"DISPLAYNAME", "MEMBERS", eng.ID, "Engineering", "Sales", "google"} {
					if !strings.Contains(out, s) {
						t.Errorf("table lacks %q:\n%s", s, out)
					}
				}
				for _, line := range strings.Split(out, "\n") {
					f := strings.Fields(line)
					if len(f) == 4 && f[0] == eng.ID && f[3] != "2" || len(f) == 4 && f[0] == sales.ID && f[3] != "1" {
						t.Errorf("member count wrong: %q", line)
					}
				}
				if strings.Contains(out, "Secret") {
					t.Errorf("table shows another organization's group:\n%s", out)
				}
			})
			t.Run("Show", func(t *testing.T) {
				for _, key := range []string{eng.ID, "engineering"} {
					var got map[string]any
					e.mustJSON(&got, "groups", "show", "--org", "acme", key, "--json")
					if got["id"] != eng.ID || got["source"] != "scim" || len(got["members"].([]any)) != 2 {
						t.Errorf("show %s = %v", key, got)
					}
				}
				out := e.mustRun("groups", "show", "--org", "acme", "Sales")
				for _, s := range []string{sales.ID, "03x8tuzt1234567", "google", "bob@acme.test"} {
					if !strings.Contains(out, s) {
						t.Errorf("show Sales lacks %q:\n%s", s, out)
					}
				}
				if strings.Contains(out, "alice@acme.test") {
					t.Errorf("show Sales lists a non-member:\n%s", out)
				}
			})
			t.Run("Unknown", func(t *testing.T) {
				for _, key := range []string{"Secret", uuid.NewString()} {
					r := e.run("groups", "show", "--org", "acme", key)
					if r.code != 1 || !strings.Contains(r.stderr, "no group") {
						t.Errorf("show %s: exit %d, stderr %q", key, r.code, r.stderr)
					}
				}
			})
			t.Run("RepeatedGoogleName", func(t *testing.T) {
				// Google group names may repeat: a name that matches more
				// than one group asks for the id instead of picking one.
				twin := e.addGroup(org, scimbridge.Group{DisplayName: "Twins", Source: scimbridge.SourceGoogle, GoogleID: "g-twin-1"})
				twin2 := e.addGroup(org, scimbridge.Group{DisplayName: "twins", Source: scimbridge.SourceGoogle, GoogleID: "g-twin-2"})
				r := e.run("groups", "show", "--org", "acme", "Twins")
				if r.code != 1 || !strings.Contains(r.stderr, twin.ID) || !strings.Contains(r.stderr, twin2.ID) {
					t.Errorf("show a repeated name: exit %d, stderr %q", r.code, r.stderr)
				}
				var got map[string]any
				e.mustJSON(&got, "groups", "show", "--org", "acme", twin2.ID, "--json")
				if got["googleId"] != "g-twin-2" {
					t.Errorf("show by id = %v", got)
				}
			})
			t.Run("MissingOrg", func(t *testing.T) {
				for _, args := range [][]string{{"groups", "list"}, {"groups", "show", "Sales"}} {
					if r := e.run(args...); r.code != 2 {
						t.Errorf("%v: exit %d, want 2", args, r.code)
					}
				}
			})
		})
	}
}

// TestCLI_GroupsManyMembers checks that a group of more members than one
// page lists and counts every one of them once.
func TestCLI_GroupsManyMembers(t *testing.T) {
	const n = 1203 // more than one page of members, not a multiple of it
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			org := e.org("acme")
			now := time.Now().UTC().Truncate(time.Microsecond)
			ids := make([]string, 0, n)
			e.withStore(func(db *store.DB) {
				var batch []scimbridge.ChangeEvent
				for i := 0; i < n; i++ {
					p := scimbridge.Profile{ID: uuid.NewString(), OrgID: org.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
						State: scimbridge.StateActive, Role: scimbridge.RoleMember, Source: scimbridge.SourceSCIM,
						Attributes: scimbridge.Attributes{UserName: fmt.Sprintf("u%04d@acme.test", i)}}
					p.Email = p.UserName
					ids = append(ids, p.ID)
					batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}})
					if len(batch) == scimbridge.MaxBatch || i == n-1 {
						if err := db.ApplyChanges(context.Background(), batch, nil); err != nil {
							t.Fatalf("add profiles: %v", err)
						}
						batch = batch[:0]
					}
				}
			})
			g := e.addGroup(org, scimbridge.Group{DisplayName: "Everyone", Source: scimbridge.SourceSCIM}, ids...)

			var got []map[string]any
			e.mustJSON(&got, "groups", "list", "--org", "acme", "--json")
			if len(got) != 1 {
				t.Fatalf("groups list --json: %d groups", len(got))
			}
			seen := map[string]bool{}
			for _, m := range got[0]["members"].([]any) {
				seen[m.(map[string]any)["value"].(string)] = true
			}
			if len(got[0]["members"].([]any)) != n || len(seen) != n {
				t.Errorf("members: %d entries, %d distinct, want %d", len(got[0]["members"].([]any)), len(seen), n)
			}
			out := e.mustRun("groups", "list", "--org", "acme")
			if !strings.Contains(out, g.ID) || !strings.Contains(out, fmt.Sprint(n)) {
				t.Errorf("table:\n%s", out)
			}
			out = e.mustRun("groups", "show", "--org", "acme", "Everyone")
			if !strings.Contains(out, "u0000@acme.test") || !strings.Contains(out, fmt.Sprintf("u%04d@acme.test", n-1)) {
				t.Errorf("show lacks the first or last member")
			}
		})
	}
}

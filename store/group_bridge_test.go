package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestGroupSyncLookups checks the bridge's group-sync reads: Google ids
// resolve only to non-detached Google profiles of the organization, and
// memberships are counted for the groups of one source.
func TestGroupSyncLookups(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"SQLite", storetest.OpenSQLite},
		{"PostgreSQL", storetest.OpenPostgres},
	} {
		t.Run(backend.name, func(t *testing.T) {
			ctx := context.Background()
			db := backend.open(t)
			var orgs []string
			for _, slug := range []string{"acme", "other"} {
				org := scimbridge.Organization{ID: uuid.NewString(), Slug: slug, Name: slug, CreatedAt: time.Now()}
				if err := db.CreateOrganization(ctx, org); err != nil {
					t.Fatal(err)
				}
				orgs = append(orgs, org.ID)
			}
			ids := storetest.SeedProfiles(t, db, orgs[0], 1200)
			other := storetest.SeedProfiles(t, db, orgs[1], 1)
			x := db.WriteSQLX()
			set := func(query string, args ...any) {
				t.Helper()
				if _, err := x.ExecContext(ctx, x.Rebind(query), args...); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]string{}
			var gids []string
			for i, id := range ids {
				gid := fmt.Sprintf("g%d", i)
				gids = append(gids, gid)
				switch {
				case i == 0: // a SCIM profile holding a Google id
					set(`UPDATE profiles SET google_id = ? WHERE id = ?`, gid, id)
				case i == 1: // detached
					set(`UPDATE profiles SET google_id = ?, source = 'google', detached_at = updated_at WHERE id = ?`, gid, id)
				default:
					set(`UPDATE profiles SET google_id = ?, source = 'google' WHERE id = ?`, gid, id)
					want[gid] = id
				}
			}
			set(`UPDATE profiles SET google_id = 'g5', source = 'google' WHERE id = ?`, other[0])
			// Many ids (one pass) and a few (by the index) resolve alike.
			for _, ask := range [][]string{append(gids, "unknown"), {"g0", "g1", "g2", "g3", "g5", "unknown"}} {
				got, err := db.GoogleProfileIDs(ctx, orgs[0], ask)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, gid := range ask {
					if id, ok := want[gid]; ok {
						n++
						if got[gid] != id {
							t.Fatalf("%s -> %q, want %q", gid, got[gid], id)
						}
					}
				}
				if len(got) != n {
					t.Fatalf("%d ids resolved, want %d: %v", len(got), n, len(ask))
				}
			}

			now := time.Now().UTC()
			var groupIDs []string
			for i, src := range []scimbridge.Source{scimbridge.SourceGoogle, scimbridge.SourceGoogle, scimbridge.SourceSCIM} {
				g := scimbridge.Group{ID: uuid.NewString(), OrgID: orgs[0], DisplayName: fmt.Sprint("G", i), Source: src,
					Version: 1, CreatedAt: now, UpdatedAt: now}
				if src == scimbridge.SourceGoogle {
					g.GoogleID = fmt.Sprint("grp", i)
				}
				if err := db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{
					Kind: scimbridge.ChangeGroupCreate, Group: g, AddMembers: ids[10 : 20+i]}}); err != nil {
					t.Fatal(err)
				}

				groupIDs = append(groupIDs, g.ID)
			}
			members, err := db.GroupMemberIDs(ctx, orgs[0], append(groupIDs, uuid.NewString()))
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range groupIDs {
				want := slices.Clone(ids[10 : 20+i])
				slices.Sort(want)
				if !slices.Equal(members[g], want) {
					t.Fatalf("group %d members %v, want %v", i, members[g], want)
				}
			}
			if len(members) != 3 {
				t.Fatalf("members of %d groups, want 3", len(members))
			}
			if n, err := db.CountGroupMembers(ctx, orgs[0], scimbridge.SourceGoogle); err != nil || n != 10+11 {
				t.Fatalf("google memberships = %d, %v; want 21", n, err)
			}
			if n, err := db.CountGroupMembers(ctx, orgs[1], scimbridge.SourceGoogle); err != nil || n != 0 {
				t.Fatalf("another organization's memberships = %d, %v", n, err)
			}
		})
	}
}

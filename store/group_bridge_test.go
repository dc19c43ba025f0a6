package store_test

import (
	"context"
	"fmt"
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
			got, err := db.GoogleProfileIDs(ctx, orgs[0], append(gids, "unknown"))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d ids resolved, want %d", len(got), len(want))
			}
			for gid, id := range want {
				if got[gid] != id {
					t.Fatalf("%s -> %q, want %q", gid, got[gid], id)
				}
			}

			now := time.Now().UTC()
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

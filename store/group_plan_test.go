package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestGroupMembersPlan checks a page of a large group's members reads the
// membership primary key in order, after only the statistics refresh the
// store runs itself: a plan that sorts the group's members would read all
// of them for every page.
func TestGroupMembersPlan(t *testing.T) {
	const members = 20000
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"PostgreSQL", storetest.OpenPostgres},
		{"SQLite", storetest.OpenSQLite},
	} {
		t.Run(backend.name, func(t *testing.T) {
			ctx := context.Background()
			db := backend.open(t)
			org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "Acme", CreatedAt: time.Now()}
			if err := db.CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
			ids := storetest.SeedProfiles(t, db, org.ID, members)
			g := scimbridge.Group{ID: uuid.NewString(), OrgID: org.ID, DisplayName: "Everyone",
				Source: scimbridge.SourceSCIM, Version: 1, CreatedAt: org.CreatedAt, UpdatedAt: org.CreatedAt}
			batch := []scimbridge.GroupChangeEvent{{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g}}}
			for i := 0; i < members; i += scimbridge.MaxMemberChanges {
				next := g
				next.Version = int64(len(batch) + 1)
				batch = append(batch, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{
					Kind: scimbridge.ChangeGroupUpdate, Group: next, ExpectedVersion: next.Version - 1,
					AddMembers: ids[i : i+scimbridge.MaxMemberChanges]}})
			}
			if err := db.ApplyGroupChanges(ctx, batch, nil); err != nil {
				t.Fatal(err)
			}
			db.CountChanges(ctx, 0) // waits for the ANALYZE the batch started
			plan := explainMembers(t, db, g.ID, org.ID)
			var bad bool
			if db.Dialect() == store.DialectPostgres {
				bad = strings.Contains(plan, "Sort") || !strings.Contains(plan, "group_members_pkey")
			} else {
				bad = strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "SEARCH m USING INDEX sqlite_autoindex_group_members_1 (group_id=? AND profile_id>?)")
			}
			if bad {
				t.Errorf("a members page does not read the primary key in order:\n%s", plan)
			}
		})
	}
}

func explainMembers(t *testing.T, db *store.DB, groupID, orgID string) string {
	t.Helper()
	prefix := "EXPLAIN "
	if db.Dialect() == store.DialectSQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.SQLX().Queryx(prefix+db.GroupMembersStatement(), groupID, orgID, "", 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		cols, err := rows.SliceScan()
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := cols[len(cols)-1].(string); ok {
			lines = append(lines, s)
		} else if b, ok := cols[len(cols)-1].([]byte); ok {
			lines = append(lines, string(b))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

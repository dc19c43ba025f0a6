package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// TestMigrate_DisplayNameKeyBackfill writes profiles under the schema
// before display_name_key existed and checks the migration fills the key
// exactly as new writes do (textkey: NFC, lower-cased, beyond ASCII), so
// displayName filters find existing users on both databases.
func TestMigrate_DisplayNameKeyBackfill(t *testing.T) {
	names := []string{"Zoe\u0308 ÉLAN", "Ada Lovelace", "İSTANBUL ΣΊΣΥΦΟΣ"}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			if err := db.MigrateTo(ctx, 4); err != nil {
				t.Fatalf("migrate to 4: %v", err)
			}
			var when any = time.Now().UnixMicro()
			if b.name == "postgres" {
				when = time.Now()
			}
			org := uuid.NewString()
			b.exec(t, `INSERT INTO organizations (id, slug, name, created_at) VALUES (?, 'acme', 'Acme', ?)`, org, when)
			ids := map[string]string{}
			for i, name := range append(names, "") {
				id := uuid.NewString()
				ids[id] = name
				var display any = name
				if name == "" {
					display = nil
				}
				b.exec(t, `INSERT INTO profiles (id, org_id, user_name, user_name_key, display_name, state, source, version, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, 'active', 'scim', 1, ?, ?)`, id, org, "u"+string(rune('a'+i)), "u"+string(rune('a'+i)), display, when, when)
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			for id, name := range ids {
				var key *string
				if err := db.SQLX().QueryRowx(db.SQLX().Rebind(`SELECT display_name_key FROM profiles WHERE id = ?`), id).Scan(&key); err != nil {
					t.Fatal(err)
				}
				switch {
				case name == "" && key != nil:
					t.Errorf("unassigned displayName got key %q", *key)
				case name != "" && (key == nil || *key != textkey.Key(name)):
					t.Errorf("displayName %q: key %v, want %q", name, key, textkey.Key(name))
				}
			}
			page, err := db.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org,
				Filter: scimbridge.CompareFilter{Attr: "displayName", Op: scimbridge.OpEq, Value: "zoë élan"}, Limit: 10})
			if err != nil || len(page.Profiles) != 1 {
				t.Errorf("filter on a migrated displayName: %d profiles, %v", len(page.Profiles), err)
			}
		})
	}
}

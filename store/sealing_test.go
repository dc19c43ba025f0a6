package store_test

import (
	"bytes"
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// Migration 0004 records the keys of the bridges sealed before it, so a
// database upgraded with credentials in it is checked like a new one.
func TestMigration0004_RecordsExistingKeys(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			var want []string
			for i, raw := range [][]byte{bytes.Repeat([]byte{1}, seal.KeySize), bytes.Repeat([]byte{2}, seal.KeySize)} {
				k, err := seal.NewKeyring(raw)
				if err != nil {
					t.Fatal(err)
				}
				org := scimbridge.Organization{ID: uuid.NewString(), Slug: []string{"acme", "globex"}[i], Name: "X", CreatedAt: time.Now()}
				if err := db.CreateOrganization(ctx, org); err != nil {
					t.Fatal(err)
				}
				sealed, err := k.Seal(org.ID, []byte("{}"))
				if err != nil {
					t.Fatal(err)
				}
				b := scimbridge.Bridge{OrgID: org.ID, SealedCredentials: sealed, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if err := db.PutBridge(ctx, b, scimbridge.Event{Time: time.Now(), Method: "PUT", Path: "/x", Status: 200,
					RequestID: uuid.NewString(), Source: scimbridge.EventAdmin, Count: 1}); err != nil {
					t.Fatal(err)
				}
				want = append(want, k.KeyID())
			}
			sort.Strings(want)
			if err := db.Backfill0004(ctx); err != nil {
				t.Fatalf("backfill: %v", err)
			}
			if got, err := db.SealingKeyIDs(ctx); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("key ids after the migration = %v, %v; want %v", got, err, want)
			}
		})
	}
}

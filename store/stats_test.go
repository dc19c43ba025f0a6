package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestAnalyseAsTableGrows checks that PostgreSQL's planner statistics are
// refreshed by the store itself, without a manual ANALYZE: after the
// first batches of a fresh database, then once the changes reach the size
// the last ANALYZE found.
func TestAnalyseAsTableGrows(t *testing.T) {
	db := storetest.OpenPostgres(t)
	ctx := context.Background()
	org := seedPlanOrg(t, db, "grow", 1000)
	reltuples := func() float64 {
		var n float64
		if err := db.SQLX().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'profiles'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := reltuples(); n >= 0 {
		t.Fatalf("a fresh table is already analysed (reltuples %v)", n)
	}
	if runs, rows := db.CountChanges(ctx, 1000); runs != 1 || rows != 1000 || reltuples() != 1000 {
		t.Fatalf("after 1,000 changes: %d analyses, %d rows (reltuples %v), want 1 of 1,000", runs, rows, reltuples())
	}
	if _, err := db.WriteSQLX().ExecContext(ctx, `INSERT INTO profiles (id, org_id, user_name, user_name_key, email, email_key,
		state, source, version, role, access_revoked, created_at, updated_at)
		SELECT gen_random_uuid()::text, $1, 'x' || i, 'x' || i, 'x' || i, 'x' || i, 'active', 'manual', 1, 'member', false, now(), now()
		FROM generate_series(1, 1100) i`, org); err != nil {
		t.Fatal(err)
	}
	if runs, _ := db.CountChanges(ctx, 999); runs != 1 {
		t.Fatalf("an ANALYZE before the changes reach the table's size: %d runs", runs)
	}
	if runs, rows := db.CountChanges(ctx, 1100); runs != 2 || rows != 2100 {
		t.Fatalf("after 2,099 more changes: %d analyses, %d rows, want 2 of 2,100", runs, rows)
	}
}

// TestAnalyseAfterSingleChanges checks that the changes of single SCIM
// requests, which PostgreSQL commits as one statement, count towards the
// next ANALYZE like batches do.
func TestAnalyseAfterSingleChanges(t *testing.T) {
	db := storetest.OpenPostgres(t)
	ctx := context.Background()
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "single", Name: "single", CreatedAt: time.Now(), AdoptExisting: true}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	for i := range store.AnalyseFirst {
		d := scimbridge.DesiredProfile{Active: true}
		d.UserName = fmt.Sprintf("user%d@example.com", i)
		p, err := reconcile.NewProfile(org.ID, scimbridge.SourceSCIM, reconcile.Normalize(d), uuid.NewString(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}}); err != nil {
			t.Fatal(err)
		}
	}
	if runs, rows := db.CountChanges(ctx, 0); runs != 1 || rows != store.AnalyseFirst {
		t.Fatalf("after %d single creates: %d analyses of %d rows, want 1 of %d", store.AnalyseFirst, runs, rows, store.AnalyseFirst)
	}
}

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestChanges_LateCommitIsNotPassed holds open a transaction that took a
// lower position (its transaction id) while a higher one commits: the
// reader must return neither, and both in position order once the first
// commits — even though the late record's sequence value is the higher.
func TestChanges_LateCommitIsNotPassed(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenPostgres(t)
	org := createAcme(t, db, db)
	held, err := db.BeginHeld(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()

	p := scimbridge.Profile{ID: uuid.NewString(), OrgID: org.ID, Attributes: scimbridge.Attributes{UserName: "ann@x.example"},
		Email: "ann@x.example", State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err = db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: time.Now(), Method: "POST", Status: 201, Source: scimbridge.EventIdP}})
	if err != nil {
		t.Fatal(err)
	}
	// The held transaction writes its record after the other committed:
	// its sequence value is the higher, its transaction id the lower.
	late := scimbridge.ChangeRecord{OrgID: org.ID, Type: scimbridge.ChangeBridgePlanHeld, ResourceID: "late",
		Source: scimbridge.EventGoogle, Time: time.Now()}
	if err := held.Record(ctx, late); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		recs, err := db.ChangesAfter(ctx, org.ID, scimbridge.ChangePosition{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 0 {
			t.Fatalf("the reader passed a transaction in progress: read %d records (%s at %v)", len(recs), recs[0].Type, recs[0].Position)
		}
		time.Sleep(10 * time.Millisecond)
	}
	head, err := db.ChangesHead(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The committed record waits behind the open transaction: the lag
	// gauge shows it.
	if lag, err := db.ChangesLag(ctx); err != nil || lag <= 0 {
		t.Errorf("lag while a lower transaction is open = %v, %v; want above 0", lag, err)
	}

	if err := held.Commit(); err != nil {
		t.Fatal(err)
	}
	storetest.Settle(t, db)
	if lag, err := db.ChangesLag(ctx); err != nil || lag != 0 {
		t.Errorf("lag once every record is readable = %v, %v; want 0", lag, err)
	}
	recs, err := db.ChangesAfter(ctx, org.ID, scimbridge.ChangePosition{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ResourceID != "late" || recs[1].ResourceID != p.ID {
		t.Fatalf("after the commit: %+v", recs)
	}
	if !recs[0].Position.Less(recs[1].Position) || recs[0].Position.Seq < recs[1].Position.Seq {
		t.Errorf("positions %v, %v: want the late record first by transaction, with the higher sequence", recs[0].Position, recs[1].Position)
	}
	// A head taken while the late transaction was open is below both.
	if after, err := db.ChangesAfter(ctx, org.ID, head, 10); err != nil || len(after) != 2 {
		t.Errorf("after the head taken meanwhile: %d records, %v", len(after), err)
	}
}

// TestChanges_OtherDatabaseDoesNotHoldTheFeed holds open a write
// transaction of another database on the same server, which took a lower
// transaction id: this database's reader must pass it at once (it cannot
// write here), where it would wait for the server-wide oldest transaction.
func TestChanges_OtherDatabaseDoesNotHoldTheFeed(t *testing.T) {
	ctx := context.Background()
	db, other := storetest.OpenPostgres(t), storetest.OpenPostgres(t)
	org := createAcme(t, db, db, other)
	held, err := other.BeginHeld(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	// The other database's transaction writes, so it has its id, lower
	// than the write below.
	if err := held.Record(ctx, scimbridge.ChangeRecord{OrgID: org.ID, Type: scimbridge.ChangeBridgePlanHeld,
		ResourceID: "elsewhere", Source: scimbridge.EventGoogle, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p := scimbridge.Profile{ID: uuid.NewString(), OrgID: org.ID, Attributes: scimbridge.Attributes{UserName: "ann@x.example"},
		Email: "ann@x.example", State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err = db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: time.Now(), Method: "POST", Status: 201, Source: scimbridge.EventIdP}})
	if err != nil {
		t.Fatal(err)
	}
	// Other tests' databases on the server may hold transactions too: the
	// record must be readable while this one is still open, however long
	// they take.
	deadline := time.Now().Add(time.Minute)
	for {
		recs, err := db.ChangesAfter(ctx, org.ID, scimbridge.ChangePosition{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 && recs[0].ResourceID == p.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader waits for another database's transaction: read %+v", recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lag, err := db.ChangesLag(ctx); err != nil || lag != 0 {
		t.Errorf("lag with only another database's transaction open = %v, %v; want 0", lag, err)
	}
}

// createAcme creates one organization in each of dbs and lets db's
// feed settle past those writes.
func createAcme(t *testing.T, db *store.DB, dbs ...*store.DB) scimbridge.Organization {
	t.Helper()
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "Acme", CreatedAt: time.Now()}
	for _, d := range dbs {
		if err := d.CreateOrganization(context.Background(), org); err != nil {
			t.Fatal(err)
		}
	}
	storetest.Settle(t, db)
	return org
}

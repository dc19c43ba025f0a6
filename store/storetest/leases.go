package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// Leases compare with the store's clock, the wall clock here: expiries are
// set well in the past or the future of it.

func testLeases(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	now := time.Now()
	a := scimbridge.Lease{OrgID: org.ID, RunID: "run-a", Holder: "host-a", ExpiresAt: now.Add(time.Minute)}
	b := scimbridge.Lease{OrgID: org.ID, RunID: "run-b", Holder: "host-b", ExpiresAt: now.Add(time.Minute)}
	acquire := func(l scimbridge.Lease) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, l)
		if err != nil {
			t.Fatalf("acquire %s: %v", l.RunID, err)
		}
		return ok
	}

	_, err := s.CurrentLease(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	if !acquire(a) {
		t.Fatal("free lease not acquired")
	}
	if acquire(b) {
		t.Fatal("held lease taken by another holder")
	}
	if cur, err := s.CurrentLease(ctx, org.ID); err != nil || cur.RunID != "run-a" || !cur.ExpiresAt.Equal(utc(a.ExpiresAt)) {
		t.Errorf("current lease = %+v, %v", cur, err)
	}

	t.Run("Renew", func(t *testing.T) {
		a.ExpiresAt = now.Add(2 * time.Minute)
		if err := s.RenewLease(ctx, a); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RenewLease(ctx, b), scimbridge.ELEASELOST)
	})

	t.Run("SameHolderReacquires", func(t *testing.T) {
		again := a
		again.RunID = "run-a2"
		if !acquire(again) {
			t.Fatal("holder could not take its own lease again")
		}
		wantCode(t, s.RenewLease(ctx, a), scimbridge.ELEASELOST)
		a = again
	})

	t.Run("ExpiryAndTakeover", func(t *testing.T) {
		a.ExpiresAt = now.Add(-time.Second)
		if !acquire(a) {
			t.Fatal("holder could not rewrite its lease")
		}
		wantCode(t, s.RenewLease(ctx, a), scimbridge.ELEASELOST)
		if !acquire(b) {
			t.Fatal("expired lease not taken over")
		}
		if cur, _ := s.CurrentLease(ctx, org.ID); cur.Holder != "host-b" {
			t.Errorf("lease holder = %s after takeover", cur.Holder)
		}
	})

	t.Run("Release", func(t *testing.T) {
		if err := s.ReleaseLease(ctx, org.ID, "run-a"); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.CurrentLease(ctx, org.ID); cur.RunID != "run-b" {
			t.Error("releasing another run's lease removed it")
		}
		if err := s.ReleaseLease(ctx, org.ID, "run-b"); err != nil {
			t.Fatal(err)
		}
		_, err := s.CurrentLease(ctx, org.ID)
		wantCode(t, err, scimbridge.ENOTFOUND)
		if !acquire(a) {
			t.Error("released lease not free")
		}
	})
}

func testLeaseInBatch(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	now := time.Now()
	a := scimbridge.Lease{OrgID: org.ID, RunID: "run-a", Holder: "host-a", ExpiresAt: now.Add(-time.Second)}
	if ok, err := s.AcquireLease(ctx, a); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	change := func(name string) []scimbridge.ChangeEvent {
		p := newProfile(org.ID, name)
		return []scimbridge.ChangeEvent{{
			Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event:  scimbridge.Event{Time: base, Method: "POST", Status: 201, Source: scimbridge.EventGoogle, RunID: "run-a"},
		}}
	}
	check := &scimbridge.LeaseCheck{OrgID: org.ID, RunID: "run-a", Holder: "host-a"}

	wantCode(t, s.ApplyChanges(ctx, change("expired@x"), check), scimbridge.ELEASELOST)

	b := scimbridge.Lease{OrgID: org.ID, RunID: "run-b", Holder: "host-b", ExpiresAt: now.Add(time.Minute)}
	if ok, _ := s.AcquireLease(ctx, b); !ok {
		t.Fatal("takeover failed")
	}
	wantCode(t, s.ApplyChanges(ctx, change("taken@x"), check), scimbridge.ELEASELOST)
	if err := s.ApplyChanges(ctx, change("held@x"), &scimbridge.LeaseCheck{OrgID: org.ID, RunID: "run-b", Holder: "host-b"}); err != nil {
		t.Fatalf("apply under a held lease: %v", err)
	}
	page, _ := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: 10})
	if page.Total != 1 || page.Profiles[0].UserName != "held@x" {
		t.Errorf("profiles = %v; the lost-lease batches must commit nothing", userNames(page.Profiles))
	}
}

func testTenantIsolation(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	a := newOrg(t, s, "org-a")
	b := newOrg(t, s, "org-b")
	pa := create(t, s, newProfile(a.ID, "same@x.example"))
	pb := create(t, s, newProfile(b.ID, "same@x.example"))

	if _, err := s.Profile(ctx, a.ID, pb.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("org A read org B's profile: %v", err)
	}
	found, _ := s.LookupProfiles(ctx, a.ID, scimbridge.ProfileLookup{UserName: "same@x.example", Email: "same@x.example"})
	if len(found) != 1 || found[0].ID != pa.ID {
		t.Errorf("lookup in A = %v", ids(found))
	}
	page, _ := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: a.ID, Limit: 10})
	if page.Total != 1 || page.Profiles[0].ID != pa.ID {
		t.Errorf("list in A = %v", ids(page.Profiles))
	}
	managed, _ := s.ManagedProfiles(ctx, a.ID, scimbridge.SourceSCIM)
	if len(managed) != 1 || managed[0].ID != pa.ID {
		t.Errorf("managed in A = %v", ids(managed))
	}

	// A write naming org A cannot touch org B's profile.
	hijack := pb
	hijack.OrgID, hijack.DisplayName = a.ID, "hijacked"
	wantCode(t, tryUpdate(s, scimbridge.ChangeUpdate, hijack, 1), scimbridge.ENOTFOUND)
	if got := mustGet(t, s, b.ID, pb.ID); got.DisplayName != "" || got.Version != 1 {
		t.Errorf("org B's profile changed: %+v", got)
	}
	if n, _ := s.ReleaseProfiles(ctx, a.ID, scimbridge.SourceSCIM, adminEvent("release")); n != 1 {
		t.Errorf("release in A changed %d profiles, want 1", n)
	}
	if got := mustGet(t, s, b.ID, pb.ID); got.Source != scimbridge.SourceSCIM {
		t.Error("release in A changed org B's profile")
	}

	events, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: a.ID})
	for _, e := range events.Events {
		if e.OrgID != a.ID {
			t.Errorf("org A sees event %+v", e)
		}
	}
	if len(events.Events) != 2 { // create + release
		t.Errorf("org A events = %d, want 2", len(events.Events))
	}

	_, hash := scimbridge.NewAdminToken()
	tok := scimbridge.AdminToken{ID: uuid.NewString(), OrgID: b.ID, Role: scimbridge.AdminOwner, TokenHash: hash, CreatedAt: base}
	if err := s.CreateAdminToken(ctx, tok, adminEvent("create")); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.AdminTokens(ctx, a.ID); len(list) != 0 {
		t.Errorf("org A sees tokens %+v", list)
	}
	_, scimHash := scimbridge.NewSCIMToken("org-b")
	if err := s.PutSCIMConfig(ctx, scimbridge.SCIMConfig{OrgID: b.ID, TokenHash: scimHash, CreatedAt: base}, adminEvent("enable")); err != nil {
		t.Fatal(err)
	}
	_, err := s.SCIMConfig(ctx, a.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	wantCode(t, s.DeleteSCIMConfig(ctx, a.ID, adminEvent("disable")), scimbridge.ENOTFOUND)
	if _, err := s.SCIMConfig(ctx, b.ID); err != nil {
		t.Errorf("org B's config: %v", err)
	}
	if err := s.PutHeldPlan(ctx, b.ID, "r", []byte("{}"), base); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.HeldPlan(ctx, a.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
}

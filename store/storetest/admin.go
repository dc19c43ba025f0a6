package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

func adminEvent(path string) scimbridge.Event {
	return scimbridge.Event{Time: base, Method: "POST", Path: path, Status: 200, Source: scimbridge.EventAdmin}
}

func adminEvents(t *testing.T, s scimbridge.Store, orgID string) int {
	t.Helper()
	page, err := s.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: orgID, Source: scimbridge.EventAdmin})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Events)
}

func testOrganizations(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	b := newOrg(t, s, "beta")
	a := newOrg(t, s, "alpha")
	got, err := s.Organization(ctx, a.ID)
	if want := a; err != nil || !reflect.DeepEqual(got, scimbridge.Organization{ID: want.ID, Slug: want.Slug,
		Name: want.Name, CreatedAt: utc(want.CreatedAt), AdoptExisting: true}) {
		t.Errorf("organization = %+v, %v", got, err)
	}
	if got, err := s.OrganizationBySlug(ctx, "beta"); err != nil || got.ID != b.ID {
		t.Errorf("by slug = %+v, %v", got, err)
	}
	all, err := s.Organizations(ctx)
	if err != nil || len(all) != 2 || all[0].Slug != "alpha" || all[1].Slug != "beta" {
		t.Errorf("organizations = %+v, %v", all, err)
	}
	err = s.CreateOrganization(ctx, scimbridge.Organization{ID: uuid.NewString(), Slug: "alpha", Name: "x", CreatedAt: base})
	wantConflict(t, err, "slug")
	if err := s.SetAdoptExisting(ctx, a.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Organization(ctx, a.ID); got.AdoptExisting {
		t.Error("adopt_existing still on")
	}
	wantCode(t, s.SetAdoptExisting(ctx, "missing", true), scimbridge.ENOTFOUND)
	_, err = s.Organization(ctx, "missing")
	wantCode(t, err, scimbridge.ENOTFOUND)
	_, err = s.OrganizationBySlug(ctx, "missing")
	wantCode(t, err, scimbridge.ENOTFOUND)
}

func testSCIMConfig(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	_, err := s.SCIMConfig(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)

	_, hash := scimbridge.NewSCIMToken("acme")
	c := scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: base}
	if err := s.PutSCIMConfig(ctx, c, adminEvent("scim enable")); err != nil {
		t.Fatal(err)
	}
	got, err := s.SCIMConfig(ctx, org.ID)
	if err != nil || !reflect.DeepEqual(got, scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: utc(base)}) {
		t.Errorf("config = %+v, %v", got, err)
	}

	t.Run("Rotate", func(t *testing.T) {
		_, hash2 := scimbridge.NewSCIMToken("acme")
		rotated := at(time.Hour)
		c2 := scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash2, CreatedAt: base, RotatedAt: &rotated}
		if err := s.PutSCIMConfig(ctx, c2, adminEvent("scim regenerate-token")); err != nil {
			t.Fatal(err)
		}
		got, _ := s.SCIMConfig(ctx, org.ID)
		if !reflect.DeepEqual(got.TokenHash, hash2) || got.RotatedAt == nil || !got.RotatedAt.Equal(rotated) {
			t.Errorf("rotated config = %+v", got)
		}
	})

	t.Run("TouchAtMostOnceAMinute", func(t *testing.T) {
		touch := func(d time.Duration) *time.Time {
			if err := s.TouchSCIMConfig(ctx, org.ID, at(d)); err != nil {
				t.Fatal(err)
			}
			got, _ := s.SCIMConfig(ctx, org.ID)
			return got.LastUsedAt
		}
		if got := touch(0); got == nil || !got.Equal(base) {
			t.Errorf("first touch = %v", got)
		}
		if got := touch(30 * time.Second); !got.Equal(base) {
			t.Errorf("touch within a minute moved last_used_at to %v", got)
		}
		if got := touch(61 * time.Second); !got.Equal(at(61 * time.Second)) {
			t.Errorf("touch after a minute = %v", got)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteSCIMConfig(ctx, org.ID, adminEvent("scim disable")); err != nil {
			t.Fatal(err)
		}
		_, err := s.SCIMConfig(ctx, org.ID)
		wantCode(t, err, scimbridge.ENOTFOUND)
		wantCode(t, s.DeleteSCIMConfig(ctx, org.ID, adminEvent("scim disable")), scimbridge.ENOTFOUND)
		if n := adminEvents(t, s, org.ID); n != 3 {
			t.Errorf("admin events = %d, want 3 (enable, regenerate, disable)", n)
		}
	})
}

func testAdminTokens(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	_, h1 := scimbridge.NewAdminToken()
	_, h2 := scimbridge.NewAdminToken()
	exp := at(24 * time.Hour)
	t1 := scimbridge.AdminToken{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminOwner, TokenHash: h1,
		Prefix: "scba_abc", CreatedAt: base, ExpiresAt: &exp}
	t2 := scimbridge.AdminToken{ID: uuid.NewString(), OrgID: other.ID, Role: scimbridge.AdminViewer, TokenHash: h2,
		Prefix: "scba_def", CreatedAt: at(time.Second)}
	for _, tok := range []scimbridge.AdminToken{t1, t2} {
		if err := s.CreateAdminToken(ctx, tok, adminEvent("admin-token create")); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.AdminTokens(ctx, org.ID)
	want := t1
	want.CreatedAt, want.ExpiresAt = utc(base), utcPtr(&exp)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Errorf("tokens = %+v, %v", list, err)
	}
	if got, err := s.AdminTokenByHash(ctx, h2); err != nil || got.ID != t2.ID || got.OrgID != other.ID {
		t.Errorf("by hash = %+v, %v", got, err)
	}
	_, err = s.AdminTokenByHash(ctx, []byte("nope"))
	wantCode(t, err, scimbridge.ENOTFOUND)

	dup := t1
	dup.ID = uuid.NewString()
	wantConflict(t, s.CreateAdminToken(ctx, dup, adminEvent("admin-token create")), "token")

	wantCode(t, s.RevokeAdminToken(ctx, org.ID, t2.ID, at(time.Hour), adminEvent("revoke")), scimbridge.ENOTFOUND)
	if err := s.RevokeAdminToken(ctx, org.ID, t1.ID, at(time.Hour), adminEvent("revoke")); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAdminToken(ctx, org.ID, t1.ID, at(2*time.Hour), adminEvent("revoke")); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	got, _ := s.AdminTokenByHash(ctx, h1)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at(time.Hour)) {
		t.Errorf("revoked_at = %v", got.RevokedAt)
	}
	if n := adminEvents(t, s, org.ID); n != 2 {
		t.Errorf("admin events = %d, want 2 (create, revoke)", n)
	}
}

func testBridges(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	_, err := s.Bridge(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	b := scimbridge.Bridge{OrgID: org.ID, SealedCredentials: []byte{1, 2, 3, 0, 255},
		Settings: scimbridge.BridgeSettings{Schedule: "*/15 * * * *", Customer: "my_customer",
			Domains: []string{"x.example"}, Mode: scimbridge.ModeSync, Guard: true, Hold: scimbridge.HoldGuarded,
			AdminEmail: "admin@x.example", CredentialKind: "service_account"},
		CreatedAt: base, UpdatedAt: base}
	if err := s.PutBridge(ctx, b, adminEvent("bridge google set")); err != nil {
		t.Fatal(err)
	}
	want := b
	want.CreatedAt, want.UpdatedAt = utc(base), utc(base)
	if got, err := s.Bridge(ctx, org.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("bridge:\n got %+v, %v\nwant %+v", got, err, want)
	}

	last, next := at(time.Minute), at(16*time.Minute)
	st := b
	st.Settings, st.SealedCredentials = scimbridge.BridgeSettings{}, nil
	st.LastSyncAt, st.NextSyncAt, st.ConsecutiveFailures = &last, &next, 2
	st.LastError, st.NeedsAttention, st.UpdatedAt = "403 not authorized", true, last
	if err := s.UpdateBridgeState(ctx, st); err != nil {
		t.Fatal(err)
	}
	want.LastSyncAt, want.NextSyncAt, want.ConsecutiveFailures = utcPtr(&last), utcPtr(&next), 2
	want.LastError, want.NeedsAttention, want.UpdatedAt = "403 not authorized", true, utc(last)
	all, err := s.Bridges(ctx)
	if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], want) {
		t.Errorf("bridges after state update:\n got %+v, %v\nwant %+v", all, err, want)
	}
	st.OrgID = "missing"
	wantCode(t, s.UpdateBridgeState(ctx, st), scimbridge.ENOTFOUND)
}

func testReports(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	fin := at(time.Minute)
	r := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerSchedule,
		Status: scimbridge.ReportApplied, StartedAt: base, FinishedAt: &fin,
		Counts: scimbridge.ReportCounts{Created: 1, Deactivated: 1, Unchanged: 7},
		Phases: &scimbridge.ReportPhases{ListingSeconds: 1.5, PlanningSeconds: 0.25, ApplyingSeconds: 0.125,
			Pages: 3, Changes: 2, PagesPerSecond: 2, ChangesPerSecond: 16},
		Items: []scimbridge.ReportItem{
			{Kind: scimbridge.ChangeCreate, ProfileID: "p1", GoogleID: "g1", UserName: "a@x"},
			{Kind: scimbridge.ChangeDeactivate, UserName: "b@x", Reason: "deleted in Google",
				Fields: []scimbridge.FieldChange{{Field: "active", Before: "true", After: "false"}}},
		}}
	if err := s.PutReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	want := r
	want.StartedAt, want.FinishedAt = utc(base), utcPtr(&fin)
	if got, err := s.Report(ctx, org.ID, r.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("report:\n got %+v, %v\nwant %+v", got, err, want)
	}
	_, err := s.Report(ctx, other.ID, r.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)

	r.Status, r.Items = scimbridge.ReportHeld, r.Items[:1]
	if err := s.PutReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Report(ctx, org.ID, r.ID); got.Status != scimbridge.ReportHeld || len(got.Items) != 1 {
		t.Errorf("replaced report = %+v", got)
	}
	hijack := r
	hijack.OrgID = other.ID
	wantCode(t, s.PutReport(ctx, hijack), scimbridge.ECONFLICT)

	for i := 1; i <= 3; i++ {
		err := s.PutReport(ctx, scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual,
			Status: scimbridge.ReportRunning, StartedAt: at(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Reports(ctx, org.ID, 3)
	if err != nil || len(list) != 3 || !list[0].StartedAt.Equal(at(3*time.Hour)) || list[0].Items != nil {
		t.Errorf("reports = %+v, %v", list, err)
	}
	if n, err := s.PurgeReports(ctx, at(90*time.Minute)); err != nil || n != 2 {
		t.Errorf("purge = %d, %v; want 2", n, err)
	}
	if list, _ := s.Reports(ctx, org.ID, 10); len(list) != 2 {
		t.Errorf("reports after purge = %d, want 2", len(list))
	}
}

func testHeldPlans(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	_, _, _, err := s.HeldPlan(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	if err := s.PutHeldPlan(ctx, org.ID, "r1", []byte(`{"a":1}`), at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHeldPlan(ctx, org.ID, "r2", []byte(`{"b":2}`), at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	id, plan, exp, err := s.HeldPlan(ctx, org.ID)
	if err != nil || id != "r2" || string(plan) != `{"b":2}` || !exp.Equal(at(2*time.Hour)) || exp.Location() != time.UTC {
		t.Errorf("held plan = %s %s %v %v", id, plan, exp, err)
	}
	if err := s.DeleteHeldPlan(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.HeldPlan(ctx, org.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	if err := s.DeleteHeldPlan(ctx, org.ID); err != nil {
		t.Errorf("deleting no plan: %v", err)
	}
}

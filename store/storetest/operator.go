package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

func testOperatorTokens(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	_, h := scimbridge.NewOperatorToken()
	exp := at(48 * time.Hour)
	op := scimbridge.AdminToken{ID: uuid.NewString(), Operator: true, Name: "deploy", TokenHash: h,
		Prefix: "scbo_abcdef", CreatedAt: base, ExpiresAt: &exp}
	if err := s.CreateOperatorToken(ctx, op, adminEvent("/api/admin/v1/operator-tokens")); err != nil {
		t.Fatal(err)
	}
	want := op
	want.CreatedAt, want.ExpiresAt = utc(base), utcPtr(&exp)
	if got, err := s.OperatorTokenByHash(ctx, h); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("by hash:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if list, err := s.OperatorTokens(ctx); err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Errorf("operator tokens = %+v, %v", list, err)
	}
	// An operator token is no organization's admin token, and the reverse.
	if _, err := s.AdminTokenByHash(ctx, h); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("operator token found as an admin token: %v", err)
	}
	_, ah := scimbridge.NewAdminToken()
	adm := scimbridge.AdminToken{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminApp, Name: "crm",
		TokenHash: ah, Prefix: "scba_x", CreatedAt: base}
	if err := s.CreateAdminToken(ctx, adm, adminEvent("create")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AdminTokenByHash(ctx, ah); err != nil || got.Name != "crm" || got.Role != scimbridge.AdminApp {
		t.Errorf("admin token with name and role app = %+v, %v", got, err)
	}
	if _, err := s.OperatorTokenByHash(ctx, ah); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("admin token found as an operator token: %v", err)
	}

	t.Run("TouchAtMostOnceAMinute", func(t *testing.T) {
		for _, tc := range []struct {
			id   string
			read func() *time.Time
		}{
			{op.ID, func() *time.Time { got, _ := s.OperatorTokenByHash(ctx, h); return got.LastUsedAt }},
			{adm.ID, func() *time.Time { got, _ := s.AdminTokenByHash(ctx, ah); return got.LastUsedAt }},
		} {
			touch := func(d time.Duration) *time.Time {
				if err := s.TouchAdminToken(ctx, tc.id, at(d)); err != nil {
					t.Fatal(err)
				}
				return tc.read()
			}
			if got := touch(0); got == nil || !got.Equal(base) {
				t.Errorf("first touch = %v", got)
			}
			if got := touch(30 * time.Second); got == nil || !got.Equal(base) {
				t.Errorf("touch within a minute moved last_used_at to %v", got)
			}
			if got := touch(61 * time.Second); got == nil || !got.Equal(at(61*time.Second)) {
				t.Errorf("touch after a minute = %v", got)
			}
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		wantCode(t, s.RevokeOperatorToken(ctx, uuid.NewString(), at(time.Hour), adminEvent("revoke")), scimbridge.ENOTFOUND)
		if err := s.RevokeOperatorToken(ctx, op.ID, at(time.Hour), adminEvent("revoke")); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeOperatorToken(ctx, op.ID, at(2*time.Hour), adminEvent("revoke")); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		got, _ := s.OperatorTokenByHash(ctx, h)
		if got.RevokedAt == nil || !got.RevokedAt.Equal(at(time.Hour)) {
			t.Errorf("revoked_at = %v", got.RevokedAt)
		}
	})

	dup := op
	dup.ID = uuid.NewString()
	wantConflict(t, s.CreateOperatorToken(ctx, dup, adminEvent("create")), "token")
}

func testDeleteBridge(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	wantCode(t, s.DeleteBridge(ctx, org.ID, adminEvent("disconnect")), scimbridge.ENOTFOUND)
	for _, o := range []scimbridge.Organization{org, other} {
		b := scimbridge.Bridge{OrgID: o.ID, SealedCredentials: []byte{1}, CreatedAt: base, UpdatedAt: base,
			Settings: scimbridge.BridgeSettings{Mode: scimbridge.ModeSync}}
		if err := s.PutBridge(ctx, b, adminEvent("set")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHeldPlan(ctx, org.ID, uuid.NewString(), []byte(`{}`), at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := adminEvents(t, s, org.ID)
	if err := s.DeleteBridge(ctx, org.ID, adminEvent("disconnect")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bridge(ctx, org.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("bridge after delete: %v", err)
	}
	if _, _, _, err := s.HeldPlan(ctx, org.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		t.Errorf("held plan after delete: %v", err)
	}
	if _, err := s.Bridge(ctx, other.ID); err != nil {
		t.Errorf("the other organization's bridge: %v", err)
	}
	if n := adminEvents(t, s, org.ID); n != before+1 {
		t.Errorf("admin events %d, want %d", n, before+1)
	}
}

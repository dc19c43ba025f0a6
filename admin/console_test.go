package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

func TestAdmin_SetupLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		org, err := a.CreateOrg(ctx, by, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := a.CreateOrg(ctx, by, "other", "")
		operator := admin.Principal{Operator: true}
		owner := admin.Principal{OrgID: org.ID, Role: scimbridge.AdminOwner, TokenID: "t1"}

		t.Run("Create", func(t *testing.T) {
			token, l, err := a.CreateSetupLink(ctx, by, operator, "acme", scimbridge.AdminOwner, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(token, "scbl_") || l.ExpiresAt.Sub(l.CreatedAt) != 24*time.Hour || l.CreatedBy != "cli:alice" {
				t.Errorf("link = %q %+v", token, l)
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/setup-links", 201)
			if strings.Contains(ev.RequestBody+ev.ResponseBody, token) || strings.Contains(ev.ResponseBody, "token_hash") {
				t.Error("the event carries the link's token")
			}
			got, err := db.SetupLinkByHash(ctx, scimbridge.HashToken(token))
			if err != nil || got.ID != l.ID {
				t.Errorf("stored by hash: %+v, %v", got, err)
			}
		})
		t.Run("Limits", func(t *testing.T) {
			_, _, err := a.CreateSetupLink(ctx, by, operator, "acme", scimbridge.AdminOwner, 8*24*time.Hour)
			wantCode(t, err, scimbridge.EINVALID)
			_, _, err = a.CreateSetupLink(ctx, by, operator, "acme", scimbridge.AdminApp, time.Hour)
			wantCode(t, err, scimbridge.EINVALID)
			if _, l, err := a.CreateSetupLink(ctx, by, owner, "acme", scimbridge.AdminViewer, 7*24*time.Hour); err != nil ||
				l.ExpiresAt.Sub(l.CreatedAt) != 7*24*time.Hour {
				t.Errorf("an owner's 7-day viewer link: %+v, %v", l, err)
			}
			viewer := admin.Principal{OrgID: org.ID, Role: scimbridge.AdminViewer}
			_, _, err = a.CreateSetupLink(ctx, by, viewer, "acme", scimbridge.AdminViewer, 0)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
			linked := admin.Principal{OrgID: org.ID, Role: scimbridge.AdminOwner, LinkID: "l1"}
			_, _, err = a.CreateSetupLink(ctx, by, linked, "acme", scimbridge.AdminViewer, 0)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
			// An owner of acme is nobody in other.
			_, _, err = a.CreateSetupLink(ctx, by, owner, "other", scimbridge.AdminViewer, 0)
			wantCode(t, err, scimbridge.ENOTFOUND)
			_ = other
		})
		t.Run("UseOnceThenRevoke", func(t *testing.T) {
			token, l, err := a.CreateSetupLink(ctx, by, operator, "acme", scimbridge.AdminViewer, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := a.SetupLink(ctx, token); err != nil {
				t.Fatalf("open the link: %v", err)
			}
			s, err := a.UseSetupLink(ctx, by, token)
			if err != nil {
				t.Fatal(err)
			}
			if s.Principal.Role != scimbridge.AdminViewer || s.Principal.LinkID != l.ID || !strings.HasPrefix(s.Token, "scbs_") {
				t.Errorf("session = %+v", s)
			}
			ev := lastEvent(t, db, org.ID)
			if ev.Path != "/api/admin/v1/orgs/acme/setup-links/"+l.ID+"/use" || ev.Actor != "setup-link:"+l.ID {
				t.Errorf("use event = %s %s by %s", ev.Method, ev.Path, ev.Actor)
			}
			_, err = a.UseSetupLink(ctx, by, token)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
			if _, err := a.ConsoleSession(ctx, s.Token); err != nil {
				t.Fatalf("session: %v", err)
			}
			if err := a.RevokeSetupLink(ctx, by, "acme", l.ID); err != nil {
				t.Fatal(err)
			}
			wantEvent(t, db, org.ID, "DELETE", "/api/admin/v1/orgs/acme/setup-links/"+l.ID, 204)
			_, err = a.ConsoleSession(ctx, s.Token)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
			wantCode(t, a.RevokeSetupLink(ctx, by, "other", l.ID), scimbridge.ENOTFOUND)
		})
		t.Run("Expired", func(t *testing.T) {
			token, _, err := a.CreateSetupLink(ctx, by, operator, "acme", scimbridge.AdminViewer, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			later := *a
			later.Clock = func() time.Time { return time.Now().UTC().Add(time.Hour) }
			_, err = later.UseSetupLink(ctx, by, token)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
		})
		t.Run("SignIn", func(t *testing.T) {
			tok, at, err := a.CreateAdminToken(ctx, by, "acme", scimbridge.AdminOwner, 0)
			if err != nil {
				t.Fatal(err)
			}
			s, err := a.SignIn(ctx, tok)
			if err != nil || s.Principal.TokenID != at.ID || s.Principal.LinkID != "" || s.Org.ID != org.ID {
				t.Fatalf("sign in: %+v, %v", s, err)
			}
			if err := a.SignOut(ctx, s.Token); err != nil {
				t.Fatal(err)
			}
			_, err = a.ConsoleSession(ctx, s.Token)
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
			_, err = a.SignIn(ctx, "scba_nope")
			wantCode(t, err, scimbridge.EUNAUTHORIZED)
		})
	})
}

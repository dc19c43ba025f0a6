package admin_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// by is the caller of every operation in these tests.
var by = admin.Caller{Actor: admin.CLIActor("alice"), ClientIP: "192.0.2.7", UserAgent: "admin-test"}

// eachBackend runs fn against SQLite and PostgreSQL.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

func newAdmin(db *store.DB) *admin.Admin {
	return &admin.Admin{Store: db, Clock: func() time.Time { return time.Now().UTC() }, Logger: slog.New(slog.DiscardHandler)}
}

// lastEvent is the organization's newest admin event.
func lastEvent(t *testing.T, db *store.DB, orgID string) scimbridge.Event {
	t.Helper()
	page, err := db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: orgID, Source: scimbridge.EventAdmin, Limit: 1})
	if err != nil || len(page.Events) == 0 {
		t.Fatalf("no admin event: %v", err)
	}
	return page.Events[0]
}

// wantEvent checks the organization's newest admin event is the call
// "method path" with status, recorded with the caller.
func wantEvent(t *testing.T, db *store.DB, orgID, method, path string, status int) scimbridge.Event {
	t.Helper()
	ev := lastEvent(t, db, orgID)
	if ev.Method != method || ev.Path != path || ev.Status != status {
		t.Errorf("event = %s %s %d, want %s %s %d", ev.Method, ev.Path, ev.Status, method, path, status)
	}
	if ev.Actor != "cli:alice" || ev.ClientIP != by.ClientIP || ev.UserAgent != by.UserAgent || ev.Source != scimbridge.EventAdmin {
		t.Errorf("event caller = actor %q, ip %q, agent %q, source %q", ev.Actor, ev.ClientIP, ev.UserAgent, ev.Source)
	}
	if ev.RequestID == "" || ev.OrgID != orgID {
		t.Errorf("event request id %q, org %q", ev.RequestID, ev.OrgID)
	}
	return ev
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if scimbridge.ErrorCode(err) != code {
		t.Errorf("error %v: code %q, want %q", err, scimbridge.ErrorCode(err), code)
	}
}

func TestAdmin_Org(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		org, err := a.CreateOrg(ctx, by, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		if org.Name != "acme" || !org.AdoptExisting {
			t.Errorf("created %+v", org)
		}
		ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs", 201)
		if !strings.Contains(ev.ResponseBody, org.ID) {
			t.Errorf("response body %q", ev.ResponseBody)
		}
		t.Run("ErrDuplicate", func(t *testing.T) {
			_, err := a.CreateOrg(ctx, by, "acme", "Again")
			wantCode(t, err, scimbridge.ECONFLICT)
		})
		t.Run("ErrInvalidSlug", func(t *testing.T) {
			_, err := a.CreateOrg(ctx, by, "Not A Slug", "")
			wantCode(t, err, scimbridge.EINVALID)
		})
		t.Run("SetAdoptExisting", func(t *testing.T) {
			off := false
			got, err := a.SetOrg(ctx, by, "acme", admin.OrgChange{AdoptExisting: &off})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := db.Organization(ctx, org.ID)
			if got.AdoptExisting || stored.AdoptExisting {
				t.Errorf("after set: %+v, stored %+v", got, stored)
			}
			ev := wantEvent(t, db, org.ID, "PATCH", "/api/admin/v1/orgs/acme", 200)
			if ev.RequestBody != `{"adopt_existing":false}` {
				t.Errorf("request body %q", ev.RequestBody)
			}
		})
		t.Run("ErrNothingToSet", func(t *testing.T) {
			_, err := a.SetOrg(ctx, by, "acme", admin.OrgChange{})
			wantCode(t, err, scimbridge.EINVALID)
		})
		t.Run("ErrUnknownOrg", func(t *testing.T) {
			on := true
			_, err := a.SetOrg(ctx, by, "nope", admin.OrgChange{AdoptExisting: &on})
			wantCode(t, err, scimbridge.ENOTFOUND)
		})
	})
}

func TestAdmin_SCIMAndTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		org, err := a.CreateOrg(ctx, by, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("EnableSCIM", func(t *testing.T) {
			token, err := a.EnableSCIM(ctx, by, "acme")
			if slug, ok := scimbridge.SCIMTokenSlug(token); err != nil || !ok || slug != "acme" {
				t.Fatalf("token %q, %v", token, err)
			}
			wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/scim", 201)
			if _, err := a.EnableSCIM(ctx, by, "acme"); !errors.Is(err, admin.ErrSCIMEnabled) {
				t.Errorf("second enable: %v", err)
			}
		})
		t.Run("RegenerateSCIMToken", func(t *testing.T) {
			before, _ := db.SCIMConfig(ctx, org.ID)
			if _, err := a.RegenerateSCIMToken(ctx, by, "acme"); err != nil {
				t.Fatal(err)
			}
			after, _ := db.SCIMConfig(ctx, org.ID)
			if string(before.TokenHash) == string(after.TokenHash) || after.RotatedAt == nil {
				t.Error("the token did not change")
			}
			wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/scim/token", 200)
		})
		t.Run("DisableSCIM", func(t *testing.T) {
			if err := a.DisableSCIM(ctx, by, "acme"); err != nil {
				t.Fatal(err)
			}
			wantEvent(t, db, org.ID, "DELETE", "/api/admin/v1/orgs/acme/scim", 204)
			if err := a.DisableSCIM(ctx, by, "acme"); !errors.Is(err, admin.ErrSCIMDisabled) {
				t.Errorf("second disable: %v", err)
			}
			if _, err := a.RegenerateSCIMToken(ctx, by, "acme"); !errors.Is(err, admin.ErrSCIMDisabled) {
				t.Errorf("regenerate when disabled: %v", err)
			}
		})
		t.Run("AdminTokens", func(t *testing.T) {
			token, tok, err := a.CreateAdminToken(ctx, by, "acme", scimbridge.AdminViewer, time.Hour)
			if err != nil || !strings.HasPrefix(token, "scba_") || tok.ExpiresAt == nil {
				t.Fatalf("create: %q %+v %v", token, tok, err)
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/admin-tokens", 201)
			if strings.Contains(ev.RequestBody+ev.ResponseBody, token) {
				t.Error("the event carries the token")
			}
			if err := a.RevokeAdminToken(ctx, by, "acme", tok.ID); err != nil {
				t.Fatal(err)
			}
			wantEvent(t, db, org.ID, "DELETE", "/api/admin/v1/orgs/acme/admin-tokens/"+tok.ID, 204)
			_, _, err = a.CreateAdminToken(ctx, by, "acme", "root", 0)
			wantCode(t, err, scimbridge.EINVALID)
			wantCode(t, a.RevokeAdminToken(ctx, by, "acme", "00000000-0000-0000-0000-000000000000"), scimbridge.ENOTFOUND)
		})
		t.Run("ReleaseProfiles", func(t *testing.T) {
			if _, err := a.ReleaseProfiles(ctx, by, "acme", scimbridge.SourceSCIM); err != nil {
				t.Fatal(err)
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/profiles/release", 200)
			if ev.RequestBody != `{"source":"scim"}` {
				t.Errorf("request body %q", ev.RequestBody)
			}
			_, err := a.ReleaseProfiles(ctx, by, "acme", scimbridge.SourceManual)
			wantCode(t, err, scimbridge.EINVALID)
		})
	})
}

func rawKey() []byte {
	raw := make([]byte, 32)
	rand.Read(raw)
	return raw
}

func mustKeyring(t *testing.T, current []byte, previous ...[]byte) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func googleUsers(n int) []*directory.User {
	out := make([]*directory.User, n)
	for i := range out {
		out[i] = &directory.User{Id: fmt.Sprintf("1000000000000000%05d", i), PrimaryEmail: fmt.Sprintf("u%02d@example.com", i),
			OrgUnitPath: "/", Name: &directory.UserName{GivenName: "User", FamilyName: fmt.Sprint(i)}}
	}
	return out
}

func TestAdmin_Bridge(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := fakegoogle.NewServer()
		srv := httptest.NewServer(g.Handler())
		t.Cleanup(srv.Close)
		g.SetUsers(googleUsers(40))
		a := newAdmin(db)
		a.Google = bridge.Endpoints{APIEndpoint: srv.URL + "/", TokenURL: srv.URL + fakegoogle.TokenPath}
		firstKey := rawKey()
		a.Keyring = mustKeyring(t, firstKey)
		a.Runner = &bridge.Runner{Store: db, Keyring: a.Keyring, Endpoints: a.Google, Clock: a.Clock, Holder: "admin-test"}
		org, err := a.CreateOrg(ctx, by, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		key := g.ServiceAccountKey(a.Google.TokenURL)

		t.Run("ErrCredentialsRequired", func(t *testing.T) {
			if _, err := a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{}); !errors.Is(err, admin.ErrCredentialsRequired) {
				t.Errorf("new bridge without credentials: %v", err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			bad, never := scimbridge.BridgeMode("sometimes"), "never"
			for _, c := range []admin.BridgeChange{
				{Mode: &bad},
				{Schedule: &never},
				{ServiceAccountKey: key},
				{ServiceAccountKey: key, AdminEmail: "a@example.com", OAuthRefreshToken: []byte("{}")},
			} {
				_, err := a.SetGoogleBridge(ctx, by, "acme", c)
				wantCode(t, err, scimbridge.EINVALID)
			}
		})
		t.Run("Create", func(t *testing.T) {
			excluded := []string{"u39@example.com"}
			b, err := a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{ServiceAccountKey: key, AdminEmail: "admin@example.com",
				ExcludedUsers: &excluded})
			if err != nil {
				t.Fatal(err)
			}
			st := b.Settings
			if st.Mode != scimbridge.ModeSync || !st.Guard || st.Hold != scimbridge.HoldGuarded || st.CredentialKind != bridge.KindServiceAccount {
				t.Errorf("defaults = %+v", st)
			}
			ev := wantEvent(t, db, org.ID, "PUT", "/api/admin/v1/orgs/acme/bridge/google", 201)
			if strings.Contains(ev.RequestBody, "PRIVATE") {
				t.Error("the event carries the key")
			}
		})
		t.Run("ChangeKeepsAndResets", func(t *testing.T) {
			// A run pins the exclusion and sets the next sync; changing
			// the exclusions drops the pin, and any change runs soon.
			if _, err := a.Runner.RunOnce(ctx, org.ID, scimbridge.TriggerManual, false); err != nil {
				t.Fatal(err)
			}
			b, _ := db.Bridge(ctx, org.ID)
			later := time.Now().Add(time.Hour)
			b.NextSyncAt, b.ConsecutiveFailures = &later, 2
			if err := db.UpdateBridgeState(ctx, b); err != nil {
				t.Fatal(err)
			}
			if len(b.Settings.ExcludedGoogleID) != 1 {
				t.Fatalf("the run pinned %v", b.Settings.ExcludedGoogleID)
			}
			mode := scimbridge.ModeUpsertOnly
			b, err := a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{Mode: &mode})
			if err != nil {
				t.Fatal(err)
			}
			if b.Settings.Mode != mode || len(b.Settings.ExcludedUsers) != 1 || len(b.Settings.ExcludedGoogleID) != 1 {
				t.Errorf("after a mode change: %+v", b.Settings)
			}
			if b.NextSyncAt != nil || b.ConsecutiveFailures != 0 {
				t.Errorf("next sync %v, failures %d: not reset", b.NextSyncAt, b.ConsecutiveFailures)
			}
			wantEvent(t, db, org.ID, "PUT", "/api/admin/v1/orgs/acme/bridge/google", 200)
			other, sync := []string{"u38@example.com"}, scimbridge.ModeSync
			b, err = a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{ExcludedUsers: &other, Mode: &sync})
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Settings.ExcludedGoogleID) != 0 {
				t.Errorf("pinned ids %v survive an exclusion change", b.Settings.ExcludedGoogleID)
			}
		})
		t.Run("AddAndRemoveExcluded", func(t *testing.T) {
			other := []string{"u38@example.com"}
			// Adding and removing edit the list, case-insensitively; a
			// replacement is applied first.
			b, err := a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{AddExcluded: []string{"u37@example.com", "U38@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(b.Settings.ExcludedUsers, ","); got != "u38@example.com,u37@example.com" {
				t.Errorf("after adding: %q", got)
			}
			ev := wantEvent(t, db, org.ID, "PUT", "/api/admin/v1/orgs/acme/bridge/google", 200)
			if !strings.Contains(ev.RequestBody, "u37@example.com") {
				t.Errorf("event body %s", ev.RequestBody)
			}
			list := []string{"u1@example.com", "u2@example.com"}
			b, err = a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{ExcludedUsers: &list,
				AddExcluded: []string{"u3@example.com"}, RemoveExcluded: []string{"U1@EXAMPLE.COM", "nobody@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(b.Settings.ExcludedUsers, ","); got != "u2@example.com,u3@example.com" {
				t.Errorf("after replacing, adding and removing: %q", got)
			}
			// Back to the exclusion the tests below expect.
			if _, err := a.SetGoogleBridge(ctx, by, "acme", admin.BridgeChange{ExcludedUsers: &other}); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("HeldPlans", func(t *testing.T) {
			// Ten of the 39 synced users leave Google: the guard holds
			// their deactivation.
			hold := func() string {
				t.Helper()
				g.SetUsers(googleUsers(40)[10:])
				rep, err := a.Runner.RunOnce(ctx, org.ID, scimbridge.TriggerManual, false)
				if err != nil || rep.Status != scimbridge.ReportHeld {
					t.Fatalf("run = %s, %v; want held", rep.Status, err)
				}
				g.SetUsers(googleUsers(40))
				return rep.ID
			}
			held := hold()
			if err := a.DiscardReport(ctx, by, "acme", held); err != nil {
				t.Fatal(err)
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/reports/"+held+"/discard", 200)
			if !strings.Contains(ev.ResponseBody, `"changes":10`) {
				t.Errorf("discard response body %q", ev.ResponseBody)
			}
			wantCode(t, a.DiscardReport(ctx, by, "acme", held), scimbridge.ENOTFOUND)

			held = hold()
			g.SetUsers(googleUsers(40)[10:])
			rep, err := a.ApproveReport(ctx, by, "acme", held)
			if err != nil || rep.Trigger != scimbridge.TriggerApproval {
				t.Fatalf("approve = %+v, %v", rep, err)
			}
			ev = wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/reports/"+held+"/approve", 200)
			if ev.RunID != rep.ID {
				t.Errorf("approval event run id %q, want %q", ev.RunID, rep.ID)
			}
		})
		t.Run("RotateKeys", func(t *testing.T) {
			next := rawKey()
			if ids, err := db.SealingKeyIDs(ctx); err != nil || len(ids) != 1 || ids[0] != mustKeyring(t, firstKey).KeyID() {
				t.Fatalf("recorded key ids before rotation = %v, %v", ids, err)
			}
			a.Keyring = mustKeyring(t, next, firstKey)
			out, err := a.RotateKeys(ctx, by)
			if err != nil || len(out.Resealed) != 1 || out.Resealed[0] != "acme" {
				t.Fatalf("rotate = %+v, %v", out, err)
			}
			// The record follows: the old key may now be dropped.
			if ids, err := db.SealingKeyIDs(ctx); err != nil || len(ids) != 1 || ids[0] != a.Keyring.KeyID() {
				t.Errorf("recorded key ids after rotation = %v, %v; want [%s]", ids, err, a.Keyring.KeyID())
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/keys/rotate", 200)
			if !strings.Contains(ev.RequestBody, a.Keyring.KeyID()) {
				t.Errorf("request body %q", ev.RequestBody)
			}
			sealedWith := a.Keyring.KeyID()
			a.Keyring = mustKeyring(t, rawKey())
			out, err = a.RotateKeys(ctx, by)
			if err != nil || out.Failed["acme"] != bridge.CannotDecrypt+": needs key "+sealedWith+"; keys loaded: "+a.Keyring.KeyID() {
				t.Fatalf("rotate without the key = %+v, %v", out, err)
			}
		})
	})
}

package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func testConsoleSessions(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	_, th := scimbridge.NewAdminToken()
	tok := scimbridge.AdminToken{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminOwner, TokenHash: th, CreatedAt: base}
	if err := s.CreateAdminToken(ctx, tok, adminEvent("admin-token create")); err != nil {
		t.Fatal(err)
	}

	t.Run("TokenSession", func(t *testing.T) {
		sess := scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminOwner,
			TokenHash: hashOf("session-1"), AdminTokenID: tok.ID, CreatedAt: base, LastSeenAt: base}
		if err := s.CreateConsoleSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, err := s.ConsoleSessionByHash(ctx, hashOf("session-1"))
		if err != nil || got.ID != sess.ID || got.AdminTokenID != tok.ID || got.Revoked || got.EndedAt != nil ||
			!got.LastSeenAt.Equal(base) || got.Role != scimbridge.AdminOwner {
			t.Fatalf("session = %+v, %v", got, err)
		}
		if err := s.TouchConsoleSession(ctx, sess.ID, at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ConsoleSessionByHash(ctx, hashOf("session-1")); !got.LastSeenAt.Equal(at(time.Hour)) {
			t.Errorf("last seen = %v", got.LastSeenAt)
		}
		// Revoking the token behind the session revokes the session.
		if err := s.RevokeAdminToken(ctx, org.ID, tok.ID, at(2*time.Hour), adminEvent("admin-token revoke")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ConsoleSessionByHash(ctx, hashOf("session-1")); !got.Revoked {
			t.Error("session of a revoked token not revoked")
		}
		if err := s.EndConsoleSession(ctx, sess.ID, at(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ConsoleSessionByHash(ctx, hashOf("session-1")); got.EndedAt == nil || !got.EndedAt.Equal(at(3*time.Hour)) {
			t.Errorf("ended at = %v", got.EndedAt)
		}
		_, err = s.ConsoleSessionByHash(ctx, hashOf("nope"))
		wantCode(t, err, scimbridge.ENOTFOUND)
	})

	t.Run("SetupLink", func(t *testing.T) {
		l := scimbridge.SetupLink{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminViewer,
			TokenHash: hashOf("link-1"), CreatedBy: "cli:root", CreatedAt: base, ExpiresAt: at(24 * time.Hour)}
		before := adminEvents(t, s, org.ID)
		if err := s.CreateSetupLink(ctx, l, adminEvent("setup-links")); err != nil {
			t.Fatal(err)
		}
		got, err := s.SetupLinkByHash(ctx, hashOf("link-1"))
		if err != nil || got.ID != l.ID || got.Role != scimbridge.AdminViewer || got.CreatedBy != "cli:root" ||
			!got.ExpiresAt.Equal(l.ExpiresAt) || got.UsedAt != nil {
			t.Fatalf("link = %+v, %v", got, err)
		}
		if list, err := s.SetupLinks(ctx, org.ID); err != nil || len(list) != 1 {
			t.Errorf("links = %+v, %v", list, err)
		}
		if list, err := s.SetupLinks(ctx, other.ID); err != nil || len(list) != 0 {
			t.Errorf("other organization's links = %+v, %v", list, err)
		}
		sess := scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: org.ID, Role: l.Role,
			TokenHash: hashOf("session-2"), SetupLinkID: l.ID, CreatedAt: at(time.Minute), LastSeenAt: at(time.Minute)}
		if err := s.UseSetupLink(ctx, l.ID, at(time.Minute), sess, adminEvent("use")); err != nil {
			t.Fatal(err)
		}
		// One-time: a second use is a conflict and creates no session.
		again := sess
		again.ID, again.TokenHash = uuid.NewString(), hashOf("session-3")
		wantCode(t, s.UseSetupLink(ctx, l.ID, at(2*time.Minute), again, adminEvent("use")), scimbridge.ECONFLICT)
		_, err = s.ConsoleSessionByHash(ctx, hashOf("session-3"))
		wantCode(t, err, scimbridge.ENOTFOUND)
		if got, _ := s.SetupLinkByHash(ctx, hashOf("link-1")); got.UsedAt == nil {
			t.Error("used_at not set")
		}
		if got := adminEvents(t, s, org.ID); got != before+2 {
			t.Errorf("admin events = %d, want %d", got, before+2)
		}
		wantCode(t, s.RevokeSetupLink(ctx, other.ID, l.ID, at(time.Hour), adminEvent("revoke")), scimbridge.ENOTFOUND)
		if err := s.RevokeSetupLink(ctx, org.ID, l.ID, at(time.Hour), adminEvent("revoke")); err != nil {
			t.Fatal(err)
		}
		got2, err := s.ConsoleSessionByHash(ctx, hashOf("session-2"))
		if err != nil || !got2.Revoked || got2.EndedAt == nil {
			t.Errorf("session of a revoked link = %+v, %v", got2, err)
		}
		if err := s.RevokeSetupLink(ctx, org.ID, l.ID, at(2*time.Hour), adminEvent("revoke")); err != nil {
			t.Errorf("second revoke: %v", err)
		}
		if got := adminEvents(t, s, org.ID); got != before+3 {
			t.Errorf("admin events after revoking twice = %d, want %d", got, before+3)
		}
	})

	t.Run("EventCountsByHour", func(t *testing.T) {
		now := time.Date(2024, 3, 10, 10, 15, 0, 0, time.UTC)
		evs := []scimbridge.Event{
			{OrgID: org.ID, Time: now, Method: "GET", Path: "/scim/v2/Users", Status: 200, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: org.ID, Time: now.Add(time.Minute), Method: "GET", Path: "/scim/v2/Users", Status: 401, Source: scimbridge.EventIdP, Count: 5},
			{OrgID: org.ID, Time: now.Add(time.Hour), Method: "POST", Path: "/scim/v2/Users", Status: 201, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: other.ID, Time: now, Method: "GET", Path: "/scim/v2/Users", Status: 500, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: org.ID, Time: now.Add(-48 * time.Hour), Method: "GET", Path: "/", Status: 200, Source: scimbridge.EventIdP, Count: 1},
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		got, err := s.EventCountsByHour(ctx, org.ID, now.Add(-2*time.Hour), 4)
		if err != nil {
			t.Fatal(err)
		}
		h := now.Truncate(time.Hour)
		want := []scimbridge.HourCount{{Hour: h, StatusClass: 2, Count: 1}, {Hour: h, StatusClass: 4, Count: 5},
			{Hour: h.Add(time.Hour), StatusClass: 2, Count: 1}}
		if len(got) != len(want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
		for i := range want {
			if !got[i].Hour.Equal(want[i].Hour) || got[i].StatusClass != want[i].StatusClass || got[i].Count != want[i].Count {
				t.Errorf("counts[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
	})

	t.Run("EventCountsBetween", func(t *testing.T) {
		hour := time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
		evs := []scimbridge.Event{
			{OrgID: org.ID, Time: hour.Add(-time.Second), Method: "GET", Path: "/scim/v2/Users", Status: 200, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: org.ID, Time: hour.Add(10 * time.Minute), Method: "GET", Path: "/scim/v2/Users", Status: 200, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: org.ID, Time: hour.Add(20 * time.Minute), Method: "GET", Path: "/scim/v2/Users", Status: 503, Source: scimbridge.EventIdP, Count: 2},
			{OrgID: org.ID, Time: hour.Add(20*time.Minute + time.Second), Method: "GET", Path: "/", Status: 302, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: org.ID, Time: hour.Add(30 * time.Minute), Method: "GET", Path: "/scim/v2/Users", Status: 404, Source: scimbridge.EventIdP, Count: 1},
			{OrgID: other.ID, Time: hour.Add(15 * time.Minute), Method: "GET", Path: "/scim/v2/Users", Status: 200, Source: scimbridge.EventIdP, Count: 1},
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		// From inclusive, to exclusive: the 404 at the end is left out.
		got, err := s.EventCountsBetween(ctx, org.ID, hour.Add(10*time.Minute), hour.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := []scimbridge.HourCount{{Hour: hour, StatusClass: 2, Count: 1}, {Hour: hour, StatusClass: 3, Count: 1},
			{Hour: hour, StatusClass: 5, Count: 2}}
		if len(got) != len(want) {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
		for i := range want {
			if !got[i].Hour.Equal(want[i].Hour) || got[i].StatusClass != want[i].StatusClass || got[i].Count != want[i].Count {
				t.Errorf("counts[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
		if got, err := s.EventCountsBetween(ctx, org.ID, hour.Add(40*time.Minute), hour.Add(time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("counts of an empty range = %+v, %v", got, err)
		}
	})

	t.Run("ReportSummary", func(t *testing.T) {
		rep := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual, Status: scimbridge.ReportDryRun,
			StartedAt: base, Counts: scimbridge.ReportCounts{Created: 2},
			Items: []scimbridge.ReportItem{{Kind: scimbridge.ChangeCreate, UserName: "a"}, {Kind: scimbridge.ChangeCreate, UserName: "b"}}}
		if err := s.PutReport(ctx, rep); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReportSummary(ctx, org.ID, rep.ID)
		if err != nil || got.ID != rep.ID || got.Counts.Created != 2 || got.Status != scimbridge.ReportDryRun || len(got.Items) != 0 {
			t.Errorf("summary = %+v, %v", got, err)
		}
		_, err = s.ReportSummary(ctx, other.ID, rep.ID)
		wantCode(t, err, scimbridge.ENOTFOUND)
	})
}

// seedConsole gives the organization a setup link and console sessions
// signed in by it and by the admin token tokenID.
func seedConsole(t *testing.T, s scimbridge.Store, org scimbridge.Organization, tokenID string) {
	t.Helper()
	ctx := context.Background()
	l := scimbridge.SetupLink{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminOwner,
		TokenHash: hashOf("link-" + org.ID), CreatedBy: "cli:root", CreatedAt: base, ExpiresAt: at(time.Hour)}
	if err := s.CreateSetupLink(ctx, l, adminEvent("setup-links")); err != nil {
		t.Fatal(err)
	}
	linked := scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: org.ID, Role: l.Role, TokenHash: hashOf("ls-" + org.ID),
		SetupLinkID: l.ID, CreatedAt: base, LastSeenAt: base}
	if err := s.UseSetupLink(ctx, l.ID, base, linked, adminEvent("use")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsoleSession(ctx, scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: org.ID, Role: scimbridge.AdminOwner,
		TokenHash: hashOf("ts-" + org.ID), AdminTokenID: tokenID, CreatedAt: base, LastSeenAt: base}); err != nil {
		t.Fatal(err)
	}
}

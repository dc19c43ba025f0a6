package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestConsole_GoogleOAuth connects Google Workspace through the OAuth flow
// against the fake Google: the owner's "Connect Google Workspace" link goes
// to the configured authorisation URL, Google sends the browser back to
// the console's callback, and the bridge is stored with OAuth credentials.
func TestConsole_GoogleOAuth(t *testing.T) {
	g := fakegoogle.NewServer()
	gsrv := httptest.NewServer(g.Handler())
	t.Cleanup(gsrv.Close)
	g.SetUsers(nil)

	db := storetest.OpenSQLite(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := newFixture(t, db, false, 1000)
	f.admin.Google = bridge.Endpoints{APIEndpoint: gsrv.URL + "/", TokenURL: gsrv.URL + fakegoogle.TokenPath}
	f.admin.GoogleOAuth = admin.GoogleOAuth{ClientID: g.ClientID(), ClientSecret: g.ClientSecret(), AuthURL: gsrv.URL + fakegoogle.AuthPath}
	*f.now = now
	// The console under its own public URL, where Google sends the admin back.
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h = console.New(console.Config{Admin: f.admin, Store: db, Clock: func() time.Time { return *f.now }, PublicURL: srv.URL})
	f.srv = srv
	g.SetRedirectURIs(srv.URL + "/console/integrations/google/oauth/callback")

	owner, _ := f.token(scimbridge.AdminOwner)
	c := f.client()
	f.signIn(c, owner)
	_, body, _ := f.get(c, "/console/integrations/google")
	if !strings.Contains(body, `id="connect-oauth"`) {
		t.Fatal("no Connect Google Workspace button with an OAuth client configured")
	}
	resp, _, _ := f.get(c, "/console/integrations/google/oauth")
	authURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authURL, gsrv.URL+fakegoogle.AuthPath+"?") {
		t.Fatalf("start: %d to %q", resp.StatusCode, authURL)
	}
	// Google's consent page sends the browser back with a code.
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(back.String(), srv.URL+"/console/integrations/google/oauth/callback?") {
		t.Fatalf("Google sent the browser to %q", back)
	}
	resp, _, _ = f.get(c, strings.TrimPrefix(back.String(), srv.URL))
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "connected") {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	org, _ := db.OrganizationBySlug(context.Background(), "acme")
	b, err := db.Bridge(context.Background(), org.ID)
	if err != nil || b.Settings.CredentialKind != bridge.KindOAuth {
		t.Fatalf("bridge = %+v, %v", b.Settings, err)
	}
	// A used or forged state connects nothing and is no 500.
	if resp, _, _ := f.get(c, "/console/integrations/google/oauth/callback?state=forged&code=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %d", resp.StatusCode)
	}
	// Viewers cannot start it.
	viewer, _ := f.token(scimbridge.AdminViewer)
	vc := f.client()
	f.signIn(vc, viewer)
	if resp, body, _ := f.get(vc, "/console/integrations/google/oauth"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "connect-oauth") {
		t.Errorf("viewer start: %d", resp.StatusCode)
	}
}

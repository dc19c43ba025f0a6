package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
)

const testRedirect = "https://console.example.test/console/orgs/acme/google/callback"

// consent follows authURL as the admin's browser does and returns the code
// and state Google sends back to the redirect URI.
func consent(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorisation endpoint answered %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	q := loc.Query()
	if q.Get("error") != "" {
		t.Fatalf("consent failed: %s", q.Get("error"))
	}
	return q.Get("code"), q.Get("state")
}

func TestAdmin_GoogleOAuthConnect(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := fakegoogle.NewServer()
		srv := httptest.NewServer(g.Handler())
		t.Cleanup(srv.Close)
		g.SetUsers(googleUsers(5))
		g.SetRedirectURIs(testRedirect)
		key := rawKey()
		newReplica := func() *admin.Admin {
			a := newAdmin(db)
			a.Google = bridge.Endpoints{APIEndpoint: srv.URL + "/", TokenURL: srv.URL + fakegoogle.TokenPath}
			a.Keyring = mustKeyring(t, key)
			a.GoogleOAuth = admin.GoogleOAuth{ClientID: g.ClientID(), ClientSecret: g.ClientSecret(), AuthURL: srv.URL + fakegoogle.AuthPath}
			return a
		}
		a, replica := newReplica(), newReplica()
		org, err := a.CreateOrg(ctx, by, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		other, err := a.CreateOrg(ctx, by, "other", "Other")
		if err != nil {
			t.Fatal(err)
		}
		noBridge := func(t *testing.T, orgID string) {
			t.Helper()
			if _, err := db.Bridge(ctx, orgID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Fatalf("a bridge was stored: %v", err)
			}
		}

		t.Run("NotConfigured", func(t *testing.T) {
			plain := newAdmin(db)
			plain.Keyring = a.Keyring
			if plain.GoogleOAuthConfigured() {
				t.Error("configured without a client")
			}
			if !a.GoogleOAuthConfigured() {
				t.Error("not configured with a client")
			}
			_, err := plain.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			wantCode(t, err, scimbridge.EINVALID)
			if err == nil || !strings.Contains(err.Error(), "operator") {
				t.Errorf("start: %v; want the operator named", err)
			}
			wantCode(t, plain.FinishGoogleOAuth(ctx, by, "acme", "s", "c", testRedirect), scimbridge.EINVALID)
		})

		t.Run("AuthURL", func(t *testing.T) {
			u, err := a.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := url.Parse(u)
			q := p.Query()
			want := map[string]string{"client_id": g.ClientID(), "redirect_uri": testRedirect, "response_type": "code",
				"access_type": "offline", "prompt": "consent",
				"scope": fakegoogle.DirectoryReadonlyScope + " " + fakegoogle.GroupReadonlyScope}
			for k, v := range want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			if !strings.HasPrefix(u, srv.URL+fakegoogle.AuthPath+"?") || q.Get("state") == "" {
				t.Errorf("auth URL %s", u)
			}
			if strings.Contains(u, g.ClientSecret()) || strings.Contains(u, org.ID) {
				t.Error("the auth URL shows the client secret or the organization id")
			}
			for _, bad := range []string{"", "/relative", "ftp://x.test/cb", "https://x.test/cb#frag", "https://user:pw@x.test/cb"} {
				_, err := a.StartGoogleOAuth(ctx, by, "acme", bad)
				wantCode(t, err, scimbridge.EINVALID)
			}
			_, err = a.StartGoogleOAuth(ctx, by, "nope", testRedirect)
			wantCode(t, err, scimbridge.ENOTFOUND)
		})

		t.Run("StateRefused", func(t *testing.T) {
			u, err := a.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			code, state := consent(t, u)
			raw, _ := base64.RawURLEncoding.DecodeString(state)
			raw[len(raw)-1] ^= 1
			tampered := base64.RawURLEncoding.EncodeToString(raw)

			otherURL, err := a.StartGoogleOAuth(ctx, by, "other", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			_, otherState := consent(t, otherURL)

			elsewhere := newReplica()
			elsewhere.Keyring = mustKeyring(t, rawKey()) // another daemon's key
			late := newReplica()
			late.Clock = func() time.Time { return time.Now().UTC().Add(admin.GoogleOAuthStateLifetime + time.Minute) }

			for name, tc := range map[string]struct {
				a            *admin.Admin
				slug, state  string
				redirect     string
				wantInDetail string
			}{
				"Garbage":       {a, "acme", "not a state!", testRedirect, "start again"},
				"Empty":         {a, "acme", "", testRedirect, "start again"},
				"Tampered":      {a, "acme", tampered, testRedirect, "start again"},
				"OtherOrg":      {a, "acme", otherState, testRedirect, "start again"},
				"OtherOrgState": {a, "other", state, testRedirect, "start again"},
				"OtherKey":      {elsewhere, "acme", state, testRedirect, "start again"},
				"Expired":       {late, "acme", state, testRedirect, "expired"},
				"OtherRedirect": {a, "acme", state, "https://console.example.test/other", "redirect URI"},
			} {
				err := tc.a.FinishGoogleOAuth(ctx, by, tc.slug, tc.state, code, tc.redirect)
				wantCode(t, err, scimbridge.EINVALID)
				if err == nil || !strings.Contains(err.Error(), tc.wantInDetail) {
					t.Errorf("%s: %v; want %q in it", name, err, tc.wantInDetail)
				}
			}
			if n := g.CodesExchanged(); n != 0 {
				t.Errorf("%d codes exchanged for refused states", n)
			}
			noBridge(t, org.ID)
			noBridge(t, other.ID)
		})

		t.Run("CodeRefused", func(t *testing.T) {
			u, err := a.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			_, state := consent(t, u)
			err = a.FinishGoogleOAuth(ctx, by, "acme", state, "4/0Anot-a-code", testRedirect)
			wantCode(t, err, scimbridge.EINVALID)
			if err == nil || !strings.Contains(err.Error(), "invalid_grant") || !strings.Contains(err.Error(), "nothing was stored") {
				t.Errorf("refused code: %v; want Google's invalid_grant and that nothing was stored", err)
			}
			wantCode(t, a.FinishGoogleOAuth(ctx, by, "acme", state, " ", testRedirect), scimbridge.EINVALID)
			noBridge(t, org.ID)
		})

		t.Run("NoListingPermission", func(t *testing.T) {
			u, err := a.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			code, state := consent(t, u)
			g.FailAll(http.StatusForbidden, "forbidden", "Not Authorized to access this resource/api")
			defer g.ClearFailures()
			err = a.FinishGoogleOAuth(ctx, by, "acme", state, code, testRedirect)
			if err == nil || !strings.Contains(err.Error(), "Not Authorized to access this resource/api") {
				t.Errorf("failed check: %v; want Google's message", err)
			}
			noBridge(t, org.ID)
		})

		t.Run("Connect", func(t *testing.T) {
			u, err := a.StartGoogleOAuth(ctx, by, "acme", testRedirect)
			if err != nil {
				t.Fatal(err)
			}
			code, state := consent(t, u)
			// The callback lands on another replica.
			if err := replica.FinishGoogleOAuth(ctx, by, "acme", state, code, testRedirect); err != nil {
				t.Fatal(err)
			}
			b, err := db.Bridge(ctx, org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Settings.CredentialKind != bridge.KindOAuth || b.Settings.Mode != scimbridge.ModeSync || !b.Settings.Guard {
				t.Errorf("settings %+v", b.Settings)
			}
			// Sealed at rest: neither the refresh token nor the client
			// secret is in the stored bytes, and the keyring opens them.
			for _, secret := range []string{g.RefreshToken(), g.ClientSecret()} {
				if bytes.Contains(b.SealedCredentials, []byte(secret)) {
					t.Errorf("the stored credential holds %q in clear", secret)
				}
			}
			creds, err := bridge.OpenCredentials(a.Keyring, org.ID, b.SealedCredentials)
			if err != nil || creds.Kind != bridge.KindOAuth || !strings.Contains(string(creds.JSON), g.RefreshToken()) {
				t.Errorf("opened credential %v, %v", creds, err)
			}
			ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/bridge/google/oauth", 201)
			page, err := db.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				for _, secret := range []string{g.RefreshToken(), g.ClientSecret(), code} {
					if strings.Contains(e.RequestBody+e.ResponseBody+e.Path, secret) {
						t.Errorf("event %s %s carries a secret", e.Method, e.Path)
					}
				}
			}
			if !strings.Contains(ev.RequestBody, `"credential_kind":"oauth"`) {
				t.Errorf("event body %s", ev.RequestBody)
			}
			// The credential works for a run: the fake's Directory API
			// accepts the refresh token.
			a.Runner = &bridge.Runner{Store: db, Keyring: a.Keyring, Endpoints: a.Google, Clock: a.Clock, Holder: "admin-test"}
			rep, err := a.Runner.RunOnce(ctx, org.ID, scimbridge.TriggerManual, false)
			if err != nil {
				t.Fatalf("run with the connected credential: %v", err)
			}
			if rep.Counts.Created != 5 {
				t.Errorf("run created %d users, want 5", rep.Counts.Created)
			}
			// A code is good once.
			err = a.FinishGoogleOAuth(ctx, by, "acme", state, code, testRedirect)
			if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("code used twice: %v", err)
			}
		})
	})
}

// TestFakeGoogle_AuthorisationEndpoint checks the fake refuses what Google
// refuses before any redirect: an unknown client, an unregistered
// redirect URI.
func TestFakeGoogle_AuthorisationEndpoint(t *testing.T) {
	g := fakegoogle.NewServer()
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	g.SetRedirectURIs(testRedirect)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) *http.Response {
		res, err := client.Get(srv.URL + fakegoogle.AuthPath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	good := url.Values{"client_id": {g.ClientID()}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {fakegoogle.DirectoryReadonlyScope}, "state": {"xyz"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		q.Set(k, v)
		return q
	}
	if res := get(with("client_id", "nope")); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown client: %d", res.StatusCode)
	}
	if res := get(with("redirect_uri", "https://evil.test/cb")); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect: %d", res.StatusCode)
	}
	res := get(with("scope", "https://mail.google.com/"))
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	g.DenyConsent(true)
	res = get(good)
	if loc, _ := url.Parse(res.Header.Get("Location")); loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "xyz" {
		t.Errorf("denied consent: %s", res.Header.Get("Location"))
	}
}

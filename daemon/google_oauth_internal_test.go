package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

const oauthTestRedirect = "https://console.example.test/callback"

// TestServe_GoogleOAuthConnect shows the OAuth settings reach the admin
// operations of serve: SCIMBRIDGE_GOOGLE_AUTH_URL is where the admin is
// sent, SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_ID the client named there, and
// SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE (or the systemd credential)
// the secret the token endpoint checks; the secret is never logged, and a
// client id without a secret stops serve naming the setting.
func TestServe_GoogleOAuthConnect(t *testing.T) {
	g := fakegoogle.NewServer()
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	g.SetUsers(nil)
	g.SetRedirectURIs(oauthTestRedirect)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(g.ClientSecret()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	credDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(credDir, googleOAuthSecretCredential), []byte(g.ClientSecret()), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"SCIMBRIDGE_GOOGLE_API_ENDPOINT":    srv.URL + "/",
		"SCIMBRIDGE_GOOGLE_TOKEN_URL":       srv.URL + fakegoogle.TokenPath,
		"SCIMBRIDGE_GOOGLE_AUTH_URL":        srv.URL + fakegoogle.AuthPath,
		"SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_ID": g.ClientID(),
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	connect := func(t *testing.T, s *Server, slug string) error {
		t.Helper()
		ctx := context.Background()
		by := admin.Caller{Actor: "test"}
		if _, err := s.admin.CreateOrg(ctx, by, slug, ""); err != nil {
			t.Fatal(err)
		}
		u, err := s.admin.StartGoogleOAuth(ctx, by, slug, oauthTestRedirect)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u, srv.URL+fakegoogle.AuthPath+"?") || !strings.Contains(u, "client_id="+url.QueryEscape(g.ClientID())) {
			t.Fatalf("auth URL %s: not the configured endpoint and client", u)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		return s.admin.FinishGoogleOAuth(ctx, by, slug, loc.Query().Get("state"), loc.Query().Get("code"), oauthTestRedirect)
	}
	connected := func(t *testing.T, s *Server, slug string) {
		t.Helper()
		org, err := s.db.OrganizationBySlug(context.Background(), slug)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.db.Bridge(context.Background(), org.ID)
		if err != nil || b.Settings.CredentialKind != bridge.KindOAuth {
			t.Fatalf("bridge after connecting: %+v, %v", b.Settings, err)
		}
	}

	t.Run("SecretFile", func(t *testing.T) {
		s, logs := openTestServer(t, with(map[string]string{"SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE": secretFile, "SCIMBRIDGE_LOG_LEVEL": "debug"}))
		if !s.admin.GoogleOAuthConfigured() {
			t.Fatal("OAuth connect is not available")
		}
		if err := connect(t, s, "acme"); err != nil {
			t.Fatal(err)
		}
		connected(t, s, "acme")
		if strings.Contains(logs.String(), g.ClientSecret()) {
			t.Error("the client secret is in the log")
		}
	})
	t.Run("Credential", func(t *testing.T) {
		s, _ := openTestServer(t, with(map[string]string{"CREDENTIALS_DIRECTORY": credDir}))
		if err := connect(t, s, "acme"); err != nil {
			t.Fatal(err)
		}
		connected(t, s, "acme")
	})
	t.Run("WrongSecret", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "wrong")
		os.WriteFile(wrong, []byte("GOCSPX-wrong"), 0o600)
		s, _ := openTestServer(t, with(map[string]string{"SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE": wrong}))
		err := connect(t, s, "acme")
		if scimbridge.ErrorCode(err) != scimbridge.EINVALID || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("wrong secret: %v; want Google's invalid_client", err)
		}
	})
	t.Run("NoClient", func(t *testing.T) {
		s, _ := openTestServer(t, map[string]string{})
		if s.admin.GoogleOAuthConfigured() {
			t.Error("OAuth connect offered without a client")
		}
	})
	t.Run("ClientWithoutSecret", func(t *testing.T) {
		for name, vars := range map[string]map[string]string{
			"None":    base,
			"Missing": with(map[string]string{"SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE": filepath.Join(t.TempDir(), "nope")}),
			"Empty":   with(map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir(), "SCIMBRIDGE_GOOGLE_OAUTH_CLIENT_SECRET_FILE": emptyFile(t)}),
		} {
			env := with(map[string]string{"SCIMBRIDGE_DATA_DIR": t.TempDir(), "SCIMBRIDGE_LISTEN": "127.0.0.1:0", "SCIMBRIDGE_OPS_LISTEN": "127.0.0.1:0"})
			for k, v := range vars {
				env[k] = v
			}
			getenv := func(k string) string { return env[k] }
			cfg, err := configs.Load("", getenv)
			if err != nil {
				t.Fatal(err)
			}
			s := NewServer(cfg, Options{Stderr: &syncBuffer{}, Getenv: getenv})
			err = s.Open(context.Background())
			s.Close()
			if err == nil || !strings.Contains(err.Error(), "google.oauth_client") {
				t.Errorf("%s: open: %v; want the setting named", name, err)
			}
		}
	})
}

func emptyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// googleOAuthSecretCredential is the systemd credential (LoadCredential=)
// holding the OAuth client's secret when google.oauth_client_secret_file
// is unset.
const googleOAuthSecretCredential = "google-oauth-client-secret"

// googleOAuth returns the operator's OAuth client of "Connect Google
// Workspace": google.oauth_client_id with its secret from
// google.oauth_client_secret_file, else $CREDENTIALS_DIRECTORY. It is the
// zero value when no client id is set. A client id without a readable,
// non-empty secret is an error naming the setting, never the secret.
func googleOAuth(cfg configs.Config, getenv func(string) string) (admin.GoogleOAuth, error) {
	g := cfg.Google
	if g.OAuthClientID == "" {
		return admin.GoogleOAuth{}, nil
	}
	path := g.OAuthClientSecretFile
	if path == "" {
		if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			path = filepath.Join(dir, googleOAuthSecretCredential)
		}
	}
	if path == "" {
		return admin.GoogleOAuth{}, errors.New("google.oauth_client_id is set without its secret: set google.oauth_client_secret_file " +
			"(or give systemd's LoadCredential=" + googleOAuthSecretCredential + ":FILE)")
	}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return admin.GoogleOAuth{}, fmt.Errorf("google.oauth_client_secret_file: %s does not exist", path)
	case err != nil:
		return admin.GoogleOAuth{}, fmt.Errorf("google.oauth_client_secret_file: cannot read %s", path)
	}
	secret := strings.TrimSpace(string(raw))
	clear(raw)
	if secret == "" {
		return admin.GoogleOAuth{}, fmt.Errorf("google.oauth_client_secret_file: %s is empty", path)
	}
	return admin.GoogleOAuth{ClientID: g.OAuthClientID, ClientSecret: secret, AuthURL: g.AuthURL}, nil
}

// newServeAdmin returns the admin operations of serve (the admin API and
// console call them) with the daemon's Google settings and keys.
func newServeAdmin(cfg configs.Config, getenv func(string) string, db scimbridge.Store, keyring *seal.Keyring,
	logger *slog.Logger, clock scimbridge.Clock) (*admin.Admin, error) {
	oauth, err := googleOAuth(cfg, getenv)
	if err != nil {
		return nil, err
	}
	return &admin.Admin{Store: db, Clock: clock, Logger: logger, Keyring: keyring, Google: endpoints(cfg), GoogleOAuth: oauth}, nil
}

package bridge

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// Credential kinds.
const (
	KindServiceAccount = "service_account"
	KindOAuth          = "oauth"
)

// DirectoryScope is the scope the bridge asks for to list users.
const DirectoryScope = "https://www.googleapis.com/auth/admin.directory.user.readonly"

// GroupScope is the scope the bridge asks for to list groups and members,
// only when groups are enabled (WithGroups), and in a token of its own.
const GroupScope = "https://www.googleapis.com/auth/admin.directory.group.readonly"

// Google's endpoints, the defaults of the daemon's google.api_endpoint and
// google.token_url settings.
const (
	DefaultAPIEndpoint = "https://admin.googleapis.com/"
	DefaultTokenURL    = "https://oauth2.googleapis.com/token"
)

// Credentials is what an organization gives the bridge to read its
// directory. JSON is the service-account key file, or the OAuth refresh-token
// file, exactly as given; it is sealed at rest and never logged.
//
// The OAuth refresh-token file is a JSON object:
//
//	{"client_id": "...", "client_secret": "...", "refresh_token": "..."}
//
// An "authorized_user" file in the same shape (as written by Google's
// command-line tools) is accepted too; if it names a "token_uri", that must be
// the configured token URL.
type Credentials struct {
	Kind       string `json:"kind"` // KindServiceAccount | KindOAuth
	JSON       []byte `json:"json"`
	AdminEmail string `json:"admin_email,omitempty"` // impersonated admin (service account)
}

// String never shows key material.
func (c Credentials) String() string {
	if c.AdminEmail != "" {
		return fmt.Sprintf("Credentials{%s, admin %s, [redacted]}", c.Kind, c.AdminEmail)
	}
	return fmt.Sprintf("Credentials{%s, [redacted]}", c.Kind)
}

// GoString never shows key material.
func (c Credentials) GoString() string { return c.String() }

// LogValue never shows key material.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", c.Kind), slog.String("admin_email", c.AdminEmail))
}

// serviceAccountKey is the part of a Google service-account key file the
// bridge reads.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	TokenURI     string `json:"token_uri"`
}

// refreshTokenFile is the OAuth refresh-token file format.
type refreshTokenFile struct {
	Type         string `json:"type,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	TokenURI     string `json:"token_uri,omitempty"`
}

// ParseServiceAccount validates a service-account key (domain-wide
// delegation) and the admin email to impersonate. A key whose token_uri is
// not tokenURL is rejected: the daemon calls only its configured token URL.
func ParseServiceAccount(keyJSON []byte, adminEmail, tokenURL string) (Credentials, error) {
	if _, err := parseServiceAccountKey(keyJSON, tokenURL); err != nil {
		return Credentials{}, err
	}
	adminEmail = strings.TrimSpace(adminEmail)
	if adminEmail == "" {
		return Credentials{}, errors.New("parse service account key: an admin email to impersonate is required")
	}
	if a, err := mail.ParseAddress(adminEmail); err != nil || a.Address != adminEmail {
		return Credentials{}, fmt.Errorf("parse service account key: admin email %q is not an address", adminEmail)
	}
	return Credentials{Kind: KindServiceAccount, JSON: append([]byte(nil), keyJSON...), AdminEmail: adminEmail}, nil
}

// ParseOAuthRefreshToken validates an OAuth refresh-token file.
func ParseOAuthRefreshToken(fileJSON []byte, tokenURL string) (Credentials, error) {
	if _, err := parseRefreshTokenFile(fileJSON, tokenURL); err != nil {
		return Credentials{}, err
	}
	return Credentials{Kind: KindOAuth, JSON: append([]byte(nil), fileJSON...)}, nil
}

func parseServiceAccountKey(keyJSON []byte, tokenURL string) (*serviceAccountKey, error) {
	var k serviceAccountKey
	if err := json.Unmarshal(keyJSON, &k); err != nil {
		// The decoder's message can quote the input: do not wrap it.
		return nil, errors.New("parse service account key: not a JSON key file")
	}
	if k.Type != "service_account" {
		return nil, fmt.Errorf("parse service account key: type is %q, want \"service_account\"", k.Type)
	}
	if k.ClientEmail == "" {
		return nil, errors.New("parse service account key: client_email is missing")
	}
	if k.PrivateKey == "" {
		return nil, errors.New("parse service account key: private_key is missing")
	}
	if _, err := parseRSAKey([]byte(k.PrivateKey)); err != nil {
		return nil, fmt.Errorf("parse service account key: %w", err)
	}
	if err := checkTokenURI(k.TokenURI, tokenURL); err != nil {
		return nil, fmt.Errorf("parse service account key: %w", err)
	}
	return &k, nil
}

func parseRefreshTokenFile(fileJSON []byte, tokenURL string) (*refreshTokenFile, error) {
	var f refreshTokenFile
	if err := json.Unmarshal(fileJSON, &f); err != nil {
		return nil, errors.New(`parse oauth refresh token file: want a JSON object {"client_id","client_secret","refresh_token"}`)
	}
	if f.Type != "" && f.Type != "authorized_user" {
		return nil, fmt.Errorf("parse oauth refresh token file: type is %q, want \"authorized_user\" or none", f.Type)
	}
	var missing []string
	for _, m := range []struct{ name, v string }{
		{"client_id", f.ClientID}, {"client_secret", f.ClientSecret}, {"refresh_token", f.RefreshToken},
	} {
		if strings.TrimSpace(m.v) == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("parse oauth refresh token file: missing %s", strings.Join(missing, ", "))
	}
	if f.TokenURI != "" {
		if err := checkTokenURI(f.TokenURI, tokenURL); err != nil {
			return nil, fmt.Errorf("parse oauth refresh token file: %w", err)
		}
	}
	return &f, nil
}

// checkTokenURI accepts a key's token_uri only when it is the configured token
// URL (a trailing slash aside). An absent token_uri means the configured one.
func checkTokenURI(tokenURI, tokenURL string) error {
	if tokenURL == "" {
		return errors.New("no token URL is configured")
	}
	if tokenURI == "" {
		return nil
	}
	if strings.TrimSuffix(tokenURI, "/") != strings.TrimSuffix(tokenURL, "/") {
		return fmt.Errorf("the key's token_uri %q is not the configured token URL %q (set google.token_url to use another token endpoint)", tokenURI, tokenURL)
	}
	return nil
}

func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	der := pemBytes
	if block, _ := pem.Decode(pemBytes); block != nil {
		der = block.Bytes
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("private_key is not an RSA key")
	}
	if rk, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return rk, nil
	}
	return nil, errors.New("private_key is not a PEM RSA private key")
}

// tokenSource returns the OAuth token source for creds asking for scopes,
// fetching tokens from tokenURL only, over base. ctx is kept for every later
// token fetch, so it must outlive the Directory: callers pass a context
// without cancellation.
func tokenSource(ctx context.Context, creds Credentials, tokenURL string, base *http.Client, scopes ...string) (oauth2.TokenSource, error) {
	if len(scopes) == 0 {
		return nil, errors.New("google credentials: no scope to ask for")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, base)
	switch creds.Kind {
	case KindServiceAccount:
		k, err := parseServiceAccountKey(creds.JSON, tokenURL)
		if err != nil {
			return nil, err
		}
		if creds.AdminEmail == "" {
			return nil, errors.New("service account credentials: no admin email to impersonate")
		}
		cfg := &jwt.Config{
			Email:        k.ClientEmail,
			PrivateKey:   []byte(k.PrivateKey),
			PrivateKeyID: k.PrivateKeyID,
			Subject:      creds.AdminEmail,
			Scopes:       scopes,
			TokenURL:     tokenURL,
		}
		return cfg.TokenSource(ctx), nil
	case KindOAuth:
		f, err := parseRefreshTokenFile(creds.JSON, tokenURL)
		if err != nil {
			return nil, err
		}
		cfg := &oauth2.Config{
			ClientID:     f.ClientID,
			ClientSecret: f.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
			Scopes:       scopes,
		}
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: f.RefreshToken}), nil
	default:
		return nil, fmt.Errorf("google credentials: unknown kind %q", creds.Kind)
	}
}

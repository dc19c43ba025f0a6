package admin

// "Connect Google Workspace": the OAuth authorization-code flow with the
// operator's OAuth client. StartGoogleOAuth returns the URL the admin's
// browser goes to; Google sends it back to the redirect URI with a code
// and the state, which FinishGoogleOAuth checks, exchanges and stores as
// the bridge's OAuth refresh-token credential, exactly as `bridge google
// set --oauth-refresh-token-file` does.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// DefaultGoogleAuthURL is Google's authorisation endpoint, the default of
// the daemon's google.auth_url setting.
const DefaultGoogleAuthURL = "https://accounts.google.com/o/oauth2/v2/auth"

// GoogleOAuthStateLifetime is how long the state of a started connection
// stays good: the admin has this long to consent.
const GoogleOAuthStateLifetime = 10 * time.Minute

// oauthExchangeTimeout bounds the exchange of a code at the token URL.
const oauthExchangeTimeout = 30 * time.Second

// GoogleOAuth is the operator's OAuth client ("web application") that
// organizations connect their Google Workspace through. The token URL is
// Admin.Google's.
type GoogleOAuth struct {
	ClientID string
	// ClientSecret is never logged nor shown.
	ClientSecret string
	// AuthURL is the authorisation endpoint; "" is Google's.
	AuthURL string
}

// String never shows the client secret.
func (o GoogleOAuth) String() string {
	return fmt.Sprintf("GoogleOAuth{client %s, auth %s, [redacted]}", o.ClientID, o.AuthURL)
}

// GoString never shows the client secret.
func (o GoogleOAuth) GoString() string { return o.String() }

// ErrGoogleOAuthNotConfigured is returned by the OAuth operations when the
// operator configured no OAuth client.
var ErrGoogleOAuthNotConfigured = scimbridge.Errorf(scimbridge.EINVALID,
	"connecting Google Workspace through OAuth is not available: the operator has not configured an OAuth client "+
		"(google.oauth_client_id and its secret); upload a service-account key instead")

// errBadOAuthState is the answer to a state that is not one this daemon
// issued for the organization, or has expired.
var errBadOAuthState = scimbridge.Errorf(scimbridge.EINVALID,
	"the Google Workspace connection request is not valid for this organization or has expired: start again")

// GoogleOAuthConfigured reports whether "Connect Google Workspace" is
// available: the operator configured an OAuth client.
func (a *Admin) GoogleOAuthConfigured() bool {
	return a.GoogleOAuth.ClientID != "" && a.GoogleOAuth.ClientSecret != ""
}

// oauthState is what a state carries, sealed under the organization id:
// it cannot be forged or moved to another organization, and any replica
// with the key can check it.
type oauthState struct {
	OrgID    string `json:"o"`
	Expires  int64  `json:"e"` // Unix seconds
	Nonce    string `json:"n"`
	Redirect string `json:"r"` // the redirect URI the flow started with
}

// oauthStateData is the associated data of a sealed state, so that a
// state is never mistaken for a sealed credential or the reverse.
func oauthStateData(orgID string) string { return "google-oauth-state:" + orgID }

// oauthConfig is the oauth2 configuration of the flow for redirectURI.
func (a *Admin) oauthConfig(redirectURI string) *oauth2.Config {
	authURL := a.GoogleOAuth.AuthURL
	if authURL == "" {
		authURL = DefaultGoogleAuthURL
	}
	tokenURL := a.Google.TokenURL
	if tokenURL == "" {
		tokenURL = bridge.DefaultTokenURL
	}
	return &oauth2.Config{
		ClientID:     a.GoogleOAuth.ClientID,
		ClientSecret: a.GoogleOAuth.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  redirectURI,
		Scopes:       []string{bridge.DirectoryScope, bridge.GroupScope},
	}
}

// checkRedirectURI accepts an absolute http(s) URL without a fragment: the
// console's callback, which the operator registered with the OAuth client.
func checkRedirectURI(redirectURI string) error {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "invalid redirect URI %q: want an absolute http(s) URL without a fragment", redirectURI)
	}
	return nil
}

// StartGoogleOAuth begins connecting the organization's Google Workspace:
// it returns the authorisation URL the admin's browser is sent to (the
// operator's client, redirectURI, offline access with consent asked again
// so that Google returns a refresh token, the user and group read-only
// scopes, and a state good for GoogleOAuthStateLifetime). It changes
// nothing.
func (a *Admin) StartGoogleOAuth(ctx context.Context, by Caller, slug, redirectURI string) (string, error) {
	if !a.GoogleOAuthConfigured() {
		return "", ErrGoogleOAuthNotConfigured
	}
	if err := checkRedirectURI(redirectURI); err != nil {
		return "", err
	}
	if a.Keyring == nil {
		return "", errors.New("start Google OAuth: no encryption key loaded")
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	plain, err := json.Marshal(oauthState{OrgID: org.ID, Expires: a.Clock().Add(GoogleOAuthStateLifetime).Unix(),
		Nonce: base64.RawURLEncoding.EncodeToString(nonce), Redirect: redirectURI})
	if err != nil {
		return "", fmt.Errorf("start Google OAuth: %w", err)
	}
	sealed, err := a.Keyring.Seal(oauthStateData(org.ID), plain)
	if err != nil {
		return "", fmt.Errorf("start Google OAuth: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(sealed)
	return a.oauthConfig(redirectURI).AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce), nil
}

// checkOAuthState opens state and checks it belongs to org, has not
// expired and was issued for redirectURI.
func (a *Admin) checkOAuthState(org scimbridge.Organization, state, redirectURI string) error {
	sealed, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(state))
	if err != nil || len(sealed) == 0 {
		return errBadOAuthState
	}
	plain, err := a.Keyring.Open(oauthStateData(org.ID), sealed)
	if err != nil {
		return errBadOAuthState
	}
	var st oauthState
	if err := json.Unmarshal(plain, &st); err != nil || st.OrgID != org.ID || st.Nonce == "" {
		return errBadOAuthState
	}
	if !a.Clock().Before(time.Unix(st.Expires, 0)) {
		return errBadOAuthState
	}
	if st.Redirect != redirectURI {
		return scimbridge.Errorf(scimbridge.EINVALID, "the redirect URI differs from the one the connection started with")
	}
	return nil
}

// FinishGoogleOAuth completes the connection: it checks state, exchanges
// code at the configured token URL, checks the refresh token with a
// one-user listing as `bridge google set` does, and stores it sealed as
// the bridge's OAuth credential with an admin event (no secret in it).
// When any step fails nothing is stored; Google's message is in the error.
func (a *Admin) FinishGoogleOAuth(ctx context.Context, by Caller, slug, state, code, redirectURI string) error {
	if !a.GoogleOAuthConfigured() {
		return ErrGoogleOAuthNotConfigured
	}
	if err := checkRedirectURI(redirectURI); err != nil {
		return err
	}
	if a.Keyring == nil {
		return errors.New("finish Google OAuth: no encryption key loaded")
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	if err := a.checkOAuthState(org, state, redirectURI); err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return scimbridge.Errorf(scimbridge.EINVALID, "Google sent no authorisation code: start again")
	}

	exCtx, cancel := context.WithTimeout(ctx, oauthExchangeTimeout)
	defer cancel()
	exCtx = context.WithValue(exCtx, oauth2.HTTPClient, &http.Client{Timeout: oauthExchangeTimeout})
	tok, err := a.oauthConfig(redirectURI).Exchange(exCtx, code)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			msg := re.ErrorCode
			if re.ErrorDescription != "" {
				msg += ": " + re.ErrorDescription
			}
			if msg == "" {
				msg = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
			}
			return scimbridge.Errorf(scimbridge.EINVALID, "Google refused the authorisation code, nothing was stored: %s", msg)
		}
		return fmt.Errorf("exchange the Google authorisation code: %w", err)
	}
	if tok.RefreshToken == "" {
		return scimbridge.Errorf(scimbridge.EINVALID,
			"Google returned no refresh token (offline access was not granted), nothing was stored: start again")
	}
	file, err := json.Marshal(map[string]string{
		"client_id":     a.GoogleOAuth.ClientID,
		"client_secret": a.GoogleOAuth.ClientSecret,
		"refresh_token": tok.RefreshToken,
	})
	if err != nil {
		return fmt.Errorf("finish Google OAuth: %w", err)
	}
	defer clear(file)
	_, err = a.setGoogleBridge(ctx, by, slug, BridgeChange{OAuthRefreshToken: file}, "POST", "/bridge/google/oauth")
	return err
}

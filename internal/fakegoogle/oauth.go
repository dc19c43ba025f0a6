package fakegoogle

// The OAuth 2.0 authorization-code flow of a web application: the
// authorisation endpoint (consent is given at once) and the token
// endpoint's authorization_code grant, in Google's wire format.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// AuthPath is where Handler serves the authorisation endpoint.
const AuthPath = "/o/oauth2/v2/auth"

// authCodeLifetime is how long an authorisation code can be exchanged.
const authCodeLifetime = 10 * time.Minute

// authCode is one authorisation code the consent endpoint issued.
type authCode struct {
	clientID    string
	redirectURI string
	scopes      map[string]bool
	offline     bool // access_type=offline: the exchange returns a refresh token
	expires     time.Time
}

// oauthFlow is the state of the authorization-code flow.
type oauthFlow struct {
	mu sync.Mutex
	// redirectURIs are the OAuth client's registered redirect URIs; empty
	// accepts any http(s) URL.
	redirectURIs map[string]bool
	codes        map[string]authCode
	deny         bool
	exchanged    int
}

// SetRedirectURIs registers the OAuth client's redirect URIs: the
// authorisation endpoint refuses any other (redirect_uri_mismatch).
func (s *Server) SetRedirectURIs(uris ...string) {
	f := &s.flow
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirectURIs = map[string]bool{}
	for _, u := range uris {
		f.redirectURIs[u] = true
	}
}

// DenyConsent makes the admin refuse consent: the authorisation endpoint
// redirects with error=access_denied.
func (s *Server) DenyConsent(deny bool) {
	s.flow.mu.Lock()
	defer s.flow.mu.Unlock()
	s.flow.deny = deny
}

// ClientID and ClientSecret are the OAuth client the fake knows (the one
// RefreshTokenFile names too).
func (s *Server) ClientID() string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.clientID
}

// ClientSecret: see ClientID.
func (s *Server) ClientSecret() string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.clientSecret
}

// RefreshToken is the refresh token the fake's token endpoint accepts.
func (s *Server) RefreshToken() string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.refreshToken
}

// CodesExchanged counts authorisation codes exchanged for tokens.
func (s *Server) CodesExchanged() int {
	s.flow.mu.Lock()
	defer s.flow.mu.Unlock()
	return s.flow.exchanged
}

// handleAuth is the authorisation endpoint. Errors in the client's request
// (unknown client, unregistered redirect URI) are shown to the user as
// Google does, never sent to the redirect URI; otherwise the admin consents
// at once and the browser goes to redirect_uri with code and state.
func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	page := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte("Error 400: " + code + "\n" + desc + "\n"))
	}
	if clientID != s.ClientID() {
		page(http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}
	u, err := url.Parse(redirect)
	f := &s.flow
	f.mu.Lock()
	registered := len(f.redirectURIs) == 0 || f.redirectURIs[redirect]
	deny := f.deny
	f.mu.Unlock()
	if redirect == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || !registered {
		page(http.StatusBadRequest, "redirect_uri_mismatch",
			"The redirect URI in the request, "+redirect+", does not match the ones authorized for the OAuth client.")
		return
	}
	back := func(params url.Values) {
		if st := q.Get("state"); st != "" {
			params.Set("state", st)
		}
		v := u.Query()
		for k, vs := range params {
			v[k] = vs
		}
		target := *u
		target.RawQuery = v.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	}
	scopes := map[string]bool{}
	for _, sc := range strings.Fields(q.Get("scope")) {
		if sc != DirectoryReadonlyScope && sc != GroupReadonlyScope {
			back(url.Values{"error": {"invalid_scope"}})
			return
		}
		scopes[sc] = true
	}
	if len(scopes) == 0 {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"Missing required parameter: scope"}})
		return
	}
	if deny {
		back(url.Values{"error": {"access_denied"}})
		return
	}
	code := "4/0A" + randomHex(24)
	f.mu.Lock()
	if f.codes == nil {
		f.codes = map[string]authCode{}
	}
	f.codes[code] = authCode{clientID: clientID, redirectURI: redirect, scopes: scopes,
		offline: q.Get("access_type") == "offline", expires: time.Now().Add(authCodeLifetime)}
	f.mu.Unlock()
	granted := make([]string, 0, len(scopes))
	for sc := range scopes {
		granted = append(granted, sc)
	}
	back(url.Values{"code": {code}, "scope": {strings.Join(granted, " ")}})
}

// exchangeCode is the token endpoint's authorization_code grant: the
// client's credentials, a code it issued to that client for this
// redirect_uri, used once and within its lifetime. The answer carries the
// fake's refresh token when the code was asked for offline access.
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID() || secret != s.ClientSecret() {
		writeTokenError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return
	}
	f := &s.flow
	f.mu.Lock()
	c, found := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code")) // a code is used once, right or wrong
	if found {
		f.exchanged++
	}
	f.mu.Unlock()
	switch {
	case !found || c.clientID != id || time.Now().After(c.expires):
		writeTokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
		return
	case c.redirectURI != r.PostForm.Get("redirect_uri"):
		writeTokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
		return
	}
	tok := "ya29.fake-" + randomHex(24)
	a := &s.auth
	a.mu.Lock()
	a.issued[tok] = tokenInfo{subject: id, scopes: c.scopes}
	refresh := a.refreshToken
	a.mu.Unlock()
	granted := make([]string, 0, len(c.scopes))
	for sc := range c.scopes {
		granted = append(granted, sc)
	}
	body := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
		"scope": strings.Join(granted, " ")}
	if c.offline {
		body["refresh_token"] = refresh
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(body)
}

package fakegoogle

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Scopes the fake knows. By default both read-only scopes are granted: to
// the service account's domain-wide delegation and to the refresh token.
const (
	DirectoryReadonlyScope = "https://www.googleapis.com/auth/admin.directory.user.readonly"
	GroupReadonlyScope     = "https://www.googleapis.com/auth/admin.directory.group.readonly"
)

// insufficientScope is Google's answer to a call whose token lacks its scope.
var insufficientScope = Failure{Status: http.StatusForbidden, Reason: "insufficientPermissions",
	Message: "Request had insufficient authentication scopes."}

const (
	jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// ServiceAccountEmail is the client_email of ServiceAccountKey.
	ServiceAccountEmail = "scimbridge-sync@fake-project.iam.gserviceaccount.com"
)

// authState is the token endpoint's state. It has its own lock: key
// generation is slow and must not block the API.
type authState struct {
	mu           sync.Mutex
	key          *rsa.PrivateKey
	keyID        string
	saTokenURL   string // the token_uri the service-account key names
	admin        string // required JWT subject; "" accepts any
	clientID     string
	clientSecret string
	refreshToken string
	issued       map[string]tokenInfo // by access token
	lastSubject  string
	// delegated are the scopes domain-wide delegation grants the service
	// account; refreshScopes those the refresh token was consented for.
	delegated     map[string]bool
	refreshScopes map[string]bool
}

// tokenInfo is what an issued access token stands for.
type tokenInfo struct {
	subject string // impersonated admin or OAuth client id
	scopes  map[string]bool
}

func (a *authState) init() {
	a.clientID = randomHex(8) + ".apps.googleusercontent.com"
	a.clientSecret = "GOCSPX-" + randomHex(12)
	a.refreshToken = "1//" + randomHex(24)
	a.issued = map[string]tokenInfo{}
	a.delegated = scopeSet(DirectoryReadonlyScope, GroupReadonlyScope)
	a.refreshScopes = scopeSet(DirectoryReadonlyScope, GroupReadonlyScope)
}

func scopeSet(scopes ...string) map[string]bool {
	m := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		m[s] = true
	}
	return m
}

// SetDelegatedScopes sets the scopes the admin authorized for the service
// account's domain-wide delegation. A JWT assertion asking for any other
// scope gets unauthorized_client, as Google answers.
func (s *Server) SetDelegatedScopes(scopes ...string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.delegated = scopeSet(scopes...)
}

// SetRefreshTokenScopes sets the scopes the refresh token was consented
// for; its access tokens carry exactly these, whatever the client asks.
func (s *Server) SetRefreshTokenScopes(scopes ...string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.refreshScopes = scopeSet(scopes...)
}

// ServiceAccountKey returns a service-account key file (JSON) whose
// token_uri is tokenURL, signed by a key pair the fake generates once. The
// token endpoint accepts JWT assertions signed with it and addressed to
// tokenURL.
func (s *Server) ServiceAccountKey(tokenURL string) []byte {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("fakegoogle: generate key: " + err.Error())
		}
		a.key = k
		sum := sha256.Sum256(k.PublicKey.N.Bytes())
		a.keyID = hex.EncodeToString(sum[:20])
	}
	a.saTokenURL = tokenURL
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil {
		panic("fakegoogle: marshal key: " + err.Error())
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "fake-project",
		"private_key_id":              a.keyID,
		"private_key":                 string(keyPEM),
		"client_email":                ServiceAccountEmail,
		"client_id":                   "104417362553482103112",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURL,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

// RefreshTokenFile returns an OAuth refresh-token file the fake accepts:
// {"client_id","client_secret","refresh_token"}.
func (s *Server) RefreshTokenFile() []byte {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	b, _ := json.Marshal(map[string]string{
		"client_id":     a.clientID,
		"client_secret": a.clientSecret,
		"refresh_token": a.refreshToken,
	})
	return b
}

// SetAdmin makes the JWT grant accept only this subject (the impersonated
// admin); "" accepts any.
func (s *Server) SetAdmin(email string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.admin = email
}

// LastSubject returns the subject of the last accepted JWT assertion.
func (s *Server) LastSubject() string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.lastSubject
}

// RevokeTokens forgets every issued access token (the API answers 401).
func (s *Server) RevokeTokens() {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.issued = map[string]tokenInfo{}
}

// accessToken returns what the bearer token in header was issued for.
func (a *authState) accessToken(header string) (tokenInfo, bool) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return tokenInfo{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	info, ok := a.issued[tok]
	return info, ok
}

// anyScope reports whether the token carries one of scopes.
func (t tokenInfo) anyScope(scopes ...string) bool {
	for _, s := range scopes {
		if t.scopes[s] {
			return true
		}
	}
	return false
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenRequests++
	var fail *Failure
	if f := s.tokenFailure; f != nil && f.Times != 0 {
		if f.Times > 0 {
			f.Times--
		}
		c := *f
		fail = &c
	}
	s.mu.Unlock()
	if fail != nil {
		if fail.RetryAfter != "" {
			w.Header().Set("Retry-After", fail.RetryAfter)
		}
		writeTokenError(w, fail.Status, fail.Reason, fail.Message)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	a := &s.auth
	var info tokenInfo
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r)
		return
	case jwtBearerGrant:
		sub, scopes, status, code, desc := a.checkAssertion(r.PostForm.Get("assertion"))
		if code != "" {
			writeTokenError(w, status, code, desc)
			return
		}
		info = tokenInfo{subject: sub, scopes: scopes}
	case "refresh_token":
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		a.mu.Lock()
		goodClient := id == a.clientID && secret == a.clientSecret
		goodToken := r.PostForm.Get("refresh_token") == a.refreshToken
		scopes := a.refreshScopes
		a.mu.Unlock()
		if !goodClient {
			writeTokenError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
			return
		}
		if !goodToken {
			writeTokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		if asked := r.PostForm.Get("scope"); asked != "" {
			for _, sc := range strings.Fields(asked) {
				if !scopes[sc] {
					writeTokenError(w, http.StatusBadRequest, "invalid_scope", "Some requested scopes were invalid.")
					return
				}
			}
		}
		info = tokenInfo{subject: id, scopes: scopes}
	default:
		writeTokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	tok := "ya29.fake-" + randomHex(24)
	a.mu.Lock()
	a.issued[tok] = info
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": 3599,
	})
}

// checkAssertion verifies a JWT-bearer assertion: RS256 signed by the fake's
// key, issued by its service account, addressed to its token URL, asking only
// for delegated scopes on behalf of a subject, not expired.
func (a *authState) checkAssertion(assertion string) (sub string, scopes map[string]bool, status int, code, desc string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	bad := func(d string) (string, map[string]bool, int, string, string) {
		return "", nil, http.StatusBadRequest, "invalid_grant", d
	}
	if a.key == nil {
		return bad("Invalid JWT Signature.")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return bad("Invalid JWT: malformed assertion.")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return bad("Invalid JWT: unsupported header.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return bad("Invalid JWT Signature.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&a.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return bad("Invalid JWT Signature.")
	}
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
		Sub   string `json:"sub"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return bad("Invalid JWT: malformed claims.")
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != ServiceAccountEmail:
		return bad("Invalid JWT: unknown issuer.")
	case claims.Aud != a.saTokenURL:
		return bad("Invalid JWT: Failed audience check.")
	case claims.Exp < now || claims.Iat > now+300:
		return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	case claims.Sub == "":
		return bad("Invalid JWT: no subject; domain-wide delegation needs an admin to impersonate.")
	case a.admin != "" && !strings.EqualFold(claims.Sub, a.admin):
		return bad("Invalid email or User ID")
	}
	scopes = map[string]bool{}
	for _, sc := range strings.Fields(claims.Scope) {
		if !a.delegated[sc] {
			return "", nil, http.StatusUnauthorized, "unauthorized_client",
				"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
		}
		scopes[sc] = true
	}
	if claims.Scope == "" {
		return "", nil, http.StatusBadRequest, "invalid_scope", "Empty or missing scope not allowed."
	}
	a.lastSubject = claims.Sub
	return claims.Sub, scopes, 0, "", ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errors.New("empty segment")
	}
	return json.Unmarshal(b, v)
}

func writeTokenError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

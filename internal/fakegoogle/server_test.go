package fakegoogle

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
	"google.golang.org/api/googleapi"
)

type fixture struct {
	s     *Server
	ts    *httptest.Server
	token string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{s: NewServer()}
	f.ts = httptest.NewServer(f.s.Handler())
	t.Cleanup(f.ts.Close)
	resp, err := http.PostForm(f.ts.URL+TokenPath, url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {f.s.auth.clientID},
		"client_secret": {f.s.auth.clientSecret},
		"refresh_token": {f.s.auth.refreshToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("refresh grant: %d %v", resp.StatusCode, err)
	}
	f.token = tok.AccessToken
	return f
}

func (f *fixture) get(t *testing.T, query string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+UsersPath+"?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestServer_Users(t *testing.T) {
	f := newFixture(t)
	f.s.SetUsers(GenerateUsers(5, 1))

	t.Run("PagingWireFormat", func(t *testing.T) {
		resp, body := f.get(t, "customer=my_customer&maxResults=2")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var page admin.Users
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Users) != 2 || page.NextPageToken == "" || page.Kind != "admin#directory#users" {
			t.Fatalf("page: %d users, token %q, kind %q", len(page.Users), page.NextPageToken, page.Kind)
		}
		var ids []string
		for tok := ""; ; {
			_, body := f.get(t, "customer=my_customer&maxResults=2&pageToken="+url.QueryEscape(tok))
			var p admin.Users
			json.Unmarshal(body, &p)
			for _, u := range p.Users {
				ids = append(ids, u.Id)
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		if len(ids) != 5 {
			t.Fatalf("paged %d users, want 5", len(ids))
		}
	})

	t.Run("FieldsMask", func(t *testing.T) {
		_, body := f.get(t, "customer=my_customer&maxResults=1&fields="+url.QueryEscape("nextPageToken,users(id,name/givenName,organizations(title))"))
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["kind"]; ok {
			t.Fatalf("kind not selected but sent: %s", body)
		}
		if _, ok := raw["nextPageToken"]; !ok {
			t.Fatalf("nextPageToken selected but missing: %s", body)
		}
		u := raw["users"].([]any)[0].(map[string]any)
		if len(u) != 3 || u["id"] == nil {
			t.Fatalf("user has %v, want id, name, organizations", u)
		}
		if name := u["name"].(map[string]any); len(name) != 1 || name["givenName"] == nil {
			t.Fatalf("name = %v, want only givenName", name)
		}
		if org := u["organizations"].([]any)[0].(map[string]any); len(org) != 1 || org["title"] == nil {
			t.Fatalf("organization = %v, want only title", org)
		}
	})

	t.Run("InvalidMask", func(t *testing.T) {
		if resp, _ := f.get(t, "customer=my_customer&fields=users(id"); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("MaxResultsRange", func(t *testing.T) {
		if resp, _ := f.get(t, "customer=my_customer&maxResults=501"); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("NoBearer", func(t *testing.T) {
		resp, err := http.Get(f.ts.URL + UsersPath + "?customer=my_customer")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})

	t.Run("GoogleErrorJSON", func(t *testing.T) {
		f.s.FailPageWith(1, Failure{Status: 429, Reason: "rateLimitExceeded", RetryAfter: "3", Times: 1})
		resp, body := f.get(t, "customer=my_customer")
		err := googleapi.CheckResponseWithBody(resp, body)
		gerr, ok := err.(*googleapi.Error)
		if !ok || gerr.Code != 429 || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != "rateLimitExceeded" || gerr.Message != "Rate Limit Exceeded" {
			t.Fatalf("error %#v from %s", err, body)
		}
		if resp.Header.Get("Retry-After") != "3" {
			t.Fatalf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
		if resp, _ := f.get(t, "customer=my_customer"); resp.StatusCode != 200 {
			t.Fatalf("failure outlived its times: %d", resp.StatusCode)
		}
	})
}

func TestServer_Token(t *testing.T) {
	s := NewServer()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	tokenURL := ts.URL + TokenPath
	var key struct {
		PrivateKey string `json:"private_key"`
		KeyID      string `json:"private_key_id"`
		TokenURI   string `json:"token_uri"`
	}
	if err := json.Unmarshal(s.ServiceAccountKey(tokenURL), &key); err != nil || key.TokenURI != tokenURL {
		t.Fatalf("key file: %v, token_uri %q", err, key.TokenURI)
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	pk, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	good := pk.(*rsa.PrivateKey)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)

	claims := func(mod func(m map[string]any)) map[string]any {
		now := time.Now().Unix()
		m := map[string]any{"iss": ServiceAccountEmail, "scope": DirectoryReadonlyScope, "aud": tokenURL,
			"exp": now + 3600, "iat": now, "sub": "admin@example.com"}
		if mod != nil {
			mod(m)
		}
		return m
	}
	cases := []struct {
		name   string
		key    *rsa.PrivateKey
		claims map[string]any
		status int
		code   string
	}{
		{"Valid", good, claims(nil), 200, ""},
		{"OtherKey", other, claims(nil), 400, "invalid_grant"},
		{"OtherAudience", good, claims(func(m map[string]any) { m["aud"] = "https://elsewhere/token" }), 400, "invalid_grant"},
		{"Expired", good, claims(func(m map[string]any) { m["exp"] = time.Now().Add(-time.Hour).Unix() }), 400, "invalid_grant"},
		{"NoSubject", good, claims(func(m map[string]any) { delete(m, "sub") }), 400, "invalid_grant"},
		{"WiderScope", good, claims(func(m map[string]any) {
			m["scope"] = DirectoryReadonlyScope + " https://www.googleapis.com/auth/admin.directory.user"
		}), 401, "unauthorized_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {jwtBearerGrant}, "assertion": {signJWT(t, tc.key, key.KeyID, tc.claims)}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || (tc.code != "" && body["error"] != tc.code) {
				t.Fatalf("status %d body %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if tc.code == "" && (body["access_token"] == nil || s.LastSubject() != "admin@example.com") {
				t.Fatalf("body %v, subject %q", body, s.LastSubject())
			}
		})
	}

	t.Run("RefreshTokenWrongSecret", func(t *testing.T) {
		resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {s.auth.clientID},
			"client_secret": {"wrong"}, "refresh_token": {s.auth.refreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})
}

func signJWT(t *testing.T, k *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func TestGenerateUsers(t *testing.T) {
	a, b := GenerateUsers(3000, 9), GenerateUsers(3000, 9)
	maxInt64 := new(big.Int).SetUint64(1<<63 - 1)
	ids, emails := map[string]bool{}, map[string]bool{}
	var suspended, archived, guests, aliases int
	for i, u := range a {
		if u.Id != b[i].Id || u.PrimaryEmail != b[i].PrimaryEmail {
			t.Fatalf("user %d differs between runs with the same seed", i)
		}
		n, ok := new(big.Int).SetString(u.Id, 10)
		if !ok || len(u.Id) != 21 || n.Cmp(maxInt64) <= 0 {
			t.Fatalf("id %q is not a 21-digit number beyond int64", u.Id)
		}
		if ids[u.Id] || emails[strings.ToLower(u.PrimaryEmail)] {
			t.Fatalf("duplicate id or email at %d: %s %s", i, u.Id, u.PrimaryEmail)
		}
		ids[u.Id], emails[strings.ToLower(u.PrimaryEmail)] = true, true
		if i > 0 {
			rel := u.Relations.([]admin.UserRelation)
			if len(rel) != 1 || rel[0].Type != "manager" || !emails[strings.ToLower(rel[0].Value)] {
				t.Fatalf("user %d manager relation %v does not name an earlier user", i, rel)
			}
		}
		if u.Suspended {
			suspended++
		}
		if u.Archived {
			archived++
		}
		if u.IsGuestUser {
			guests++
		}
		if len(u.Aliases) > 0 {
			aliases++
		}
	}
	if suspended == 0 || archived == 0 || guests == 0 || aliases == 0 {
		t.Fatalf("suspended %d, archived %d, guests %d, aliases %d: want some of each", suspended, archived, guests, aliases)
	}
}

func TestParseMask(t *testing.T) {
	cases := map[string]string{
		"":              "*",
		"a":             "a",
		"b,a":           "a,b",
		"a/b/c":         "a(b(c))",
		"a(b,c/d),a(e)": "a(b,c(d),e)",
		"a(b),a":        "a",
		"nextPageToken,users(id, name(givenName))": "nextPageToken,users(id,name(givenName))",
	}
	for in, want := range cases {
		m, err := parseMask(in)
		if err != nil || m.String() != want {
			t.Errorf("parseMask(%q) = %s, %v; want %s", in, m, err, want)
		}
	}
	for _, bad := range []string{"a(", "a)", ",a", "a(b", "a//b"} {
		if _, err := parseMask(bad); err == nil {
			t.Errorf("parseMask(%q) accepted", bad)
		}
	}
}

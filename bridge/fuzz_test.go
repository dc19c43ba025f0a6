package bridge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/reconcile"
)

// FuzzMapUser feeds arbitrary Directory API user JSON through the mapping
// and the one normal form: it never panics, a user that normalises cleanly
// has a profile email, and its hash is stable.
func FuzzMapUser(f *testing.F) {
	for _, seed := range []string{
		`{"id":"104","primaryEmail":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"}}`,
		`{"id":"1","primaryEmail":"x@example.com","suspended":true,"organizations":[{"title":"Eng","department":"R&D","primary":true}],"relations":[{"type":"manager","value":"boss@example.com"}]}`,
		`{"id":"2","primaryEmail":"","aliases":["a@example.com"],"externalIds":[{"type":"organization","value":"E-1"}]}`,
		`{"id":"3","primaryEmail":"n\u0000ul@example.com"}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var u GoogleUser
		if json.Unmarshal(data, &u) != nil {
			return
		}
		nd := reconcile.Normalize(MapUser(u))
		email, err := nd.Check()
		if err != nil {
			return
		}
		if email == "" {
			t.Fatalf("user %s normalised without a profile email", u.ID)
		}
		if reconcile.Hash(nd) != reconcile.Hash(reconcile.Normalize(MapUser(u))) {
			t.Fatal("hash of the same user differs")
		}
	})
}

// FuzzParseCredentials feeds arbitrary key files to the credential parsers:
// they never panic, never accept a key whose token URL is not the
// configured one, and never quote the private key in an error.
func FuzzParseCredentials(f *testing.F) {
	const tokenURL = "https://oauth2.example.test/token"
	f.Add([]byte(`{"type":"service_account","client_email":"sa@p.iam.example","private_key":"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n","token_uri":"https://oauth2.example.test/token"}`))
	f.Add([]byte(`{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r","token_uri":"https://elsewhere.example/token"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var k struct {
			PrivateKey string `json:"private_key"`
			TokenURI   string `json:"token_uri"`
		}
		_ = json.Unmarshal(data, &k)
		if c, err := ParseServiceAccount(data, "admin@example.com", tokenURL); err == nil {
			if k.TokenURI != "" && k.TokenURI != tokenURL {
				t.Fatalf("accepted a key for token URL %q", k.TokenURI)
			}
			if c.Kind != KindServiceAccount {
				t.Fatalf("kind %q", c.Kind)
			}
		} else if len(k.PrivateKey) >= 16 && strings.Contains(err.Error(), k.PrivateKey) {
			t.Fatal("error quotes the private key")
		}
		if _, err := ParseOAuthRefreshToken(data, tokenURL); err == nil && k.TokenURI != "" && k.TokenURI != tokenURL {
			t.Fatalf("accepted a refresh token for token URL %q", k.TokenURI)
		}
	})
}

package scimbridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestNewSCIMToken(t *testing.T) {
	tok, hash := scimbridge.NewSCIMToken("acme-2")
	if !strings.HasPrefix(tok, "scb_acme-2_") || len(tok) != len("scb_acme-2_")+43 {
		t.Fatalf("token %q has the wrong form", tok)
	}
	slug, ok := scimbridge.SCIMTokenSlug(tok)
	if !ok || slug != "acme-2" {
		t.Fatalf("SCIMTokenSlug = %q, %v", slug, ok)
	}
	if !scimbridge.TokenMatches(tok, hash) || scimbridge.TokenMatches(tok+"x", hash) {
		t.Fatal("TokenMatches does not tell the token from another")
	}
	other, _ := scimbridge.NewSCIMToken("acme-2")
	if other == tok {
		t.Fatal("two tokens are equal")
	}
	for _, bad := range []string{"", "scb_", "scb_acme", "scb_ACME_" + strings.Repeat("a", 43), "scb_acme_short", "Bearer x"} {
		if _, ok := scimbridge.SCIMTokenSlug(bad); ok {
			t.Errorf("SCIMTokenSlug(%q) accepted", bad)
		}
	}
}

func TestSCIMTokenPrefixSlug(t *testing.T) {
	tok, _ := scimbridge.NewSCIMToken("acme-2")
	for _, tt := range []struct{ token, want string }{
		{tok, "acme-2"},
		{tok + "x", "acme-2"},
		{tok[:len(tok)-1], "acme-2"},
		{"scb_acme-2_", "acme-2"},
		{"scb_acme-2_a_b", "acme-2"},
		{"scb_acme-2", ""},
		{"scb_ACME_" + strings.Repeat("a", 43), ""},
		{"scba_" + strings.Repeat("a", 43), ""},
		{"", ""},
	} {
		slug, ok := scimbridge.SCIMTokenPrefixSlug(tt.token)
		if slug != tt.want || ok != (tt.want != "") {
			t.Errorf("SCIMTokenPrefixSlug(%q) = %q, %v; want %q", tt.token, slug, ok, tt.want)
		}
	}
}

func TestPrimaryEmail(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		name   string
		emails []scimbridge.Email
		want   string
	}{
		{"none", nil, ""},
		{"primary wins", []scimbridge.Email{{Value: "a@x", Type: "work"}, {Value: "b@x", Primary: &yes}}, "b@x"},
		{"work before first", []scimbridge.Email{{Value: "h@x", Type: "home", Primary: &no}, {Value: "w@x", Type: "work"}}, "w@x"},
		{"first otherwise", []scimbridge.Email{{Value: "h@x", Type: "home"}, {Value: "o@x", Type: "other"}}, "h@x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := scimbridge.Attributes{Emails: tt.emails}
			if got := a.PrimaryEmail(); got != tt.want {
				t.Fatalf("PrimaryEmail = %q, want %q", got, tt.want)
			}
		})
	}
}

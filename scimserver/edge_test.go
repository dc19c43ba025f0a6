package scimserver

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestEvents_QuerySecretsRedacted: a token sent in the query and the
// value of a filter comparison on password never reach the events log,
// whether the request is refused or served.
func TestEvents_QuerySecretsRedacted(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	const secret = "Hunter2-very-secret"
	search := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"password eq \"` + secret + `\""}`
	requests := []req{
		{method: "GET", path: "/Users?access_token=" + e.token, token: "-"},
		{method: "GET", path: "/Users?token=" + e.token},
		{method: "GET", path: "/Users?filter=" + url.QueryEscape(`password eq "`+secret+`"`)},
		{method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq "a" and password eq "`+secret+`" and )`)},
		{method: "GET", path: "/Users?filter=" + url.QueryEscape(`password eq "`+secret)},
		{method: "POST", path: "/Users/.search", body: search},
		{method: "POST", path: "/.search", body: strings.Replace(search, `password eq`, `password co`, 1), token: "-"},
	}
	for _, r := range requests {
		if res := e.do(r); res.status >= 500 {
			t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
		}
	}
	secretToken := e.token[len("scb_acme_"):]
	n := 0
	for _, org := range []string{e.org.ID, ""} {
		for _, ev := range e.events(org) {
			n++
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), secret) || strings.Contains(string(b), secretToken) {
				t.Errorf("secret stored in event %s", b)
			}
		}
	}
	if n != len(requests) {
		t.Errorf("%d events for %d requests", n, len(requests))
	}
}


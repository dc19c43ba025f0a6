package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// principals a fuzzed request may act as: the fixture's tokens, none, or
// a malformed header.
var fuzzPrincipals = []string{"operator", "owner", "viewer", "app", "ownerB", "", "garbage"}

// FuzzHandler sends arbitrary methods, paths, queries and bodies as every
// principal: the API never fails with a 5xx or a redirect, always answers
// JSON (errors as the error object), and viewers, another organization's
// owner and app tokens (but for webhook endpoints) never change acme.
func FuzzHandler(f *testing.F) {
	fx := newFixture(f, storeSQLite(f))
	f.Add("GET", "/orgs/acme/events", "status=4xx&limit=2&after=ZXZlbnQ6MTA", uint8(1), []byte(nil))
	f.Add("POST", "/orgs", "", uint8(0), []byte(`{"slug":"new","name":"New"}`))
	f.Add("PUT", "/orgs/acme/bridge/google", "", uint8(1), []byte(`{"service_account_key":"{\"type\":1}","admin_email":"a@b"}`))
	f.Add("POST", "/orgs/acme/admin-tokens", "", uint8(2), []byte(`{"role":"owner","expires_in":"99999999999d"}`))
	f.Add("PATCH", "/orgs/acme", "", uint8(4), []byte(`{"adopt_existing":"yes"}`))
	f.Add("DELETE", "/orgs/acme/admin-tokens/%2e%2e", "", uint8(1), []byte(nil))
	f.Add("GET", "/orgs/acme/reports/x/items", "kind=held&limit=1000&after=aXRlbTot", uint8(3), []byte(nil))
	f.Add("GET", "/orgs//scim", "", uint8(0), []byte(nil))
	f.Add("GET", "/orgs/acme/events/-1", "since=-5d&until=2006-13-45", uint8(2), []byte(nil))
	f.Add("POST", "/orgs/acme/webhooks", "", uint8(3), []byte(`{"url":"http://127.0.0.1:9/h","batch":101,"types":[]}`))
	f.Add("PATCH", "/orgs/acme/webhooks/x", "", uint8(3), []byte(`{"enabled":null}`))
	f.Add("POST", "/orgs/acme/webhooks/x/redeliver", "", uint8(0), []byte(`{"attempt_id":-1}`))
	f.Add("GET", "/orgs/acme/webhooks/x/attempts", "after=YXR0ZW1wdDotMQ&limit=1000", uint8(2), []byte(nil))
	f.Add("POST", "/orgs/acme/setup-links", "", uint8(1), []byte(`{"role":"owner","expires_in":"-1h"}`))
	f.Add("GET", "/orgs/acme/setup-links", "after=bGluazo5OTk5OTk5OTk5OTk5OTk5OTk5", uint8(0), []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, query string, who uint8, body []byte) {
		fx.t = t
		fuzzOne(t, fx, method, path, query, who, body)
	})
}

// fuzzOne is one request of FuzzHandler against fx.
func fuzzOne(t *testing.T, fx *fixture, method, path, query string, who uint8, body []byte) {
	if !validMethod(method) {
		method = "GET"
	}
	principal := fuzzPrincipals[int(who)%len(fuzzPrincipals)]
	r := &http.Request{
		Method:     method,
		URL:        &url.URL{Path: BasePath + path, RawQuery: requestLineSafe(query)},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       "admin.example.test",
		RemoteAddr: "192.0.2.1:40000",
		Body:       http.NoBody,
	}
	r = r.WithContext(context.Background())
	r.RequestURI = r.URL.RequestURI()
	if len(body) > 0 {
		r.Body, r.ContentLength = readCloser{bytes.NewReader(body)}, int64(len(body))
	}
	switch principal {
	case "":
	case "garbage":
		r.Header.Set("Authorization", "Bearer scba_"+strings.Repeat("x", len(path)%50))
	default:
		r.Header.Set("Authorization", "Bearer "+fx.tokens[principal])
	}
	before := len(fx.adminEvents(fx.acme))
	w := httptest.NewRecorder()
	fx.api.ServeHTTP(w, r)
	desc := fmt.Sprintf("%s %s?%s as %q: %d %s", method, r.URL.Path, query, principal, w.Code, w.Body)
	if w.Code >= 500 || w.Code/100 == 3 || w.Code < 200 {
		t.Fatalf("status: %s", desc)
	}
	if w.Body.Len() > 0 && w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q: %s", w.Header().Get("Content-Type"), desc)
	}
	if w.Code >= 400 {
		var e errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("not an error object: %s", desc)
		}
	}
	if principal == "app" && strings.Contains(r.URL.Path, "/webhooks") {
		return // app tokens manage webhook endpoints
	}
	switch principal {
	case "viewer", "app", "ownerB", "", "garbage":
		if n := len(fx.adminEvents(fx.acme)); n != before {
			t.Fatalf("acme changed (%d admin events): %s", n-before, desc)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// validMethod reports whether m is an HTTP token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// requestLineSafe escapes what cannot be sent in a request line's query.
func requestLineSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

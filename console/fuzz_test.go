package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// FuzzConsole sends a signed-in owner's GETs with any query, and POSTs
// with any form, to the console's pages: a client's input is never a 500.
// The seeds run as a normal test.
func FuzzConsole(f *testing.F) {
	seeds := []struct{ path, query string }{
		{"/console/provisioning/events", "status=4xx&method=POST&username=alice"},
		{"/console/provisioning/events", "status=9&since=2024-13-45&until=x&after=99999999999999999999"},
		{"/console/provisioning/events", "source=%00&username=%22%5C"},
		{"/console/provisioning/events.csv", "status=5xx"},
		{"/console/provisioning/events/1", ""},
		{"/console/directory", "q=%22%20or%201%20eq%201&source=scim&offset=-5"},
		{"/console/directory", "tab=groups&q=x&offset=999999999999"},
		{"/console/reports/..%2F", ""},
		{"/console/setup/scbl_x", ""},
		{"/console/admin-tokens", "role=owner&expires=9999999d"},
		{"/console/setup-links", "role=root&expires=-1h"},
		{"/console/provisioning/bridge/excluded", "username="},
		{"/console/integrations/google/settings", "settings=1&mode=fast&hold=x&schedule=*%20*&domains=%2C%2C"},
		{"/console/integrations/google/connect", "admin_email=a@b&key_json=%7B"},
		{"/console/reports/x/approve", ""},
	}
	for _, s := range seeds {
		f.Add(s.path, s.query)
	}
	db := storetest.OpenSQLite(f)
	fx := newFixture(&testing.T{}, db, false, 1<<30)
	fx.t = nil
	token, _ := mustToken(f, fx)
	c := fx.client()
	csrf := signInF(f, fx, c, token)
	f.Fuzz(func(t *testing.T, path, query string) {
		fx := fx.on(t)
		if !strings.HasPrefix(path, "/console") {
			path = "/console/" + path
		}
		u, err := url.Parse(fx.srv.URL + path)
		if err != nil {
			return
		}
		get, err := http.NewRequest("GET", u.String()+"?"+query, nil)
		if err != nil {
			return // not a request a client can send
		}
		resp, err := c.Do(get)
		if err != nil {
			// The request is well formed: a failure is the handler's
			// (a panic drops the connection).
			t.Fatalf("GET %s?%s: %v", path, query, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s?%s: %d", path, query, resp.StatusCode)
		}
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		form.Set("csrf", csrf)
		resp, err = c.PostForm(u.String(), form)
		if err != nil {
			t.Fatalf("POST %s %s: %v", path, query, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %s: %d", path, query, resp.StatusCode)
		}
	})
}

func mustToken(f *testing.F, fx *fixture) (string, scimbridge.AdminToken) {
	tok, at, err := fx.admin.CreateAdminToken(f.Context(), fx.by, "acme", scimbridge.AdminOwner, 0)
	if err != nil {
		f.Fatal(err)
	}
	return tok, at
}

func signInF(f *testing.F, fx *fixture, c *http.Client, token string) string {
	resp, err := c.Get(fx.srv.URL + "/console/sign-in")
	if err != nil {
		f.Fatal(err)
	}
	var b strings.Builder
	io_Copy(&b, resp)
	resp.Body.Close()
	pre := csrfRe.FindStringSubmatch(b.String())[1]
	if resp, err = c.PostForm(fx.srv.URL+"/console/sign-in", url.Values{"csrf": {pre}, "token": {token}}); err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = c.Get(fx.srv.URL + "/console/provisioning"); err != nil {
		f.Fatal(err)
	}
	b.Reset()
	io_Copy(&b, resp)
	resp.Body.Close()
	return csrfRe.FindStringSubmatch(b.String())[1]
}

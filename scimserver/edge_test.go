package scimserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
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

// rawRequest writes head (a request line and headers, without the blank
// line) and then body over a new connection to the test server, and
// returns the response read without waiting for the client to send more.
// The connection stays open until the test ends; the deadline only keeps
// a hung server from hanging the test.
func (e *testEnv) rawRequest(head, body string) response {
	e.t.Helper()
	return rawRequestAt(e.t, e.http.Listener.Addr().String(), head, body)
}

// rawRequestAt is rawRequest to the server at addr.
func rawRequestAt(t testing.TB, addr, head, body string) response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head+"\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	if res.Close { // ReadResponse takes Connection: close out of the header
		res.Header.Set("Connection", "close")
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// TestLimits_TokenCheckedBeforeBody: a request without a valid token is
// answered without its body being read, even when the body never comes,
// and its event records no body.
func TestLimits_TokenCheckedBeforeBody(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	for _, auth := range []string{"", "Authorization: Bearer scb_acme_" + strings.Repeat("x", 43) + "\r\n"} {
		res := e.rawRequest("POST /api/connect/v1/Users HTTP/1.1\r\nHost: x\r\n"+auth+
			"X-Request-Id: unauth-body\r\nContent-Type: application/scim+json\r\nContent-Length: 1048576", `{"userName":"sent-before-auth"`)
		mustStatus(t, res, http.StatusUnauthorized)
		if res.header.Get("Connection") != "close" {
			t.Errorf("Connection %q, want close: the unread body must not be drained", res.header.Get("Connection"))
		}
		for _, org := range []string{"", e.org.ID} {
			for _, ev := range e.events(org) {
				if ev.RequestBody != "" {
					t.Errorf("refused request's body recorded: %+v", ev)
				}
			}
		}
	}
}

// TestLimits_BodyDeadline: an authenticated request whose body does not
// arrive in time gets a SCIM 400 and an event, not a hang.
func TestLimits_BodyDeadline(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(c *Config) { c.bodyTimeout = 100 * time.Millisecond })
	res := e.rawRequest("POST /api/connect/v1/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+e.token+
		"\r\nX-Request-Id: slow-body\r\nContent-Type: application/scim+json\r\nContent-Length: 1000", `{"userName":"slow`)
	mustStatus(t, res, http.StatusBadRequest)
	if res.header.Get("Connection") != "close" {
		t.Errorf("Connection %q, want close", res.header.Get("Connection"))
	}
	if got := res.json(t); got["status"] != "400" || !strings.Contains(got["detail"].(string), "did not arrive") ||
		res.header.Get("Content-Type") != scimContentType {
		t.Fatalf("response %s %s", res.header.Get("Content-Type"), res.body)
	}
	ev := eventFor(t, e.events(e.org.ID), "slow-body")
	if ev.Status != http.StatusBadRequest || !strings.Contains(ev.Error, "did not arrive") {
		t.Fatalf("event %+v", ev)
	}
	// The deadline is lifted once the body is read: the server goes on
	// answering on other connections and a complete body is served.
	mustStatus(t, e.do(req{method: "POST", path: "/Users", body: user("quick@example.com")}), http.StatusCreated)
}

// TestRoutes_UncleanPathsAreLoggedNotFound: paths that http.ServeMux
// would redirect (//Users, /./Users, /Users/../Users) and the base URL
// without a trailing slash are a logged SCIM 404, never a redirect, both
// from the handler and behind a ServeMux mounted with Mount as the daemon
// does.
func TestRoutes_UncleanPathsAreLoggedNotFound(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	mux := http.NewServeMux()
	mux.Handle(scim.BasePath+"/", e.srv.Handler())
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "elsewhere") })
	mounted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inflight.Add(1)
		defer e.inflight.Done()
		Mount(e.srv.Handler(), mux).ServeHTTP(w, r)
	}))
	t.Cleanup(mounted.Close)
	paths := []string{
		scim.BasePath + "//Users",
		scim.BasePath + "/./Users",
		scim.BasePath + "/Users/../Users",
		scim.BasePath + "/Users/./" + "00000000-0000-0000-0000-000000000000",
		scim.BasePath + "/Users//",
		scim.BasePath + "/Groups/../Users",
		scim.BasePath + "/../v1/Users",
		scim.BasePath,
		scim.BasePath + "/",
		"/" + scim.BasePath + "/Users",
		"/api/connect/./v1/Users",
	}
	for _, via := range []string{"Handler", "Mount"} {
		addr := e.http.Listener.Addr().String()
		if via == "Mount" {
			addr = mounted.Listener.Addr().String()
		}
		for i, p := range paths {
			if via == "Handler" && !strings.HasPrefix(p, scim.BasePath) {
				continue // not under the base URL as sent: only Mount routes it
			}
			id := fmt.Sprintf("unclean-%s-%d", via, i)
			res := rawRequestAt(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+e.token+"\r\nX-Request-Id: "+id, "")
			if res.status != http.StatusNotFound || res.header.Get("Content-Type") != scimContentType || res.header.Get("Location") != "" {
				t.Errorf("%s GET %s = %d %s Location %q: %s", via, p, res.status, res.header.Get("Content-Type"), res.header.Get("Location"), res.body)
				continue
			}
			if got := res.json(t); got["status"] != "404" {
				t.Errorf("%s GET %s body %s", via, p, res.body)
			}
			if ev := eventFor(t, e.events(e.org.ID), id); ev.Status != http.StatusNotFound || ev.Path != p {
				t.Errorf("%s GET %s: event %+v", via, p, ev)
			}
		}
	}
	// Mount leaves other paths to the mux, and the clean SCIM paths work.
	addr := mounted.Listener.Addr().String()
	if res := rawRequestAt(t, addr, "GET /elsewhere HTTP/1.1\r\nHost: x", ""); res.status != http.StatusOK || string(res.body) != "elsewhere" {
		t.Errorf("GET /elsewhere = %d %s", res.status, res.body)
	}
	res := rawRequestAt(t, addr, "GET "+scim.BasePath+"/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+e.token, "")
	mustStatus(t, res, http.StatusOK)
	if r := httptest.NewRequest("GET", scim.BasePath+"//Users", nil); e.srv.Route(r) != "other" {
		t.Errorf("Route(//Users) = %q, want other", e.srv.Route(r))
	}
}

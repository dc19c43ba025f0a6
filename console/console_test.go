package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// fixture is a console over a real store with one organization.
type fixture struct {
	t     *testing.T
	db    *store.DB
	admin *admin.Admin
	srv   *httptest.Server
	now   *time.Time
	by    admin.Caller
}

// on returns the fixture reporting to t (a subtest).
func (f *fixture) on(t *testing.T) *fixture {
	c := *f
	c.t = t
	return &c
}

func (f *fixture) advance(d time.Duration) { *f.now = f.now.Add(d) }

func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

func newFixture(t *testing.T, db *store.DB, secure bool, signInLimit int) *fixture {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &fixture{t: t, db: db, now: &now, by: admin.Caller{Actor: "cli:test"}}
	clock := func() time.Time { return *f.now }
	key := make([]byte, 32)
	rand.Read(key)
	keyring, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	f.admin = &admin.Admin{Store: db, Clock: clock, Keyring: keyring,
		Runner: &bridge.Runner{Store: db, Keyring: keyring, Clock: clock, Holder: "console-test"}}
	if _, err := f.admin.CreateOrg(context.Background(), f.by, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	h := console.New(console.Config{Admin: f.admin, Store: db, Clock: clock, PublicURL: "https://scim.example.test",
		SecureCookies: secure, SignInLimit: signInLimit})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a browser without JavaScript: a cookie jar, no redirects
// followed.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) token(role scimbridge.AdminRole) (string, scimbridge.AdminToken) {
	tok, at, err := f.admin.CreateAdminToken(context.Background(), f.by, "acme", role, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok, at
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get returns the status, body and the page's CSRF token.
func (f *fixture) get(c *http.Client, path string) (*http.Response, string, string) {
	f.t.Helper()
	resp, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io_Copy(&b, resp); err != nil {
		f.t.Fatal(err)
	}
	csrf := ""
	if m := csrfRe.FindStringSubmatch(b.String()); m != nil {
		csrf = m[1]
	}
	return resp, b.String(), csrf
}

func (f *fixture) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	resp, err := c.PostForm(f.srv.URL+path, form)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	io_Copy(&b, resp)
	return resp, b.String()
}

// signIn signs c in with an admin token and returns the session's CSRF
// token.
func (f *fixture) signIn(c *http.Client, token string) string {
	f.t.Helper()
	_, _, pre := f.get(c, "/console/sign-in")
	resp, body := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	_, _, csrf := f.get(c, "/console/provisioning")
	if csrf == "" {
		f.t.Fatal("no CSRF token on the Provisioning page")
	}
	return csrf
}

func (f *fixture) scimEnabled() bool {
	org, _ := f.db.OrganizationBySlug(context.Background(), "acme")
	_, ok, err := f.admin.SCIMConfig(context.Background(), org)
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

func TestConsole_Security(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, false, 1000)
		ownerToken, ownerAT := f.token(scimbridge.AdminOwner)

		t.Run("Headers", func(t *testing.T) {
			f := f.on(t)
			resp, _, _ := f.get(f.client(), "/console/sign-in")
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
				strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP = %q", csp)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", resp.Header)
			}
		})

		t.Run("NoInlineScript", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			f.signIn(c, ownerToken)
			for _, p := range []string{"/console/", "/console/provisioning", "/console/provisioning/events", "/console/reports", "/console/webhooks",
				"/console/directory", "/console/admin-tokens", "/console/integrations/google", "/console/provisioning/bridge"} {
				resp, body, _ := f.get(c, p)
				if resp.StatusCode != 200 {
					t.Errorf("%s: %d", p, resp.StatusCode)
				}
				if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) || strings.Contains(body, " on"+"click=") {
					t.Errorf("%s has inline script", p)
				}
			}
		})

		t.Run("OverviewChartCountedAt", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			f.signIn(c, ownerToken)
			countedAt := func() string {
				t.Helper()
				// The first render may find the first count still running,
				// and say so: the page is loaded again, as a user would.
				var body string
				for range 100 {
					_, body, _ = f.get(c, "/console/")
					if !strings.Contains(body, `id="chart-counting"`) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				m := regexp.MustCompile(`counts as of <span id="chart-counted-at">(\d\d:\d\d:\d\d)</span>`).FindStringSubmatch(body)
				if m == nil {
					t.Fatalf("overview shows no time its counts are as of:\n%s", body)
				}
				return m[1]
			}
			// Within the TTL the page shows the time the counts were
			// counted, not the time it is rendered.
			first := countedAt()
			if first > f.now.Format("15:04:05") {
				t.Errorf("counts as of %s, after now (%s)", first, f.now.Format("15:04:05"))
			}
			f.advance(10 * time.Second)
			if got := countedAt(); got != first {
				t.Errorf("counts as of %s 10 s later, want %s", got, first)
			}
		})

		t.Run("CookieFlags", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			_, _, pre := f.get(c, "/console/sign-in")
			resp, _ := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {ownerToken}})
			var sess *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == "scimbridge_session" {
					sess = ck
				}
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.Path != "/console/" {
				t.Errorf("session cookie = %+v", sess)
			}
			if strings.Contains(sess.Value, ownerToken) {
				t.Error("the cookie holds the admin token")
			}
			// Under TLS the cookie is Secure.
			tf := newFixture(t, storetest.OpenSQLite(t), true, 1000)
			tok, _ := tf.token(scimbridge.AdminOwner)
			tc := tf.client()
			_, _, pre = tf.get(tc, "/console/sign-in")
			resp, _ = tf.post(tc, "/console/sign-in", url.Values{"csrf": {pre}, "token": {tok}})
			if h := resp.Header.Get("Set-Cookie"); !strings.Contains(h, "Secure") || !strings.Contains(h, "HttpOnly") {
				t.Errorf("Set-Cookie under TLS = %q", h)
			}
		})

		t.Run("CSRF", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			csrf := f.signIn(c, ownerToken)
			resp, _ := f.post(c, "/console/provisioning/enable", url.Values{})
			if resp.StatusCode != http.StatusForbidden || f.scimEnabled() {
				t.Fatalf("without a CSRF token: %d, enabled %v", resp.StatusCode, f.scimEnabled())
			}
			resp, _ = f.post(c, "/console/provisioning/enable", url.Values{"csrf": {wrongToken(csrf)}})
			if resp.StatusCode != http.StatusForbidden || f.scimEnabled() {
				t.Fatalf("with a wrong CSRF token: %d", resp.StatusCode)
			}
			// Another session's token does not do either.
			other := f.client()
			otherCSRF := f.signIn(other, ownerToken)
			resp, _ = f.post(c, "/console/provisioning/enable", url.Values{"csrf": {otherCSRF}})
			if resp.StatusCode != http.StatusForbidden || f.scimEnabled() {
				t.Fatalf("with another session's CSRF token: %d", resp.StatusCode)
			}
			resp, body := f.post(c, "/console/provisioning/enable", url.Values{"csrf": {csrf}})
			if resp.StatusCode != 200 || !f.scimEnabled() || !strings.Contains(body, "scb_acme_") {
				t.Fatalf("with the CSRF token: %d", resp.StatusCode)
			}
			// The sign-in form needs its own token too.
			resp, _ = f.post(f.client(), "/console/sign-in", url.Values{"token": {ownerToken}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("sign-in without a CSRF token: %d", resp.StatusCode)
			}
			f.admin.DisableSCIM(context.Background(), f.by, "acme")
		})

		t.Run("SecretShownOnce", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			csrf := f.signIn(c, ownerToken)
			_, body := f.post(c, "/console/provisioning/enable", url.Values{"csrf": {csrf}})
			token := regexp.MustCompile(`scb_acme_[A-Za-z0-9]+`).FindString(body)
			if token == "" {
				t.Fatal("no token shown")
			}
			for _, p := range []string{"/console/provisioning", "/console/", "/console/provisioning/events"} {
				if _, b, _ := f.get(c, p); strings.Contains(b, token) {
					t.Errorf("%s shows the token again", p)
				}
			}
			f.admin.DisableSCIM(context.Background(), f.by, "acme")
		})

		t.Run("Viewer", func(t *testing.T) {
			f := f.on(t)
			viewerToken, _ := f.token(scimbridge.AdminViewer)
			c := f.client()
			csrf := f.signIn(c, viewerToken)
			for _, p := range []string{"/console/provisioning", "/console/admin-tokens", "/console/integrations/google", "/console/provisioning/bridge", "/console/webhooks"} {
				_, body, _ := f.get(c, p)
				forms := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindAllStringSubmatch(body, -1)
				for _, m := range forms {
					if m[1] != "/console/sign-out" {
						t.Errorf("a viewer sees the form %s on %s", m[1], p)
					}
				}
			}
			resp, _ := f.post(c, "/console/provisioning/enable", url.Values{"csrf": {csrf}})
			if resp.StatusCode != http.StatusForbidden || f.scimEnabled() {
				t.Errorf("a viewer's POST: %d, enabled %v", resp.StatusCode, f.scimEnabled())
			}
			resp, _ = f.post(c, "/console/admin-tokens", url.Values{"csrf": {csrf}, "role": {"owner"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("a viewer creating a token: %d", resp.StatusCode)
			}
		})

		t.Run("AppTokenRefused", func(t *testing.T) {
			f := f.on(t)
			// App tokens are API only.
			tok, hash := scimbridge.NewAdminToken()
			org, _ := db.OrganizationBySlug(context.Background(), "acme")
			if err := db.CreateAdminToken(context.Background(), scimbridge.AdminToken{ID: "app-1", OrgID: org.ID,
				Role: scimbridge.AdminApp, TokenHash: hash, Prefix: tok[:11], CreatedAt: *f.now}, scimbridge.Event{}); err != nil {
				t.Fatal(err)
			}
			c := f.client()
			_, _, pre := f.get(c, "/console/sign-in")
			if resp, _ := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {tok}}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("app token sign-in: %d", resp.StatusCode)
			}
		})

		t.Run("RevokedTokenEndsSession", func(t *testing.T) {
			f := f.on(t)
			tok, at := f.token(scimbridge.AdminOwner)
			c := f.client()
			f.signIn(c, tok)
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != 200 {
				t.Fatalf("signed in: %d", resp.StatusCode)
			}
			if err := f.admin.RevokeAdminToken(context.Background(), f.by, "acme", at.ID); err != nil {
				t.Fatal(err)
			}
			resp, _, _ := f.get(c, "/console/")
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in" {
				t.Errorf("after revoking the token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			_ = ownerAT
		})

		t.Run("SessionExpiry", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			f.signIn(c, ownerToken)
			f.advance(11 * time.Hour)
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != 200 {
				t.Fatalf("after 11 hours: %d", resp.StatusCode)
			}
			f.advance(12 * time.Hour) // 12 hours idle
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after 12 hours idle: %d", resp.StatusCode)
			}
			c = f.client()
			f.signIn(c, ownerToken)
			for range 16 { // active every 11 hours, for more than 7 days
				f.advance(11 * time.Hour)
				f.get(c, "/console/")
			}
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after 7 days: %d", resp.StatusCode)
			}
		})

		t.Run("SetupLink", func(t *testing.T) {
			f := f.on(t)
			token, l, err := f.admin.CreateSetupLink(context.Background(), f.by, admin.Principal{Operator: true}, "acme", scimbridge.AdminOwner, 0)
			if err != nil {
				t.Fatal(err)
			}
			c := f.client()
			// Opening it (as a mail scanner would) does not use it.
			for range 2 {
				if resp, body, _ := f.get(c, "/console/setup/"+token); resp.StatusCode != 200 || !strings.Contains(body, `id="use-link"`) {
					t.Fatalf("open the link: %d", resp.StatusCode)
				}
			}
			_, _, pre := f.get(c, "/console/setup/"+token)
			resp, _ := f.post(c, "/console/setup", url.Values{"csrf": {pre}, "token": {token}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("use the link: %d", resp.StatusCode)
			}
			_, _, csrf := f.get(c, "/console/provisioning")
			// A link session cannot create tokens or links.
			for _, p := range []string{"/console/admin-tokens", "/console/setup-links"} {
				if resp, _ := f.post(c, p, url.Values{"csrf": {csrf}, "role": {"viewer"}}); resp.StatusCode != http.StatusForbidden {
					t.Errorf("a link session POST %s: %d", p, resp.StatusCode)
				}
			}
			// Used up.
			c2 := f.client()
			_, _, pre2 := f.get(c2, "/console/sign-in")
			if resp, _ := f.post(c2, "/console/setup", url.Values{"csrf": {pre2}, "token": {token}}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("second use: %d", resp.StatusCode)
			}
			// Revoking it ends its session.
			if err := f.admin.RevokeSetupLink(context.Background(), f.by, "acme", l.ID); err != nil {
				t.Fatal(err)
			}
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after revoking the link: %d", resp.StatusCode)
			}
		})

		t.Run("SignInRateLimit", func(t *testing.T) {
			f := newFixture(t, storetest.OpenSQLite(t), false, 5)
			ownerToken, _ := f.token(scimbridge.AdminOwner)
			c := f.client()
			_, _, pre := f.get(c, "/console/sign-in")
			var last int
			for range 6 { // the fixture allows 5 a minute
				resp, _ := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {"scba_wrong"}})
				last = resp.StatusCode
			}
			if last != http.StatusTooManyRequests {
				t.Errorf("6th attempt: %d", last)
			}
			// Even the right token waits.
			if resp, _ := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {ownerToken}}); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("right token while limited: %d", resp.StatusCode)
			}
			f.advance(time.Minute)
			if resp, _ := f.post(c, "/console/sign-in", url.Values{"csrf": {pre}, "token": {ownerToken}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("a minute later: %d", resp.StatusCode)
			}
		})

		t.Run("SignOut", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			csrf := f.signIn(c, ownerToken)
			if resp, _ := f.post(c, "/console/sign-out", url.Values{}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("sign-out without CSRF: %d", resp.StatusCode)
			}
			if resp, _ := f.post(c, "/console/sign-out", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("sign-out: %d", resp.StatusCode)
			}
			if resp, _, _ := f.get(c, "/console/"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after sign-out: %d", resp.StatusCode)
			}
		})

		t.Run("OwnerCreatesTokenAndLink", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			csrf := f.signIn(c, ownerToken)
			resp, body := f.post(c, "/console/admin-tokens", url.Values{"csrf": {csrf}, "role": {"viewer"}, "expires": {"7d"}})
			tok := regexp.MustCompile(`scba_[A-Za-z0-9]+`).FindString(body)
			if resp.StatusCode != 200 || tok == "" {
				t.Fatalf("create token: %d", resp.StatusCode)
			}
			if p, err := f.admin.Authenticate(context.Background(), tok); err != nil || p.Role != scimbridge.AdminViewer {
				t.Errorf("created token: %+v, %v", p, err)
			}
			resp, body = f.post(c, "/console/setup-links", url.Values{"csrf": {csrf}, "role": {"owner"}, "expires": {"48h"}})
			link := regexp.MustCompile(`https://scim\.example\.test/console/setup/(scbl_[A-Za-z0-9]+)`).FindStringSubmatch(body)
			if resp.StatusCode != 200 || link == nil {
				t.Fatalf("create setup link: %d", resp.StatusCode)
			}
			if _, b, _ := f.get(c, "/console/admin-tokens"); strings.Contains(b, tok) || strings.Contains(b, link[1]) {
				t.Error("the token or link is shown again")
			}
			if resp, _ := f.post(c, "/console/setup-links", url.Values{"csrf": {csrf}, "role": {"owner"}, "expires": {"8d"}}); resp.StatusCode != 400 {
				t.Errorf("an 8-day link: %d", resp.StatusCode)
			}
			events, _ := f.db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: ownerAT.OrgID, Source: scimbridge.EventAdmin, Limit: 2})
			if len(events.Events) != 2 || !strings.HasSuffix(events.Events[0].Path, "/setup-links") ||
				events.Events[0].Actor != "console:token:"+ownerAT.ID || events.Events[0].ClientIP != "127.0.0.1" {
				t.Errorf("admin events = %+v", events.Events)
			}
		})

		t.Run("WebhooksReadOnly", func(t *testing.T) {
			f := f.on(t)
			secret, ep, err := f.admin.AddWebhook(context.Background(), f.by, "acme", admin.WebhookSpec{URL: "https://hooks.example.com/scim", Disabled: true})
			if err != nil {
				t.Fatal(err)
			}
			c := f.client()
			f.signIn(c, ownerToken)
			resp, body, _ := f.get(c, "/console/webhooks")
			if resp.StatusCode != 200 || !strings.Contains(body, "https://hooks.example.com/scim") || strings.Contains(body, secret) {
				t.Errorf("webhooks page: %d, lists the endpoint %v, shows the secret %v", resp.StatusCode,
					strings.Contains(body, "hooks.example.com"), strings.Contains(body, secret))
			}
			if regexp.MustCompile(`<form method="post" action="/console/webhooks`).MatchString(body) {
				t.Error("the webhooks page has a form")
			}
			if err := f.admin.RemoveWebhook(context.Background(), f.by, "acme", ep.ID); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ReportPages", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			f.signIn(c, ownerToken)
			org, err := db.OrganizationBySlug(context.Background(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			rep := scimbridge.Report{ID: uuid.NewString(), OrgID: org.ID, Trigger: scimbridge.TriggerManual,
				Status: scimbridge.ReportDryRun, StartedAt: f.now.Add(-time.Minute), Counts: scimbridge.ReportCounts{Created: 450}}
			for i := range 450 {
				rep.Items = append(rep.Items, scimbridge.ReportItem{Kind: scimbridge.ChangeCreate, GoogleID: strconv.Itoa(i),
					UserName: fmt.Sprintf("user%04d@acme.example", i), Reason: "new in Google"})
			}
			if err := db.PutReport(context.Background(), rep); err != nil {
				t.Fatal(err)
			}
			// Following the next links shows every item once, in order.
			next := "/console/reports/" + rep.ID
			var seen []string
			pages := 0
			for ; next != ""; pages++ {
				if pages > 5 {
					t.Fatal("the next links do not end")
				}
				resp, body, _ := f.get(c, next)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d", next, resp.StatusCode)
				}
				seen = append(seen, regexp.MustCompile(`user\d{4}@acme\.example`).FindAllString(body, -1)...)
				next = ""
				if m := regexp.MustCompile(`id="next-items" href="([^"]+)"`).FindStringSubmatch(body); m != nil {
					next = html.UnescapeString(m[1])
				}
			}
			if pages < 2 {
				t.Errorf("450 items on %d page: a page shows a bounded number of items", pages)
			}
			if len(seen) != 450 || seen[0] != "user0000@acme.example" || seen[449] != "user0449@acme.example" {
				t.Errorf("items over the pages: %d, first %q", len(seen), seen[:min(1, len(seen))])
			}
			for i := 1; i < len(seen); i++ {
				if seen[i] <= seen[i-1] {
					t.Fatalf("item %d (%s) after %s", i, seen[i], seen[i-1])
				}
			}
			if resp, _, _ := f.get(c, "/console/reports/"+rep.ID+"?after=bogus"); resp.StatusCode != 400 {
				t.Errorf("a bad cursor: %d, want 400", resp.StatusCode)
			}
		})

		t.Run("BadInput", func(t *testing.T) {
			f := f.on(t)
			c := f.client()
			f.signIn(c, ownerToken)
			for _, p := range []string{"/console/provisioning/events?status=9xx", "/console/provisioning/events?since=yesterday",
				"/console/provisioning/events?after=-3", "/console/directory?source=ldap", "/console/provisioning/events/abc",
				"/console/reports/nope", "/console/nowhere"} {
				resp, _, _ := f.get(c, p)
				if resp.StatusCode != 400 && resp.StatusCode != 404 {
					t.Errorf("%s: %d", p, resp.StatusCode)
				}
			}
		})
	})
}

func io_Copy(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }

// wrongToken is token with its first character changed (a token starting
// with "0" must not come back unchanged).
func wrongToken(token string) string {
	if strings.HasPrefix(token, "0") {
		return "1" + token[1:]
	}
	return "0" + token[1:]
}

package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

// grants is what each principal may do, written out here rather than
// taken from admin.Principal.May, so the test states the contract.
var grants = map[string][]admin.Permission{
	"operator": {admin.ReadProvisioning, admin.ChangeProvisioning, admin.ReadDirectory, admin.ManageWebhooks, admin.ManageOrganizations},
	"owner":    {admin.ReadProvisioning, admin.ChangeProvisioning, admin.ReadDirectory},
	"viewer":   {admin.ReadProvisioning, admin.ReadDirectory},
	"app":      {admin.ReadDirectory, admin.ManageWebhooks},
	"ownerB":   {admin.ReadProvisioning, admin.ChangeProvisioning, admin.ReadDirectory},
}

// concrete fills a route's path for organization acme.
func concrete(path string) string {
	path = strings.ReplaceAll(path, "{slug}", "acme")
	return strings.ReplaceAll(path, "{id}", "1")
}

// Every route with every principal: refused ones are 403 (404 for another
// organization's) and change nothing; allowed ones pass authorization.
func TestAPI_EveryRouteAndRole(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// Refused principals first: nothing they send may change acme.
		before := len(f.adminEvents(f.acme))
		// Deleting acme goes last, so every other route finds it.
		routes := slices.Clone(f.api.routes)
		slices.SortStableFunc(routes, func(a, b route) int {
			last := func(r route) int {
				if r.method == "DELETE" && r.path == "/orgs/{slug}" {
					return 1
				}
				return 0
			}
			return last(a) - last(b)
		})
		for _, who := range []string{"ownerB", "viewer", "app", "owner", "operator"} {
			for _, rt := range routes {
				path := concrete(rt.path)
				body := ""
				if rt.method != "GET" && rt.method != "DELETE" {
					body = "{}"
				}
				r := f.do(who, rt.method, path, body)
				allowed := rt.perm == Everyone || slices.Contains(grants[who], rt.perm)
				switch {
				case who == "ownerB" && strings.Contains(rt.path, "{slug}"):
					if r.status != http.StatusNotFound || r.errorCode(t) != scimbridge.ENOTFOUND || strings.Contains(string(r.body), f.acme.ID) {
						t.Errorf("%s %s as %s: %d %s, want 404 saying nothing of acme", rt.method, path, who, r.status, r.body)
					}
				case !allowed:
					if r.status != http.StatusForbidden || r.errorCode(t) != "forbidden" {
						t.Errorf("%s %s as %s: %d %s, want 403 forbidden", rt.method, path, who, r.status, r.body)
					}
				default:
					if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || r.status >= 500 {
						t.Errorf("%s %s as %s: %d %s, want it past authorization", rt.method, path, who, r.status, r.body)
					}
					if rt.method != "GET" && r.status < 300 {
						f.wantChangeEvent(who, rt.method, path)
					}
				}
			}
			if who == "app" {
				if n := len(f.adminEvents(f.acme)); n != before {
					t.Errorf("viewer, app and beta's owner changed acme: %d admin events, want %d", n, before)
				}
			}
		}
	})
}

// wantChangeEvent checks that a change just made has its admin event,
// with the actor and client IP: the organization's, or one of no
// organization for a deletion.
func (f *fixture) wantChangeEvent(who, method, path string) {
	f.t.Helper()
	q := scimbridge.EventQuery{OrgID: f.acme.ID, Source: scimbridge.EventAdmin, Limit: 20}
	if method == "DELETE" && path == "/orgs/acme" {
		q.OrgID = ""
	}
	p, err := f.db.ListEvents(context.Background(), q)
	if err != nil {
		f.t.Fatal(err)
	}
	actor := "token:" + f.tokenIDs[who] + " ("
	if who == "operator" {
		actor = "operator:" + f.tokenIDs[who] + " ("
	}
	for _, ev := range p.Events {
		if ev.Method == method && ev.Path == BasePath+path && strings.HasPrefix(ev.Actor, actor) && ev.ClientIP == clientIP {
			return
		}
	}
	f.t.Errorf("%s %s as %s changed without its admin event", method, path, who)
}

// Operator-only routes refuse admin tokens of every role; the operator
// creates, lists and reads organizations.
func TestAPI_Organizations(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, who := range []string{"owner", "viewer", "app"} {
			f.want(403, who, "GET", "/orgs", "")
			f.want(403, who, "POST", "/orgs", `{"slug":"gamma"}`)
		}
		var org scimbridge.Organization
		f.want(201, "operator", "POST", "/orgs", `{"slug":"gamma","name":"Gamma"}`).json(t, &org)
		if org.Slug != "gamma" || org.Name != "Gamma" || org.ID == "" {
			t.Errorf("created %+v", org)
		}
		evs := f.adminEvents(org)
		if len(evs) != 1 || !strings.HasPrefix(evs[0].Actor, "operator:"+f.tokenIDs["operator"]) || evs[0].ClientIP != clientIP {
			t.Errorf("organization created with events %+v", evs)
		}
		if code := f.want(409, "operator", "POST", "/orgs", `{"slug":"gamma"}`).errorCode(t); code != scimbridge.ECONFLICT {
			t.Errorf("duplicate slug: code %q", code)
		}
		f.want(400, "operator", "POST", "/orgs", `{"slug":"Not A Slug"}`)

		// Paging: three organizations, two a page.
		var p1, p2 list[scimbridge.Organization]
		f.want(200, "operator", "GET", "/orgs?limit=2", "").json(t, &p1)
		if len(p1.Data) != 2 || p1.Next == "" {
			t.Fatalf("first page %+v", p1)
		}
		f.want(200, "operator", "GET", "/orgs?limit=2&after="+p1.Next, "").json(t, &p2)
		if len(p2.Data) != 1 || p2.Next != "" || p2.Data[0].Slug == p1.Data[0].Slug || p2.Data[0].Slug == p1.Data[1].Slug {
			t.Errorf("second page %+v after %+v", p2, p1)
		}
		// Admin tokens see their own organization only.
		var got scimbridge.Organization
		f.want(200, "app", "GET", "/orgs/acme", "").json(t, &got)
		if got.ID != f.acme.ID {
			t.Errorf("acme = %+v", got)
		}
		f.want(404, "owner", "GET", "/orgs/beta", "")
		f.want(404, "owner", "GET", "/orgs/gamma", "")
		f.want(404, "operator", "GET", "/orgs/nope", "")
		f.change(f.acme, 200, "owner", "PATCH", "/orgs/acme", `{"adopt_existing":false}`)
	})
}

// SCIM configuration: the token only in the reply that makes it, every
// change an event, the old token dead after a regeneration.
func TestAPI_SCIM(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var st scimStatus
		f.want(200, "viewer", "GET", "/orgs/acme/scim", "").json(t, &st)
		if st.Enabled {
			t.Fatal("SCIM enabled at the start")
		}
		var tok scimToken
		f.change(f.acme, 201, "owner", "POST", "/orgs/acme/scim", "").json(t, &tok)
		if !strings.HasPrefix(tok.Token, "scb_acme_") || tok.BaseURL != "https://scim.example.test/api/connect/v1" {
			t.Errorf("enable = %+v", tok)
		}
		if f.want(409, "owner", "POST", "/orgs/acme/scim", "").errorCode(t) != scimbridge.ECONFLICT {
			t.Error("enabling twice is not a conflict")
		}
		r := f.want(200, "viewer", "GET", "/orgs/acme/scim", "")
		r.json(t, &st)
		if !st.Enabled || st.CreatedAt == nil || strings.Contains(string(r.body), tok.Token) {
			t.Errorf("status %s", r.body)
		}
		var tok2 scimToken
		f.change(f.acme, 200, "operator", "POST", "/orgs/acme/scim/token", "").json(t, &tok2)
		if tok2.Token == tok.Token || !strings.HasPrefix(tok2.Token, "scb_acme_") {
			t.Errorf("regenerated %q after %q", tok2.Token, tok.Token)
		}
		sc, err := db.SCIMConfig(context.Background(), f.acme.ID)
		if err != nil || !scimbridge.TokenMatches(tok2.Token, sc.TokenHash) || scimbridge.TokenMatches(tok.Token, sc.TokenHash) {
			t.Errorf("stored hash does not match the new token only: %v", err)
		}
		for _, ev := range f.adminEvents(f.acme) {
			if strings.Contains(ev.RequestBody+ev.ResponseBody, tok2.Token) || strings.Contains(ev.RequestBody+ev.ResponseBody, tok.Token) {
				t.Error("an event holds a SCIM token")
			}
		}
		f.change(f.acme, 204, "owner", "DELETE", "/orgs/acme/scim", "")
		f.want(404, "owner", "DELETE", "/orgs/acme/scim", "")
		f.want(404, "owner", "POST", "/orgs/acme/scim/token", "")
	})
}

// Admin tokens: created once, listed without secrets, revoked and expired
// ones refused, last use recorded.
func TestAPI_AdminTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var created tokenOut
		f.change(f.acme, 201, "owner", "POST", "/orgs/acme/admin-tokens", `{"role":"viewer","name":"auditor","expires_in":"1h"}`).json(t, &created)
		if !strings.HasPrefix(created.Token, "scba_") || created.Role != scimbridge.AdminViewer || created.Name != "auditor" ||
			created.ExpiresAt == nil || !created.ExpiresAt.Equal(f.clock().Add(time.Hour)) {
			t.Errorf("created %+v", created)
		}
		f.want(200, created.Token, "GET", "/orgs/acme/scim", "")
		f.want(403, created.Token, "POST", "/orgs/acme/scim", "")
		f.want(400, "owner", "POST", "/orgs/acme/admin-tokens", `{"role":"admin"}`)
		f.want(400, "owner", "POST", "/orgs/acme/admin-tokens", `{"role":"viewer","expires_in":"-1h"}`)
		f.want(403, "viewer", "POST", "/orgs/acme/admin-tokens", `{"role":"viewer"}`)

		r := f.want(200, "viewer", "GET", "/orgs/acme/admin-tokens", "")
		var l list[scimbridge.AdminToken]
		r.json(t, &l)
		if len(l.Data) != 4 || strings.Contains(string(r.body), created.Token) || strings.Contains(string(r.body), "token_hash") {
			t.Errorf("list %s", r.body)
		}
		for _, tok := range l.Data {
			if tok.ID == created.ID && tok.LastUsedAt == nil {
				t.Error("last_used_at not recorded")
			}
		}

		// Expired: refused with 401 once its hour is over.
		f.advance(time.Hour)
		if code := f.want(401, created.Token, "GET", "/orgs/acme/scim", "").errorCode(t); code != scimbridge.EUNAUTHORIZED {
			t.Errorf("expired token: code %q", code)
		}
		// Revoked: refused at once; beta's owner cannot revoke acme's.
		f.want(404, "ownerB", "DELETE", "/orgs/acme/admin-tokens/"+f.tokenIDs["viewer"], "")
		f.want(404, "ownerB", "DELETE", "/orgs/beta/admin-tokens/"+f.tokenIDs["viewer"], "")
		f.want(200, "viewer", "GET", "/orgs/acme/scim", "")
		f.change(f.acme, 204, "owner", "DELETE", "/orgs/acme/admin-tokens/"+f.tokenIDs["viewer"], "")
		r = f.want(401, "viewer", "GET", "/orgs/acme/scim", "")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		f.want(401, "", "GET", "/orgs/acme/scim", "")
		f.want(401, "scba_"+strings.Repeat("x", 43), "GET", "/orgs/acme/scim", "")
		f.want(401, "scbo_"+strings.Repeat("x", 43), "GET", "/orgs", "")
		// A revoked operator token is refused too.
		if err := f.a.RevokeOperatorToken(context.Background(), operatorCaller, f.tokenIDs["operator"]); err != nil {
			t.Fatal(err)
		}
		f.want(401, "operator", "GET", "/orgs", "")
	})
}

// Events: the CLI's filters, cursor pages, one event with its bodies, and
// another organization's event is 404.
func TestAPI_Events(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var evs []scimbridge.Event
		for i := range 5 {
			status := 201
			if i%2 == 1 {
				status = 409
			}
			evs = append(evs, scimbridge.Event{OrgID: f.acme.ID, Time: f.clock().Add(time.Duration(i) * time.Second), Method: "POST",
				Path: "/api/connect/v1/Users", Status: status, TargetUserName: fmt.Sprintf("user%d@example.com", i), Source: scimbridge.EventIdP,
				RequestBody: `{"userName":"x","password":"[redacted]"}`, Duration: 1500 * time.Microsecond, Count: 1})
		}
		evs = append(evs, scimbridge.Event{OrgID: f.beta.ID, Time: f.clock(), Method: "GET", Path: "/x", Status: 200, Source: scimbridge.EventIdP, Count: 1})
		if err := db.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		var all list[eventOut]
		f.want(200, "viewer", "GET", "/orgs/acme/events?source=idp", "").json(t, &all)
		if len(all.Data) != 5 || all.Next != "" {
			t.Fatalf("idp events: %d, next %q", len(all.Data), all.Next)
		}
		var conflicts list[eventOut]
		f.want(200, "viewer", "GET", "/orgs/acme/events?status=4xx&method=post", "").json(t, &conflicts)
		if len(conflicts.Data) != 2 || conflicts.Data[0].Status != 409 {
			t.Errorf("4xx events: %+v", conflicts.Data)
		}
		var byUser list[eventOut]
		f.want(200, "viewer", "GET", "/orgs/acme/events?username=USER2@example.com", "").json(t, &byUser)
		if len(byUser.Data) != 1 || byUser.Data[0].TargetUserName != "user2@example.com" {
			t.Errorf("by username: %+v", byUser.Data)
		}
		// Cursor pages of two cover the five once, newest first.
		var seen []int64
		next := ""
		for range 5 {
			var p list[eventOut]
			path := "/orgs/acme/events?source=idp&limit=2"
			if next != "" {
				path += "&after=" + next
			}
			f.want(200, "viewer", "GET", path, "").json(t, &p)
			for _, e := range p.Data {
				seen = append(seen, e.ID)
			}
			if next = p.Next; next == "" {
				break
			}
		}
		if len(seen) != 5 || !slices.IsSortedFunc(seen, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("paged ids %v", seen)
		}
		var one eventOut
		f.want(200, "viewer", "GET", fmt.Sprintf("/orgs/acme/events/%d", seen[0]), "").json(t, &one)
		if one.ID != seen[0] || !strings.Contains(one.RequestBody, "[redacted]") || one.DurationMS != 1.5 {
			t.Errorf("event %+v", one)
		}
		var betaEvents list[eventOut]
		f.want(200, "ownerB", "GET", "/orgs/beta/events", "").json(t, &betaEvents)
		var betaID int64
		for _, e := range betaEvents.Data {
			if e.Source == scimbridge.EventIdP {
				betaID = e.ID
			}
		}
		f.want(404, "viewer", "GET", fmt.Sprintf("/orgs/acme/events/%d", betaID), "")
		f.want(404, "viewer", "GET", "/orgs/acme/events/abc", "")
		f.want(404, "viewer", "GET", "/orgs/acme/events/9223372036854775807", "")
		for _, q := range []string{"status=3xx", "source=ldap", "since=yesterday", "limit=0", "limit=1001", "limit=x", "after=!!!", "after=" + cursor("org", "1"), "method=G%20T"} {
			if code := f.want(400, "viewer", "GET", "/orgs/acme/events?"+q, "").errorCode(t); code != scimbridge.EINVALID {
				t.Errorf("%s: code %q", q, code)
			}
		}
		f.want(403, "app", "GET", "/orgs/acme/events", "")
	})
}

// The Google bridge through the API: connect with a service-account key,
// status, dry run, run, reports and their items, a held plan a viewer
// cannot approve and an owner can, disconnect.
func TestAPI_GoogleBridge(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.want(404, "viewer", "GET", "/orgs/acme/bridge/google", "")
		f.want(404, "owner", "POST", "/orgs/acme/bridge/google/run", "")
		f.want(400, "owner", "PUT", "/orgs/acme/bridge/google", `{}`)
		f.want(400, "owner", "PUT", "/orgs/acme/bridge/google", `{"service_account_key":42,"admin_email":"a@example.com"}`)
		f.want(400, "owner", "PUT", "/orgs/acme/bridge/google", `{"mode":"sometimes","service_account_key":{}}`)
		f.want(403, "viewer", "PUT", "/orgs/acme/bridge/google", `{}`)
		f.want(403, "app", "PUT", "/orgs/acme/bridge/google", `{}`)
		// Credentials Google refuses: 400, nothing stored.
		bad, _ := json.Marshal(map[string]any{"oauth_refresh_token": map[string]string{"client_id": "x", "client_secret": "y", "refresh_token": "nope"}})
		if r := f.do("owner", "PUT", "/orgs/acme/bridge/google", string(bad)); r.status != 400 {
			t.Errorf("refused credentials: %d %s", r.status, r.body)
		}
		f.want(404, "viewer", "GET", "/orgs/acme/bridge/google", "")

		body, _ := json.Marshal(map[string]any{"service_account_key": json.RawMessage(f.key), "admin_email": "admin@example.com",
			"excluded_users": []string{"u39@example.com"}})
		var st admin.BridgeStatus
		f.change(f.acme, 201, "owner", "PUT", "/orgs/acme/bridge/google", string(body)).json(t, &st)
		if st.Bridge.Settings.AdminEmail != "admin@example.com" || len(st.Bridge.Settings.ExcludedUsers) != 1 || st.Schedule == "" {
			t.Errorf("connected %+v", st)
		}
		for _, ev := range f.adminEvents(f.acme) {
			if strings.Contains(ev.RequestBody, "PRIVATE KEY") {
				t.Error("an event holds the key")
			}
		}
		r := f.want(200, "viewer", "GET", "/orgs/acme/bridge/google", "")
		if strings.Contains(string(r.body), "PRIVATE KEY") || strings.Contains(string(r.body), "sealed") {
			t.Errorf("status shows credentials: %s", r.body)
		}
		f.change(f.acme, 200, "owner", "PUT", "/orgs/acme/bridge/google", `{"add_excluded":["u38@example.com"]}`)

		var dry runOut
		f.change(f.acme, 200, "owner", "POST", "/orgs/acme/bridge/google/dry-run", "").json(t, &dry)
		if dry.Report.Status != scimbridge.ReportDryRun || dry.Report.Counts.Created != 38 {
			t.Errorf("dry run %+v", dry)
		}
		var run runOut
		f.advance(time.Minute)
		f.change(f.acme, 200, "operator", "POST", "/orgs/acme/bridge/google/run", "").json(t, &run)
		if run.Report.Status != scimbridge.ReportApplied || run.Report.Counts.Created != 38 {
			t.Errorf("run %+v", run)
		}
		var reps list[scimbridge.Report]
		f.want(200, "viewer", "GET", "/orgs/acme/reports?limit=1", "").json(t, &reps)
		if len(reps.Data) != 1 || reps.Data[0].ID != run.Report.ID || reps.Next == "" {
			t.Errorf("reports page %+v", reps)
		}
		var items, items2 list[scimbridge.ReportItemAt]
		f.want(200, "viewer", "GET", "/orgs/acme/reports/"+run.Report.ID+"/items?kind=create&limit=30", "").json(t, &items)
		f.want(200, "viewer", "GET", "/orgs/acme/reports/"+run.Report.ID+"/items?kind=create&limit=30&after="+items.Next, "").json(t, &items2)
		if len(items.Data) != 30 || len(items2.Data) != 8 || items2.Next != "" || items.Data[0].Kind != scimbridge.ChangeCreate {
			t.Errorf("items: %d then %d (next %q)", len(items.Data), len(items2.Data), items2.Next)
		}
		f.want(400, "viewer", "GET", "/orgs/acme/reports/"+run.Report.ID+"/items?kind=everything", "")
		f.want(404, "viewer", "GET", "/orgs/acme/reports/"+uuid.NewString()+"/items", "")
		f.want(404, "ownerB", "GET", "/orgs/beta/reports/"+run.Report.ID, "")

		// The directory shrinks: the guard holds the deactivations.
		f.google.SetUsers(googleUsers(10))
		var held runOut
		f.advance(time.Minute)
		f.want(200, "owner", "POST", "/orgs/acme/bridge/google/run", "").json(t, &held)
		if held.Report.Status != scimbridge.ReportHeld {
			t.Fatalf("shrunk run %+v", held)
		}
		var rep reportOut
		f.want(200, "viewer", "GET", "/orgs/acme/reports/"+held.Report.ID, "").json(t, &rep)
		if rep.HeldPlan == nil || rep.HeldPlan.Changes == 0 {
			t.Errorf("held report %+v", rep)
		}
		f.want(403, "viewer", "POST", "/orgs/acme/reports/"+held.Report.ID+"/approve", "")
		f.want(403, "app", "POST", "/orgs/acme/reports/"+held.Report.ID+"/approve", "")
		f.want(404, "ownerB", "POST", "/orgs/acme/reports/"+held.Report.ID+"/approve", "")
		var approved runOut
		f.change(f.acme, 200, "owner", "POST", "/orgs/acme/reports/"+held.Report.ID+"/approve", "").json(t, &approved)
		if approved.Report.Status != scimbridge.ReportApplied || approved.Report.Counts.Deactivated != 28 {
			t.Errorf("approval %+v", approved)
		}
		f.want(404, "owner", "POST", "/orgs/acme/reports/"+held.Report.ID+"/discard", "")

		f.change(f.acme, 204, "owner", "DELETE", "/orgs/acme/bridge/google", "")
		f.want(404, "owner", "DELETE", "/orgs/acme/bridge/google", "")
		f.want(404, "viewer", "GET", "/orgs/acme/bridge/google", "")
		f.want(200, "viewer", "GET", "/orgs/acme/reports/"+run.Report.ID, "")
	})
}

// Errors: unknown paths and methods, malformed bodies, all JSON.
func TestAPI_Errors(t *testing.T) {
	f := newFixture(t, storeSQLite(t))
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"GET", "/nope", "", 404, "not_found"},
		{"GET", "/orgs/acme/nope", "", 404, "not_found"},
		{"PUT", "/orgs", "", 405, "method_not_allowed"},
		{"POST", "/orgs", `{"slug":`, 400, scimbridge.EINVALID},
		{"POST", "/orgs", `{"slug":"x","extra":1}`, 400, scimbridge.EINVALID},
		{"POST", "/orgs", `{"slug":1}`, 400, scimbridge.EINVALID},
		{"POST", "/orgs", `{"slug":"x"} {}`, 400, scimbridge.EINVALID},
		{"POST", "/orgs", `[]`, 400, scimbridge.EINVALID},
		{"POST", "/orgs", `{"slug":"` + strings.Repeat("a", maxBody) + `"}`, 400, scimbridge.EINVALID},
		{"GET", "/orgs/UPPER", "", 404, scimbridge.ENOTFOUND},
	} {
		r := f.do("operator", c.method, c.path, c.body)
		if r.status != c.status || r.errorCode(t) != c.code || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.status, r.body, c.status, c.code)
		}
	}
	if r := f.do("operator", "PUT", "/orgs", ""); r.header.Get("Allow") != "GET, POST" {
		t.Errorf("405 Allow %q", r.header.Get("Allow"))
	}
}

// The OpenAPI document describes exactly the registered routes, and the
// API serves it.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	s := New(Config{Admin: &admin.Admin{}})
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		registered[r] = true
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("openapi.json documents %s, which no route serves", d)
		}
	}
	// Every registered route answers: the mux knows each pattern.
	for r := range registered {
		method, path, _ := strings.Cut(r, " ")
		req, _ := http.NewRequest(method, BasePath+concrete(path), nil)
		if _, pattern := s.mux.Handler(req); pattern != method+" "+BasePath+path {
			t.Errorf("%s is served by pattern %q", r, pattern)
		}
	}

	f := newFixture(t, storeSQLite(t))
	r := f.want(200, "", "GET", "/openapi.json", "")
	if string(r.body) != string(OpenAPI()) || r.header.Get("Content-Type") != "application/json" {
		t.Error("served document differs from openapi.json")
	}
}

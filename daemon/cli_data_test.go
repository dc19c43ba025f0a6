package daemon_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

func TestCLI_Profiles(t *testing.T) {
	yes := true
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			e.mustRun("org", "create", "other")
			org := e.org("acme")
			alice := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "alice@acme.test", DisplayName: "Alice",
					GivenName: "Alice", Department: "R&D",
					Emails: []scimbridge.Email{{Value: "alice@acme.test", Type: "work", Primary: &yes}}},
				Source: scimbridge.SourceSCIM, ExternalID: "ext-alice",
			})
			bob := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "bob@acme.test"},
				Source:     scimbridge.SourceGoogle, GoogleID: "118000000000000000001",
			})
			carol := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "carol@acme.test"},
				Source:     scimbridge.SourceManual,
			})
			dave := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "dave@acme.test", Manager: "ext-alice"},
				Source:     scimbridge.SourceSCIM,
			})
			detachedAt := time.Now().UTC()
			gone := e.addProfile(org, scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "gone@acme.test"},
				Source:     scimbridge.SourceSCIM, State: scimbridge.StateInactive,
				DetachedAt: &detachedAt, DeactivatedAt: &detachedAt,
			})
			e.addProfile(e.org("other"), scimbridge.Profile{
				Attributes: scimbridge.Attributes{UserName: "mallory@other.test"},
				Source:     scimbridge.SourceSCIM,
			})

			listJSON := func(args ...string) []map[string]any {
				t.Helper()
				var out []map[string]any
				e.mustJSON(&out, append([]string{"profiles", "list", "--org", "acme", "--json"}, args...)...)
				return out
			}
			ids := func(rs []map[string]any) string {
				var s []string
				for _, r := range rs {
					s = append(s, r["userName"].(string))
				}
				return strings.Join(s, ",")
			}

			t.Run("JSONShape", func(t *testing.T) {
				all := listJSON()
				if got := ids(all); got != "alice@acme.test,bob@acme.test,carol@acme.test,dave@acme.test" {
					t.Fatalf("profiles list --json = %s", got)
				}
				a := all[0]
				if a["id"] != alice.ID || a["source"] != "scim" || a["externalId"] != "ext-alice" || a["active"] != true {
					t.Errorf("alice = %v", a)
				}
				if _, ok := a["googleId"]; !ok || a["googleId"] != nil {
					t.Errorf("alice googleId = %v, want present and null", a["googleId"])
				}
				schemas, _ := a["schemas"].([]any)
				if len(schemas) == 0 || schemas[0] != "urn:ietf:params:scim:schemas:core:2.0:User" {
					t.Errorf("alice schemas = %v", a["schemas"])
				}
				meta, _ := a["meta"].(map[string]any)
				if meta["location"] != "https://scim.example.test/api/connect/v1/Users/"+alice.ID || meta["resourceType"] != "User" {
					t.Errorf("alice meta = %v", meta)
				}
				emails, _ := a["emails"].([]any)
				if len(emails) != 1 || emails[0].(map[string]any)["value"] != "alice@acme.test" {
					t.Errorf("alice emails = %v", a["emails"])
				}
				if all[1]["googleId"] != bob.GoogleID || all[1]["source"] != "google" {
					t.Errorf("bob = %v", all[1])
				}
				// The manager resolves as in the SCIM API: by externalId.
				ent, _ := all[3]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
				mgr, _ := ent["manager"].(map[string]any)
				if all[3]["id"] != dave.ID || mgr["value"] != "ext-alice" || mgr["displayName"] != "Alice" ||
					mgr["$ref"] != "https://scim.example.test/api/connect/v1/Users/"+alice.ID {
					t.Errorf("dave's manager = %v", ent)
				}
			})
			t.Run("SourceFilter", func(t *testing.T) {
				if got := ids(listJSON("--source", "google")); got != "bob@acme.test" {
					t.Errorf("--source google = %s", got)
				}
				if got := ids(listJSON("--source", "saml")); got != "" {
					t.Errorf("--source saml = %s", got)
				}
				var empty []any
				e.mustJSON(&empty, "profiles", "list", "--org", "acme", "--source", "saml", "--json")
				if empty == nil {
					t.Error("an empty listing must be [] (not null)")
				}
			})
			t.Run("IncludeDetached", func(t *testing.T) {
				if got := ids(listJSON("--include-detached")); !strings.Contains(got, gone.UserName) {
					t.Errorf("--include-detached = %s", got)
				}
			})
			t.Run("Table", func(t *testing.T) {
				out := e.mustRun("profiles", "list", "--org", "acme")
				for _, s := range []string{"USERNAME", alice.ID, "bob@acme.test", "google", carol.UserName} {
					if !strings.Contains(out, s) {
						t.Errorf("table lacks %q:\n%s", s, out)
					}
				}
				if strings.Contains(out, "mallory") || strings.Contains(out, gone.UserName) {
					t.Errorf("table shows another organization's or a detached profile:\n%s", out)
				}
			})
			t.Run("Show", func(t *testing.T) {
				for _, key := range []string{alice.ID, "ALICE@acme.test"} {
					var got map[string]any
					e.mustJSON(&got, "profiles", "show", "--org", "acme", key, "--json")
					if got["id"] != alice.ID || got["source"] != "scim" {
						t.Errorf("show %s = %v", key, got)
					}
				}
				out := e.mustRun("profiles", "show", "--org", "acme", "bob@acme.test")
				if !strings.Contains(out, bob.GoogleID) || !strings.Contains(out, "google") {
					t.Errorf("show bob =\n%s", out)
				}
				if r := e.run("profiles", "show", "--org", "acme", "mallory@other.test"); r.code != 1 {
					t.Errorf("show another organization's profile: exit %d", r.code)
				}
			})
			t.Run("Release", func(t *testing.T) {
				var res struct {
					Released int `json:"released"`
				}
				e.mustJSON(&res, "profiles", "release", "--org", "acme", "--source", "scim", "--json")
				if res.Released != 2 {
					t.Errorf("released %d, want 2 (alice and dave; the detached profile stays)", res.Released)
				}
				if got := ids(listJSON("--source", "manual")); got != "alice@acme.test,carol@acme.test,dave@acme.test" {
					t.Errorf("manual after release = %s", got)
				}
				var found bool
				for _, ev := range e.events(org) {
					if ev.Source == scimbridge.EventAdmin && ev.Path == "/api/admin/v1/orgs/acme/profiles/release" {
						found = true
					}
				}
				if !found {
					t.Error("no admin event for the release")
				}
			})
		})
	}
}

func TestCLI_Events(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			// Created in the store, without the admin event of org
			// create, so that the log holds only the events below.
			e.withStore(func(db *store.DB) {
				err := db.CreateOrganization(context.Background(), scimbridge.Organization{ID: uuid.NewString(),
					Slug: "acme", Name: "acme", CreatedAt: time.Now().UTC(), AdoptExisting: true})
				if err != nil {
					t.Fatal(err)
				}
			})
			org := e.org("acme")
			base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
			events := []scimbridge.Event{
				{Method: "POST", Path: "/api/connect/v1/Users", Status: 201, TargetUserName: "alice@acme.test", Source: scimbridge.EventIdP,
					Duration: 1500 * time.Microsecond, RequestBody: `{"userName":"alice@acme.test","password":"[redacted]"}`, ResponseBody: `{"id":"1"}`},
				{Method: "GET", Path: "/api/connect/v1/Users?filter=x", Status: 400, Source: scimbridge.EventIdP, Error: "invalid filter"},
				{Method: "PATCH", Path: "/api/connect/v1/Users/1", Status: 200, TargetUserName: "Bob@acme.test", Source: scimbridge.EventIdP},
				{Method: "PATCH", Path: "/api/connect/v1/Users/2", Status: 500, TargetUserName: "bob@acme.test", Source: scimbridge.EventIdP},
				{Method: "PUT", Path: "/api/connect/v1/Users/3", Status: 200, TargetUserName: "carol@acme.test", Source: scimbridge.EventGoogle},
				{Method: "GET", Path: "/api/connect/v1/Users", Status: 401, Source: scimbridge.EventIdP, Count: 12},
			}
			for i := range events {
				events[i].OrgID = org.ID
				events[i].Time = base.Add(time.Duration(i) * 10 * time.Hour) // 48h ago .. 2h ago
				if events[i].Count == 0 {
					events[i].Count = 1
				}
			}
			e.withStore(func(db *store.DB) {
				if err := db.AppendEvents(context.Background(), events); err != nil {
					t.Fatalf("append events: %v", err)
				}
			})

			list := func(args ...string) []string {
				t.Helper()
				var page scimbridge.EventPage
				e.mustJSON(&page, append([]string{"events", "list", "--org", "acme", "--json"}, args...)...)
				var got []string
				for _, ev := range page.Events {
					got = append(got, ev.Method+" "+ev.Path)
				}
				return got
			}
			for _, tt := range []struct {
				name string
				args []string
				want []int // indexes into events, newest first
			}{
				{"All", nil, []int{5, 4, 3, 2, 1, 0}},
				{"Status2xx", []string{"--status", "2xx"}, []int{4, 2, 0}},
				{"Status4xx", []string{"--status", "4xx"}, []int{5, 1}},
				{"Status5xx", []string{"--status", "5xx"}, []int{3}},
				{"Method", []string{"--method", "patch"}, []int{3, 2}},
				{"Username", []string{"--username", "BOB@acme.test"}, []int{3, 2}},
				{"Source", []string{"--source", "google"}, []int{4}},
				{"Since", []string{"--since", "25h"}, []int{5, 4, 3}},
				{"Until", []string{"--until", base.Add(10 * time.Hour).Format(time.RFC3339)}, []int{0}},
				{"Combined", []string{"--status", "2xx", "--source", "idp", "--since", base.Format(time.RFC3339)}, []int{2, 0}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					var want []string
					for _, i := range tt.want {
						want = append(want, events[i].Method+" "+events[i].Path)
					}
					if got := list(tt.args...); strings.Join(got, "|") != strings.Join(want, "|") {
						t.Errorf("events list %v =\n%s\nwant\n%s", tt.args, strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
				})
			}
			t.Run("Cursor", func(t *testing.T) {
				var page scimbridge.EventPage
				e.mustJSON(&page, "events", "list", "--org", "acme", "--limit", "4", "--json")
				if len(page.Events) != 4 || page.NextCursor == 0 {
					t.Fatalf("first page: %d events, next cursor %d", len(page.Events), page.NextCursor)
				}
				got := list("--limit", "4", "--cursor", jsonNumber(page.NextCursor))
				if want := []string{events[1].Method + " " + events[1].Path, events[0].Method + " " + events[0].Path}; strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("second page = %v, want %v", got, want)
				}
				out := e.mustRun("events", "list", "--org", "acme", "--limit", "4")
				if !strings.Contains(out, "--cursor "+jsonNumber(page.NextCursor)) {
					t.Errorf("table does not tell how to get the next page:\n%s", out)
				}
			})
			t.Run("CSV", func(t *testing.T) {
				out := e.mustRun("events", "list", "--org", "acme", "--status", "4xx", "--csv", "--limit", "1")
				rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatalf("events list --csv is not CSV: %v\n%s", err, out)
				}
				// --limit does not cut an export: both 4xx events, newest first.
				if len(rows) != 3 || rows[0][0] != "id" || rows[1][3] != "GET" || rows[1][5] != "401" ||
					rows[1][6] != "12" || rows[2][4] != events[1].Path || rows[2][15] != "invalid filter" {
					t.Fatalf("csv rows = %q", rows)
				}
			})
			t.Run("ShowAndDurations", func(t *testing.T) {
				var page struct {
					Events []map[string]any `json:"events"`
				}
				e.mustJSON(&page, "events", "list", "--org", "acme", "--json")
				first := page.Events[len(page.Events)-1]
				if _, ok := first["duration"]; ok || first["duration_ms"] != 1.5 {
					t.Errorf("events list --json: duration %v, duration_ms %v; want only duration_ms 1.5", first["duration"], first["duration_ms"])
				}
				id := jsonNumber(int64(first["id"].(float64)))
				out := e.mustRun("events", "show", "--org", "acme", id)
				for _, want := range []string{"method:", "POST", "duration:", "1.500 ms", "alice@acme.test",
					"request body:\n{\"userName\":\"alice@acme.test\",\"password\":\"[redacted]\"}\n", "response body:\n{\"id\":\"1\"}\n"} {
					if !strings.Contains(out, want) {
						t.Errorf("events show lacks %q:\n%s", want, out)
					}
				}
				var ev map[string]any
				e.mustJSON(&ev, "events", "show", "--org", "acme", id, "--json")
				if _, ok := ev["duration"]; ok || ev["duration_ms"] != 1.5 || ev["request_body"] != `{"userName":"alice@acme.test","password":"[redacted]"}` ||
					ev["response_body"] != `{"id":"1"}` || ev["method"] != "POST" {
					t.Errorf("events show --json = %v", ev)
				}
				csvOut := e.mustRun("events", "list", "--org", "acme", "--csv", "--method", "POST")
				if rows, _ := csv.NewReader(strings.NewReader(csvOut)).ReadAll(); len(rows) != 2 || rows[0][11] != "duration_ms" || rows[1][11] != "1.500" {
					t.Errorf("csv = %q", rows)
				}
				if r := e.run("events", "show", "--org", "acme", "999999"); r.code != 1 || !strings.Contains(r.stderr, "no event 999999") {
					t.Errorf("unknown event: exit %d, stderr %q", r.code, r.stderr)
				}
				if r := e.run("events", "show", "--org", "acme", "first"); r.code != 2 {
					t.Errorf("invalid id: exit %d, stderr %q", r.code, r.stderr)
				}
			})
			t.Run("Table", func(t *testing.T) {
				out := e.mustRun("events", "list", "--org", "acme")
				for _, s := range []string{"METHOD", "invalid filter", "401 (x12)", "carol@acme.test"} {
					if !strings.Contains(out, s) {
						t.Errorf("table lacks %q:\n%s", s, out)
					}
				}
			})
		})
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

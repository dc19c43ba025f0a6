package daemon_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestBinary_ChangesFeed runs the real binary: an application with a
// viewer admin token long-polls the organization's changes feed, an IdP
// creates a user over SCIM, and the waiting request answers with the
// change; the feed refuses other organizations' tokens and bad cursors, and
// `changes list` prints the same change.
func TestBinary_ChangesFeed(t *testing.T) {
	t.Parallel()
	bin := buildScimbridge(t)
	for _, b := range []struct {
		name  string
		dbURL func(t *testing.T, dir string) string
	}{
		{"SQLite", func(t *testing.T, dir string) string { return "sqlite://" + filepath.Join(dir, "db", "scimbridge.db") }},
		{"PostgreSQL", func(t *testing.T, dir string) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			home := t.TempDir()
			env := daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"),
				"SCIMBRIDGE_DATABASE_URL="+b.dbURL(t, home), keyVar(t), "SCIMBRIDGE_BOOTSTRAP=false")
			_, addrs := startBinary(t, bin, env)
			waitHealthy(t, addrs["ops"])
			run := func(args ...string) string { t.Helper(); return runCLI(t, bin, env, args...) }
			run("org", "create", "acme")
			run("org", "create", "other")
			var scimTok, viewer, otherTok struct {
				Token string `json:"token"`
			}
			json.Unmarshal([]byte(run("scim", "enable", "--org", "acme", "--json")), &scimTok)
			json.Unmarshal([]byte(run("admin-token", "create", "--org", "acme", "--role", "viewer", "--json")), &viewer)
			json.Unmarshal([]byte(run("admin-token", "create", "--org", "other", "--json")), &otherTok)
			if scimTok.Token == "" || viewer.Token == "" || otherTok.Token == "" {
				t.Fatal("missing tokens")
			}
			main := "http://" + addrs["main"]
			feedURL := main + "/api/admin/v1/orgs/acme/changes"
			client := &http.Client{Timeout: 90 * time.Second}

			for _, c := range []struct {
				url, token string
				want       int
			}{
				{feedURL, "", 401},
				{feedURL, "scb_admin_bogus", 401},
				{feedURL, otherTok.Token, 404},
				{main + "/api/admin/v1/orgs/nope/changes", viewer.Token, 404},
				{feedURL + "?after=not-a-cursor", viewer.Token, 400},
				{feedURL + "?limit=5000", viewer.Token, 400},
			} {
				if code, body, err := httpDo(client, "GET", c.url, c.token, ""); err != nil || code != c.want {
					t.Errorf("GET %s with %q: %d %s %v, want %d", c.url, c.token, code, body, err, c.want)
				}
			}

			type reply struct {
				code int
				body []byte
				err  error
			}
			done := make(chan reply, 1)
			go func() {
				code, body, err := httpDo(client, "GET", feedURL+"?wait=60s", viewer.Token, "")
				done <- reply{code, body, err}
			}()
			// Give the long-poll time to start waiting; the change is
			// returned whether it arrives before or during the wait.
			time.Sleep(300 * time.Millisecond)
			user := scimRequest(t, "POST", main+"/api/connect/v1/Users", scimTok.Token,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@acme.test","active":true}`, 201)
			r := <-done
			if r.err != nil || r.code != 200 {
				t.Fatalf("long-poll: %d %s %v", r.code, r.body, r.err)
			}
			var page struct {
				Changes []struct {
					Cursor     string         `json:"cursor"`
					Type       string         `json:"type"`
					ResourceID string         `json:"resource_id"`
					Version    int64          `json:"version"`
					Resource   map[string]any `json:"resource"`
					RequestID  string         `json:"request_id"`
				} `json:"changes"`
				NextCursor string `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Changes) != 1 || page.Changes[0].Type != "user.created" || page.Changes[0].ResourceID != user["id"] ||
				page.Changes[0].Resource["userName"] != "alice@acme.test" || page.Changes[0].Version != 1 {
				t.Fatalf("long-poll page: %s", r.body)
			}
			meta, _ := page.Changes[0].Resource["meta"].(map[string]any)
			if meta["location"] != "https://scim.example.test/api/connect/v1/Users/"+user["id"].(string) {
				t.Errorf("resource meta = %v", meta)
			}

			if code, body := get(t, "http://"+addrs["ops"]+"/metrics"); code != 200 ||
				!strings.Contains(body, "scimbridge_changes_feed_lag_seconds ") || !strings.Contains(body, "scimbridge_changes_feed_waiting 0") {
				t.Errorf("metrics: %d, no feed gauges:\n%s", code, body)
			}

			out := run("changes", "list", "--org", "acme", "--json")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var listed map[string]any
			if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &listed) != nil || listed["cursor"] != page.NextCursor {
				t.Errorf("changes list --json = %q", out)
			}
			if out := run("changes", "list", "--org", "acme", "--after", page.NextCursor); out != "" {
				t.Errorf("changes list after the last cursor = %q", out)
			}
			if out := run("changes", "list", "--org", "acme"); !strings.Contains(out, "user.created") || !strings.Contains(out, page.NextCursor) {
				t.Errorf("changes list = %q", out)
			}
		})
	}
}

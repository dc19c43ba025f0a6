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

// adminDo sends an admin API request with a token, optionally forwarded
// for a client, and returns the status and body.
func adminDo(t *testing.T, method, url, token, forwardedFor, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, []byte(b.String())
}

// The admin API through the real binary: tokens made by the CLI work
// against serve, SCIM enabled through the API serves SCIM, and the
// request shows in the events the API lists with the API caller as actor.
// With admin_listen the API leaves the main listener, and
// admin_allowed_cidrs refuses other clients (behind trusted_proxies, the
// forwarded one) before authentication.
func TestServe_AdminAPI(t *testing.T) {
	t.Parallel()
	needBinary(t)
	bin := buildScimbridge(t)
	for _, be := range []string{"SQLite", "PostgreSQL"} {
		t.Run(be, func(t *testing.T) {
			home := t.TempDir()
			dataDir := filepath.Join(home, "data")
			vars := []string{"SCIMBRIDGE_DATA_DIR=" + dataDir, "SCIMBRIDGE_BOOTSTRAP=false"}
			if be == "PostgreSQL" {
				vars = append(vars, "SCIMBRIDGE_DATABASE_URL="+storetest.PostgresURL(t), keyVar(t),
					"SCIMBRIDGE_ADMIN_LISTEN=127.0.0.1:0", "SCIMBRIDGE_ADMIN_ALLOWED_CIDRS=192.0.2.0/24",
					"SCIMBRIDGE_TRUSTED_PROXIES=127.0.0.1")
			}
			env := daemonEnv(home, vars...)
			runCLI(t, bin, env, "migrate")
			runCLI(t, bin, env, "org", "create", "acme")
			var owner, operator struct {
				ID    string `json:"id"`
				Token string `json:"token"`
			}
			if err := json.Unmarshal([]byte(runCLI(t, bin, env, "admin-token", "create", "--org", "acme", "--name", "it", "--json")), &owner); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(runCLI(t, bin, env, "admin-token", "create", "--operator", "--json")), &operator); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(operator.Token, "scbo_") {
				t.Fatalf("operator token %q", operator.Token)
			}
			p := runDaemon(t, "serve", bin, env)
			mainURL, _ := p.ready()
			adminURL := mainURL
			client := "" // the client as the admin side sees it: the TCP peer
			if be == "PostgreSQL" {
				p.mu.Lock()
				adminURL = "http://" + p.addrs["admin"]
				p.mu.Unlock()
				if adminURL == mainURL || adminURL == "http://" {
					t.Fatalf("admin listener %q", adminURL)
				}
				if st, _ := adminDo(t, "GET", mainURL+"/api/admin/v1/orgs", operator.Token, "", ""); st != 404 {
					t.Errorf("admin API on the main listener with admin_listen: %d, want 404", st)
				}
				st, body := adminDo(t, "GET", adminURL+"/api/admin/v1/orgs", operator.Token, "", "")
				if st != 403 || !strings.Contains(string(body), "admin_allowed_cidrs") {
					t.Errorf("from 127.0.0.1 outside admin_allowed_cidrs: %d %s, want 403", st, body)
				}
				if st, _ := adminDo(t, "GET", adminURL+"/api/admin/v1/orgs", "", "198.51.100.7", ""); st != 403 {
					t.Errorf("forwarded for 198.51.100.7: %d, want 403", st)
				}
				client = "192.0.2.44"
			}
			api := adminURL + "/api/admin/v1"

			st, body := adminDo(t, "GET", api+"/orgs", operator.Token, client, "")
			if st != 200 || !strings.Contains(string(body), `"slug":"acme"`) {
				t.Fatalf("operator GET /orgs: %d %s", st, body)
			}
			if st, _ := adminDo(t, "GET", api+"/orgs", owner.Token, client, ""); st != 403 {
				t.Errorf("owner GET /orgs: %d, want 403", st)
			}
			st, body = adminDo(t, "POST", api+"/orgs/acme/scim", owner.Token, client, "")
			var enabled struct {
				BaseURL string `json:"base_url"`
				Token   string `json:"token"`
			}
			if err := json.Unmarshal(body, &enabled); st != 201 || err != nil || !strings.HasPrefix(enabled.Token, "scb_acme_") {
				t.Fatalf("enable SCIM: %d %s", st, body)
			}
			// The SCIM API takes the token at once.
			if st, b, err := httpDo(http.DefaultClient, "GET", mainURL+"/api/connect/v1/Users", enabled.Token, ""); err != nil || st != 200 {
				t.Fatalf("SCIM with the new token: %d %s %v", st, b, err)
			}
			// The SCIM request's event arrives through the buffered writer.
			var events struct {
				Data []struct {
					Method, Path, Actor, Source string
					ClientIP                    string `json:"client_ip"`
				} `json:"data"`
			}
			found := false
			for range 50 {
				st, body = adminDo(t, "GET", api+"/orgs/acme/events?limit=10", owner.Token, client, "")
				if err := json.Unmarshal(body, &events); st != 200 || err != nil {
					t.Fatalf("events: %d %s", st, body)
				}
				for _, e := range events.Data {
					found = found || (e.Source == "idp" && e.Path == "/api/connect/v1/Users")
				}
				if found {
					break
				}
				time.Sleep(100 * time.Millisecond) // the event writer flushes every 200 ms
			}
			if !found {
				t.Errorf("the SCIM request is not among the events: %s", body)
			}
			var admin *struct {
				Method, Path, Actor, Source string
				ClientIP                    string `json:"client_ip"`
			}
			for i, e := range events.Data {
				if e.Source == "admin" && e.Method == "POST" && e.Path == "/api/admin/v1/orgs/acme/scim" {
					admin = &events.Data[i]
				}
			}
			wantIP := "127.0.0.1"
			if client != "" {
				wantIP = client
			}
			if admin == nil || admin.Actor != "token:"+owner.ID+" (it)" || admin.ClientIP != wantIP {
				t.Errorf("enable event %+v, want actor token:%s (it) from %s", admin, owner.ID, wantIP)
			}
			if st, body := adminDo(t, "GET", api+"/openapi.json", "", client, ""); st != 200 || !strings.Contains(string(body), `"openapi": "3.1.0"`) {
				t.Errorf("openapi.json: %d", st)
			}
			if st, _ := adminDo(t, "DELETE", api+"/orgs/acme/admin-tokens/"+owner.ID, operator.Token, client, ""); st != 204 {
				t.Errorf("revoke: %d", st)
			}
			if st, _ := adminDo(t, "GET", api+"/orgs/acme/scim", owner.Token, client, ""); st != 401 {
				t.Errorf("revoked token: %d, want 401", st)
			}
		})
	}
}

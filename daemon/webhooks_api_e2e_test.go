package daemon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// An application adds its webhook endpoint through the admin API with its
// app token, against the real binary: the secret comes in the reply only,
// every later SCIM change arrives signed with it, in order, and the
// attempts read back through the API; an owner token may list the
// endpoint but not add one.
func TestServe_WebhookAddedThroughAdminAPI(t *testing.T) {
	t.Parallel()
	bin := buildScimbridge(t)
	home := t.TempDir()
	env := daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"),
		"SCIMBRIDGE_TEST_WEBHOOK_POLL=100ms", "SCIMBRIDGE_TEST_WEBHOOK_BACKOFF=100ms",
		"SCIMBRIDGE_WEBHOOKS_ALLOWED_CIDRS=127.0.0.1/32")
	runCLI(t, bin, env, "migrate")
	runCLI(t, bin, env, "org", "create", "acme")
	var scimTok, app, owner struct{ Token string }
	json.Unmarshal([]byte(runCLI(t, bin, env, "scim", "enable", "--org", "acme", "--json")), &scimTok)
	json.Unmarshal([]byte(runCLI(t, bin, env, "admin-token", "create", "--org", "acme", "--role", "app", "--json")), &app)
	json.Unmarshal([]byte(runCLI(t, bin, env, "admin-token", "create", "--org", "acme", "--role", "owner", "--json")), &owner)
	if scimTok.Token == "" || app.Token == "" || owner.Token == "" {
		t.Fatal("tokens not created")
	}
	rc := newHookReceiver(t, 0)
	_, addrs := startBinary(t, bin, env)
	base := "http://" + addrs["main"]
	hooks := base + "/api/admin/v1/orgs/acme/webhooks"
	client := &http.Client{Timeout: 30 * time.Second}

	spec := `{"url":"` + rc.URL + `/hook"}`
	if code, body, err := httpDo(client, "POST", hooks, owner.Token, spec); err != nil || code != 403 {
		t.Fatalf("owner adds a webhook: %d %s %v", code, body, err)
	}
	code, body, err := httpDo(client, "POST", hooks, app.Token, spec)
	if err != nil || code != 201 {
		t.Fatalf("app adds a webhook: %d %s %v", code, body, err)
	}
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	json.Unmarshal(body, &created)
	if created.ID == "" || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("created: %s", body)
	}
	rc.mu.Lock()
	rc.secret = created.Secret
	rc.mu.Unlock()
	if code, body, _ := httpDo(client, "GET", hooks, owner.Token, ""); code != 200 || !strings.Contains(string(body), created.ID) ||
		strings.Contains(string(body), created.Secret) {
		t.Fatalf("owner lists webhooks: %d %s", code, body)
	}

	createUsers(t, base, scimTok.Token, 0, 5)
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(home, "data", "scimbridge.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _ := db.OrganizationBySlug(context.Background(), "acme")
	want := allChanges(t, db, org.ID)
	if len(want) < 5 {
		t.Fatalf("the feed has %d changes, want at least 5", len(want))
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(rc.received()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	checkDelivered(t, rc.received(), want)
	if rc.badSigs != 0 {
		t.Errorf("%d deliveries failed the signature check", rc.badSigs)
	}

	code, body, err = httpDo(client, "GET", hooks+"/"+created.ID+"/attempts?limit=1000", app.Token, "")
	var attempts struct {
		Data []struct {
			Status  int    `json:"status"`
			Outcome string `json:"outcome"`
		} `json:"data"`
	}
	json.Unmarshal(body, &attempts)
	if err != nil || code != 200 || len(attempts.Data) < len(want) || attempts.Data[0].Outcome != "delivered" {
		t.Errorf("attempts through the API: %d %s %v", code, body, err)
	}
}

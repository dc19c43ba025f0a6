package adminapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// Webhook endpoints through the API: app and operator tokens manage them
// with a secret shown only on creation and rotation; owners and viewers
// read them without secrets; attempts page newest first; every change is
// an admin event.
func TestAPI_Webhooks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		const spec = `{"url":"http://127.0.0.1:9/hook","types":["user.created"],"batch":5,"on_reject":"skip"}`
		f.want(403, "owner", "POST", "/orgs/acme/webhooks", spec)
		f.want(403, "viewer", "POST", "/orgs/acme/webhooks", spec)
		f.want(400, "app", "POST", "/orgs/acme/webhooks", `{"url":"http://example.com/hook"}`)
		f.want(400, "app", "POST", "/orgs/acme/webhooks", `{}`)
		f.want(400, "app", "POST", "/orgs/acme/webhooks", `{"url":"https://example.com/","types":["nope"]}`)
		f.want(404, "ownerB", "GET", "/orgs/acme/webhooks", "")

		var created webhookSecret
		f.change(f.acme, 201, "app", "POST", "/orgs/acme/webhooks", spec).json(t, &created)
		if !strings.HasPrefix(created.Secret, "whsec_") || created.ID == "" || created.Batch != 5 || !created.Enabled ||
			created.OnReject != scimbridge.RejectSkip {
			t.Fatalf("created %+v", created)
		}
		for _, who := range []string{"owner", "viewer", "app", "operator"} {
			r := f.want(200, who, "GET", "/orgs/acme/webhooks", "")
			var l list[scimbridge.WebhookEndpoint]
			r.json(t, &l)
			if len(l.Data) != 1 || l.Data[0].ID != created.ID || strings.Contains(string(r.body), created.Secret) || strings.Contains(string(r.body), "secret\":") {
				t.Errorf("list as %s: %s", who, r.body)
			}
			if r := f.want(200, who, "GET", "/orgs/acme/webhooks/"+created.ID, ""); strings.Contains(string(r.body), created.Secret) {
				t.Errorf("get as %s shows the secret", who)
			}
		}
		for _, ev := range f.adminEvents(f.acme) {
			if strings.Contains(ev.RequestBody+ev.ResponseBody, created.Secret) {
				t.Errorf("event %s %s holds the secret", ev.Method, ev.Path)
			}
		}
		path := "/orgs/acme/webhooks/" + created.ID
		f.want(404, "app", "GET", "/orgs/acme/webhooks/nope", "")
		f.want(404, "ownerB", "GET", path, "")

		f.want(403, "owner", "PATCH", path, `{"enabled":false}`)
		f.want(400, "app", "PATCH", path, `{}`)
		var e scimbridge.WebhookEndpoint
		f.change(f.acme, 200, "operator", "PATCH", path, `{"enabled":false}`).json(t, &e)
		if e.Enabled {
			t.Error("endpoint still enabled")
		}
		if got, _ := db.WebhookEndpoint(ctx, f.acme.ID, created.ID); got.Enabled {
			t.Error("stored endpoint still enabled")
		}
		f.change(f.acme, 200, "app", "PATCH", path, `{"enabled":true}`)

		f.want(403, "owner", "POST", path+"/rotate-secret", "")
		var rotated webhookSecret
		f.change(f.acme, 200, "app", "POST", path+"/rotate-secret", "").json(t, &rotated)
		if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret || rotated.PreviousExpiresAt == nil {
			t.Errorf("rotated %+v", rotated)
		}

		// Attempts: 5 stored, paged 2 at a time, newest first.
		if ok, err := db.AcquireWebhookLease(ctx, created.ID, "test", time.Now().Add(time.Hour)); !ok || err != nil {
			t.Fatalf("lease: %v %v", ok, err)
		}
		for i := 1; i <= 5; i++ {
			err := db.SaveWebhookProgress(ctx, scimbridge.WebhookProgress{EndpointID: created.ID, Holder: "test",
				Attempt: &scimbridge.WebhookAttempt{EndpointID: created.ID, OrgID: f.acme.ID, MessageID: fmt.Sprintf("msg_1_%d", i),
					Changes: 1, Time: f.clock(), Status: 500, Outcome: scimbridge.AttemptFailed}})
			if err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		next := ""
		for range 5 {
			q := path + "/attempts?limit=2"
			if next != "" {
				q += "&after=" + next
			}
			var l list[scimbridge.WebhookAttempt]
			f.want(200, "viewer", "GET", q, "").json(t, &l)
			for _, a := range l.Data {
				got = append(got, a.MessageID)
			}
			if next = l.Next; next == "" {
				break
			}
		}
		if strings.Join(got, ",") != "msg_1_5,msg_1_4,msg_1_3,msg_1_2,msg_1_1" {
			t.Errorf("attempts paged %v", got)
		}
		f.want(400, "viewer", "GET", path+"/attempts?after=bogus", "")
		f.want(400, "viewer", "GET", path+"/attempts?limit=0", "")

		// Redelivery of an attempted message queues it with its id.
		f.want(403, "owner", "POST", path+"/redeliver", `{"message_id":"msg_1_3"}`)
		f.want(400, "app", "POST", path+"/redeliver", `{}`)
		f.want(400, "app", "POST", path+"/redeliver", `{"message_id":"x"}`)
		f.want(404, "app", "POST", path+"/redeliver", `{"message_id":"msg_9_9"}`)
		var m scimbridge.WebhookMessage
		f.change(f.acme, 202, "app", "POST", path+"/redeliver", `{"message_id":"msg_1_3"}`).json(t, &m)
		if m.ID != "msg_1_3" || m.State != scimbridge.MessageRedeliver {
			t.Errorf("redeliver %+v", m)
		}
		if kept, _ := db.WebhookMessages(ctx, f.acme.ID, created.ID); len(kept) != 1 || kept[0].State != scimbridge.MessageRedeliver {
			t.Errorf("kept messages %+v", kept)
		}

		f.want(403, "viewer", "DELETE", path, "")
		f.change(f.acme, 204, "app", "DELETE", path, "")
		f.want(404, "app", "GET", path, "")
		if _, err := db.WebhookEndpoint(ctx, f.acme.ID, created.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			t.Errorf("endpoint still stored: %v", err)
		}
	})
}

// Setup links through the API: owners and operators create them (the URL
// in the reply only, the role at most the creator's), list and revoke
// them; viewers and app tokens are refused.
func TestAPI_SetupLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.api.consoleURL = "https://admin.example.test/console"
		for _, who := range []string{"viewer", "app"} {
			f.want(403, who, "POST", "/orgs/acme/setup-links", `{"role":"viewer"}`)
			f.want(403, who, "GET", "/orgs/acme/setup-links", "")
		}
		f.want(404, "ownerB", "POST", "/orgs/acme/setup-links", `{}`)
		f.want(400, "owner", "POST", "/orgs/acme/setup-links", `{"role":"app"}`)
		f.want(400, "owner", "POST", "/orgs/acme/setup-links", `{"expires_in":"8d"}`)
		f.want(400, "owner", "POST", "/orgs/acme/setup-links", `{"expires_in":"soon"}`)

		var l setupLinkOut
		f.change(f.acme, 201, "owner", "POST", "/orgs/acme/setup-links", `{"role":"viewer","expires_in":"2d"}`).json(t, &l)
		token, ok := strings.CutPrefix(l.URL, "https://admin.example.test/console/setup/")
		if !ok || token == "" || l.Role != scimbridge.AdminViewer || !l.ExpiresAt.Equal(f.clock().Add(48*time.Hour)) {
			t.Fatalf("created %+v", l)
		}
		// The URL signs in once.
		if _, err := f.a.UseSetupLink(context.Background(), operatorCaller, token); err != nil {
			t.Fatalf("the link's URL does not sign in: %v", err)
		}
		var op setupLinkOut
		f.change(f.acme, 201, "operator", "POST", "/orgs/acme/setup-links", `{}`).json(t, &op)
		if op.Role != scimbridge.AdminOwner {
			t.Errorf("default role %s", op.Role)
		}

		r := f.want(200, "owner", "GET", "/orgs/acme/setup-links?limit=1", "")
		var page1 list[scimbridge.SetupLink]
		r.json(t, &page1)
		if len(page1.Data) != 1 || page1.Next == "" || strings.Contains(string(r.body), token) || strings.Contains(string(r.body), "url") {
			t.Errorf("page 1: %s", r.body)
		}
		var page2 list[scimbridge.SetupLink]
		f.want(200, "operator", "GET", "/orgs/acme/setup-links?limit=1&after="+page1.Next, "").json(t, &page2)
		if len(page2.Data) != 1 || page2.Next != "" || page2.Data[0].ID == page1.Data[0].ID {
			t.Errorf("page 2: %+v", page2)
		}

		f.want(403, "viewer", "DELETE", "/orgs/acme/setup-links/"+op.ID, "")
		f.want(404, "owner", "DELETE", "/orgs/acme/setup-links/nope", "")
		f.change(f.acme, 204, "owner", "DELETE", "/orgs/acme/setup-links/"+op.ID, "")
		token2 := strings.TrimPrefix(op.URL, "https://admin.example.test/console/setup/")
		if _, err := f.a.UseSetupLink(context.Background(), operatorCaller, token2); err == nil {
			t.Error("a revoked link still signs in")
		}
	})
}

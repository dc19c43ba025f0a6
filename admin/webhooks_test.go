package admin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/webhook"
)

func TestAdmin_Webhooks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		ringA, _ := seal.NewKeyring(bytes.Repeat([]byte{'a'}, seal.KeySize))
		a.Keyring = ringA
		org, err := a.CreateOrg(ctx, by, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("Invalid", func(t *testing.T) {
			for _, spec := range []admin.WebhookSpec{
				{URL: "http://hooks.example.com/x"},
				{URL: "https://hooks.example.com/x", Batch: 101},
				{URL: "https://hooks.example.com/x", OnReject: "drop"},
				{URL: "https://hooks.example.com/x", Types: []scimbridge.ChangeType{"user.exploded"}},
			} {
				_, _, err := a.AddWebhook(ctx, by, "acme", spec)
				wantCode(t, err, scimbridge.EINVALID)
			}
		})
		secret, e, err := a.AddWebhook(ctx, by, "acme", admin.WebhookSpec{URL: "https://hooks.example.com/x",
			Types: []scimbridge.ChangeType{scimbridge.ChangeUserCreated}, Batch: 10, OnReject: scimbridge.RejectSkip})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := webhook.SecretKey(secret); err != nil || !strings.HasPrefix(secret, "whsec_") {
			t.Errorf("secret %q: %v", secret, err)
		}
		ev := wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/webhooks", 201)
		if strings.Contains(ev.RequestBody+ev.ResponseBody, strings.TrimPrefix(secret, "whsec_")) {
			t.Error("the secret is in the event")
		}
		stored, _ := db.WebhookEndpoint(ctx, org.ID, e.ID)
		if plain, err := ringA.Open(org.ID, stored.SealedSecret); err != nil || string(plain) != secret {
			t.Errorf("stored secret does not open to the one shown: %v", err)
		}
		if bytes.Contains(stored.SealedSecret, []byte(secret)) {
			t.Error("secret stored in clear")
		}
		list, err := a.Webhooks(ctx, "acme")
		if err != nil || len(list) != 1 || list[0].Batch != 10 || list[0].OnReject != scimbridge.RejectSkip {
			t.Errorf("list = %+v, %v", list, err)
		}

		// Rotation keeps the previous secret for 24 hours.
		secret2, e2, err := a.RotateWebhookSecret(ctx, by, "acme", e.ID)
		if err != nil || secret2 == secret {
			t.Fatalf("rotate: %v", err)
		}
		wantEvent(t, db, org.ID, "POST", "/api/admin/v1/orgs/acme/webhooks/"+e.ID+"/rotate-secret", 200)
		if e2.PreviousExpiresAt == nil || e2.PreviousExpiresAt.Sub(e2.UpdatedAt) != scimbridge.WebhookPreviousSecretFor {
			t.Errorf("previous secret expiry = %v", e2.PreviousExpiresAt)
		}
		stored, _ = db.WebhookEndpoint(ctx, org.ID, e.ID)
		if prev, _ := ringA.Open(org.ID, stored.SealedPreviousSecret); string(prev) != secret {
			t.Error("previous secret not kept")
		}

		// keys rotate re-seals the webhook secrets and the database's key
		// record follows.
		ringB, _ := seal.NewKeyring(bytes.Repeat([]byte{'b'}, seal.KeySize), bytes.Repeat([]byte{'a'}, seal.KeySize))
		a.Keyring = ringB
		out, err := a.RotateKeys(ctx, by)
		if err != nil || out.Webhooks != 1 {
			t.Fatalf("rotate keys = %+v, %v", out, err)
		}
		stored, _ = db.WebhookEndpoint(ctx, org.ID, e.ID)
		if ringB.NeedsReseal(stored.SealedSecret) || ringB.NeedsReseal(stored.SealedPreviousSecret) {
			t.Error("webhook secrets not re-sealed under the new key")
		}
		if plain, _ := ringB.Open(org.ID, stored.SealedSecret); string(plain) != secret2 {
			t.Error("re-sealed secret changed")
		}
		if ids, _ := db.SealingKeyIDs(ctx); len(ids) != 1 || ids[0] != ringB.KeyID() {
			t.Errorf("sealing keys = %v, want only %s", ids, ringB.KeyID())
		}

		if _, err := a.SetWebhookEnabled(ctx, by, "acme", e.ID, false); err != nil {
			t.Fatal(err)
		}
		wantEvent(t, db, org.ID, "PATCH", "/api/admin/v1/orgs/acme/webhooks/"+e.ID, 200)
		_, err = a.Redeliver(ctx, by, "acme", e.ID, "msg_1_1")
		wantCode(t, err, scimbridge.ENOTFOUND)
		_, err = a.WebhookAttempts(ctx, "acme", e.ID, 0, 0)
		wantCode(t, err, scimbridge.EINVALID)

		wantCode(t, a.RemoveWebhook(ctx, by, "acme", "nope"), scimbridge.ENOTFOUND)
		if err := a.RemoveWebhook(ctx, by, "acme", e.ID); err != nil {
			t.Fatal(err)
		}
		wantEvent(t, db, org.ID, "DELETE", "/api/admin/v1/orgs/acme/webhooks/"+e.ID, 204)
		if ids, _ := db.SealingKeyIDs(ctx); len(ids) != 0 {
			t.Errorf("sealing keys after removal = %v", ids)
		}
	})
}

package storetest

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
)

func newWebhook(t *testing.T, org scimbridge.Organization, k *seal.Keyring) scimbridge.WebhookEndpoint {
	t.Helper()
	sealed, err := k.Seal(org.ID, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return scimbridge.WebhookEndpoint{ID: uuid.NewString(), OrgID: org.ID, URL: "https://hooks.example.test/x",
		Types: []scimbridge.ChangeType{scimbridge.ChangeUserCreated}, Enabled: true, Batch: 1,
		OnReject: scimbridge.RejectRetry, SealedSecret: sealed, CreatedAt: base, UpdatedAt: base}
}

// testWebhooks: endpoints round-trip, their secrets' keys are recorded,
// progress commits only under the lease, attempts and kept messages list.
func testWebhooks(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	ringA, _ := seal.NewKeyring(bytes.Repeat([]byte{'a'}, seal.KeySize))
	ringB, _ := seal.NewKeyring(bytes.Repeat([]byte{'b'}, seal.KeySize), bytes.Repeat([]byte{'a'}, seal.KeySize))
	acme, globex := newOrg(t, s, "acme"), newOrg(t, s, "globex")
	e := newWebhook(t, acme, ringA)
	if err := s.CreateWebhookEndpoint(ctx, e, adminEvent("/webhooks")); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.SealingKeyIDs(ctx); !reflect.DeepEqual(ids, []string{ringA.KeyID()}) {
		t.Errorf("sealing keys = %v, want %s", ids, ringA.KeyID())
	}
	got, err := s.WebhookEndpoint(ctx, acme.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != e.URL || !reflect.DeepEqual(got.Types, e.Types) || !bytes.Equal(got.SealedSecret, e.SealedSecret) ||
		got.SealedPreviousSecret != nil || !got.Enabled || got.Batch != 1 || got.OnReject != scimbridge.RejectRetry {
		t.Errorf("endpoint = %+v", got)
	}
	_, err = s.WebhookEndpoint(ctx, globex.ID, e.ID)
	wantCode(t, err, scimbridge.ENOTFOUND)
	if list, _ := s.WebhookEndpoints(ctx, globex.ID); len(list) != 0 {
		t.Errorf("globex endpoints = %d, want 0", len(list))
	}
	if list, _ := s.WebhookEndpoints(ctx, ""); len(list) != 1 {
		t.Errorf("all endpoints = %d, want 1", len(list))
	}

	// Rotation under key B keeps the previous secret, sealed with A.
	prev := at(24 * time.Hour)
	e.SealedPreviousSecret, e.SealedSecret = e.SealedSecret, mustSeal(t, ringB, acme.ID)
	e.PreviousExpiresAt, e.UpdatedAt = &prev, at(time.Hour)
	if err := s.UpdateWebhookEndpoint(ctx, e, adminEvent("/webhooks/x/rotate-secret")); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.SealingKeyIDs(ctx); len(ids) != 2 {
		t.Errorf("sealing keys after rotation = %v, want both", ids)
	}
	got, _ = s.WebhookEndpoint(ctx, acme.ID, e.ID)
	if !bytes.Equal(got.SealedPreviousSecret, e.SealedPreviousSecret) || got.PreviousExpiresAt == nil ||
		!got.PreviousExpiresAt.Equal(utc(prev)) {
		t.Errorf("rotated endpoint = %+v", got)
	}

	// Progress commits only under the lease.
	now := time.Now()
	if ok, err := s.AcquireWebhookLease(ctx, e.ID, "host-a", now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	if ok, _ := s.AcquireWebhookLease(ctx, e.ID, "host-b", now.Add(time.Minute)); ok {
		t.Fatal("held lease taken by another holder")
	}
	pos := scimbridge.ChangePosition{Tx: 7, Seq: 3}
	attempt := scimbridge.WebhookAttempt{EndpointID: e.ID, OrgID: acme.ID, MessageID: "msg_7_3", First: pos, Last: pos,
		Changes: 1, Time: at(time.Hour), Status: 200, Duration: 1500 * time.Microsecond,
		Outcome: scimbridge.AttemptDelivered, Response: "ok"}
	p := scimbridge.WebhookProgress{EndpointID: e.ID, Holder: "host-b", Attempt: &attempt,
		Delivery: scimbridge.WebhookDelivery{Cursor: pos}}
	wantCode(t, s.SaveWebhookProgress(ctx, p), scimbridge.ELEASELOST)
	p.Holder = "host-a"
	p.SetAside = &scimbridge.WebhookMessage{ID: "msg_1_1", EndpointID: e.ID, OrgID: acme.ID, Changes: 1,
		Body: []byte(`{}`), State: scimbridge.MessageSetAside, CreatedAt: base, UpdatedAt: base}
	if err := s.SaveWebhookProgress(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ = s.WebhookEndpoint(ctx, acme.ID, e.ID)
	if got.Delivery.Cursor != pos {
		t.Errorf("cursor = %+v, want %+v", got.Delivery.Cursor, pos)
	}
	attempts, err := s.WebhookAttempts(ctx, acme.ID, e.ID, 0, 10)
	if err != nil || len(attempts) != 1 || attempts[0].Status != 200 || attempts[0].Last != pos ||
		attempts[0].Duration != attempt.Duration || attempts[0].Response != "ok" {
		t.Errorf("attempts = %+v, %v", attempts, err)
	}
	if other, _ := s.WebhookAttempts(ctx, globex.ID, e.ID, 0, 10); len(other) != 0 {
		t.Errorf("globex sees acme's attempts")
	}
	msgs, err := s.WebhookMessages(ctx, acme.ID, e.ID)
	if err != nil || len(msgs) != 1 || msgs[0].State != scimbridge.MessageSetAside || string(msgs[0].Body) != `{}` {
		t.Errorf("messages = %+v, %v", msgs, err)
	}
	// Disabling with an event; the lease is released.
	p = scimbridge.WebhookProgress{EndpointID: e.ID, Holder: "host-a", Delivery: got.Delivery,
		Disable: "failing for 3 days", Event: &scimbridge.Event{OrgID: acme.ID, Time: base, Source: scimbridge.EventAdmin, Count: 1}}
	if err := s.SaveWebhookProgress(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.WebhookEndpoint(ctx, acme.ID, e.ID); got.Enabled || got.DisabledReason == "" {
		t.Errorf("endpoint not disabled: %+v", got)
	}
	if err := s.ReleaseWebhookLease(ctx, e.ID, "host-a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireWebhookLease(ctx, e.ID, "host-b", now.Add(time.Minute)); !ok {
		t.Error("released lease not acquired")
	}
	if n, err := s.PurgeWebhookAttempts(ctx, at(2*time.Hour), 10); n != 1 || err != nil {
		t.Errorf("purge = %d, %v", n, err)
	}

	wantCode(t, s.DeleteWebhookEndpoint(ctx, globex.ID, e.ID, adminEvent("/webhooks/x")), scimbridge.ENOTFOUND)
	if err := s.DeleteWebhookEndpoint(ctx, acme.ID, e.ID, adminEvent("/webhooks/x")); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.SealingKeyIDs(ctx); len(ids) != 0 {
		t.Errorf("sealing keys after delete = %v", ids)
	}
}

func mustSeal(t *testing.T, k *seal.Keyring, orgID string) []byte {
	t.Helper()
	b, err := k.Seal(orgID, []byte("secret-2"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedWebhook gives org a webhook endpoint with its lease, an attempt and
// a set-aside message: a row in every webhook table.
func seedWebhook(t *testing.T, s scimbridge.Store, org scimbridge.Organization) {
	t.Helper()
	ctx := context.Background()
	ring, _ := seal.NewKeyring(bytes.Repeat([]byte{'w'}, seal.KeySize))
	e := newWebhook(t, org, ring)
	if err := s.CreateWebhookEndpoint(ctx, e, adminEvent("/webhooks")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AcquireWebhookLease(ctx, e.ID, "h", time.Now().Add(time.Hour)); !ok || err != nil {
		t.Fatalf("webhook lease: %v %v", ok, err)
	}
	err := s.SaveWebhookProgress(ctx, scimbridge.WebhookProgress{EndpointID: e.ID, Holder: "h",
		Attempt: &scimbridge.WebhookAttempt{EndpointID: e.ID, OrgID: org.ID, MessageID: "msg_1_1", Changes: 1, Time: base,
			Status: 500, Outcome: scimbridge.AttemptFailed},
		SetAside: &scimbridge.WebhookMessage{ID: "msg_1_1", EndpointID: e.ID, OrgID: org.ID, Changes: 1, Body: []byte(`{}`),
			State: scimbridge.MessageSetAside, CreatedAt: base, UpdatedAt: base}})
	if err != nil {
		t.Fatal(err)
	}
}

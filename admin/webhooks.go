package admin

// Webhook endpoints: adding, listing, removing, enabling, rotating their
// secrets, their attempts and redelivery.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/webhook"
)

// ChangeTypes are the change types an endpoint may ask for.
var ChangeTypes = []scimbridge.ChangeType{
	scimbridge.ChangeUserCreated, scimbridge.ChangeUserUpdated, scimbridge.ChangeUserDeactivated,
	scimbridge.ChangeUserReactivated, scimbridge.ChangeUserDeleted, scimbridge.ChangeUserErased,
	scimbridge.ChangeGroupCreated, scimbridge.ChangeGroupUpdated, scimbridge.ChangeGroupDeleted,
	scimbridge.ChangeMemberAdded, scimbridge.ChangeMemberRemoved,
	scimbridge.ChangeBridgeAttention, scimbridge.ChangeBridgePlanHeld,
}

// WebhookSpec is a new endpoint's settings.
type WebhookSpec struct {
	URL string `json:"url"`
	// Types are the change types delivered; empty is all.
	Types []scimbridge.ChangeType `json:"types,omitempty"`
	// Batch is the most changes per delivery: 0 or 1 for one, up to 100.
	Batch    int                 `json:"batch,omitempty"`
	OnReject scimbridge.OnReject `json:"on_reject,omitempty"`
	// Disabled adds the endpoint without delivering yet.
	Disabled bool `json:"disabled,omitempty"`
}

// Validate checks the spec without the store; every problem is EINVALID.
func (s *WebhookSpec) Validate() error {
	if err := webhook.CheckURL(s.URL); err != nil {
		return err
	}
	for _, t := range s.Types {
		if !slices.Contains(ChangeTypes, t) {
			return scimbridge.Errorf(scimbridge.EINVALID, "unknown change type %q", t)
		}
	}
	if s.Batch == 0 {
		s.Batch = 1
	}
	if s.Batch < 1 || s.Batch > scimbridge.WebhookMaxBatch {
		return scimbridge.Errorf(scimbridge.EINVALID, "batch must be from 1 to %d, got %d", scimbridge.WebhookMaxBatch, s.Batch)
	}
	switch s.OnReject {
	case "":
		s.OnReject = scimbridge.RejectRetry
	case scimbridge.RejectRetry, scimbridge.RejectSkip:
	default:
		return scimbridge.Errorf(scimbridge.EINVALID, "on_reject must be retry or skip, got %q", s.OnReject)
	}
	return nil
}

func (a *Admin) sealSecret(orgID, secret string) ([]byte, error) {
	if a.Keyring == nil {
		return nil, errors.New("seal webhook secret: no encryption key loaded")
	}
	return a.Keyring.Seal(orgID, []byte(secret))
}

// AddWebhook adds an endpoint and returns its secret, shown once. It
// receives the changes made from now on.
func (a *Admin) AddWebhook(ctx context.Context, by Caller, slug string, spec WebhookSpec) (string, scimbridge.WebhookEndpoint, error) {
	if err := spec.Validate(); err != nil {
		return "", scimbridge.WebhookEndpoint{}, err
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", scimbridge.WebhookEndpoint{}, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return "", scimbridge.WebhookEndpoint{}, fmt.Errorf("add webhook: %w", err)
	}
	sealed, err := a.sealSecret(org.ID, secret)
	if err != nil {
		return "", scimbridge.WebhookEndpoint{}, err
	}
	now := a.Clock()
	e := scimbridge.WebhookEndpoint{ID: uuid.NewString(), OrgID: org.ID, URL: spec.URL, Types: spec.Types,
		Enabled: !spec.Disabled, Batch: spec.Batch, OnReject: spec.OnReject, SealedSecret: sealed,
		CreatedAt: now, UpdatedAt: now}
	if e.Types == nil {
		e.Types = []scimbridge.ChangeType{}
	}
	if cs, ok := a.Store.(scimbridge.ChangeStore); ok {
		if e.Delivery.Cursor, err = cs.ChangesHead(ctx, org.ID); err != nil {
			return "", e, fmt.Errorf("add webhook: %w", err)
		}
	}
	ev := a.event(by, org, "POST", "/webhooks", 201, spec)
	ev.ResponseBody = jsonText(e) // the secret is never in it
	if err := a.Store.CreateWebhookEndpoint(ctx, e, ev); err != nil {
		return "", e, fmt.Errorf("add webhook: %w", err)
	}
	return secret, e, nil
}

// Webhooks lists the organization's endpoints.
func (a *Admin) Webhooks(ctx context.Context, slug string) ([]scimbridge.WebhookEndpoint, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return nil, err
	}
	return a.Store.WebhookEndpoints(ctx, org.ID)
}

// Webhook returns one endpoint of the organization.
func (a *Admin) Webhook(ctx context.Context, slug, id string) (scimbridge.Organization, scimbridge.WebhookEndpoint, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return org, scimbridge.WebhookEndpoint{}, err
	}
	e, err := a.Store.WebhookEndpoint(ctx, org.ID, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return org, e, scimbridge.Errorf(scimbridge.ENOTFOUND, "no webhook %q in organization %q", id, org.Slug)
	}
	return org, e, err
}

// RemoveWebhook deletes an endpoint with its attempts.
func (a *Admin) RemoveWebhook(ctx context.Context, by Caller, slug, id string) error {
	org, _, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteWebhookEndpoint(ctx, org.ID, id, a.event(by, org, "DELETE", "/webhooks/"+id, 204, nil)); err != nil {
		return fmt.Errorf("remove webhook: %w", err)
	}
	return nil
}

// SetWebhookEnabled enables or disables an endpoint. Enabling one that
// delivery disabled starts its retries afresh from where it stopped.
func (a *Admin) SetWebhookEnabled(ctx context.Context, by Caller, slug, id string, on bool) (scimbridge.WebhookEndpoint, error) {
	org, e, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return e, err
	}
	e.Enabled, e.DisabledReason, e.UpdatedAt = on, "", a.Clock()
	ev := a.event(by, org, "PATCH", "/webhooks/"+id, 200, map[string]bool{"enabled": on})
	if err := a.Store.UpdateWebhookEndpoint(ctx, e, ev); err != nil {
		return e, fmt.Errorf("update webhook: %w", err)
	}
	return e, nil
}

// RotateWebhookSecret gives the endpoint a new secret, shown once; the
// previous one still signs, beside it, for 24 hours.
func (a *Admin) RotateWebhookSecret(ctx context.Context, by Caller, slug, id string) (string, scimbridge.WebhookEndpoint, error) {
	org, e, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return "", e, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return "", e, fmt.Errorf("rotate webhook secret: %w", err)
	}
	sealed, err := a.sealSecret(org.ID, secret)
	if err != nil {
		return "", e, err
	}
	now := a.Clock()
	until := now.Add(scimbridge.WebhookPreviousSecretFor)
	e.SealedPreviousSecret, e.SealedSecret, e.PreviousExpiresAt, e.UpdatedAt = e.SealedSecret, sealed, &until, now
	ev := a.event(by, org, "POST", "/webhooks/"+id+"/rotate-secret", 200, nil)
	ev.ResponseBody = jsonText(map[string]any{"previous_secret_expires_at": until})
	if err := a.Store.UpdateWebhookEndpoint(ctx, e, ev); err != nil {
		return "", e, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return secret, e, nil
}

// WebhookAttempts lists an endpoint's attempts, newest first, before the
// attempt id before (0: the newest), at most limit (1 to 1000).
func (a *Admin) WebhookAttempts(ctx context.Context, slug, id string, before int64, limit int) ([]scimbridge.WebhookAttempt, error) {
	if limit < 1 || limit > 1000 {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "limit must be from 1 to 1000, got %d", limit)
	}
	org, _, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return nil, err
	}
	return a.Store.WebhookAttempts(ctx, org.ID, id, before, limit)
}

// WebhookMessages lists an endpoint's set-aside and redelivered messages.
func (a *Admin) WebhookMessages(ctx context.Context, slug, id string) ([]scimbridge.WebhookMessage, error) {
	org, _, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return nil, err
	}
	return a.Store.WebhookMessages(ctx, org.ID, id)
}

// Redeliver queues a message for delivery again, with its id unchanged:
// ref is a message id (a set-aside message, or any message attempted) or
// an attempt id.
func (a *Admin) Redeliver(ctx context.Context, by Caller, slug, id, ref string) (scimbridge.WebhookMessage, error) {
	org, e, err := a.Webhook(ctx, slug, id)
	if err != nil {
		return scimbridge.WebhookMessage{}, err
	}
	now := a.Clock()
	var m scimbridge.WebhookMessage
	kept, err := a.Store.WebhookMessages(ctx, org.ID, e.ID)
	if err != nil {
		return m, err
	}
	for _, k := range kept {
		if k.ID == ref {
			m = k
		}
	}
	if m.ID == "" {
		att, err := a.findAttempt(ctx, org.ID, e.ID, ref)
		if err != nil {
			return m, err
		}
		m = scimbridge.WebhookMessage{ID: att.MessageID, EndpointID: e.ID, OrgID: org.ID, First: att.First, Last: att.Last,
			Changes: att.Changes, Body: []byte{}, CreatedAt: now}
	}
	m.State, m.UpdatedAt = scimbridge.MessageRedeliver, now
	ev := a.event(by, org, "POST", "/webhooks/"+id+"/redeliver", 202, map[string]string{"message_id": m.ID})
	if err := a.Store.PutWebhookMessage(ctx, m, &ev); err != nil {
		return m, fmt.Errorf("redeliver: %w", err)
	}
	return m, nil
}

// findAttempt finds an attempt by id, or the newest of a message id among
// the latest attempts.
func (a *Admin) findAttempt(ctx context.Context, orgID, endpointID, ref string) (scimbridge.WebhookAttempt, error) {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil {
		att, err := a.Store.WebhookAttempt(ctx, orgID, n)
		if err == nil && att.EndpointID == endpointID {
			return att, nil
		}
		return att, scimbridge.Errorf(scimbridge.ENOTFOUND, "no attempt %d of this webhook", n)
	}
	if !strings.HasPrefix(ref, "msg_") {
		return scimbridge.WebhookAttempt{}, scimbridge.Errorf(scimbridge.EINVALID, "give a message id (msg_...) or an attempt id")
	}
	var before int64
	for range 20 {
		page, err := a.Store.WebhookAttempts(ctx, orgID, endpointID, before, 1000)
		if err != nil {
			return scimbridge.WebhookAttempt{}, err
		}
		for _, att := range page {
			if att.MessageID == ref {
				return att, nil
			}
		}
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].ID
	}
	return scimbridge.WebhookAttempt{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "no message %q among this webhook's attempts", ref)
}

// rotateWebhookKeys seals every webhook secret again under the current
// key, one event per endpoint re-sealed.
func (a *Admin) rotateWebhookKeys(ctx context.Context, by Caller, out *KeyRotation) error {
	k := a.Keyring
	list, err := a.Store.WebhookEndpoints(ctx, "")
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	for _, e := range list {
		if !k.NeedsReseal(e.SealedSecret) && (e.SealedPreviousSecret == nil || !k.NeedsReseal(e.SealedPreviousSecret)) {
			continue
		}
		org, err := a.Store.Organization(ctx, e.OrgID)
		if err != nil {
			return fmt.Errorf("read organization: %w", err)
		}
		name := org.Slug + "/webhook " + e.ID
		sealed, err := k.Reseal(org.ID, e.SealedSecret)
		if err != nil {
			out.Failed[name] = "cannot decrypt the webhook secret"
			continue
		}
		e.SealedSecret = sealed
		if e.SealedPreviousSecret != nil {
			if e.SealedPreviousSecret, err = k.Reseal(org.ID, e.SealedPreviousSecret); err != nil {
				e.SealedPreviousSecret, e.PreviousExpiresAt = nil, nil // it only signed beside the current one
			}
		}
		e.UpdatedAt = a.Clock()
		ev := a.event(by, org, "POST", "/keys/rotate", 200, map[string]string{"key_id": k.KeyID(), "webhook": e.ID})
		if err := a.Store.UpdateWebhookEndpoint(ctx, e, ev); err != nil {
			return fmt.Errorf("store webhook: %w", err)
		}
		out.Webhooks++
	}
	return nil
}

package scimbridge

import (
	"context"
	"time"
)

// Webhook endpoints: where an organization's changes are delivered, signed,
// in order (PRODUCT.md, "Directory API: changes feed and webhooks").

// OnReject says what a webhook endpoint does with a change its receiver
// rejects with a 4xx other than 408 and 429.
type OnReject string

const (
	// RejectRetry retries it like any failure (the default).
	RejectRetry OnReject = "retry"
	// RejectSkip sets the change aside after WebhookSkipAttempts attempts
	// and moves on to the next.
	RejectSkip OnReject = "skip"
)

// Limits of webhook endpoints.
const (
	// WebhookMaxBatch is the most changes one delivery carries.
	WebhookMaxBatch = 100
	// WebhookSkipAttempts is how many rejected attempts an endpoint with
	// on_reject skip makes before it sets a change aside.
	WebhookSkipAttempts = 5
	// WebhookRetryFor is how long an endpoint keeps retrying one delivery
	// before it is disabled.
	WebhookRetryFor = 72 * time.Hour
	// WebhookPreviousSecretFor is how long a rotated-out secret still signs.
	WebhookPreviousSecretFor = 24 * time.Hour
)

// WebhookEndpoint is one receiver of an organization's changes.
type WebhookEndpoint struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	URL   string `json:"url"`
	// Types limits the deliveries to these change types; empty is all.
	Types   []ChangeType `json:"types"`
	Enabled bool         `json:"enabled"`
	// Batch is the most changes per delivery: 1, or up to WebhookMaxBatch.
	Batch    int      `json:"batch"`
	OnReject OnReject `json:"on_reject"`
	// SealedSecret is the signing secret sealed with the keyring (the
	// organization id as associated data); SealedPreviousSecret, until
	// PreviousExpiresAt, the one it replaced.
	SealedSecret         []byte     `json:"-"`
	SealedPreviousSecret []byte     `json:"-"`
	PreviousExpiresAt    *time.Time `json:"previous_secret_expires_at,omitempty"`
	// DisabledReason says why delivery stopped by itself (empty when an
	// admin disabled it or it is enabled).
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Delivery state, written by the delivering replica.
	Delivery WebhookDelivery `json:"delivery"`
}

// Wants reports whether the endpoint delivers changes of type t.
func (e WebhookEndpoint) Wants(t ChangeType) bool {
	if len(e.Types) == 0 {
		return true
	}
	for _, w := range e.Types {
		if w == t {
			return true
		}
	}
	return false
}

// WebhookDelivery is where an endpoint's delivery stands.
type WebhookDelivery struct {
	// Cursor is the position of the last change delivered (or passed
	// over: not wanted, or set aside).
	Cursor ChangePosition `json:"-"`
	// Attempts counts the failed attempts of the delivery at the head;
	// FailingSince is the first of them.
	Attempts     int        `json:"attempts"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// NextAttemptAt is when the head delivery may be tried again.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

// Outcomes of a webhook attempt.
const (
	AttemptDelivered = "delivered" // 2xx
	AttemptFailed    = "failed"    // any other answer, or none
	AttemptRejected  = "rejected"  // a 4xx other than 408 and 429
)

// WebhookAttempt is one try to deliver a message to an endpoint.
type WebhookAttempt struct {
	ID         int64          `json:"id"`
	EndpointID string         `json:"endpoint_id"`
	OrgID      string         `json:"org_id"`
	MessageID  string         `json:"message_id"`
	First      ChangePosition `json:"-"`
	Last       ChangePosition `json:"-"`
	Changes    int            `json:"changes"`
	Time       time.Time      `json:"time"`
	// Status is the receiver's HTTP status, 0 when none came.
	Status   int           `json:"status"`
	Duration time.Duration `json:"duration"`
	Outcome  string        `json:"outcome"`
	// Response is the first KiB of the reply; Error why none came.
	Response string `json:"response,omitempty"`
	Error    string `json:"error,omitempty"`
	// Redelivery says the attempt delivered a message again on request.
	Redelivery bool `json:"redelivery,omitempty"`
}

// States of a kept webhook message.
const (
	MessageSetAside    = "set_aside"   // rejected too often with on_reject skip
	MessageRedeliver   = "redeliver"   // queued for delivery again
	MessageRedelivered = "redelivered" // delivered again
)

// WebhookMessage is a message kept apart from the endpoint's stream: one
// set aside, or one queued for redelivery. Body is what was signed.
type WebhookMessage struct {
	ID         string         `json:"id"`
	EndpointID string         `json:"endpoint_id"`
	OrgID      string         `json:"org_id"`
	First      ChangePosition `json:"-"`
	Last       ChangePosition `json:"-"`
	Changes    int            `json:"changes"`
	Body       []byte         `json:"-"`
	State      string         `json:"state"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// WebhookProgress is what one attempt changes, committed at once by the
// replica holding the endpoint's lease.
type WebhookProgress struct {
	EndpointID string
	Holder     string
	Attempt    *WebhookAttempt
	Delivery   WebhookDelivery
	// SetAside, when set, is kept as a set-aside message.
	SetAside *WebhookMessage
	// Redelivered names a redeliver message now delivered.
	Redelivered string
	// Disable, when set, disables the endpoint with this reason, and
	// Event records it.
	Disable string
	Event   *Event
}

// WebhookStore keeps webhook endpoints, their attempts and leases.
type WebhookStore interface {
	// CreateWebhookEndpoint inserts e with its admin event.
	CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, ev Event) error
	// WebhookEndpoint returns one endpoint of the organization; ENOTFOUND.
	WebhookEndpoint(ctx context.Context, orgID, id string) (WebhookEndpoint, error)
	// WebhookEndpoints lists the organization's endpoints ("" for every
	// organization's), oldest first.
	WebhookEndpoints(ctx context.Context, orgID string) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint writes e's settings and secrets (not its
	// delivery state) with its admin event, and records the keys that
	// seal the stored secrets; ENOTFOUND.
	UpdateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, ev Event) error
	// DeleteWebhookEndpoint deletes the endpoint, its attempts and
	// messages, with its admin event; ENOTFOUND.
	DeleteWebhookEndpoint(ctx context.Context, orgID, id string, ev Event) error

	// AcquireWebhookLease takes the endpoint's lease for holder until
	// expires when it is free, expired or already holder's; false when
	// another holder has it. It renews a held lease too.
	AcquireWebhookLease(ctx context.Context, endpointID, holder string, expires time.Time) (bool, error)
	ReleaseWebhookLease(ctx context.Context, endpointID, holder string) error
	// SaveWebhookProgress commits an attempt and the delivery state it
	// leads to, only while holder has the lease (ELEASELOST otherwise).
	SaveWebhookProgress(ctx context.Context, p WebhookProgress) error

	// WebhookAttempts lists an endpoint's attempts, newest first, before
	// the attempt id before (0 for the newest), at most limit.
	WebhookAttempts(ctx context.Context, orgID, endpointID string, before int64, limit int) ([]WebhookAttempt, error)
	// WebhookAttempt returns one attempt; ENOTFOUND.
	WebhookAttempt(ctx context.Context, orgID string, id int64) (WebhookAttempt, error)
	// WebhookMessages lists an endpoint's kept messages, oldest first.
	WebhookMessages(ctx context.Context, orgID, endpointID string) ([]WebhookMessage, error)
	// PutWebhookMessage inserts or replaces a kept message, with its
	// admin event when ev is not nil.
	PutWebhookMessage(ctx context.Context, m WebhookMessage, ev *Event) error
	// PurgeWebhookAttempts deletes attempts older than before.
	PurgeWebhookAttempts(ctx context.Context, before time.Time, batch int) (int, error)
}

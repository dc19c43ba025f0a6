// Package admin holds every administrative operation: creating and
// setting up organizations, SCIM tokens, releasing profiles, the Google
// bridge's settings and held plans, admin tokens and key rotation. Each
// operation validates its input, makes the change and records its admin
// event in one call: source admin, the actor, and as method and path those
// of the admin API call that does the same thing (PRODUCT.md, "Events
// log"). The command line calls it; it knows nothing of flags or HTTP.
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// Admin performs admin operations on the store.
type Admin struct {
	Store  scimbridge.Store
	Clock  scimbridge.Clock
	Logger *slog.Logger
	// Keyring seals bridge credentials (bridge settings, key rotation);
	// nil when none is loaded: those operations then fail.
	Keyring *seal.Keyring
	// Google are the endpoints bridge credentials are checked against.
	Google bridge.Endpoints
	// Runner runs the approval of a held plan and discards one.
	Runner *bridge.Runner
	// GoogleOAuth is the operator's OAuth client for "Connect Google
	// Workspace"; zero when the operator configured none.
	GoogleOAuth GoogleOAuth
}

// Caller is who performs an operation, as its event records it.
type Caller struct {
	// Actor names who acted: CLIActor for the command line.
	Actor     string
	ClientIP  string
	UserAgent string
}

// CLIActor is the actor of the command line run by the OS user.
func CLIActor(osUser string) string { return "cli:" + osUser }

// event is the admin event of an operation on org: method and path (after
// /api/admin/v1/orgs/{slug}) of the admin API call, its status and its
// request body, without secrets.
func (a *Admin) event(by Caller, org scimbridge.Organization, method, path string, status int, body any) scimbridge.Event {
	ev := scimbridge.Event{
		OrgID:     org.ID,
		Time:      a.Clock(),
		Method:    method,
		Path:      scimbridge.AdminPath(org.Slug, path),
		Status:    status,
		ClientIP:  by.ClientIP,
		UserAgent: by.UserAgent,
		RequestID: uuid.NewString(),
		Source:    scimbridge.EventAdmin,
		Actor:     by.Actor,
		Count:     1,
	}
	ev.RequestBody = jsonText(body)
	return ev
}

// jsonText is v as JSON; empty for nil.
func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// record appends the event of an operation whose store method takes no
// event; the change is already committed.
func (a *Admin) record(ctx context.Context, ev scimbridge.Event) error {
	if err := a.Store.AppendEvents(ctx, []scimbridge.Event{ev}); err != nil {
		return fmt.Errorf("record admin event: %w", err)
	}
	return nil
}

// Org returns the organization with the slug; ENOTFOUND naming it when
// there is none.
func (a *Admin) Org(ctx context.Context, slug string) (scimbridge.Organization, error) {
	if err := scimbridge.CheckSlug(slug); err != nil {
		return scimbridge.Organization{}, err
	}
	org, err := a.Store.OrganizationBySlug(ctx, slug)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return org, scimbridge.Errorf(scimbridge.ENOTFOUND, "no organization %q", slug)
	} else if err != nil {
		return org, fmt.Errorf("find organization: %w", err)
	}
	return org, nil
}

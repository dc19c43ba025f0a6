package admin

// Erasing one person (owners) and deleting a whole organization
// (operators).

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/scimbridge/scimbridge"
)

// eraseBatch is how many events one write transaction of an erasure
// changes, and deleteBatch how many rows one of an organization's deletion
// removes: short enough that other writers barely wait.
const (
	eraseBatch  = 500
	deleteBatch = 1000
)

// Erasure says what erasing a person did.
type Erasure struct {
	ProfileID string `json:"profile_id"`
	// AlreadyErased says the profile was a tombstone before: nothing but
	// events written since were changed, and no new event was recorded.
	AlreadyErased bool `json:"already_erased,omitempty"`
	// Events is how many of the person's events lost their bodies.
	Events int `json:"events"`
	// ReportItems is how many report items lost the person's values.
	ReportItems int `json:"report_items"`
}

// ErasePath is the admin API path (after the organization) of erasing
// profile id.
func ErasePath(id string) string { return "/users/" + id + "/erase" }

// EraseProfile erases one person of the organization: the profile keeps
// its id and becomes a tombstone (every personal attribute and identifier
// gone, detached, inactive, out of every group), so its userName and email
// are free for reuse; the bodies, error and target username of the
// person's events, and the username, Google id and field changes of the
// report items about them, are replaced by scimbridge.ErasedMarker (held
// plans, which expire, are not rewritten); the erasure is
// an event naming only the profile id. Erasing again is harmless: it
// records nothing new and erases what events were written since.
// ENOTFOUND for a profile of another organization.
func (a *Admin) EraseProfile(ctx context.Context, by Caller, slug, profileID string) (Erasure, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return Erasure{}, err
	}
	out := Erasure{ProfileID: profileID}
	// The person's keys are read before the profile is erased, so the
	// events naming only their userName are found; they are erased before
	// and again after the tombstone, so events written meanwhile go too.
	p, err := a.Store.Profile(ctx, org.ID, profileID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return out, scimbridge.Errorf(scimbridge.ENOTFOUND, "no profile %q in organization %q", profileID, org.Slug)
	} else if err != nil {
		return out, fmt.Errorf("erase profile: %w", err)
	}
	keys := scimbridge.EraseKeys{ProfileID: p.ID}
	for _, u := range []string{p.UserName, p.Email, p.FormerUserName, p.FormerEmail} {
		if u != "" {
			keys.UserNames = append(keys.UserNames, u)
		}
	}
	n, err := a.Store.EraseEvents(ctx, org.ID, keys, eraseBatch)
	out.Events += n
	if err != nil {
		return out, fmt.Errorf("erase events: %w", err)
	}
	ev := a.event(by, org, "POST", ErasePath(p.ID), 200, nil)
	_, erased, err := a.Store.EraseProfile(ctx, org.ID, p.ID, a.Clock(), ev)
	if err != nil {
		return out, fmt.Errorf("erase profile: %w", err)
	}
	out.AlreadyErased = !erased
	n, err = a.Store.EraseEvents(ctx, org.ID, keys, eraseBatch)
	out.Events += n
	if err != nil {
		return out, fmt.Errorf("erase events: %w", err)
	}
	if out.ReportItems, err = a.Store.EraseReportItems(ctx, org.ID, keys); err != nil {
		return out, fmt.Errorf("erase report items: %w", err)
	}
	a.logger().Info("profile erased", "org", org.Slug, "profile", p.ID, "events", out.Events,
		"already_erased", out.AlreadyErased, "actor", by.Actor)
	return out, nil
}

// DeleteOrganization deletes the organization and everything it owns
// (profiles, groups, memberships, events, reports, held plans, SCIM
// configuration, admin tokens, bridge, lease, and the rows of any table
// with an org_id column), in short batches. Its SCIM token and admin
// tokens stop working first. The deletion is logged and recorded as an
// admin event of no organization (listed with the events no organization
// could be named for), which outlives it: the organization's id, slug and
// name, the actor, and the rows removed per table. Events the buffered
// writer still holds for the organization may land after it and are left
// to retention.
func (a *Admin) DeleteOrganization(ctx context.Context, by Caller, slug string) (scimbridge.OrgDeletion, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return scimbridge.OrgDeletion{}, err
	}
	a.logger().Info("deleting organization", "org", org.Slug, "org_id", org.ID, "actor", by.Actor)
	ev := a.event(by, org, "DELETE", "", 204, map[string]string{"org_id": org.ID, "slug": org.Slug, "name": org.Name})
	del, err := a.Store.DeleteOrganization(ctx, org.ID, deleteBatch, ev)
	if err != nil {
		a.logger().Error("organization deletion failed", "org", org.Slug, "org_id", org.ID, "err", err)
		return del, fmt.Errorf("delete organization %q: %w", org.Slug, err)
	}
	a.logger().Info("organization deleted", "org", org.Slug, "org_id", org.ID, "actor", by.Actor, "rows", del.Rows)
	return del, nil
}

// logger is a.Logger, or one that discards.
func (a *Admin) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

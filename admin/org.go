package admin

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// CreateOrg creates an organization; name defaults to the slug. A new
// organization adopts existing profiles (adopt_existing on).
func (a *Admin) CreateOrg(ctx context.Context, by Caller, slug, name string) (scimbridge.Organization, error) {
	if err := scimbridge.CheckSlug(slug); err != nil {
		return scimbridge.Organization{}, err
	}
	if name == "" {
		name = slug
	}
	org := scimbridge.Organization{
		ID:            uuid.NewString(),
		Slug:          slug,
		Name:          name,
		CreatedAt:     a.Clock(),
		AdoptExisting: true,
	}
	err := a.Store.CreateOrganization(ctx, org)
	if scimbridge.ErrorCode(err) == scimbridge.ECONFLICT {
		return org, scimbridge.Errorf(scimbridge.ECONFLICT, "organization %q already exists", slug)
	} else if err != nil {
		return org, fmt.Errorf("create organization: %w", err)
	}
	ev := a.event(by, org, "POST", "", 201, map[string]string{"slug": slug, "name": name})
	ev.Path = scimbridge.AdminPathPrefix
	ev.ResponseBody = jsonText(org)
	return org, a.record(ctx, ev)
}

// OrgChange is a change of an organization's settings; nil fields keep
// their value.
type OrgChange struct {
	// AdoptExisting says whether SCIM and the bridge adopt manual and SAML
	// profiles that match (PRODUCT.md, "Ownership rules").
	AdoptExisting *bool `json:"adopt_existing,omitempty"`
}

// SetOrg changes the organization's settings and returns it.
func (a *Admin) SetOrg(ctx context.Context, by Caller, slug string, c OrgChange) (scimbridge.Organization, error) {
	if c.AdoptExisting == nil {
		return scimbridge.Organization{}, scimbridge.Errorf(scimbridge.EINVALID, "nothing to change: give adopt_existing")
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return org, err
	}
	if err := a.Store.SetAdoptExisting(ctx, org.ID, *c.AdoptExisting); err != nil {
		return org, fmt.Errorf("set adopt_existing: %w", err)
	}
	org.AdoptExisting = *c.AdoptExisting
	ev := a.event(by, org, "PATCH", "", 200, c)
	ev.ResponseBody = jsonText(org)
	return org, a.record(ctx, ev)
}

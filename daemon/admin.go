package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// adminUserAgent marks the events of actions taken from the command line.
const adminUserAgent = "scimbridge-cli"

// admin performs administrative actions, each writing its event (source
// admin) in the same transaction as the change.
type admin struct {
	db    scimbridge.Store
	clock scimbridge.Clock
}

// event returns the admin event of an action on org, described as the
// equivalent admin API request. body is the request, without secrets.
func (a admin) event(org scimbridge.Organization, method, path string, status int, body any) scimbridge.Event {
	ev := scimbridge.Event{
		OrgID:     org.ID,
		Time:      a.clock(),
		Method:    method,
		Path:      "/admin/orgs/" + org.Slug + path,
		Status:    status,
		UserAgent: adminUserAgent,
		RequestID: uuid.NewString(),
		Source:    scimbridge.EventAdmin,
		Count:     1,
	}
	if body != nil {
		if b, err := json.Marshal(body); err == nil {
			ev.RequestBody = string(b)
		}
	}
	return ev
}

// org returns the organization with the slug, with a message naming it
// when it does not exist.
func (a admin) org(ctx context.Context, slug string) (scimbridge.Organization, error) {
	org, err := a.db.OrganizationBySlug(ctx, slug)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return org, scimbridge.Errorf(scimbridge.ENOTFOUND, "no organization %q: see 'scimbridge org list'", slug)
	} else if err != nil {
		return org, fmt.Errorf("find organization: %w", err)
	}
	return org, nil
}

// createOrg creates an organization; name defaults to the slug.
func (a admin) createOrg(ctx context.Context, slug, name string) (scimbridge.Organization, error) {
	if name == "" {
		name = slug
	}
	org := scimbridge.Organization{
		ID:            uuid.NewString(),
		Slug:          slug,
		Name:          name,
		CreatedAt:     a.clock(),
		AdoptExisting: true,
	}
	err := a.db.CreateOrganization(ctx, org)
	if scimbridge.ErrorCode(err) == scimbridge.ECONFLICT {
		return org, scimbridge.Errorf(scimbridge.ECONFLICT, "organization %q already exists", slug)
	} else if err != nil {
		return org, fmt.Errorf("create organization: %w", err)
	}
	return org, nil
}

// scimConfig returns the organization's SCIM configuration and whether
// SCIM is enabled.
func (a admin) scimConfig(ctx context.Context, org scimbridge.Organization) (scimbridge.SCIMConfig, bool, error) {
	sc, err := a.db.SCIMConfig(ctx, org.ID)
	switch {
	case scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND:
		return sc, false, nil
	case err != nil:
		return sc, false, fmt.Errorf("read SCIM configuration: %w", err)
	}
	return sc, true, nil
}

// enableSCIM creates the organization's SCIM configuration and returns its
// token, shown once. It fails when SCIM is already enabled.
func (a admin) enableSCIM(ctx context.Context, org scimbridge.Organization) (string, error) {
	if _, ok, err := a.scimConfig(ctx, org); err != nil {
		return "", err
	} else if ok {
		return "", scimbridge.Errorf(scimbridge.ECONFLICT,
			"SCIM is already enabled for %q: use 'scimbridge scim regenerate-token --org %s' for a new token", org.Slug, org.Slug)
	}
	token, hash := scimbridge.NewSCIMToken(org.Slug)
	sc := scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: a.clock()}
	ev := a.event(org, "POST", "/scim", 201, nil)
	if err := a.db.PutSCIMConfig(ctx, sc, ev); err != nil {
		return "", fmt.Errorf("enable SCIM: %w", err)
	}
	return token, nil
}

// regenerateSCIM replaces the SCIM token; the old one stops working at
// once.
func (a admin) regenerateSCIM(ctx context.Context, org scimbridge.Organization) (string, error) {
	sc, ok, err := a.scimConfig(ctx, org)
	if err != nil {
		return "", err
	} else if !ok {
		return "", scimbridge.Errorf(scimbridge.ENOTFOUND,
			"SCIM is not enabled for %q: use 'scimbridge scim enable --org %s'", org.Slug, org.Slug)
	}
	token, hash := scimbridge.NewSCIMToken(org.Slug)
	now := a.clock()
	sc.TokenHash, sc.RotatedAt = hash, &now
	ev := a.event(org, "POST", "/scim/token", 200, nil)
	if err := a.db.PutSCIMConfig(ctx, sc, ev); err != nil {
		return "", fmt.Errorf("regenerate SCIM token: %w", err)
	}
	return token, nil
}

// disableSCIM deletes the SCIM configuration; profiles keep source scim.
func (a admin) disableSCIM(ctx context.Context, org scimbridge.Organization) error {
	ev := a.event(org, "DELETE", "/scim", 204, nil)
	err := a.db.DeleteSCIMConfig(ctx, org.ID, ev)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "SCIM is not enabled for %q", org.Slug)
	} else if err != nil {
		return fmt.Errorf("disable SCIM: %w", err)
	}
	return nil
}

// createAdminToken creates an admin token and returns it, shown once.
// expires is 0 for a token that does not expire.
func (a admin) createAdminToken(ctx context.Context, org scimbridge.Organization, role scimbridge.AdminRole, expires time.Duration) (string, scimbridge.AdminToken, error) {
	token, hash := scimbridge.NewAdminToken()
	now := a.clock()
	t := scimbridge.AdminToken{
		ID:        uuid.NewString(),
		OrgID:     org.ID,
		Role:      role,
		TokenHash: hash,
		Prefix:    token[:len("scba_")+6],
		CreatedAt: now,
	}
	if expires > 0 {
		at := now.Add(expires)
		t.ExpiresAt = &at
	}
	ev := a.event(org, "POST", "/admin-tokens", 201, map[string]any{"role": role, "expires_at": t.ExpiresAt})
	if b, err := json.Marshal(t); err == nil {
		ev.ResponseBody = string(b) // the token itself is never in it
	}
	if err := a.db.CreateAdminToken(ctx, t, ev); err != nil {
		return "", t, fmt.Errorf("create admin token: %w", err)
	}
	return token, t, nil
}

// revokeAdminToken revokes the organization's admin token id.
func (a admin) revokeAdminToken(ctx context.Context, org scimbridge.Organization, id string) error {
	ev := a.event(org, "DELETE", "/admin-tokens/"+id, 204, nil)
	err := a.db.RevokeAdminToken(ctx, org.ID, id, a.clock(), ev)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no admin token %q in organization %q", id, org.Slug)
	} else if err != nil {
		return fmt.Errorf("revoke admin token: %w", err)
	}
	return nil
}

// releaseProfiles turns the profiles of source into manual ones.
func (a admin) releaseProfiles(ctx context.Context, org scimbridge.Organization, source scimbridge.Source) (int, error) {
	ev := a.event(org, "POST", "/profiles/release", 200, map[string]any{"source": source})
	n, err := a.db.ReleaseProfiles(ctx, org.ID, source, ev)
	if err != nil {
		return 0, fmt.Errorf("release profiles: %w", err)
	}
	return n, nil
}

package admin

// SCIM configuration, admin tokens and releasing profiles.

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
)

// Errors of the SCIM operations, for callers that say what to do instead.
var (
	ErrSCIMEnabled  = scimbridge.Errorf(scimbridge.ECONFLICT, "SCIM is already enabled: regenerate the token for a new one")
	ErrSCIMDisabled = scimbridge.Errorf(scimbridge.ENOTFOUND, "SCIM is not enabled: enable it first")
)

// SCIMConfig returns the organization's SCIM configuration and whether
// SCIM is enabled.
func (a *Admin) SCIMConfig(ctx context.Context, org scimbridge.Organization) (scimbridge.SCIMConfig, bool, error) {
	sc, err := a.Store.SCIMConfig(ctx, org.ID)
	switch {
	case scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND:
		return sc, false, nil
	case err != nil:
		return sc, false, fmt.Errorf("read SCIM configuration: %w", err)
	}
	return sc, true, nil
}

// EnableSCIM creates the organization's SCIM configuration and returns its
// token, shown once. ECONFLICT when SCIM is already enabled.
func (a *Admin) EnableSCIM(ctx context.Context, by Caller, slug string) (string, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", err
	}
	if _, ok, err := a.SCIMConfig(ctx, org); err != nil {
		return "", err
	} else if ok {
		return "", ErrSCIMEnabled
	}
	token, hash := scimbridge.NewSCIMToken(org.Slug)
	sc := scimbridge.SCIMConfig{OrgID: org.ID, TokenHash: hash, CreatedAt: a.Clock()}
	if err := a.Store.PutSCIMConfig(ctx, sc, a.event(by, org, "POST", "/scim", 201, nil)); err != nil {
		return "", fmt.Errorf("enable SCIM: %w", err)
	}
	return token, nil
}

// RegenerateSCIMToken replaces the SCIM token and returns the new one; the
// old one stops working at once. ENOTFOUND when SCIM is not enabled.
func (a *Admin) RegenerateSCIMToken(ctx context.Context, by Caller, slug string) (string, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", err
	}
	sc, ok, err := a.SCIMConfig(ctx, org)
	if err != nil {
		return "", err
	} else if !ok {
		return "", ErrSCIMDisabled
	}
	token, hash := scimbridge.NewSCIMToken(org.Slug)
	now := a.Clock()
	sc.TokenHash, sc.RotatedAt = hash, &now
	if err := a.Store.PutSCIMConfig(ctx, sc, a.event(by, org, "POST", "/scim/token", 200, nil)); err != nil {
		return "", fmt.Errorf("regenerate SCIM token: %w", err)
	}
	return token, nil
}

// DisableSCIM deletes the SCIM configuration; profiles keep source scim.
func (a *Admin) DisableSCIM(ctx context.Context, by Caller, slug string) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	err = a.Store.DeleteSCIMConfig(ctx, org.ID, a.event(by, org, "DELETE", "/scim", 204, nil))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return ErrSCIMDisabled
	} else if err != nil {
		return fmt.Errorf("disable SCIM: %w", err)
	}
	return nil
}

// CreateAdminToken creates an admin token with role and returns it, shown
// once, with its stored fields. expires is 0 for a token that does not
// expire. CreateToken also names it.
func (a *Admin) CreateAdminToken(ctx context.Context, by Caller, slug string, role scimbridge.AdminRole, expires time.Duration) (string, scimbridge.AdminToken, error) {
	return a.CreateToken(ctx, by, slug, TokenSpec{Role: role, Expires: expires})
}

// RevokeAdminToken revokes the organization's admin token id.
func (a *Admin) RevokeAdminToken(ctx context.Context, by Caller, slug, id string) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	ev := a.event(by, org, "DELETE", "/admin-tokens/"+id, 204, nil)
	err = a.Store.RevokeAdminToken(ctx, org.ID, id, a.Clock(), ev)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no admin token %q in organization %q", id, org.Slug)
	} else if err != nil {
		return fmt.Errorf("revoke admin token: %w", err)
	}
	return nil
}

// ReleaseProfiles turns the profiles of source (scim or google) into
// manual ones, so another source can adopt them, and returns how many
// changed.
func (a *Admin) ReleaseProfiles(ctx context.Context, by Caller, slug string, source scimbridge.Source) (int, error) {
	if source != scimbridge.SourceSCIM && source != scimbridge.SourceGoogle {
		return 0, scimbridge.Errorf(scimbridge.EINVALID, "invalid source %q: use scim or google", source)
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return 0, err
	}
	ev := a.event(by, org, "POST", "/profiles/release", 200, map[string]any{"source": source})
	n, err := a.Store.ReleaseProfiles(ctx, org.ID, source, ev)
	if err != nil {
		return 0, fmt.Errorf("release profiles: %w", err)
	}
	return n, nil
}

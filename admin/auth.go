package admin

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge"
)

// Principal is who an admin API request or console session acts as.
type Principal struct {
	// Operator tokens act on every organization; OrgID is then empty.
	Operator bool
	OrgID    string
	Role     scimbridge.AdminRole
	// TokenID is the admin token behind the request or session.
	TokenID string
	// Name is how events name the actor.
	Name string
	// LinkID is the setup link behind a console session signed in by one:
	// such a session cannot create tokens or links.
	LinkID string
}

// Authenticate returns the principal of a bearer token; EUNAUTHORIZED when
// the token is unknown, revoked or expired.
func (a *Admin) Authenticate(ctx context.Context, token string) (Principal, error) {
	t, err := a.Store.AdminTokenByHash(ctx, scimbridge.HashToken(token))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return Principal{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "unknown admin token")
	} else if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	now := a.Clock()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return Principal{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "admin token revoked or expired")
	}
	return Principal{OrgID: t.OrgID, Role: t.Role, TokenID: t.ID, Name: "token:" + t.ID}, nil
}

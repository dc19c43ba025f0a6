package admin

import (
	"context"
	"fmt"
	"strings"

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
	// Name is how events name the actor: "token:<id>" with the token's
	// name in parentheses when it has one, or "operator:<id>".
	Name string
	// LinkID is the setup link behind a console session signed in by one:
	// such a session cannot create tokens or links.
	LinkID string
}

// Permission is a kind of thing a principal may do.
type Permission int

const (
	// ReadProvisioning reads the SCIM configuration, the bridge, events,
	// reports and admin tokens of the organization.
	ReadProvisioning Permission = iota
	// ChangeProvisioning changes them: owners and operators.
	ChangeProvisioning
	// ReadDirectory reads users, groups and the changes feed.
	ReadDirectory
	// ManageWebhooks adds and removes webhook endpoints: app tokens and
	// operators only, since webhooks send personal data out.
	ManageWebhooks
	// ManageOrganizations lists, creates and deletes organizations:
	// operators only.
	ManageOrganizations
)

// May reports whether the principal holds perm (in its organization; see
// Sees).
func (p Principal) May(perm Permission) bool {
	if p.Operator {
		return true
	}
	switch p.Role {
	case scimbridge.AdminOwner:
		return perm == ReadProvisioning || perm == ChangeProvisioning || perm == ReadDirectory
	case scimbridge.AdminViewer:
		return perm == ReadProvisioning || perm == ReadDirectory
	case scimbridge.AdminApp:
		return perm == ReadDirectory || perm == ManageWebhooks
	}
	return false
}

// Sees reports whether the principal may see the organization at all:
// operators see every one, admin tokens only their own.
func (p Principal) Sees(org scimbridge.Organization) bool {
	return p.Operator || (p.OrgID != "" && p.OrgID == org.ID)
}

// Caller is the principal as the caller of an operation from clientIP.
func (p Principal) Caller(clientIP, userAgent string) Caller {
	return Caller{Actor: p.Name, ClientIP: clientIP, UserAgent: userAgent}
}

// TokenActor is how events name the actor of admin or operator token t.
func TokenActor(t scimbridge.AdminToken) string {
	actor := "token:" + t.ID
	if t.Operator {
		actor = "operator:" + t.ID
	}
	if t.Name != "" {
		actor += " (" + t.Name + ")"
	}
	return actor
}

// Authenticate returns the principal of a bearer token, an admin token
// (scba_) or an operator token (scbo_); EUNAUTHORIZED when the token is
// unknown, revoked or expired. It records the token's use, at most once a
// minute.
func (a *Admin) Authenticate(ctx context.Context, token string) (Principal, error) {
	hash := scimbridge.HashToken(token)
	var t scimbridge.AdminToken
	var err error
	if strings.HasPrefix(token, scimbridge.OperatorTokenPrefix) {
		t, err = a.Store.OperatorTokenByHash(ctx, hash)
	} else {
		t, err = a.Store.AdminTokenByHash(ctx, hash)
	}
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return Principal{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "unknown admin token")
	} else if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	now := a.Clock()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return Principal{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "admin token revoked or expired")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := a.Store.TouchAdminToken(ctx, t.ID, now); err != nil && a.Logger != nil {
			a.Logger.Warn("record admin token use", "token_id", t.ID, "err", err)
		}
	}
	return Principal{Operator: t.Operator, OrgID: t.OrgID, Role: t.Role, TokenID: t.ID, Name: TokenActor(t)}, nil
}

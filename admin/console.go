package admin

// Web console sign-in: setup links and sessions.

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// Limits of setup links and console sessions (PRODUCT.md, "Web console").
const (
	SetupLinkDefaultTTL = 24 * time.Hour
	SetupLinkMaxTTL     = 7 * 24 * time.Hour
	SessionIdle         = 12 * time.Hour
	SessionMaxAge       = 7 * 24 * time.Hour
	// sessionTouchEvery is how stale last_seen_at must be before a request
	// writes it again.
	sessionTouchEvery = time.Minute
)

// Token prefixes of setup links and console sessions.
const (
	setupLinkPrefix = "scbl_"
	sessionPrefix   = "scbs_"
)

// ErrSessionEnded is the error of a console session that is unknown,
// ended, expired, or whose token or link was revoked.
var ErrSessionEnded = scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "the session has ended: sign in again")

// ErrSetupLinkUsed is the error of a setup link that cannot sign in.
var ErrSetupLinkUsed = scimbridge.Errorf(scimbridge.EUNAUTHORIZED,
	"this setup link was already used, has expired or was revoked: ask for a new one")

// newSecret is a random token with prefix: 40 base62 characters.
func newSecret(prefix string) (token string, hash []byte) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 40)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	token = prefix + string(b)
	return token, scimbridge.HashToken(token)
}

// roleRank orders the console roles: a creator hands out at most its own.
func roleRank(r scimbridge.AdminRole) int {
	switch r {
	case scimbridge.AdminOwner:
		return 2
	case scimbridge.AdminViewer:
		return 1
	}
	return 0
}

// CreateSetupLink creates a one-time console sign-in link for the
// organization with role, which expires after ttl (0: 24 hours; at most 7
// days), and returns its token, shown once. creator is who asks: an
// operator or the command line (Operator set) may give any role; an owner
// at most owner; viewers, app tokens and sessions signed in by a setup
// link may not create links.
func (a *Admin) CreateSetupLink(ctx context.Context, by Caller, creator Principal, slug string,
	role scimbridge.AdminRole, ttl time.Duration) (string, scimbridge.SetupLink, error) {
	if role != scimbridge.AdminOwner && role != scimbridge.AdminViewer {
		return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid role %q: use owner or viewer", role)
	}
	switch {
	case ttl == 0:
		ttl = SetupLinkDefaultTTL
	case ttl < 0 || ttl > SetupLinkMaxTTL:
		return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.EINVALID,
			"invalid expiry %s: a setup link expires within 7 days (168h)", ttl)
	}
	if !creator.Operator {
		switch {
		case creator.LinkID != "":
			return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED,
				"a session signed in by a setup link cannot create setup links")
		case creator.Role != scimbridge.AdminOwner:
			return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "only owners create setup links")
		case roleRank(role) > roleRank(creator.Role):
			return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.EINVALID, "a setup link's role is at most yours (%s)", creator.Role)
		}
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", scimbridge.SetupLink{}, err
	}
	if !creator.Operator && creator.OrgID != org.ID {
		return "", scimbridge.SetupLink{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "no organization %q", slug)
	}
	token, hash := newSecret(setupLinkPrefix)
	now := a.Clock()
	l := scimbridge.SetupLink{ID: uuid.NewString(), OrgID: org.ID, Role: role, TokenHash: hash,
		CreatedBy: by.Actor, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	ev := a.event(by, org, "POST", "/setup-links", 201, map[string]any{"role": role, "expires_at": l.ExpiresAt})
	ev.ResponseBody = jsonText(l) // the token itself is never in it
	if err := a.Store.CreateSetupLink(ctx, l, ev); err != nil {
		return "", l, fmt.Errorf("create setup link: %w", err)
	}
	return token, l, nil
}

// SetupLinks lists the organization's setup links, newest first.
func (a *Admin) SetupLinks(ctx context.Context, slug string) ([]scimbridge.SetupLink, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return nil, err
	}
	return a.Store.SetupLinks(ctx, org.ID)
}

// RevokeSetupLink revokes the organization's setup link id and ends the
// sessions it signed in.
func (a *Admin) RevokeSetupLink(ctx context.Context, by Caller, slug, id string) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	ev := a.event(by, org, "DELETE", "/setup-links/"+id, 204, nil)
	err = a.Store.RevokeSetupLink(ctx, org.ID, id, a.Clock(), ev)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no setup link %q in organization %q", id, org.Slug)
	} else if err != nil {
		return fmt.Errorf("revoke setup link: %w", err)
	}
	return nil
}

// SetupLink returns the setup link of token when it can still sign in:
// what the page a link opens shows before its button uses it up.
func (a *Admin) SetupLink(ctx context.Context, token string) (scimbridge.SetupLink, scimbridge.Organization, error) {
	l, err := a.Store.SetupLinkByHash(ctx, scimbridge.HashToken(token))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return l, scimbridge.Organization{}, ErrSetupLinkUsed
	} else if err != nil {
		return l, scimbridge.Organization{}, fmt.Errorf("read setup link: %w", err)
	}
	if l.UsedAt != nil || l.RevokedAt != nil || !a.Clock().Before(l.ExpiresAt) {
		return l, scimbridge.Organization{}, ErrSetupLinkUsed
	}
	org, err := a.Store.Organization(ctx, l.OrgID)
	if err != nil {
		return l, org, fmt.Errorf("read organization: %w", err)
	}
	return l, org, nil
}

// Session is a signed-in console session: the token its cookie holds
// (only on sign-in), the stored session and its principal.
type Session struct {
	Token     string
	Session   scimbridge.ConsoleSession
	Principal Principal
	Org       scimbridge.Organization
}

// UseSetupLink uses up the setup link of token and returns the session it
// signs in; the use is an event.
func (a *Admin) UseSetupLink(ctx context.Context, by Caller, token string) (Session, error) {
	l, org, err := a.SetupLink(ctx, token)
	if err != nil {
		return Session{}, err
	}
	now := a.Clock()
	st, hash := newSecret(sessionPrefix)
	s := scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: l.OrgID, Role: l.Role, TokenHash: hash,
		SetupLinkID: l.ID, CreatedAt: now, LastSeenAt: now}
	by.Actor = "setup-link:" + l.ID
	ev := a.event(by, org, "POST", "/setup-links/"+l.ID+"/use", 200, nil)
	err = a.Store.UseSetupLink(ctx, l.ID, now, s, ev)
	if scimbridge.ErrorCode(err) == scimbridge.ECONFLICT {
		return Session{}, ErrSetupLinkUsed
	} else if err != nil {
		return Session{}, fmt.Errorf("use setup link: %w", err)
	}
	return Session{Token: st, Session: s, Principal: sessionPrincipal(s), Org: org}, nil
}

// SignIn signs in to the console with an admin token: owner and viewer
// tokens only (app and operator tokens are for the API).
func (a *Admin) SignIn(ctx context.Context, token string) (Session, error) {
	p, err := a.Authenticate(ctx, token)
	if err != nil {
		return Session{}, err
	}
	if p.Operator || (p.Role != scimbridge.AdminOwner && p.Role != scimbridge.AdminViewer) {
		return Session{}, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "only owner and viewer tokens sign in to the console")
	}
	org, err := a.Store.Organization(ctx, p.OrgID)
	if err != nil {
		return Session{}, fmt.Errorf("read organization: %w", err)
	}
	now := a.Clock()
	st, hash := newSecret(sessionPrefix)
	s := scimbridge.ConsoleSession{ID: uuid.NewString(), OrgID: p.OrgID, Role: p.Role, TokenHash: hash,
		AdminTokenID: p.TokenID, CreatedAt: now, LastSeenAt: now}
	if err := a.Store.CreateConsoleSession(ctx, s); err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	return Session{Token: st, Session: s, Principal: sessionPrincipal(s), Org: org}, nil
}

func sessionPrincipal(s scimbridge.ConsoleSession) Principal {
	p := Principal{OrgID: s.OrgID, Role: s.Role, TokenID: s.AdminTokenID, LinkID: s.SetupLinkID}
	if s.AdminTokenID != "" {
		p.Name = "token:" + s.AdminTokenID
	} else {
		p.Name = "setup-link:" + s.SetupLinkID
	}
	return p
}

// ConsoleSession returns the live session of a cookie's token and marks it
// seen; ErrSessionEnded when it is unknown, ended, idle for 12 hours, 7
// days old, or its token or link was revoked or expired.
func (a *Admin) ConsoleSession(ctx context.Context, token string) (Session, error) {
	s, err := a.Store.ConsoleSessionByHash(ctx, scimbridge.HashToken(token))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return Session{}, ErrSessionEnded
	} else if err != nil {
		return Session{}, fmt.Errorf("read console session: %w", err)
	}
	now := a.Clock()
	if s.EndedAt != nil || s.Revoked || now.Sub(s.LastSeenAt) >= SessionIdle || now.Sub(s.CreatedAt) >= SessionMaxAge ||
		(s.BackingExpiresAt != nil && !now.Before(*s.BackingExpiresAt)) {
		return Session{}, ErrSessionEnded
	}
	if now.Sub(s.LastSeenAt) >= sessionTouchEvery {
		if err := a.Store.TouchConsoleSession(ctx, s.ID, now); err != nil {
			return Session{}, err
		}
		s.LastSeenAt = now
	}
	org, err := a.Store.Organization(ctx, s.OrgID)
	if err != nil {
		return Session{}, fmt.Errorf("read organization: %w", err)
	}
	return Session{Session: s, Principal: sessionPrincipal(s), Org: org}, nil
}

// SignOut ends the session of a cookie's token; an unknown one is no
// error.
func (a *Admin) SignOut(ctx context.Context, token string) error {
	s, err := a.Store.ConsoleSessionByHash(ctx, scimbridge.HashToken(token))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return nil
	} else if err != nil {
		return fmt.Errorf("read console session: %w", err)
	}
	return a.Store.EndConsoleSession(ctx, s.ID, a.Clock())
}

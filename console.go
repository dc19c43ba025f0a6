package scimbridge

import (
	"context"
	"time"
)

// SetupLink is a one-time URL that signs its holder in to the web console
// of one organization with a role: what an application vendor hands a
// customer's IT admin. Only the SHA-256 of its token is stored.
type SetupLink struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Role      AdminRole `json:"role"`
	TokenHash []byte    `json:"-"`
	// CreatedBy is the actor that created the link, as events name it.
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// ConsoleSession is a signed-in web console session, kept server-side;
// the browser holds only its token, the store its SHA-256. It stands on an
// admin token or on a setup link, and ends with them.
type ConsoleSession struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Role      AdminRole `json:"role"`
	TokenHash []byte    `json:"-"`
	// AdminTokenID or SetupLinkID names what the session was signed in
	// with; exactly one is set.
	AdminTokenID string     `json:"admin_token_id,omitempty"`
	SetupLinkID  string     `json:"setup_link_id,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	// Revoked is set on read when the admin token or setup link behind the
	// session was revoked; BackingExpiresAt is the admin token's expiry.
	Revoked          bool       `json:"-"`
	BackingExpiresAt *time.Time `json:"-"`
}

// HourCount is how many events of one status class (2, 3, 4, 5; 0 for
// events without a status) an hour saw.
type HourCount struct {
	Hour        time.Time
	StatusClass int
	Count       int
}

// ConsoleStore keeps setup links and console sessions.
type ConsoleStore interface {
	// CreateSetupLink inserts a setup link (its hash) with its event.
	CreateSetupLink(ctx context.Context, l SetupLink, ev Event) error
	// SetupLinks lists the organization's setup links, newest first.
	SetupLinks(ctx context.Context, orgID string) ([]SetupLink, error)
	// SetupLinkByHash returns the setup link with the token hash, whatever
	// its organization; ENOTFOUND when there is none.
	SetupLinkByHash(ctx context.Context, hash []byte) (SetupLink, error)
	// UseSetupLink marks the link used and creates the session it signs in,
	// with ev, in one transaction; ECONFLICT when the link was already used
	// or revoked.
	UseSetupLink(ctx context.Context, linkID string, at time.Time, s ConsoleSession, ev Event) error
	// RevokeSetupLink revokes the organization's setup link and ends its
	// sessions, with ev; ENOTFOUND when there is no such link. Revoking a
	// revoked link changes nothing and records nothing.
	RevokeSetupLink(ctx context.Context, orgID, id string, at time.Time, ev Event) error

	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// ConsoleSessionByHash returns the session with the token hash, with
	// Revoked and BackingExpiresAt filled in; ENOTFOUND when there is none.
	ConsoleSessionByHash(ctx context.Context, hash []byte) (ConsoleSession, error)
	// TouchConsoleSession sets the session's last_seen_at.
	TouchConsoleSession(ctx context.Context, id string, at time.Time) error
	// EndConsoleSession sets the session's ended_at unless it has ended.
	EndConsoleSession(ctx context.Context, id string, at time.Time) error

	// ReportSummary returns one report of the organization without its
	// items; ENOTFOUND when there is none.
	ReportSummary(ctx context.Context, orgID, id string) (Report, error)

	// EventCountsByHour counts the organization's events of each of hours
	// hours from since (on the hour, UTC) by status class, aggregated
	// events counted as many; hours and classes without events are left
	// out.
	EventCountsByHour(ctx context.Context, orgID string, since time.Time, hours int) ([]HourCount, error)
	// EventCountsBetween counts the organization's events from from until
	// to (both within from's hour) by status class as EventCountsByHour
	// does, each count's Hour being from's hour.
	EventCountsBetween(ctx context.Context, orgID string, from, to time.Time) ([]HourCount, error)
}

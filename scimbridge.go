// Package scimbridge holds the domain of the scimbridge provisioning daemon:
// organizations, profiles, events, reconcile reports and the errors shared by
// every package. It imports only the standard library; the store, the SCIM
// server, the Google bridge and the reconcile engine all speak these types.
package scimbridge

import (
	"time"
)

// Organization is one tenant. Every store method takes its id; no
// organization ever sees another's data.
type Organization struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// AdoptExisting lets a SCIM POST or a bridge create take over a manual or
	// SAML profile with the same email or userName. On by default.
	AdoptExisting bool `json:"adopt_existing"`
}

// CheckSlug returns nil for a valid organization slug (ValidSlug), else
// EINVALID saying what a slug may hold: the one message every caller shows.
func CheckSlug(s string) error {
	if !ValidSlug(s) {
		return Errorf(EINVALID, "invalid organization slug %q: use lower-case letters, digits and hyphens (at most 63)", s)
	}
	return nil
}

// ValidSlug reports whether s is a valid organization slug: lower-case
// letters, digits and hyphens, starting with a letter or digit, at most 63
// characters.
func ValidSlug(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SCIMConfig is an organization's SCIM server configuration. Only the
// SHA-256 of the token is ever stored.
type SCIMConfig struct {
	OrgID      string     `json:"org_id"`
	TokenHash  []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	RotatedAt  *time.Time `json:"rotated_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// AdminRole is what an admin token may do.
type AdminRole string

const (
	AdminOwner  AdminRole = "owner"
	AdminViewer AdminRole = "viewer"
	// AdminApp is the application that uses the directory: it reads the
	// directory and the feed and manages webhook endpoints, API only.
	AdminApp AdminRole = "app"
)

// AdminToken authenticates the admin API. Only the SHA-256 is stored.
type AdminToken struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id,omitempty"` // empty for an operator token
	// Operator tokens (scbo_) act on every organization; Role is then empty.
	Operator bool      `json:"operator,omitempty"`
	Role     AdminRole `json:"role,omitempty"`
	// Name says what the token is for; events name the actor with it.
	Name       string     `json:"name,omitempty"`
	TokenHash  []byte     `json:"-"`
	Prefix     string     `json:"prefix"` // first characters, for listing
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Clock returns the current time. Pass one in; never call time.Now deep in
// the code, so tests control time.
type Clock func() time.Time

package reconcile

import (
	"fmt"

	"github.com/scimbridge/scimbridge"
)

// Claim is what a syncing source may do with a profile one of its users
// matched: the ownership rules of PRODUCT.md, in one place. Decide (a SCIM
// POST), the directory planner and Redecide (the bridge's apply-time
// re-decision) all ask ClaimOf; Apply, Adopt and ReleaseKeys refuse what
// it refuses.
type Claim int

const (
	// ClaimManaged: the source manages the live profile and may change it.
	ClaimManaged Claim = iota
	// ClaimAdopt: a live manual or SAML profile the source may adopt (the
	// organization's adopt_existing is on).
	ClaimAdopt
	// ClaimAdoptOff: a live manual or SAML profile; adopt_existing is off.
	ClaimAdoptOff
	// ClaimForeign: another syncing source manages the live profile.
	ClaimForeign
	// ClaimDetached: the profile is detached; only a SCIM revival or a
	// release of its keys touches it.
	ClaimDetached
)

// ClaimOf says what src, a syncing source (scim or google), may do with p.
func ClaimOf(org scimbridge.Organization, src scimbridge.Source, p scimbridge.Profile) Claim {
	return claim(org.AdoptExisting, src, p.Source, p.Detached())
}

// claim is ClaimOf on the few facts it needs: whether the organization
// adopts existing profiles, and the holder's source and detachment.
func claim(adoptExisting bool, src, holder scimbridge.Source, detached bool) Claim {
	switch {
	case detached:
		return ClaimDetached
	case holder == src && syncs(src):
		return ClaimManaged
	case adoptable(holder, detached) && adoptExisting:
		return ClaimAdopt
	case adoptable(holder, detached):
		return ClaimAdoptOff
	}
	return ClaimForeign
}

// syncs reports whether src is a source that syncs users: only scim and
// google profiles are changed by a sync.
func syncs(src scimbridge.Source) bool {
	return src == scimbridge.SourceSCIM || src == scimbridge.SourceGoogle
}

// adoptable is the rule that a live manual or SAML profile can be adopted
// by a syncing source (when the organization allows it).
func adoptable(holder scimbridge.Source, detached bool) bool {
	return !detached && (holder == scimbridge.SourceManual || holder == scimbridge.SourceSAML)
}

// bridgeSkip is the reason a bridge user is skipped when the profile it
// needs is a holder's that the bridge may not change (c is neither
// ClaimManaged nor ClaimAdopt for it, or it is not the matched profile).
func bridgeSkip(c Claim, holder scimbridge.Source) string {
	if c == ClaimForeign {
		return fmt.Sprintf("managed by %s", holder)
	}
	return fmt.Sprintf("uniqueness: held by a %s profile", holder)
}

// claim says what the bridge may do with a stored profile (all of them
// are live: see storedRefs).
func (p *planner) claim(s *StoredProfile) Claim {
	return claim(p.in.Org.AdoptExisting, scimbridge.SourceGoogle, s.Source, false)
}

// manages reports whether the bridge may change a stored profile.
func (p *planner) manages(s *StoredProfile) bool { return bridgeManages(s) }

// bridgeManages reports whether the bridge may change a live stored
// profile.
func bridgeManages(s *StoredProfile) bool {
	return claim(false, scimbridge.SourceGoogle, s.Source, false) == ClaimManaged
}

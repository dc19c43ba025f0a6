package reconcile

import "github.com/scimbridge/scimbridge"

// Policy is what a bridge mode lets a run do: a named value applied to the
// plan, as external-dns applies its plan policies. The planner proposes
// what a sync would do; each proposed change that takes access away (a
// deactivation, or the release of an address that needs one) passes the
// policy, which lets it stand or turns it into a skip with its reason.
type Policy struct {
	// Name is the mode's name, as skip reasons quote it.
	Name string
	// Deactivates says the plan may deactivate managed profiles.
	Deactivates bool
	// Applies says a run applies its plan; otherwise it only reports it.
	Applies bool
}

// PolicyFor returns the policy of a bridge mode: sync creates, updates and
// deactivates; upsert-only never deactivates (a suspended user's other
// changes still apply); dry-run plans as sync does and applies nothing.
// Any other mode is sync.
func PolicyFor(mode scimbridge.BridgeMode) Policy {
	switch mode {
	case scimbridge.ModeUpsertOnly:
		return Policy{Name: string(mode), Applies: true}
	case scimbridge.ModeDryRun:
		return Policy{Name: string(mode), Deactivates: true}
	}
	return Policy{Name: string(scimbridge.ModeSync), Deactivates: true, Applies: true}
}

// deactivation applies the policy to a proposed deactivation for why (a
// plan reason): "" when it stands, else the reason of the skip that
// replaces it.
func (pol Policy) deactivation(why string) string {
	if pol.Deactivates {
		return ""
	}
	return pol.Name + ": not deactivated (" + why + ")"
}

// addressRelease applies the policy to the release of address k by an
// active profile (which deactivates it): "" when it stands, else the skip
// reason of the change that would take k.
func (pol Policy) addressRelease(k string) string {
	if pol.Deactivates {
		return ""
	}
	return "address reused: " + k + " is held by an active profile (" + pol.Name + " does not deactivate)"
}

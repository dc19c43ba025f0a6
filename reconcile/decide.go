package reconcile

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// Action is what Decide resolved for one desired user.
type Action string

const (
	// ActionCreate: insert a new profile (NewProfile).
	ActionCreate Action = "create"
	// ActionAdopt: take over Target, a manual or SAML profile (Adopt).
	ActionAdopt Action = "adopt"
	// ActionRevive: bring Target, a detached SCIM profile, back (Apply with
	// ChangeRevive).
	ActionRevive Action = "revive"
	// ActionConflict: refuse with the returned ECONFLICT error.
	ActionConflict Action = "conflict"
)

// DecideInput is the desired user of a SCIM POST and the profiles that
// could stand in its way.
type DecideInput struct {
	Org     scimbridge.Organization
	Desired Desired
	// Candidates are what the store's LookupProfiles returned for the
	// desired userName, email and externalId: detached profiles included,
	// any source, in any order.
	Candidates []scimbridge.Profile
}

// Decision is what to do with one desired user.
type Decision struct {
	Action Action
	// Target is the profile to adopt or revive; nil otherwise.
	Target *scimbridge.Profile
	// Release lists detached profiles that hold the desired userName or
	// email and must release them (ReleaseKeys) before the create, adoption
	// or revival is written, in the same transaction.
	Release []scimbridge.Profile
	// Reason explains the action: "adopted", "revived", or why the user
	// conflicts.
	Reason string
}

// Decide applies the ownership and matching rules to the desired user of a
// SCIM POST (the bridge matches its users in PlanDirectory; both ask
// ClaimOf what a match allows):
//
//   - a non-detached profile of a syncing source (scim, google) holding the
//     userName or email — or, between SCIM profiles, the externalId — is a
//     conflict;
//   - a non-detached manual or SAML profile holding the userName or email
//     is adopted when Org.AdoptExisting is on, else a conflict; two
//     different such profiles are a conflict;
//   - otherwise a detached SCIM profile is revived when its externalId
//     equals the desired one, or when either side has no externalId and
//     the userName matches case-insensitively;
//   - otherwise a new profile is created.
//
// Detached profiles (other than the target) that hold the desired userName
// or email are listed in Release. A conflict is returned as an ECONFLICT
// error with scimType uniqueness and Action ActionConflict. A desired
// profile that cannot be stored (no userName, no email) is EINVALID.
func Decide(in DecideInput) (Decision, error) {
	email, err := in.Desired.Check()
	if err != nil {
		return Decision{}, fmt.Errorf("decide profile: %w", err)
	}
	d := &in.Desired.p
	keys := desiredKeys{
		userName:   textkey.Key(d.UserName),
		email:      textkey.Key(email),
		externalID: d.ExternalID,
	}

	var managed, local []matched
	var detached []scimbridge.Profile
	for _, c := range uniqueCandidates(in.Candidates) {
		cl := ClaimOf(in.Org, scimbridge.SourceSCIM, c)
		if cl == ClaimDetached {
			detached = append(detached, c)
			continue
		}
		field := keys.match(c)
		if field == "" {
			continue
		}
		switch cl {
		case ClaimAdopt, ClaimAdoptOff:
			local = append(local, matched{c, field, cl})
		default:
			managed = append(managed, matched{c, field, cl})
		}
	}

	if len(managed) > 0 {
		m := managed[0]
		if m.claim == ClaimManaged {
			return refuse(fmt.Sprintf("%s is already taken", m.field))
		}
		return refuse(fmt.Sprintf("%s is already taken by a profile managed by %s", m.field, m.profile.Source))
	}
	if len(local) > 0 {
		m := local[0]
		if m.claim == ClaimAdoptOff {
			return refuse(fmt.Sprintf("%s is already taken by a %s profile and adopt_existing is off", m.field, m.profile.Source))
		}
		if len(local) > 1 {
			return refuse(fmt.Sprintf("%s and %s belong to two different existing profiles", m.field, local[1].field))
		}
		target := m.profile
		return Decision{Action: ActionAdopt, Target: &target, Release: keys.holders(detached, target.ID), Reason: "adopted"}, nil
	}
	if target, ok := reviveTarget(detached, d, keys); ok {
		return Decision{Action: ActionRevive, Target: &target, Release: keys.holders(detached, target.ID), Reason: "revived"}, nil
	}
	return Decision{Action: ActionCreate, Release: keys.holders(detached, "")}, nil
}

// matched is a non-detached candidate, the first key it holds and what
// SCIM may do with it.
type matched struct {
	profile scimbridge.Profile
	field   string
	claim   Claim
}

// desiredKeys are the comparison keys of the desired user.
type desiredKeys struct {
	userName   string // textkey
	email      string // textkey of the derived profile email
	externalID string // case-exact
}

// match returns the SCIM name of the first key c holds (userName, email,
// externalId), or "" when it holds none. externalId counts only between
// SCIM profiles: it is unique only among them.
func (k desiredKeys) match(c scimbridge.Profile) string {
	switch {
	case k.userName != "" && textkey.Key(c.UserName) == k.userName:
		return "userName"
	case k.email != "" && textkey.Key(c.Email) == k.email:
		return "email"
	case k.externalID != "" && c.Source == scimbridge.SourceSCIM && c.ExternalID == k.externalID:
		return "externalId"
	}
	return ""
}

// holders returns the detached profiles, other than exceptID, that hold the
// desired userName or email.
func (k desiredKeys) holders(detached []scimbridge.Profile, exceptID string) []scimbridge.Profile {
	var out []scimbridge.Profile
	for _, c := range detached {
		if c.ID == exceptID {
			continue
		}
		if (k.userName != "" && textkey.Key(c.UserName) == k.userName) ||
			(k.email != "" && textkey.Key(c.Email) == k.email) {
			out = append(out, c)
		}
	}
	return out
}

// reviveTarget picks the detached SCIM profile a SCIM POST revives: one
// with the same externalId first, else one whose userName matches while
// either side has no externalId. Among several, the most recently detached
// wins.
func reviveTarget(detached []scimbridge.Profile, d *scimbridge.DesiredProfile, k desiredKeys) (scimbridge.Profile, bool) {
	var byExternalID, byUserName []scimbridge.Profile
	for _, c := range detached {
		if c.Source != scimbridge.SourceSCIM {
			continue
		}
		switch {
		case d.ExternalID != "" && c.ExternalID == d.ExternalID:
			byExternalID = append(byExternalID, c)
		case (d.ExternalID == "" || c.ExternalID == "") && textkey.Key(c.UserName) == k.userName:
			byUserName = append(byUserName, c)
		}
	}
	for _, set := range [][]scimbridge.Profile{byExternalID, byUserName} {
		if len(set) > 0 {
			return slices.MaxFunc(set, func(a, b scimbridge.Profile) int {
				return cmp.Or(a.DetachedAt.Compare(*b.DetachedAt), cmp.Compare(b.ID, a.ID))
			}), true
		}
	}
	return scimbridge.Profile{}, false
}

// uniqueCandidates returns the candidates once each, sorted by id, so
// decisions do not depend on the order the store returned them in.
func uniqueCandidates(cs []scimbridge.Profile) []scimbridge.Profile {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b scimbridge.Profile) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b scimbridge.Profile) bool { return a.ID == b.ID })
}

// refuse turns a uniqueness problem into a SCIM conflict.
func refuse(msg string) (Decision, error) {
	return Decision{Action: ActionConflict, Reason: msg}, scimbridge.ScimErrorf(scimbridge.ECONFLICT, "uniqueness", "%s", msg)
}

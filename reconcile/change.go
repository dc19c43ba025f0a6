package reconcile

import (
	"fmt"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge"
)

// NewProfile builds the profile a create inserts: version 1, role member,
// the email derived from d (see ProfileEmail), state from d.Active (an
// inactive profile has its access revoked and DeactivatedAt set), times in
// UTC. For source google DesiredHash is Hash(d).
func NewProfile(orgID string, src scimbridge.Source, nd Desired, id string, now time.Time) (scimbridge.Profile, error) {
	switch src {
	case scimbridge.SourceManual, scimbridge.SourceSAML, scimbridge.SourceSCIM, scimbridge.SourceGoogle:
	default:
		return scimbridge.Profile{}, scimbridge.Errorf(scimbridge.EINVALID, "unknown source %q", src)
	}
	email, err := nd.Check()
	if err != nil {
		return scimbridge.Profile{}, fmt.Errorf("new profile: %w", err)
	}
	d := &nd.p
	now = now.UTC()
	p := scimbridge.Profile{
		ID:         id,
		OrgID:      orgID,
		Attributes: d.Attributes,
		Email:      email,
		Source:     src,
		ExternalID: d.ExternalID,
		GoogleID:   d.GoogleID,
		Version:    1,
		Role:       scimbridge.RoleMember,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	setState(&p, false, d.Active, now)
	if src == scimbridge.SourceGoogle {
		p.DesiredHash = Hash(nd)
	}
	return p, nil
}

// UpdateKind returns the kind of an update of stored to d: reactivate when
// an inactive profile becomes active, deactivate the other way round,
// update otherwise.
func UpdateKind(stored scimbridge.Profile, d Desired) scimbridge.ChangeKind {
	switch {
	case !stored.Active() && d.p.Active:
		return scimbridge.ChangeReactivate
	case stored.Active() && !d.p.Active:
		return scimbridge.ChangeDeactivate
	}
	return scimbridge.ChangeUpdate
}

// Apply builds the change that makes stored (a scim or google profile) what
// d says, for kind:
//
//   - ChangeUpdate: attributes, identifiers and state replaced by d;
//   - ChangeDeactivate: as update, but inactive whatever d.Active;
//   - ChangeReactivate: as update, but active whatever d.Active;
//   - ChangeRevive: a detached SCIM profile comes back as d says (state from
//     d.Active), DetachedAt cleared, role member;
//   - ChangeDetach (SCIM DELETE): d is ignored; inactive, access revoked,
//     DetachedAt set.
//
// A profile becoming inactive has its access revoked and DeactivatedAt set;
// one becoming active again has its access restored and role member, never
// its earlier role. The result has version stored.Version+1, UpdatedAt now,
// ExpectedVersion stored.Version and Fields listing what changed; for an
// update, empty Fields mean there is nothing to write. Manual and SAML profiles are refused (ECONFLICT: only
// Adopt takes them over), as are detached ones except for a revival
// (ENOTFOUND). Create, adopt and release have their own builders.
func Apply(stored scimbridge.Profile, d Desired, kind scimbridge.ChangeKind, now time.Time) (scimbridge.Change, error) {
	if err := checkOwned(stored, kind); err != nil {
		return scimbridge.Change{}, fmt.Errorf("apply %s: %w", kind, err)
	}
	now = now.UTC()
	switch kind {
	case scimbridge.ChangeDetach:
		after := next(stored, now)
		setState(&after, stored.Active(), false, now)
		after.DetachedAt = &now
		return changeOf(kind, stored, after, ""), nil
	case scimbridge.ChangeDeactivate:
		d = d.WithActive(false)
	case scimbridge.ChangeReactivate:
		d = d.WithActive(true)
	}
	c, err := replace(stored, stored.Source, d, kind, now)
	if err != nil {
		return scimbridge.Change{}, fmt.Errorf("apply %s: %w", kind, err)
	}
	if kind == scimbridge.ChangeRevive {
		c.Reason = "revived"
	}
	return c, nil
}

// checkOwned refuses the kinds Apply does not build and the profiles a sync
// may not touch.
func checkOwned(p scimbridge.Profile, kind scimbridge.ChangeKind) error {
	switch kind {
	case scimbridge.ChangeUpdate, scimbridge.ChangeDeactivate, scimbridge.ChangeReactivate:
		if !syncs(p.Source) {
			return scimbridge.Errorf(scimbridge.ECONFLICT, "profile is managed by %s", p.Source)
		}
		if p.Detached() {
			return scimbridge.Errorf(scimbridge.ENOTFOUND, "profile is detached")
		}
	case scimbridge.ChangeDetach:
		if p.Source != scimbridge.SourceSCIM {
			return scimbridge.Errorf(scimbridge.ECONFLICT, "profile is managed by %s", p.Source)
		}
		if p.Detached() {
			return scimbridge.Errorf(scimbridge.ENOTFOUND, "profile is detached")
		}
	case scimbridge.ChangeRevive:
		if p.Source != scimbridge.SourceSCIM || !p.Detached() {
			return scimbridge.Errorf(scimbridge.ECONFLICT, "only a detached scim profile can be revived")
		}
	default:
		return scimbridge.Errorf(scimbridge.EINTERNAL, "change kind %q is not built by Apply", kind)
	}
	return nil
}

// Adopt builds the change by which src (scim or google) takes over stored,
// a non-detached manual or SAML profile: source becomes src, attributes and
// identifiers are replaced by d, state follows d.Active. The role is kept
// unless the profile is reactivated (then member). Decide says when
// adoption is allowed.
func Adopt(stored scimbridge.Profile, src scimbridge.Source, d Desired, now time.Time) (scimbridge.Change, error) {
	if !syncs(src) {
		return scimbridge.Change{}, scimbridge.Errorf(scimbridge.EINVALID, "adopt profile: source %q does not sync users", src)
	}
	if !adoptable(stored.Source, stored.Detached()) {
		return scimbridge.Change{}, scimbridge.Errorf(scimbridge.ECONFLICT, "adopt profile: only a manual or saml profile can be adopted")
	}
	c, err := replace(stored, src, d, scimbridge.ChangeAdopt, now.UTC())
	if err != nil {
		return scimbridge.Change{}, fmt.Errorf("adopt profile: %w", err)
	}
	c.Reason = "adopted"
	return c, nil
}

// ReleaseKeys builds the change by which p gives up its userName and email
// so another profile can take them: they move to FormerUserName and
// FormerEmail, and UserName, Email and emails are cleared (the store writes
// NULL key columns, which hold no uniqueness). State is unchanged. It is for
// detached profiles (a SCIM POST that does not revive them) and for scim or
// google profiles a source gave up (an address reused in Google).
func ReleaseKeys(p scimbridge.Profile, now time.Time) (scimbridge.Change, error) {
	if !p.Detached() && !syncs(p.Source) {
		return scimbridge.Change{}, scimbridge.Errorf(scimbridge.ECONFLICT, "release profile: profile is managed by %s", p.Source)
	}
	after := next(p, now.UTC())
	if p.UserName != "" {
		after.FormerUserName = p.UserName
	}
	if p.Email != "" {
		after.FormerEmail = p.Email
	}
	after.UserName, after.Email, after.Emails = "", "", nil
	return changeOf(scimbridge.ChangeRelease, p, after, "userName and email released"), nil
}

// replace builds a change that replaces stored's attributes, identifiers
// and state with d under source src.
func replace(stored scimbridge.Profile, src scimbridge.Source, nd Desired, kind scimbridge.ChangeKind, now time.Time) (scimbridge.Change, error) {
	email, err := nd.Check()
	if err != nil {
		return scimbridge.Change{}, err
	}
	d := &nd.p
	after := next(stored, now)
	after.Attributes = d.Attributes
	after.Email = email
	after.ExternalID = d.ExternalID
	after.GoogleID = d.GoogleID
	after.Source = src
	wasActive := stored.Active() && !stored.Detached()
	setState(&after, wasActive, d.Active, now)
	if kind == scimbridge.ChangeRevive {
		after.DetachedAt = nil
		after.Role = scimbridge.RoleMember
	}
	after.DesiredHash = ""
	if src == scimbridge.SourceGoogle {
		after.DesiredHash = Hash(nd)
	}
	return changeOf(kind, stored, after, ""), nil
}

// checkDesired validates a normalised d and derives its profile email.
func checkDesired(d scimbridge.DesiredProfile) (string, error) {
	if err := Validate(d); err != nil {
		return "", err
	}
	return ProfileEmail(d.Attributes)
}

// next copies p as the start of its next version: version+1, UpdatedAt now,
// no memory shared with p.
func next(p scimbridge.Profile, now time.Time) scimbridge.Profile {
	after := p
	after.Emails = normalizeEmails(p.Emails)
	after.PhoneNumbers = normalizePhones(p.PhoneNumbers)
	after.Addresses = normalizeAddresses(p.Addresses)
	after.DeactivatedAt = copyTime(p.DeactivatedAt)
	after.DetachedAt = copyTime(p.DetachedAt)
	after.Version = p.Version + 1
	after.UpdatedAt = now
	return after
}

// setState makes p active or inactive. Becoming inactive revokes access and
// sets DeactivatedAt (kept when p already was inactive); becoming active
// restores access and, after being inactive, sets role member.
func setState(p *scimbridge.Profile, wasActive, active bool, now time.Time) {
	if active {
		p.State = scimbridge.StateActive
		p.AccessRevoked = false
		p.DeactivatedAt = nil
		if !wasActive {
			p.Role = scimbridge.RoleMember
		}
		return
	}
	p.State = scimbridge.StateInactive
	p.AccessRevoked = true
	if wasActive || p.DeactivatedAt == nil {
		t := now
		p.DeactivatedAt = &t
	}
}

// changeOf assembles the change from before to after, with its fields.
func changeOf(kind scimbridge.ChangeKind, before, after scimbridge.Profile, reason string) scimbridge.Change {
	return scimbridge.Change{
		Kind:            kind,
		Profile:         after,
		ExpectedVersion: before.Version,
		Reason:          reason,
		Fields:          changedFields(before, after),
	}
}

// changedFields is the exact Diff of the two versions plus the profile
// fields that are not SCIM attributes: the derived email, detached, source
// and role.
func changedFields(before, after scimbridge.Profile) []scimbridge.FieldChange {
	fields := diffDesired(DiffOptions{}, NormalizeProfile(before).p, NormalizeProfile(after).p)
	for _, f := range []scimbridge.FieldChange{
		{Field: "email", Before: before.Email, After: after.Email},
		{Field: "detached", Before: strconv.FormatBool(before.Detached()), After: strconv.FormatBool(after.Detached())},
		{Field: "source", Before: string(before.Source), After: string(after.Source)},
		{Field: "role", Before: string(before.Role), After: string(after.Role)},
	} {
		if f.Before != f.After {
			fields = append(fields, f)
		}
	}
	return fields
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

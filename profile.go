package scimbridge

import (
	"strings"
	"time"
)

// State is a profile's lifecycle state; SCIM "active" maps onto it.
type State string

const (
	StateActive   State = "active"
	StateInactive State = "inactive"
)

// Source is who manages a profile. A sync modifies only its own source's
// profiles; manual and SAML profiles are never touched by a sync.
type Source string

const (
	SourceManual Source = "manual"
	SourceSAML   Source = "saml"
	SourceSCIM   Source = "scim"
	SourceGoogle Source = "google"
)

// Role is a membership role in the organization.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Email is one entry of the multi-valued SCIM emails attribute, stored as
// sent. Primary is nil when the client did not send it: the server never adds
// "primary" to an email that did not have it.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary *bool  `json:"primary,omitempty"`
}

// PhoneNumber is one entry of the multi-valued SCIM phoneNumbers attribute,
// stored as sent. Primary is nil when the client did not send it.
type PhoneNumber struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary *bool  `json:"primary,omitempty"`
}

// Address is one entry of the multi-valued SCIM addresses attribute,
// stored as sent. An address with none of formatted, streetAddress,
// locality, region, postalCode and country is no address.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       *bool  `json:"primary,omitempty"`
}

// Empty reports whether a carries no address: only type and primary, or
// nothing.
func (a Address) Empty() bool {
	return a.Formatted == "" && a.StreetAddress == "" && a.Locality == "" &&
		a.Region == "" && a.PostalCode == "" && a.Country == ""
}

// Attributes are the SCIM User attributes a profile carries. The empty
// string means unassigned: null, "" and absent are the same thing.
type Attributes struct {
	UserName    string  `json:"userName"`
	DisplayName string  `json:"displayName,omitempty"`
	Emails      []Email `json:"emails,omitempty"`
	Title       string  `json:"title,omitempty"`
	UserType    string  `json:"userType,omitempty"`

	PhoneNumbers []PhoneNumber `json:"phoneNumbers,omitempty"`
	Addresses    []Address     `json:"addresses,omitempty"`

	GivenName       string `json:"givenName,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	Formatted       string `json:"formatted,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`

	NickName          string `json:"nickName,omitempty"`
	Locale            string `json:"locale,omitempty"`
	Timezone          string `json:"timezone,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	ProfileURL        string `json:"profileUrl,omitempty"`

	// Enterprise extension.
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	Department     string `json:"department,omitempty"`
	CostCenter     string `json:"costCenter,omitempty"`
	Organization   string `json:"organization,omitempty"`
	Division       string `json:"division,omitempty"`
	// Manager is enterprise manager.value, stored as sent and resolved at read
	// time (by profile id, then by externalId).
	Manager string `json:"manager,omitempty"`
}

// PrimaryEmail picks the profile email from emails: the primary entry, else
// the first "work" entry, else the first entry. It returns "" when there are
// no emails.
func (a Attributes) PrimaryEmail() string {
	for _, e := range a.Emails {
		if e.Primary != nil && *e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range a.Emails {
		if strings.EqualFold(e.Type, "work") && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range a.Emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}

// Profile is one person in one organization.
type Profile struct {
	ID    string `json:"id"` // UUID; also the SCIM id
	OrgID string `json:"org_id"`
	Attributes

	// Email is the profile email derived from Attributes (see PrimaryEmail),
	// else userName when it is an address.
	Email      string `json:"email"`
	State      State  `json:"state"`
	Source     Source `json:"source"`
	ExternalID string `json:"external_id,omitempty"`
	GoogleID   string `json:"google_id,omitempty"` // TEXT: Google ids exceed int64
	// Version increments on every change; it is the SCIM ETag W/"<version>".
	Version int64 `json:"version"`

	Role Role `json:"role"`
	// AccessRevoked is set while the profile is inactive: the membership is
	// kept but grants nothing.
	AccessRevoked bool `json:"access_revoked"`

	// FormerUserName and FormerEmail keep what a detached profile released.
	FormerUserName string `json:"former_user_name,omitempty"`
	FormerEmail    string `json:"former_email,omitempty"`

	// DesiredHash is the hash of the last desired state the bridge applied;
	// an unchanged hash means no load, no diff, no write.
	DesiredHash string `json:"-"`

	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
	DetachedAt    *time.Time `json:"detached_at,omitempty"`
}

// Active reports whether the profile is active.
func (p *Profile) Active() bool { return p.State == StateActive }

// Detached reports whether a SCIM DELETE detached the profile.
func (p *Profile) Detached() bool { return p.DetachedAt != nil }

// ChangeKind is what a change does to a profile.
type ChangeKind string

const (
	ChangeCreate     ChangeKind = "create"
	ChangeUpdate     ChangeKind = "update"
	ChangeAdopt      ChangeKind = "adopt" // take over a manual or SAML profile
	ChangeDeactivate ChangeKind = "deactivate"
	ChangeReactivate ChangeKind = "reactivate"
	ChangeDetach     ChangeKind = "detach" // SCIM DELETE
	ChangeRevive     ChangeKind = "revive" // a POST brings a detached profile back
	ChangeRelease    ChangeKind = "release"
)

// Change is one write to one profile. The caller computes the whole
// resulting profile — id, version, timestamps included — so the event that
// commits with it can carry the exact response about to be sent. The store
// writes Profile as given: an insert for ChangeCreate, otherwise an update
// WHERE id = Profile.ID AND version = ExpectedVersion, which fails with
// EPRECONDITION when another writer got there first.
type Change struct {
	Kind            ChangeKind `json:"kind"`
	Profile         Profile    `json:"profile"`
	ExpectedVersion int64      `json:"expected_version,omitempty"`
	// Reason says why, for reports and events ("address reused", ...).
	Reason string `json:"reason,omitempty"`
	// Fields lists what changed, before -> after.
	Fields []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one changed attribute, rendered as text.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// DesiredProfile is what a source (one SCIM request, or one Google user)
// wants a profile to be. reconcile normalises it and diffs it against the
// stored profile.
type DesiredProfile struct {
	Attributes
	Active     bool   `json:"active"`
	ExternalID string `json:"externalId,omitempty"`
	GoogleID   string `json:"googleId,omitempty"`
}

// StoredProfile is what the directory planner reads of a stored profile to
// match, count and keep addresses unique: a few columns, and the whole
// profile only when it was loaded. A caller with a large directory loads
// this view of every profile and whole rows only for the profiles the plan
// changes (see reconcile.MissingProfilesError), so an unchanged directory is planned
// without loading it.
type StoredProfile struct {
	ID          string
	UserName    string
	Email       string
	GoogleID    string
	DesiredHash string
	Version     int64
	State       State
	Source      Source
	// Full is the whole profile; nil when only this view was loaded.
	Full *Profile
}

// Active reports whether the profile is active.
func (s *StoredProfile) Active() bool { return s.State == StateActive }

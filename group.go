package scimbridge

import (
	"context"
	"time"
)

// Group is a set of profiles of one organization. Its displayName is
// unique case-insensitively among the organization's SCIM groups; Google
// group names may repeat (groups are matched by Google id). Its members are
// kept apart from it (see GroupStore), so a group of 100,000 members is
// read without loading them.
type Group struct {
	ID          string `json:"id"` // UUID; also the SCIM id
	OrgID       string `json:"org_id"`
	DisplayName string `json:"displayName"`
	ExternalID  string `json:"externalId,omitempty"`
	// Source is who manages the group: scim, google or manual. Each source
	// changes only its own groups.
	Source   Source `json:"source"`
	GoogleID string `json:"googleId,omitempty"` // TEXT: Google ids exceed int64
	// Version increments on every change, membership changes included; it
	// is the SCIM ETag W/"<version>".
	Version int64 `json:"version"`
	// DesiredHash is the hash of the name and member set the bridge last
	// applied; an unchanged hash means the group is not written.
	DesiredHash string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Group change kinds; an event of a group change carries one of them.
const (
	ChangeGroupCreate ChangeKind = "group_create"
	// ChangeGroupUpdate changes a group's displayName, externalId or
	// members (any of them).
	ChangeGroupUpdate ChangeKind = "group_update"
	ChangeGroupDelete ChangeKind = "group_delete" // removes its memberships too
)

// MaxMemberChanges is the most members one group change adds and removes
// together: one SCIM request may change up to 10,000 members.
const MaxMemberChanges = 10000

// MaxMemberPage is the largest page of GroupMembers.
const MaxMemberPage = 10000

// GroupChange is one write to one group. As for profiles, the caller
// computes the whole resulting group — id, version (ExpectedVersion+1 for
// an update), timestamps — and the store writes it as given: an insert for
// ChangeGroupCreate; for ChangeGroupUpdate an update of displayName,
// externalId, source, googleId, desired hash, version and updated time WHERE id = Group.ID AND
// version = ExpectedVersion; for ChangeGroupDelete a delete at
// ExpectedVersion. A version miss is EPRECONDITION, a missing group
// ENOTFOUND.
type GroupChange struct {
	Kind            ChangeKind `json:"kind"`
	Group           Group      `json:"group"`
	ExpectedVersion int64      `json:"expected_version,omitempty"`
	// AddMembers and RemoveMembers are profile ids (create and update).
	// Adding a member already there and removing one that is not are
	// no-ops; a profile to add must be a non-detached profile of the
	// group's organization, else the change is EINVALID (scimType
	// invalidValue). Together they hold at most MaxMemberChanges ids; an
	// id in both is removed (removals apply after additions).
	AddMembers    []string `json:"add_members,omitempty"`
	RemoveMembers []string `json:"remove_members,omitempty"`
	// Reason says why, for reports and events.
	Reason string        `json:"reason,omitempty"`
	Fields []FieldChange `json:"fields,omitempty"`
}

// GroupChangeEvent pairs a group change with the event that commits with
// it. An Event with a zero Time writes no event (a side change of another
// change in the same batch).
type GroupChangeEvent struct {
	Change GroupChange
	Event  Event
}

// GroupQuery lists groups of one organization, ordered by SortBy, then id.
// Every non-empty field narrows the listing (AND).
type GroupQuery struct {
	OrgID string
	// Sources limits the listing to these sources; empty means all.
	Sources     []Source
	DisplayName string // compared case-insensitively
	ExternalID  string // case-exact
	GoogleID    string
	// MemberID keeps the groups that have this profile as a member.
	MemberID string
	// Filter is a SCIM filter over the Group attributes (displayName,
	// externalId, id, members.value, meta.created, meta.lastModified,
	// meta.resourceType); nil for all.
	Filter Filter
	// SortBy is a sortable Group attribute ("displayName", "meta.created",
	// ...); empty sorts by id. Order is the sort key (binary collation),
	// then id.
	SortBy     string
	Descending bool
	// AnyType marks a search over every resource type (POST /.search): an
	// attribute only users have is unassigned for groups, not unknown.
	AnyType bool
	Offset  int // 0-based
	// Limit is the page size; 0 returns only Total.
	Limit int
}

// GroupPage is one page of a group listing and the total number of matches.
type GroupPage struct {
	Total  int
	Groups []Group
}

// GroupMember is one member of a group, with what a SCIM members entry
// shows of the profile.
type GroupMember struct {
	ProfileID   string
	UserName    string
	DisplayName string
}

// GroupStore keeps groups and their memberships. Every method takes the
// organization id; another organization's groups and profiles are never
// seen (ENOTFOUND by id, absent from listings).
type GroupStore interface {
	// GoogleProfileIDs maps Google user ids to the ids of the
	// organization's non-detached Google profiles (a bridge run resolving
	// its groups' members).
	GoogleProfileIDs(ctx context.Context, orgID string, googleIDs []string) (map[string]string, error)
	// CountGroupMembers counts the memberships of the organization's
	// groups of source (the group guard's base).
	CountGroupMembers(ctx context.Context, orgID string, source Source) (int, error)
	// GroupMemberIDs returns the sorted member profile ids of each group.
	GroupMemberIDs(ctx context.Context, orgID string, groupIDs []string) (map[string][]string, error)
	// Group returns one group; ENOTFOUND when it is missing or not a UUID.
	Group(ctx context.Context, orgID, id string) (Group, error)
	// ListGroups pages through the organization's groups without members.
	ListGroups(ctx context.Context, q GroupQuery) (GroupPage, error)
	// ManagedGroups returns every group of the organization with the given
	// source, for a sync's whole-set plan.
	ManagedGroups(ctx context.Context, orgID string, source Source) ([]Group, error)
	// GroupMembers returns up to limit (1..MaxMemberPage, else EINVALID)
	// members of a group in profile id order, those after the profile id
	// after ("" for the first page): a caller pages through any number of
	// members without loading them at once. A missing group is ENOTFOUND.
	GroupMembers(ctx context.Context, orgID, groupID, after string, limit int) ([]GroupMember, error)
	// ProfileGroups returns the groups a profile is a direct member of, by
	// id; none for an unknown profile.
	ProfileGroups(ctx context.Context, orgID, profileID string) ([]Group, error)
	// ProfilesGroups is ProfileGroups for a page of profiles at once (a
	// user listing's groups attribute): the groups of each profile id that
	// has any, by id. Any number of ids may be given.
	ProfilesGroups(ctx context.Context, orgID string, profileIDs []string) (map[string][]Group, error)
	// ApplyGroupChange commits one group change, its membership changes
	// and its event in one transaction. A version miss is EPRECONDITION; a
	// SCIM group's displayName taken (case-insensitively) by another SCIM
	// group of the organization, or a Google id taken, is ECONFLICT
	// (scimType uniqueness); a member that is not a live profile of the
	// organization, or more than MaxMemberChanges member ids, is EINVALID.
	// The event's ID is assigned by the store.
	ApplyGroupChange(ctx context.Context, c GroupChangeEvent) error
	// ApplyGroupChanges commits up to MaxBatch group changes with their
	// events in one transaction, all or nothing (more is EINVALID). When
	// lease is non-nil the transaction first verifies the lease
	// (ELEASELOST otherwise).
	ApplyGroupChanges(ctx context.Context, batch []GroupChangeEvent, lease *LeaseCheck) error
}

// CheckGroupLimits reports the first value of g over its limit: displayName,
// externalId and googleId are keys of at most MaxKeyBytes. The error is
// EINVALID with scimType invalidValue naming the attribute and the limit.
// The store checks it before any SQL runs.
func CheckGroupLimits(g Group) error {
	for _, f := range []struct{ name, value string }{
		{"displayName", g.DisplayName}, {"externalId", g.ExternalID}, {"googleId", g.GoogleID},
	} {
		if len(f.value) > MaxKeyBytes {
			return overLimit(f.name, len(f.value), MaxKeyBytes)
		}
	}
	return nil
}

// GroupCounts are the group totals of a bridge run.
type GroupCounts struct {
	Created        int `json:"created"`
	Updated        int `json:"updated"` // renamed or members changed
	Deleted        int `json:"deleted"`
	Unchanged      int `json:"unchanged"`
	MembersAdded   int `json:"members_added"`
	MembersRemoved int `json:"members_removed"`
	Failed         int `json:"failed"`
	Held           int `json:"held"`
	// ListingMillis is how long listing the groups and their members took.
	ListingMillis int64 `json:"listing_ms"`
}

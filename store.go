package scimbridge

import (
	"context"
	"time"
)

// OrganizationStore keeps organizations.
type OrganizationStore interface {
	// CreateOrganization inserts org; the caller sets ID and CreatedAt.
	// A taken slug is ECONFLICT.
	CreateOrganization(ctx context.Context, org Organization) error
	Organization(ctx context.Context, id string) (Organization, error)
	OrganizationBySlug(ctx context.Context, slug string) (Organization, error)
	Organizations(ctx context.Context) ([]Organization, error)
	// SetAdoptExisting changes the organization's adopt_existing setting.
	SetAdoptExisting(ctx context.Context, orgID string, on bool) error
}

// ProfileLookup names the candidate keys of a write. Every non-empty field
// is matched (OR); the store returns each matching profile once, detached
// ones included, across every source.
type ProfileLookup struct {
	UserName   string // compared on the case-insensitive key
	Email      string // compared on the case-insensitive key (profile email)
	ExternalID string // case-exact
	GoogleID   string
}

// ProfileQuery lists profiles of one organization.
type ProfileQuery struct {
	OrgID string
	// Sources limits the listing to these sources; empty means all.
	Sources         []Source
	IncludeDetached bool
	Filter          Filter // nil for all
	// SortBy is a catalogue attribute ("userName", "meta.created", ...);
	// empty sorts by id. Order is the sort key (binary collation), then id.
	SortBy     string
	Descending bool
	// AnyType marks a search over every resource type (POST /.search): an
	// attribute only groups have is unassigned for profiles, not unknown.
	AnyType bool
	Offset  int // 0-based
	// Limit is the page size; 0 returns only Total.
	Limit int
	// MaxBytes, when positive, ends the page early once the profiles read
	// hold that many bytes of attribute values (ValueBytes): the page then
	// has fewer than Limit profiles, at least one, and Total is still every
	// match. It bounds the memory of a page of large profiles.
	MaxBytes int
	// MarkGrouped fills ProfilePage.Grouped.
	MarkGrouped bool
}

// ProfilePage is one page of a listing and the total number of matches.
type ProfilePage struct {
	Total    int
	Profiles []Profile
	// Grouped holds, when the query asked (MarkGrouped), the ids of the
	// page's profiles that are members of a group.
	Grouped map[string]bool
}

// LeaseCheck, when set on a batch, makes every transaction of the batch
// verify that RunID still holds OrgID's lease; a lost lease is ELEASELOST and
// nothing of that transaction commits.
type LeaseCheck struct {
	OrgID  string
	RunID  string
	Holder string
}

// ChangeEvent pairs a change with the event that commits with it. A change
// whose Event has a zero Time is a side change of another change in the same
// batch (a detached profile releasing its userName before a SCIM create) and
// writes no event of its own: one SCIM request is exactly one event.
type ChangeEvent struct {
	Change Change
	Event  Event
}

// MaxBatch is the most changes one ApplyChanges transaction carries; the
// bridge applies its plans in batches of this size.
const MaxBatch = 500

// ProfileStore keeps profiles and applies changes.
type ProfileStore interface {
	// Profile returns one profile of the organization (detached included);
	// ENOTFOUND when it is missing or not a UUID.
	Profile(ctx context.Context, orgID, id string) (Profile, error)
	// LookupProfiles returns the profiles matching any key of l.
	LookupProfiles(ctx context.Context, orgID string, l ProfileLookup) ([]Profile, error)
	// ListProfiles pages through a filtered, sorted listing without loading
	// everything at once. A bad filter or sort attribute is EINVALID.
	ListProfiles(ctx context.Context, q ProfileQuery) (ProfilePage, error)
	// ManagedProfiles returns every profile of the organization with the
	// given source (detached excluded), for the bridge's whole-set plan.
	ManagedProfiles(ctx context.Context, orgID string, source Source) ([]Profile, error)
	// ProfileIndex returns the planner's light view (Full nil) of every
	// non-detached profile of the organization, all sources: a bridge run
	// loads these few columns of every profile and whole rows only for the
	// profiles its plan changes.
	ProfileIndex(ctx context.Context, orgID string) ([]StoredProfile, error)
	// ProfilesByID returns the whole profiles of the organization with
	// these ids, in any order; ids that name no profile of the organization
	// (or are not UUIDs) are left out. Any number of ids may be given.
	ProfilesByID(ctx context.Context, orgID string, ids []string) ([]Profile, error)
	// ApplyChange commits one change and its event in one transaction.
	// A detach also removes the profile from every group (bumping each
	// group's version) in that transaction; a deactivation keeps them.
	// A version miss is EPRECONDITION; a unique violation is ECONFLICT
	// (scimType uniqueness). The event's ID is assigned by the store.
	ApplyChange(ctx context.Context, c ChangeEvent) error
	// ApplyChanges commits up to MaxBatch changes with their events in one
	// transaction, all or nothing (more is EINVALID). When lease is non-nil the transaction
	// first verifies the lease (ELEASELOST otherwise).
	ApplyChanges(ctx context.Context, batch []ChangeEvent, lease *LeaseCheck) error
	// ReleaseProfiles turns every profile of source into a manual one and
	// returns how many changed (scimbridge profiles release).
	ReleaseProfiles(ctx context.Context, orgID string, source Source, ev Event) (int, error)
}

// EventStore keeps the events log.
type EventStore interface {
	// AppendEvents inserts a batch of events (the buffered writer).
	AppendEvents(ctx context.Context, events []Event) error
	ListEvents(ctx context.Context, q EventQuery) (EventPage, error)
	// PurgeEvents deletes events older than before, at most batch rows per
	// statement, until none is left; it returns how many it deleted.
	PurgeEvents(ctx context.Context, before time.Time, batch int) (int, error)
}

// CredentialStore keeps SCIM configurations and admin tokens (hashes only).
type CredentialStore interface {
	// PutSCIMConfig creates or replaces (rotates) the organization's SCIM
	// configuration, with its admin event, in one transaction.
	PutSCIMConfig(ctx context.Context, c SCIMConfig, ev Event) error
	SCIMConfig(ctx context.Context, orgID string) (SCIMConfig, error)
	// OrganizationSCIMConfig reads an organization by slug with its SCIM
	// configuration in one query (SCIM authentication); the configuration's
	// OrgID is empty when SCIM is disabled; ENOTFOUND for an unknown slug.
	OrganizationSCIMConfig(ctx context.Context, slug string) (Organization, SCIMConfig, error)
	DeleteSCIMConfig(ctx context.Context, orgID string, ev Event) error
	// TouchSCIMConfig sets last_used_at to at unless it was set less than a
	// minute earlier.
	TouchSCIMConfig(ctx context.Context, orgID string, at time.Time) error

	CreateAdminToken(ctx context.Context, t AdminToken, ev Event) error
	AdminTokens(ctx context.Context, orgID string) ([]AdminToken, error)
	AdminTokenByHash(ctx context.Context, hash []byte) (AdminToken, error)
	RevokeAdminToken(ctx context.Context, orgID, id string, at time.Time, ev Event) error
	// TouchAdminToken sets an admin or operator token's last_used_at to at
	// unless it was set less than a minute earlier.
	TouchAdminToken(ctx context.Context, id string, at time.Time) error

	// Operator tokens (every organization): their events name no
	// organization. RevokeOperatorToken is ENOTFOUND for an unknown id.
	CreateOperatorToken(ctx context.Context, t AdminToken, ev Event) error
	OperatorTokens(ctx context.Context) ([]AdminToken, error)
	OperatorTokenByHash(ctx context.Context, hash []byte) (AdminToken, error)
	RevokeOperatorToken(ctx context.Context, id string, at time.Time, ev Event) error
}

// BridgeStore keeps Google bridges, reports and held plans.
type BridgeStore interface {
	PutBridge(ctx context.Context, b Bridge, ev Event) error
	// DeleteBridge removes the organization's bridge and its held plan,
	// with its event; ENOTFOUND when there is none. Profiles and reports
	// stay.
	DeleteBridge(ctx context.Context, orgID string, ev Event) error
	// SealingKeyIDs returns the ids of the encryption keys that sealed the
	// stored secrets (PutBridge records them), sorted.
	SealingKeyIDs(ctx context.Context) ([]string, error)
	Bridge(ctx context.Context, orgID string) (Bridge, error)
	Bridges(ctx context.Context) ([]Bridge, error)
	// UpdateBridgeState writes the run-state fields of b (not settings or
	// credentials).
	UpdateBridgeState(ctx context.Context, b Bridge) error

	// PutReport inserts or replaces a report with its items.
	PutReport(ctx context.Context, r Report) error
	Report(ctx context.Context, orgID, id string) (Report, error)
	// Reports lists reports newest first, without items.
	Reports(ctx context.Context, orgID string, limit int) ([]Report, error)
	PurgeReports(ctx context.Context, before time.Time) (int, error)

	// PutHeldPlan stores the organization's one held plan (opaque JSON),
	// replacing any other; DeleteHeldPlan removes it.
	PutHeldPlan(ctx context.Context, orgID, reportID string, plan []byte, expiresAt time.Time) error
	HeldPlan(ctx context.Context, orgID string) (reportID string, plan []byte, expiresAt time.Time, err error)
	DeleteHeldPlan(ctx context.Context, orgID string) error
	// CountRecent counts changes of kind applied by source since t (the
	// guard's trailing window).
	CountRecentChanges(ctx context.Context, orgID string, kind ChangeKind, source EventSource, since time.Time) (int, error)
	// RecentBridgeChanges counts the bridge's deactivations and
	// reactivations since a time in one query, as two CountRecentChanges
	// (source google) would.
	RecentBridgeChanges(ctx context.Context, orgID string, since time.Time) (deactivations, reactivations int, err error)
}

// LeaseStore is the one-run-per-organization lock.
type LeaseStore interface {
	// AcquireLease takes the organization's lease when it is free or
	// expired; it returns false (no error) when another holder has it.
	AcquireLease(ctx context.Context, l Lease) (bool, error)
	// RenewLease extends a lease still held; ELEASELOST otherwise.
	RenewLease(ctx context.Context, l Lease) error
	ReleaseLease(ctx context.Context, orgID, runID string) error
	CurrentLease(ctx context.Context, orgID string) (Lease, error)
}

// Store is all persistence, implemented by package store over SQLite and
// PostgreSQL.
type Store interface {
	OrganizationStore
	ProfileStore
	GroupStore
	EventStore
	CredentialStore
	BridgeStore
	LeaseStore
	AdminStore
	ChangeStore
	WebhookStore
	ConsoleStore
	// Ping checks the database is reachable and its schema current.
	Ping(ctx context.Context) error
	Close() error
}

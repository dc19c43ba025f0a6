package scimbridge

import (
	"context"
	"time"
)

// Page sizes of the admin API's and the console's lists.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// DirectoryQuery lists one organization's users or groups, read-only, for
// the admin API and the console: every source, ordered by id, one page at
// a time after the id of the previous page's last entry.
type DirectoryQuery struct {
	OrgID string
	// Search keeps the users whose userName, profile email or displayName,
	// or the groups whose displayName, starts with it, compared
	// case-insensitively (on the key columns; see internal/textkey).
	Search string
	// Source keeps one source; empty keeps every source.
	Source Source
	// Active keeps active (true) or inactive (false) users; nil keeps both.
	// Groups ignore it.
	Active *bool
	// IncludeDetached also lists users a SCIM DELETE detached (erased ones
	// among them); groups ignore it.
	IncludeDetached bool
	// After is the id of the last entry of the previous page; "" for the
	// first page.
	After string
	// Limit is the page size, 1 to MaxPageSize+1.
	Limit int
}

// ReportItemAt is a report item with its position in the report, the key
// a page of items continues after.
type ReportItemAt struct {
	Position int `json:"position"`
	ReportItem
}

// ErasedMarker replaces every body and personal value of an erased
// person's events.
const ErasedMarker = "[erased]"

// EraseKeys are what identifies a person in the events log: the profile
// id (events of its changes, by profile_id, and SCIM requests to
// /Users/{id}) and the userNames it held (events naming it as their target
// username).
type EraseKeys struct {
	ProfileID string
	UserNames []string
}

// OrgDeletion says what deleting an organization removed: rows per table.
type OrgDeletion struct {
	Rows map[string]int `json:"rows"`
}

// AdminStore is what the admin operations of the admin API and the console
// read and change beyond the other stores.
type AdminStore interface {
	// DirectoryUsers returns up to q.Limit profiles of the query's
	// organization. A bad source or limit is EINVALID.
	DirectoryUsers(ctx context.Context, q DirectoryQuery) ([]Profile, error)
	// DirectoryGroups returns up to q.Limit groups of the organization.
	DirectoryGroups(ctx context.Context, q DirectoryQuery) ([]Group, error)

	// Event returns one event of the organization; ENOTFOUND when it has
	// none with that id.
	Event(ctx context.Context, orgID string, id int64) (Event, error)

	// ReportItems returns up to limit items of the organization's report,
	// of kind ("" for every kind), after position after (-1 for the
	// first page), in position order. ENOTFOUND for another
	// organization's or a missing report.
	ReportItems(ctx context.Context, orgID, reportID string, kind ChangeKind, after, limit int) ([]ReportItemAt, error)

	// EraseProfile turns the organization's profile into a tombstone in
	// one transaction with ev: every personal attribute, identifier and
	// key NULL (so its userName and email are free), detached, inactive,
	// out of every group (each group's version bumped), erased_at set.
	// It returns the keys the person held before, and false (no event
	// written) when the profile was already erased. ENOTFOUND for a
	// missing profile.
	EraseProfile(ctx context.Context, orgID, profileID string, at time.Time, ev Event) (EraseKeys, bool, error)
	// EraseEvents replaces the bodies, target username and query string
	// of the organization's events of the person named by keys with
	// ErasedMarker, batch rows per write transaction, and returns how many
	// it changed.
	EraseEvents(ctx context.Context, orgID string, keys EraseKeys, batch int) (int, error)
	// EraseReportItems replaces the username, Google id, field changes
	// and error of the organization's report items about the person (by
	// profile id or a userName of keys) with ErasedMarker or nothing, and
	// returns how many it changed.
	EraseReportItems(ctx context.Context, orgID string, keys EraseKeys) (int, error)

	// DeleteOrganization removes the organization and every row it owns
	// in every table, batch rows per write transaction, and returns the
	// rows removed per table; ENOTFOUND when there is no such
	// organization. ev, an event of no organization (OrgID empty) that
	// outlives it, commits with the last transaction, its response body
	// the rows removed.
	DeleteOrganization(ctx context.Context, orgID string, batch int, ev Event) (OrgDeletion, error)
}

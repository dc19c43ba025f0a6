package scimbridge

import (
	"context"
	"time"
)

// ChangeType names what a change record says happened to the directory
// (PRODUCT.md, "Directory API: changes feed and webhooks").
type ChangeType string

const (
	ChangeUserCreated     ChangeType = "user.created"
	ChangeUserUpdated     ChangeType = "user.updated"
	ChangeUserDeactivated ChangeType = "user.deactivated"
	ChangeUserReactivated ChangeType = "user.reactivated"
	ChangeUserDeleted     ChangeType = "user.deleted"
	ChangeUserErased      ChangeType = "user.erased"
	ChangeGroupCreated    ChangeType = "group.created"
	ChangeGroupUpdated    ChangeType = "group.updated"
	ChangeGroupDeleted    ChangeType = "group.deleted"
	ChangeMemberAdded     ChangeType = "group.member_added"
	ChangeMemberRemoved   ChangeType = "group.member_removed"
	ChangeBridgeAttention ChangeType = "bridge.needs_attention"
	ChangeBridgePlanHeld  ChangeType = "bridge.plan_held"
)

// ChangeRecord is one entry of an organization's changes feed, written in
// the same transaction as the change it records.
type ChangeRecord struct {
	// Position orders the feed; a reader never passes a record that may
	// still commit below it. Cursors are opaque strings built from it.
	Position ChangePosition `json:"-"`
	OrgID    string         `json:"org_id"`
	Type     ChangeType     `json:"type"`
	// ResourceID is the user's or group's id; for memberships the group's.
	ResourceID string `json:"resource_id,omitempty"`
	// Version is the resource's version after the change.
	Version int64 `json:"version,omitempty"`
	// Resource is the SCIM representation after the change (a group
	// without its members); empty for memberships and deletions.
	Resource []byte `json:"-"`
	// Attributes names the changed attributes of an update.
	Attributes []string `json:"attributes,omitempty"`
	// GroupID and UserID name a membership change.
	GroupID   string      `json:"group_id,omitempty"`
	UserID    string      `json:"user_id,omitempty"`
	Source    EventSource `json:"source"`
	RunID     string      `json:"run_id,omitempty"`
	RequestID string      `json:"request_id,omitempty"`
	Time      time.Time   `json:"time"`
}

// ChangePosition orders change records: by the writing transaction (Tx,
// PostgreSQL's transaction id; 0 on SQLite, which has one writer), then by
// the record's own sequence number. The zero position is before every
// record.
type ChangePosition struct {
	Tx  int64
	Seq int64
}

// Less reports whether p comes before q.
func (p ChangePosition) Less(q ChangePosition) bool {
	return p.Tx < q.Tx || (p.Tx == q.Tx && p.Seq < q.Seq)
}

// ChangeStore reads the changes feed. Records are written by the store
// methods that change the directory, never through this interface.
type ChangeStore interface {
	// ChangesAfter returns up to limit records of the organization ("" for
	// every organization) with a position above after, in position order,
	// stopping before any position that a transaction still in progress
	// could take.
	ChangesAfter(ctx context.Context, orgID string, after ChangePosition, limit int) ([]ChangeRecord, error)
	// ChangesHead is the position a reader may safely start from to see
	// every change that commits after now.
	ChangesHead(ctx context.Context, orgID string) (ChangePosition, error)
	// OldestChange is the lowest position still kept for the organization
	// (ok false when none is kept): a cursor below it has missed purged
	// records.
	OldestChange(ctx context.Context, orgID string) (pos ChangePosition, ok bool, err error)
	// PurgeChanges deletes records older than before, batch rows at a time.
	PurgeChanges(ctx context.Context, before time.Time, batch int) (int, error)
}

// ChangeRenderer renders the resource a change record carries: the SCIM
// representation of a user, or of a group without its members. The store
// is given one at open (package scim implements it), so it records the
// resource without depending on the SCIM encoding.
type ChangeRenderer interface {
	RenderUser(p Profile) ([]byte, error)
	RenderGroup(g Group) ([]byte, error)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// memberChunk is the most member ids one statement carries: 1,000
// memberships are 3,000 parameters, well under SQLite's 32,766.
const memberChunk = 1000

// ApplyGroupChange commits one group change and its event in one
// transaction.
func (db *DB) ApplyGroupChange(ctx context.Context, c scimbridge.GroupChangeEvent) error {
	return db.ApplyGroupChanges(ctx, []scimbridge.GroupChangeEvent{c}, nil)
}

// ApplyGroupChanges commits up to scimbridge.MaxBatch group changes, their
// memberships and their events in one transaction, all or nothing; with
// lease set it first verifies the lease.
func (db *DB) ApplyGroupChanges(ctx context.Context, batch []scimbridge.GroupChangeEvent, lease *scimbridge.LeaseCheck) error {
	if len(batch) > scimbridge.MaxBatch {
		return scimbridge.Errorf(scimbridge.EINVALID, "a batch holds at most %d changes, got %d", scimbridge.MaxBatch, len(batch))
	}
	for i := range batch {
		if err := checkGroupChange(&batch[i].Change); err != nil {
			return fmt.Errorf("apply group changes: %w", err)
		}
	}
	if len(batch) == 0 && lease == nil {
		return nil
	}
	recs := make([]scimbridge.ChangeRecord, len(batch))
	for i := range batch {
		var err error
		if recs[i], err = db.groupRecord(&batch[i]); err != nil {
			return fmt.Errorf("apply group changes: %w", err)
		}
	}
	var written []scimbridge.ChangeRecord
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if lease != nil {
			if err := db.checkLease(ctx, tx, *lease); err != nil {
				return err
			}
		}
		// Every member to add is checked, and on PostgreSQL locked, before
		// any group row is written: a concurrent detach then either waits
		// for this transaction (and removes what it added) or commits
		// first (and the member is refused), and the two take their locks
		// in the same order, profile before group.
		for i := range batch {
			if c := &batch[i].Change; c.Kind != scimbridge.ChangeGroupDelete {
				if err := db.checkMembers(ctx, tx, c.Group.OrgID, dedupe(c.AddMembers)); err != nil {
					return err
				}
			}
		}
		events := make([]scimbridge.Event, 0, len(batch))
		var out []scimbridge.ChangeRecord
		for i := range batch {
			if err := db.writeGroupChange(ctx, tx, &batch[i].Change, recs[i], &out); err != nil {
				return err
			}
			if !batch[i].Event.Time.IsZero() {
				events = append(events, groupChangeEvent(&batch[i]))
			}
		}
		if err := db.insertChanges(ctx, db.txExec(tx), out); err != nil {
			return err
		}
		written = out
		return db.insertEvents(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("apply group changes: %w", err)
	}
	db.committed(written)
	// Memberships count as changes for the planner's statistics: without
	// them PostgreSQL pages a large group by sorting all its members.
	n := len(batch)
	for i := range batch {
		n += len(batch[i].Change.AddMembers) + len(batch[i].Change.RemoveMembers)
	}
	db.countChanges(ctx, n)
	return nil
}

// checkGroupChange refuses, before any SQL runs, a change the store could
// not write: an unknown kind, an id that is not a UUID, an empty or
// over-long displayName (scimbridge.CheckGroupLimits), too many member ids.
func checkGroupChange(c *scimbridge.GroupChange) error {
	g := &c.Group
	switch c.Kind {
	case scimbridge.ChangeGroupCreate, scimbridge.ChangeGroupUpdate, scimbridge.ChangeGroupDelete:
	default:
		return scimbridge.Errorf(scimbridge.EINVALID, "unknown group change kind %q", c.Kind)
	}
	if !validUUID(g.ID) {
		if c.Kind == scimbridge.ChangeGroupCreate {
			return scimbridge.Errorf(scimbridge.EINVALID, "group id %q is not a UUID", g.ID)
		}
		return notFound("group")
	}
	if c.Kind != scimbridge.ChangeGroupDelete {
		if g.DisplayName == "" {
			return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "a group needs a displayName")
		}
		if err := scimbridge.CheckGroupLimits(*g); err != nil {
			return err
		}
	}
	if n := len(c.AddMembers) + len(c.RemoveMembers); n > scimbridge.MaxMemberChanges {
		return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue",
			"one change adds and removes at most %d members, got %d", scimbridge.MaxMemberChanges, n)
	}
	return nil
}

// groupChangeEvent fills the event's organization and kind from the change
// when the caller left them empty.
func groupChangeEvent(ce *scimbridge.GroupChangeEvent) scimbridge.Event {
	ev := ce.Event
	if ev.OrgID == "" {
		ev.OrgID = ce.Change.Group.OrgID
	}
	if ev.Kind == "" {
		ev.Kind = ce.Change.Kind
	}
	return ev
}

// writeGroupChange writes one group change in tx: the group row, then the
// members it adds, then those it removes; it appends to out rec (the
// group's change record, with the names of the attributes an update
// changed) and a record per membership actually added or removed. A
// deleted group's memberships go with it (ON DELETE CASCADE) and have no
// records of their own: group.deleted says they are gone.
func (db *DB) writeGroupChange(ctx context.Context, tx *sqlx.Tx, c *scimbridge.GroupChange,
	rec scimbridge.ChangeRecord, out *[]scimbridge.ChangeRecord) error {
	g := &c.Group
	var res sql.Result
	var err error
	if c.Kind == scimbridge.ChangeGroupUpdate {
		var name, externalID string
		err := tx.QueryRowContext(ctx, db.rebind(`SELECT display_name, external_id FROM groups WHERE org_id = ? AND id = ?`),
			g.OrgID, g.ID).Scan(&name, strDest{&externalID})
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("group")
		} else if err != nil {
			return fmt.Errorf("read group: %w", err)
		}
		if name != g.DisplayName {
			rec.Attributes = append(rec.Attributes, "displayName")
		}
		if externalID != g.ExternalID {
			rec.Attributes = append(rec.Attributes, "externalId")
		}
	}
	switch c.Kind {
	case scimbridge.ChangeGroupCreate:
		_, err = tx.ExecContext(ctx, db.rebind(groupInsert), db.groupArgs(g)...)
		if err != nil {
			return db.convertError(err)
		}
	case scimbridge.ChangeGroupUpdate:
		a := db.groupArgs(g)
		res, err = tx.ExecContext(ctx, db.rebind(groupUpdate), a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[10],
			g.OrgID, g.ID, c.ExpectedVersion)
	case scimbridge.ChangeGroupDelete:
		res, err = tx.ExecContext(ctx, db.rebind(`DELETE FROM groups WHERE org_id = ? AND id = ? AND version = ?`),
			g.OrgID, g.ID, c.ExpectedVersion)
	}
	if err != nil {
		return db.convertError(err)
	}
	if res != nil {
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("write group: %w", err)
		}
		if n == 0 {
			return db.groupVersionMiss(ctx, tx, g.OrgID, g.ID, c.ExpectedVersion)
		}
	}
	at := len(*out)
	*out = append(*out, rec)
	if c.Kind == scimbridge.ChangeGroupDelete {
		return nil
	}
	added, err := db.addMembers(ctx, tx, g, dedupe(c.AddMembers))
	if err != nil {
		return err
	}
	removed, err := db.removeMembers(ctx, tx, g, dedupe(c.RemoveMembers))
	if err != nil {
		return err
	}
	if c.Kind == scimbridge.ChangeGroupUpdate && len(added)+len(removed) > 0 {
		(*out)[at].Attributes = append((*out)[at].Attributes, "members")
	}
	for _, id := range added {
		*out = append(*out, memberRecord(scimbridge.ChangeMemberAdded, g.OrgID, g.ID, id, &rec))
	}
	for _, id := range removed {
		*out = append(*out, memberRecord(scimbridge.ChangeMemberRemoved, g.OrgID, g.ID, id, &rec))
	}
	return nil
}

// groupVersionMiss tells a missing group (ENOTFOUND) from a stale version
// (EPRECONDITION) after a write matched no row.
func (db *DB) groupVersionMiss(ctx context.Context, tx *sqlx.Tx, orgID, id string, expected int64) error {
	var current int64
	err := tx.QueryRowContext(ctx, db.rebind(`SELECT version FROM groups WHERE org_id = ? AND id = ?`), orgID, id).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("group")
	} else if err != nil {
		return fmt.Errorf("read group version: %w", err)
	}
	return scimbridge.Errorf(scimbridge.EPRECONDITION,
		"group version %d does not match the current version %d", expected, current)
}

// addMembers inserts the memberships of ids not there yet and returns the
// ids it added, sorted; checkMembers has checked them.
func (db *DB) addMembers(ctx context.Context, tx *sqlx.Tx, g *scimbridge.Group, ids []string) ([]string, error) {
	var added []string
	for start := 0; start < len(ids); start += memberChunk {
		chunk := ids[start:min(start+memberChunk, len(ids))]
		var b strings.Builder
		b.WriteString("INSERT INTO group_members (org_id, group_id, profile_id) VALUES ")
		args := make([]any, 0, 3*len(chunk))
		for i, id := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, g.OrgID, g.ID, id)
		}
		b.WriteString(" ON CONFLICT (group_id, profile_id) DO NOTHING RETURNING profile_id")
		got, err := scanIDs(tx.QueryContext(ctx, db.rebind(b.String()), args...))
		if err != nil {
			return nil, fmt.Errorf("add members: %w", err)
		}
		added = append(added, got...)
	}
	slices.Sort(added)
	return added, nil
}

// checkMembers refuses (EINVALID, invalidValue) any id that is not a
// non-detached profile of the organization; on PostgreSQL it also locks
// the profiles (FOR SHARE) until the transaction ends, so none is detached
// meanwhile.
func (db *DB) checkMembers(ctx context.Context, tx *sqlx.Tx, orgID string, ids []string) error {
	for _, id := range ids {
		if !validUUID(id) {
			return notMember(id)
		}
	}
	for start := 0; start < len(ids); start += memberChunk {
		if err := db.checkMemberChunk(ctx, tx, orgID, ids[start:min(start+memberChunk, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) checkMemberChunk(ctx context.Context, tx *sqlx.Tx, orgID string, ids []string) error {
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR SHARE"
	}
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		args = append(args, id)
	}
	// By primary key, the organization checked on each row: with org_id
	// in the WHERE clause the planners may walk the organization's index.
	rows, err := tx.QueryContext(ctx, db.rebind(`SELECT id, org_id FROM profiles WHERE detached_at IS NULL AND id IN (`+
		placeholders(len(ids))+")"+lock), args...)
	if err != nil {
		return fmt.Errorf("check members: %w", err)
	}
	defer rows.Close()
	found := make(map[string]bool, len(ids))
	for rows.Next() {
		var id, org string
		if err := rows.Scan(&id, &org); err != nil {
			return fmt.Errorf("check members: %w", err)
		}
		found[id] = org == orgID
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check members: %w", err)
	}
	for _, id := range ids {
		if !found[id] {
			return notMember(id)
		}
	}
	return nil
}

func notMember(id string) error {
	return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "member %q is not a user of the organization", id)
}

// removeMembers deletes the memberships of ids and returns the ids it
// removed, sorted; absent ones are ignored.
func (db *DB) removeMembers(ctx context.Context, tx *sqlx.Tx, g *scimbridge.Group, ids []string) ([]string, error) {
	var removed []string
	for start := 0; start < len(ids); start += memberChunk {
		chunk := ids[start:min(start+memberChunk, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, g.ID)
		for _, id := range chunk {
			args = append(args, id)
		}
		query := "DELETE FROM group_members WHERE group_id = ? AND profile_id IN (" + placeholders(len(chunk)) + ") RETURNING profile_id"
		got, err := scanIDs(tx.QueryContext(ctx, db.rebind(query), args...))
		if err != nil {
			return nil, fmt.Errorf("remove members: %w", err)
		}
		removed = append(removed, got...)
	}
	slices.Sort(removed)
	return removed, nil
}

// dedupe returns ids without repeats, in first-seen order.
func dedupe(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Statements of a detach, which leaves every group: each group's version
// goes up and its desired hash is dropped (its member set changed), then
// the memberships go, both through the membership index by profile.
const (
	detachGroupsBump = `UPDATE groups SET version = version + 1, updated_at = ?, desired_hash = NULL
	WHERE id IN (SELECT group_id FROM group_members WHERE profile_id = ?)`
	detachMembersDelete = `DELETE FROM group_members WHERE profile_id = ? RETURNING group_id`
)

// leaveGroups removes a detached profile from every group in the
// transaction of its detach.
func (w *batchWriter) leaveGroups(ctx context.Context, p *scimbridge.Profile) error {
	if _, err := w.s.exec(ctx, detachGroupsBump, w.db.tm(p.UpdatedAt), p.ID); err != nil {
		return fmt.Errorf("leave groups: %w", err)
	}
	groups, err := scanIDs(w.s.query(ctx, detachMembersDelete, p.ID))
	if err != nil {
		return fmt.Errorf("leave groups: %w", err)
	}
	slices.Sort(groups)
	for _, g := range groups {
		w.recs = append(w.recs, memberRecord(scimbridge.ChangeMemberRemoved, p.OrgID, g, p.ID, w.record))
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// Change records (the changes feed) are written by the store methods that
// change the directory, in the same transaction as the change; see
// changes.go in the root package for the record and its order. Resources
// are rendered before a transaction begins where the caller computed them
// (ApplyChanges, ApplyGroupChanges), so the transaction holds its locks no
// longer than before.

// SetChangeRenderer sets how the resource a user or group change record
// carries is rendered. Without one, records carry no resource.
func (db *DB) SetChangeRenderer(r scimbridge.ChangeRenderer) { db.renderer = r }

// SetChangeNotifier sets fn to be called, after commit, with the
// organization of every transaction that wrote change records (the feed's
// long-polls wait on it). fn must not block.
func (db *DB) SetChangeNotifier(fn func(orgID string)) { db.changeNotify = fn }

// committed tells the notifier the organizations of records just committed.
func (db *DB) committed(recs []scimbridge.ChangeRecord) {
	fn := db.changeNotify
	if fn == nil || len(recs) == 0 {
		return
	}
	last := ""
	for i := range recs {
		if recs[i].OrgID != last {
			last = recs[i].OrgID
			fn(last)
		}
	}
}

// changeColumns are the written columns of a change record; tx and seq
// are the table's defaults.
var changeColumns = []string{"org_id", "type", "resource_id", "version", "resource", "attributes",
	"group_id", "user_id", "source", "run_id", "request_id", "time"}

// changeColumnTypes are the PostgreSQL types of changeColumns, for an
// INSERT ... SELECT.
var changeColumnTypes = []string{"text", "text", "text", "bigint", "text", "text",
	"text", "text", "text", "text", "text", "timestamptz"}

var (
	changeInsert = "INSERT INTO changes (" + strings.Join(changeColumns, ", ") + ") VALUES (" +
		placeholders(len(changeColumns)) + ")"
	changeRow = ", (" + placeholders(len(changeColumns)) + ")"
)

// changeChunk is the most records one INSERT carries: 12 parameters each.
const changeChunk = 1000

// changeArgs appends the changeColumns arguments of r.
func (db *DB) changeArgs(r *scimbridge.ChangeRecord, args []any) []any {
	var version, resource, attributes any
	if r.Version != 0 {
		version = r.Version
	}
	if len(r.Resource) > 0 {
		resource = string(r.Resource)
	}
	if len(r.Attributes) > 0 {
		b, _ := json.Marshal(r.Attributes)
		attributes = string(b)
	}
	return append(args, r.OrgID, string(r.Type), ns(r.ResourceID), version, resource, attributes,
		ns(r.GroupID), ns(r.UserID), string(r.Source), ns(r.RunID), ns(r.RequestID), db.tm(r.Time))
}

// execFunc runs a statement with ? placeholders.
type execFunc func(ctx context.Context, query string, args ...any) (sql.Result, error)

// insertChanges writes recs in order, in multi-row INSERTs.
func (db *DB) insertChanges(ctx context.Context, exec execFunc, recs []scimbridge.ChangeRecord) error {
	for start := 0; start < len(recs); start += changeChunk {
		chunk := recs[start:min(start+changeChunk, len(recs))]
		query := changeInsert + strings.Repeat(changeRow, len(chunk)-1)
		args := make([]any, 0, len(chunk)*len(changeColumns))
		for i := range chunk {
			args = db.changeArgs(&chunk[i], args)
		}
		if _, err := exec(ctx, query, args...); err != nil {
			return fmt.Errorf("insert change records: %w", err)
		}
	}
	return nil
}

// userChangeType is the record type of a profile change.
func userChangeType(k scimbridge.ChangeKind) scimbridge.ChangeType {
	switch k {
	case scimbridge.ChangeCreate, scimbridge.ChangeRevive:
		return scimbridge.ChangeUserCreated
	case scimbridge.ChangeDeactivate:
		return scimbridge.ChangeUserDeactivated
	case scimbridge.ChangeReactivate:
		return scimbridge.ChangeUserReactivated
	case scimbridge.ChangeDetach:
		return scimbridge.ChangeUserDeleted
	default: // update, adopt, release
		return scimbridge.ChangeUserUpdated
	}
}

// eventSource is the source a change names when its event does not: the
// profile's source.
func eventSource(s scimbridge.Source) scimbridge.EventSource {
	switch s {
	case scimbridge.SourceGoogle:
		return scimbridge.EventGoogle
	case scimbridge.SourceSCIM:
		return scimbridge.EventIdP
	default:
		return scimbridge.EventAdmin
	}
}

// fieldNames is the attribute names of fields, each once, in order.
func fieldNames(fields []scimbridge.FieldChange) []string {
	if len(fields) == 0 {
		return nil
	}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		dup := false
		for _, o := range out {
			if o == f.Field {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f.Field)
		}
	}
	return out
}

// userRecord is the change record of one profile change; ok is false for
// a change the feed does not show: one to a profile that stays detached
// (a deleted user releasing its userName to a new one).
func (db *DB) userRecord(ce *scimbridge.ChangeEvent) (rec scimbridge.ChangeRecord, ok bool, err error) {
	c := &ce.Change
	p := &c.Profile
	if p.Detached() && c.Kind != scimbridge.ChangeDetach {
		return rec, false, nil
	}
	rec = scimbridge.ChangeRecord{
		OrgID:      p.OrgID,
		Type:       userChangeType(c.Kind),
		ResourceID: p.ID,
		Version:    p.Version,
		Source:     ce.Event.Source,
		RunID:      ce.Event.RunID,
		RequestID:  ce.Event.RequestID,
		Time:       ce.Event.Time,
	}
	if rec.Source == "" {
		rec.Source = eventSource(p.Source)
	}
	if rec.Time.IsZero() {
		rec.Time = db.now()
	}
	if rec.Type != scimbridge.ChangeUserCreated {
		rec.Attributes = fieldNames(c.Fields)
	}
	if rec.Type != scimbridge.ChangeUserDeleted && db.renderer != nil {
		if rec.Resource, err = db.renderer.RenderUser(*p); err != nil {
			return rec, false, fmt.Errorf("render user: %w", err)
		}
	}
	return rec, true, nil
}

// userRecords renders the records of a batch of profile changes, one per
// change (ok false for those the feed does not show).
func (db *DB) userRecords(batch []scimbridge.ChangeEvent) ([]scimbridge.ChangeRecord, []bool, error) {
	recs := make([]scimbridge.ChangeRecord, len(batch))
	oks := make([]bool, len(batch))
	for i := range batch {
		var err error
		if recs[i], oks[i], err = db.userRecord(&batch[i]); err != nil {
			return nil, nil, err
		}
	}
	return recs, oks, nil
}

// memberRecord is a membership change record, carrying only the two ids.
func memberRecord(t scimbridge.ChangeType, orgID, groupID, userID string, base *scimbridge.ChangeRecord) scimbridge.ChangeRecord {
	return scimbridge.ChangeRecord{OrgID: orgID, Type: t, ResourceID: groupID, GroupID: groupID, UserID: userID,
		Source: base.Source, RunID: base.RunID, RequestID: base.RequestID, Time: base.Time}
}

// groupRecord is the record of a group change before its membership
// records; the attributes of an update are set once the stored group is
// known (writeGroupChange).
func (db *DB) groupRecord(ce *scimbridge.GroupChangeEvent) (scimbridge.ChangeRecord, error) {
	c := &ce.Change
	g := &c.Group
	rec := scimbridge.ChangeRecord{
		OrgID:      g.OrgID,
		ResourceID: g.ID,
		Version:    g.Version,
		Source:     ce.Event.Source,
		RunID:      ce.Event.RunID,
		RequestID:  ce.Event.RequestID,
		Time:       ce.Event.Time,
	}
	switch c.Kind {
	case scimbridge.ChangeGroupCreate:
		rec.Type = scimbridge.ChangeGroupCreated
	case scimbridge.ChangeGroupDelete:
		rec.Type = scimbridge.ChangeGroupDeleted
		rec.Version = c.ExpectedVersion
	default:
		rec.Type = scimbridge.ChangeGroupUpdated
	}
	if rec.Source == "" {
		rec.Source = eventSource(g.Source)
	}
	if rec.Time.IsZero() {
		rec.Time = db.now()
	}
	if rec.Type != scimbridge.ChangeGroupDeleted && db.renderer != nil {
		var err error
		if rec.Resource, err = db.renderer.RenderGroup(*g); err != nil {
			return rec, fmt.Errorf("render group: %w", err)
		}
	}
	return rec, nil
}

// txExec is tx's execFunc.
func (db *DB) txExec(tx *sqlx.Tx) execFunc {
	return func(ctx context.Context, query string, args ...any) (sql.Result, error) {
		return tx.ExecContext(ctx, db.rebind(query), args...)
	}
}

// scanIDs reads one text column of every row.
func scanIDs(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// Reading the changes feed. On PostgreSQL a record's position is (tx, seq)
// and a reader returns only records whose tx is below the oldest
// transaction of this database still in progress when its snapshot was
// taken: a transaction that took a lower position and commits late holds
// the reader back until it ends, and is never passed. On SQLite, one
// writer at a time, seq alone orders records and tx is 0.

// pgReadableTx is the lowest transaction id a PostgreSQL reader must not
// yet return: every transaction of this database below it has ended, so
// the statement's snapshot sees all it wrote. Transaction ids are
// server-wide, and the snapshot's own xmin would wait for a long
// transaction of any database on the server; the in-progress ids that
// pg_stat_activity shows a backend of another database running are left
// out (they cannot write here). An id it does not show (a transaction
// that ended since the snapshot, or one whose session the role may not
// see) is kept: its rows may be invisible to the snapshot, so the reader
// stays below it, as before.
const pgReadableTx = `(SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))::text::bigint
	FROM pg_snapshot_xip(pg_current_snapshot()) AS x
	WHERE x::xid NOT IN (SELECT backend_xid FROM pg_stat_activity
		WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL))`

const changeSelect = `SELECT tx, seq, org_id, type, resource_id, version, resource, attributes,
	group_id, user_id, source, run_id, request_id, time FROM changes`

// ChangesAfter returns up to limit records of orgID ("" for every
// organization) after the position after, in order, none that a
// transaction still in progress could precede.
func (db *DB) ChangesAfter(ctx context.Context, orgID string, after scimbridge.ChangePosition, limit int) ([]scimbridge.ChangeRecord, error) {
	if limit <= 0 {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "limit must be positive, got %d", limit)
	}
	var query string
	var args []any
	if db.dialect == DialectPostgres {
		query = changeSelect + ` WHERE (tx, seq) > (?, ?) AND tx < ` + pgReadableTx
		args = []any{after.Tx, after.Seq}
	} else {
		if after.Tx > 0 {
			return nil, nil // SQLite positions all have tx 0
		}
		query = changeSelect + ` WHERE seq > ?`
		args = []any{after.Seq}
	}
	if orgID != "" {
		query += ` AND org_id = ?`
		args = append(args, orgID)
	}
	query += ` ORDER BY tx, seq LIMIT ?`
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	defer rows.Close()
	var out []scimbridge.ChangeRecord
	for rows.Next() {
		r, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

func scanChange(rows *sql.Rows) (scimbridge.ChangeRecord, error) {
	var r scimbridge.ChangeRecord
	var typ, source string
	var version sql.NullInt64
	var resource, attributes sql.NullString
	err := rows.Scan(&r.Position.Tx, &r.Position.Seq, &r.OrgID, &typ, strDest{&r.ResourceID}, &version, &resource,
		&attributes, strDest{&r.GroupID}, strDest{&r.UserID}, &source, strDest{&r.RunID}, strDest{&r.RequestID},
		timeDest{&r.Time})
	if err != nil {
		return r, err
	}
	r.Type, r.Source, r.Version = scimbridge.ChangeType(typ), scimbridge.EventSource(source), version.Int64
	if resource.Valid {
		r.Resource = []byte(resource.String)
	}
	if attributes.Valid {
		if err := json.Unmarshal([]byte(attributes.String), &r.Attributes); err != nil {
			return r, err
		}
	}
	return r, nil
}

// ChangesHead is the position a reader starts from to see every change
// that commits after now: on PostgreSQL just below the oldest transaction
// in progress (a record of a transaction that committed meanwhile may be
// seen again, never one missed); on SQLite the last position assigned.
func (db *DB) ChangesHead(ctx context.Context, orgID string) (scimbridge.ChangePosition, error) {
	var pos scimbridge.ChangePosition
	var err error
	if db.dialect == DialectPostgres {
		err = db.read.QueryRowContext(ctx, `SELECT `+pgReadableTx).Scan(&pos.Tx)
	} else {
		// sqlite_sequence keeps the last seq even when the purge deleted
		// every record.
		err = db.read.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)`).Scan(&pos.Seq)
	}
	if err != nil {
		return pos, fmt.Errorf("read changes head: %w", err)
	}
	return pos, nil
}

// ChangesMark is a position that ChangesHead reaches once every record
// committed before the call is readable: on PostgreSQL the next
// transaction id to be assigned (every transaction that committed before
// has a lower one), on SQLite the last position assigned. Tests and the
// feed-lag gauge compare the two.
func (db *DB) ChangesMark(ctx context.Context) (scimbridge.ChangePosition, error) {
	if db.dialect != DialectPostgres {
		return db.ChangesHead(ctx, "")
	}
	var pos scimbridge.ChangePosition
	err := db.read.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&pos.Tx)
	if err != nil {
		return pos, fmt.Errorf("read changes mark: %w", err)
	}
	return pos, nil
}

// OldestChange is the lowest position kept for orgID ("" for every
// organization).
func (db *DB) OldestChange(ctx context.Context, orgID string) (scimbridge.ChangePosition, bool, error) {
	query, args := `SELECT tx, seq FROM changes`, []any{}
	if orgID != "" {
		query += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	var pos scimbridge.ChangePosition
	err := db.read.QueryRowContext(ctx, db.rebind(query+` ORDER BY tx, seq LIMIT 1`), args...).Scan(&pos.Tx, &pos.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return pos, false, nil
	} else if err != nil {
		return pos, false, fmt.Errorf("read oldest change: %w", err)
	}
	return pos, true, nil
}

// ChangesPurgedThrough is the highest position the retention purge has
// deleted (ok false when it never deleted any): a cursor below it may have
// missed records and must start again from a snapshot.
func (db *DB) ChangesPurgedThrough(ctx context.Context) (scimbridge.ChangePosition, bool, error) {
	var pos scimbridge.ChangePosition
	err := db.read.QueryRowContext(ctx, `SELECT tx, seq FROM changes_purged WHERE id = 1`).Scan(&pos.Tx, &pos.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return pos, false, nil
	} else if err != nil {
		return pos, false, fmt.Errorf("read purged changes: %w", err)
	}
	return pos, true, nil
}

// PurgeChanges deletes records older than before, batch rows per
// transaction, and raises the purged-through position to the highest it
// deleted.
func (db *DB) PurgeChanges(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	total := 0
	for {
		n := 0
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			rows, err := tx.QueryContext(ctx, db.rebind(`DELETE FROM changes WHERE (tx, seq) IN
				(SELECT tx, seq FROM changes WHERE time < ? LIMIT ?) RETURNING tx, seq`), db.tm(before), batch)
			if err != nil {
				return err
			}
			var top scimbridge.ChangePosition
			for rows.Next() {
				var p scimbridge.ChangePosition
				if err := rows.Scan(&p.Tx, &p.Seq); err != nil {
					rows.Close()
					return err
				}
				if top.Less(p) {
					top = p
				}
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			_, err = tx.ExecContext(ctx, db.rebind(`INSERT INTO changes_purged (id, tx, seq) VALUES (1, ?, ?)
				ON CONFLICT (id) DO UPDATE SET tx = excluded.tx, seq = excluded.seq
				WHERE changes_purged.tx < excluded.tx OR (changes_purged.tx = excluded.tx AND changes_purged.seq < excluded.seq)`),
				top.Tx, top.Seq)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge changes: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// releaseRecords are the user.updated records of the profiles ids that a
// release made manual, read in tx after the update.
func (db *DB) releaseRecords(ctx context.Context, tx *sqlx.Tx, orgID string, ids []string, ev scimbridge.Event) ([]scimbridge.ChangeRecord, error) {
	recs := make([]scimbridge.ChangeRecord, 0, len(ids))
	for start := 0; start < len(ids); start += scimbridge.MaxBatch {
		chunk := ids[start:min(start+scimbridge.MaxBatch, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, orgID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, db.rebind(profileEmailsSelect+` WHERE p.org_id = ? AND p.id IN (`+
			placeholders(len(chunk))+`) ORDER BY p.id, e.position`), args...)
		if err != nil {
			return nil, fmt.Errorf("read released profiles: %w", err)
		}
		ps, err := scanProfiles(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("read released profiles: %w", err)
		}
		for i := range ps {
			rec, ok, err := db.userRecord(&scimbridge.ChangeEvent{
				Change: scimbridge.Change{Kind: scimbridge.ChangeRelease, Profile: ps[i],
					Fields: []scimbridge.FieldChange{{Field: "source"}}},
				Event: ev,
			})
			if err != nil {
				return nil, err
			}
			if ok {
				recs = append(recs, rec)
			}
		}
	}
	return recs, nil
}

// bridgeRecord is the record of a bridge state an application reacts to.
func (db *DB) bridgeRecord(orgID string, t scimbridge.ChangeType, resourceID string, at time.Time) scimbridge.ChangeRecord {
	if at.IsZero() {
		at = db.now()
	}
	return scimbridge.ChangeRecord{OrgID: orgID, Type: t, ResourceID: resourceID, Source: scimbridge.EventGoogle, Time: at}
}

// bridgeNeedsAttention is UpdateBridgeState for a state that needs
// attention: when the bridge did not need it before, the same transaction
// writes a bridge.needs_attention record.
func (db *DB) bridgeNeedsAttention(ctx context.Context, b scimbridge.Bridge) error {
	var rec []scimbridge.ChangeRecord
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		lock := ""
		if db.dialect == DialectPostgres {
			lock = " FOR UPDATE"
		}
		var before int
		err := tx.QueryRowContext(ctx, db.rebind(`SELECT CASE WHEN needs_attention THEN 1 ELSE 0 END FROM bridges WHERE org_id = ?`+lock),
			b.OrgID).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("bridge")
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.rebind(`UPDATE bridges SET last_sync_at = ?, last_success_at = ?, next_sync_at = ?,
		consecutive_failures = ?, last_error = ?, needs_attention = ?, updated_at = ? WHERE org_id = ?`),
			db.ntm(b.LastSyncAt), db.ntm(b.LastSuccessAt), db.ntm(b.NextSyncAt), b.ConsecutiveFailures,
			ns(b.LastError), b.NeedsAttention, db.tm(b.UpdatedAt), b.OrgID)
		if err != nil || before == 1 {
			return err
		}
		rec = []scimbridge.ChangeRecord{db.bridgeRecord(b.OrgID, scimbridge.ChangeBridgeAttention, b.OrgID, b.UpdatedAt)}
		return db.insertChanges(ctx, db.txExec(tx), rec)
	})
	if err != nil {
		return fmt.Errorf("update bridge state: %w", err)
	}
	db.committed(rec)
	return nil
}

// ChangesLag is how long the oldest change record that has committed but
// is not readable yet (a lower transaction is still in progress) has
// waited, by its time; 0 when every committed record is readable, and
// always 0 on SQLite.
func (db *DB) ChangesLag(ctx context.Context) (time.Duration, error) {
	if db.dialect != DialectPostgres {
		return 0, nil
	}
	var secs float64
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(time)), 0)::float8
		FROM changes WHERE tx >= `+pgReadableTx).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("read changes lag: %w", err)
	}
	return time.Duration(max(secs, 0) * float64(time.Second)), nil
}

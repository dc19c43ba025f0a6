package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/scimbridge/scimbridge"
)

// Deleting an organization. The tables it owns are found in the schema,
// not listed here, so a table a later migration adds is covered: every
// table with an org_id column. A table whose rows hang on another owned
// table through a foreign key ON DELETE CASCADE (emails, memberships,
// report items) goes with those rows; every other owned table is deleted
// by org_id, children before the tables they reference, at most batch rows
// per write transaction, so the writers of other organizations wait at
// most one short batch at a time. The credentials that let anyone act on
// the organization or receive its changes (its SCIM configuration, admin
// tokens, bridge and lease, webhook endpoints) go first, then its profiles.
// The last transaction sweeps what was written meanwhile, deletes the
// organization row and records the deletion's event, which belongs to no
// organization and so outlives it.

// accessTables are deleted first among the tables ready to go, in this
// order. Profiles come right after: their deletion takes their
// memberships a few at a time, where deleting a group would take all of
// its members (100,000 in one transaction) at once.
var accessTables = map[string]int{"scim_configs": 0, "admin_tokens": 1, "leases": 2, "bridges": 3,
	"webhook_endpoints": 4, "profiles": 5}

// ownedTable is a table with an org_id column.
type ownedTable struct {
	name string
	// cascade says its rows go with the rows of another owned table.
	cascade bool
	// parents are the other owned tables it references.
	parents []string
}

// ownedTables returns the tables with an org_id column but organizations,
// in the order they are deleted: children first.
func (db *DB) ownedTables(ctx context.Context) ([]ownedTable, error) {
	type fk struct {
		child, parent string
		cascade       bool
	}
	var names []string
	var fks []fk
	if db.dialect == DialectPostgres {
		if err := db.read.SelectContext(ctx, &names, `SELECT c.table_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE'`); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		rows, err := db.read.QueryContext(ctx, `SELECT cl.relname, pcl.relname, con.confdeltype = 'c'
			FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class pcl ON pcl.oid = con.confrelid
			WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace`)
		if err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var f fk
			if err := rows.Scan(&f.child, &f.parent, &f.cascade); err != nil {
				return nil, fmt.Errorf("list foreign keys: %w", err)
			}
			fks = append(fks, f)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
	} else {
		if err := db.read.SelectContext(ctx, &names, `SELECT m.name FROM sqlite_master m
			WHERE m.type = 'table' AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'org_id')`); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		rows, err := db.read.QueryContext(ctx, `SELECT m.name, f."table", f.on_delete = 'CASCADE'
			FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`)
		if err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var f fk
			if err := rows.Scan(&f.child, &f.parent, &f.cascade); err != nil {
				return nil, fmt.Errorf("list foreign keys: %w", err)
			}
			fks = append(fks, f)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
	}
	tables := make(map[string]*ownedTable)
	for _, n := range names {
		if n != "organizations" {
			tables[n] = &ownedTable{name: n}
		}
	}
	children := make(map[string]int) // owned tables still referencing a table
	for _, f := range fks {
		t, p := tables[f.child], tables[f.parent]
		if t == nil || p == nil || f.child == f.parent {
			continue
		}
		if f.cascade {
			t.cascade = true
		}
		t.parents = append(t.parents, f.parent)
	}
	for _, t := range tables {
		if !t.cascade {
			for _, p := range t.parents {
				children[p]++
			}
		}
	}
	// Kahn's order: a table goes once no table still to delete references it.
	var out []ownedTable
	for len(tables) > 0 {
		var ready []string
		for n, t := range tables {
			if t.cascade || children[n] == 0 {
				ready = append(ready, n)
			}
		}
		if len(ready) == 0 {
			return nil, fmt.Errorf("order tables: foreign keys form a cycle")
		}
		sort.Slice(ready, func(i, j int) bool {
			ri, iok := accessTables[ready[i]]
			rj, jok := accessTables[ready[j]]
			if iok != jok {
				return iok
			}
			if iok {
				return ri < rj
			}
			return ready[i] < ready[j]
		})
		n := ready[0]
		t := tables[n]
		delete(tables, n)
		if !t.cascade {
			for _, p := range t.parents {
				children[p]--
			}
		}
		out = append(out, *t)
	}
	return out, nil
}

// DeleteOrganization deletes the organization and every row it owns.
func (db *DB) DeleteOrganization(ctx context.Context, orgID string, batch int, ev scimbridge.Event) (scimbridge.OrgDeletion, error) {
	del := scimbridge.OrgDeletion{Rows: make(map[string]int)}
	if batch <= 0 {
		batch = 1000
	}
	if _, err := db.Organization(ctx, orgID); err != nil {
		return del, err
	}
	tables, err := db.ownedTables(ctx)
	if err != nil {
		return del, fmt.Errorf("delete organization: %w", err)
	}
	for _, t := range tables {
		if t.cascade {
			continue
		}
		n, err := db.deleteOwnedRows(ctx, t.name, orgID, batch)
		del.Rows[t.name] += n
		if err != nil {
			return del, fmt.Errorf("delete organization: %s: %w", t.name, err)
		}
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, t := range tables {
			if t.cascade {
				continue
			}
			res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM `+quoteIdent(t.name)+` WHERE org_id = ?`), orgID)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			n, _ := res.RowsAffected()
			del.Rows[t.name] += int(n)
		}
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM organizations WHERE id = ?`), orgID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "organization"); err != nil {
			return err
		}
		del.Rows["organizations"] = 1
		for n, c := range del.Rows {
			if c == 0 {
				delete(del.Rows, n)
			}
		}
		body, _ := json.Marshal(del)
		ev.OrgID, ev.ResponseBody = "", string(body)
		return db.insertEvents(ctx, tx, []scimbridge.Event{ev})
	})
	if err != nil {
		return del, fmt.Errorf("delete organization: %w", err)
	}
	return del, nil
}

// deleteOwnedRows deletes the organization's rows of table, batch rows per
// transaction: their row ids (rowid, ctid) are read on the read pool, so
// only the short delete by row id holds the write lock.
func (db *DB) deleteOwnedRows(ctx context.Context, table, orgID string, batch int) (int, error) {
	rowID := "rowid"
	if db.dialect == DialectPostgres {
		rowID = "ctid::text"
	}
	find := db.rebind(`SELECT ` + rowID + ` FROM ` + quoteIdent(table) + ` WHERE org_id = ? LIMIT ?`)
	total := 0
	for {
		var ids []string
		if err := db.read.SelectContext(ctx, &ids, find, orgID, batch); err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		var res interface{ RowsAffected() (int64, error) }
		var err error
		if db.dialect == DialectPostgres {
			res, err = db.write.ExecContext(ctx, `DELETE FROM `+quoteIdent(table)+` WHERE org_id = $1 AND ctid = ANY($2::tid[])`,
				orgID, pq.Array(ids))
		} else {
			args := make([]any, 0, len(ids)+1)
			args = append(args, orgID)
			for _, id := range ids {
				n, perr := strconv.ParseInt(id, 10, 64)
				if perr != nil {
					return total, perr
				}
				args = append(args, n)
			}
			res, err = db.write.ExecContext(ctx, `DELETE FROM `+quoteIdent(table)+` WHERE org_id = ? AND rowid IN (`+
				placeholders(len(ids))+`)`, args...)
		}
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
		if n == 0 {
			// The rows read moved (an update gave them new ctids): read
			// again after a pause rather than spin.
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// quoteIdent quotes a table name read from the schema.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// ListStatements exposes the statements ListProfiles runs, for the
// query-plan test: page (args, limit, offset), pageCount (args twice,
// limit, offset) and count (args), with ? placeholders rebound.
func (db *DB) ListStatements(q scimbridge.ProfileQuery) (page, pageCount, count string, args []any, err error) {
	st, err := db.listStatements(q)
	return db.rebind(st.page), db.rebind(st.pageCount), db.rebind(st.count), st.args, err
}

// LookupStatement exposes LookupProfiles' statement, rebound.
func (db *DB) LookupStatement(orgID string, l scimbridge.ProfileLookup) (string, []any) {
	q, args := lookupStatement(orgID, l)
	return db.rebind(q), args
}

// ProfileStatement is Profile's statement, rebound.
func (db *DB) ProfileStatement() string {
	return db.rebind(profileByID)
}

// CountChanges counts n profile changes as ApplyChanges does and waits
// for the ANALYZE it may have started; it returns how many ANALYZE runs
// have finished and the table size the last one found.
func (db *DB) CountChanges(ctx context.Context, n int) (runs, rows int64) {
	db.countChanges(ctx, n)
	db.analyser.wg.Wait()
	db.analyser.mu.Lock()
	defer db.analyser.mu.Unlock()
	return db.analyser.runs, db.analyser.rows
}

// AnalyseFirst is how many changes pass before the first ANALYZE.
const AnalyseFirst = analyseFirst

// Backfill0004 forgets the recorded sealing keys and runs again what
// migration 0004 does for bridges sealed before it: its statements after
// the CREATE TABLE.
func (db *DB) Backfill0004(ctx context.Context) error {
	src, err := migrationFiles.ReadFile("migrations/" + db.dialect + "/0004_sealing_keys.sql")
	if err != nil {
		return err
	}
	_, backfill, ok := strings.Cut(string(src), ";\n")
	if !ok {
		return fmt.Errorf("0004 has no CREATE TABLE")
	}
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sealing_keys`); err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, backfill)
	return err
}

// GroupMembersStatement is GroupMembers' page statement, rebound.
func (db *DB) GroupMembersStatement() string {
	return db.rebind(groupMembersSelect)
}

// HeldTx is a write transaction a test keeps open while others commit.
type HeldTx struct {
	db *DB
	tx *sqlx.Tx
}

// BeginHeld starts a write transaction and, on PostgreSQL, has it take its
// transaction id now.
func (db *DB) BeginHeld(ctx context.Context) (*HeldTx, error) {
	tx, err := db.write.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if db.dialect == DialectPostgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	return &HeldTx{db: db, tx: tx}, nil
}

// Record writes rec in the held transaction, as a directory change does.
func (h *HeldTx) Record(ctx context.Context, rec scimbridge.ChangeRecord) error {
	return h.db.insertChanges(ctx, h.db.txExec(h.tx), []scimbridge.ChangeRecord{rec})
}

func (h *HeldTx) Commit() error { return h.tx.Commit() }
func (h *HeldTx) Rollback()     { h.tx.Rollback() }

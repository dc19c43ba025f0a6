package store

import (
	"context"

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

// GroupMembersStatement is GroupMembers' page statement, rebound.
func (db *DB) GroupMembersStatement() string {
	return db.rebind(groupMembersSelect)
}

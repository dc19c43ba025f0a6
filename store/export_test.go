package store

import "github.com/scimbridge/scimbridge"

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

package store

import "database/sql"

// Stats returns the statistics of the connection pools by name: "main" on
// PostgreSQL (one pool serves reads and writes); "read" and "write" on
// SQLite.
func (db *DB) Stats() map[string]sql.DBStats {
	if db.write == db.read {
		return map[string]sql.DBStats{"main": db.read.Stats()}
	}
	return map[string]sql.DBStats{"read": db.read.Stats(), "write": db.write.Stats()}
}

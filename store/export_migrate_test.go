package store

import "context"

// MigrateTo applies the migrations up to version only, as an older binary
// would, so a test can write rows a later migration must convert.
func (db *DB) MigrateTo(ctx context.Context, version int) error {
	ms, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	if db.dialect == DialectPostgres {
		return db.migratePostgres(ctx, ms[:version], nil)
	}
	return db.migrateSQLite(ctx, ms[:version], nil)
}

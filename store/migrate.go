package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/internal/textkey"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationLockKey is the pg_advisory_lock key that serialises migrations
// across replicas ("scimbrdg" in ASCII).
const migrationLockKey int64 = 0x7363696d62726467

// migration is one forward-only schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order. File names
// are NNNN_name.sql.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: bad version", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("read migrations: version %d missing", i+1)
		}
	}
	return out, nil
}

// LatestVersion is the newest schema version this binary knows for dialect.
func LatestVersion(dialect string) (int, error) {
	ms, err := migrations(dialect)
	return len(ms), err
}

// SchemaChecksum is a digest of the dialect's migration files: test
// helpers use it to tell a stale pre-migrated template database.
func SchemaChecksum(dialect string) (string, error) {
	ms, err := migrations(dialect)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d\x00%s\x00", m.version, m.sql)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// createMigrationsTable is the bookkeeping table, the same on both dialects.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at BIGINT  NOT NULL
)`

// querier is what both *sql.Conn and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// SchemaVersion returns the database's schema version (0 when never
// migrated) and the newest one this binary knows. serve refuses
// current > latest.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	ms, err := migrations(db.dialect)
	if err != nil {
		return 0, 0, err
	}
	current, err = db.currentVersion(ctx, db.read)
	if err != nil {
		return 0, 0, err
	}
	return current, len(ms), nil
}

func (db *DB) currentVersion(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) (int, error) {
	var exists bool
	check := `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if db.dialect == DialectPostgres {
		check = `SELECT to_regclass('schema_migrations') IS NOT NULL`
	}
	if err := q.QueryRowContext(ctx, check).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies the pending migrations under a lock (PostgreSQL: a session
// advisory lock on one dedicated connection; SQLite: an exclusive
// transaction) and then, still holding the lock and only when the database
// had no organization before, calls bootstrap (which may be nil).
func (db *DB) Migrate(ctx context.Context, bootstrap func(ctx context.Context) error) error {
	ms, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	// Statements prepared against the old schema are dropped (none are
	// before a first migration).
	db.readStmts.close()
	db.writeStmts.close()
	db.writesPrepared.Store(false)
	if db.dialect == DialectPostgres {
		return db.migratePostgres(ctx, ms, bootstrap)
	}
	return db.migrateSQLite(ctx, ms, bootstrap)
}

func (db *DB) migrateSQLite(ctx context.Context, ms []migration, bootstrap func(context.Context) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	empty, err := db.applyMigrations(ctx, conn, ms)
	if err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("migrate: commit: %w", err)
	}
	// The single write connection goes back to the pool before bootstrap
	// writes through it; the file lock taken in Open keeps other processes
	// out meanwhile.
	conn.Close()
	if empty && bootstrap != nil {
		if err := bootstrap(ctx); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	return nil
}

func (db *DB) migratePostgres(ctx context.Context, ms []migration, bootstrap func(context.Context) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			db.logger.Warn("migration unlock failed", "err", err)
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	empty, err := db.applyMigrations(ctx, tx, ms)
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	if empty && bootstrap != nil {
		if err := bootstrap(ctx); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	return nil
}

// applyMigrations runs the pending migrations on q, which holds the lock,
// and reports whether the database had no organization before.
func (db *DB) applyMigrations(ctx context.Context, q querier, ms []migration) (empty bool, err error) {
	if _, err := q.ExecContext(ctx, createMigrationsTable); err != nil {
		return false, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	current, err := db.currentVersion(ctx, q)
	if err != nil {
		return false, err
	}
	if current > len(ms) {
		return false, fmt.Errorf("migrate: database schema version %d is newer than this binary's %d", current, len(ms))
	}
	if current > 0 {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&n); err != nil {
			return false, fmt.Errorf("migrate: count organizations: %w", err)
		}
		empty = n == 0
	} else {
		empty = true
	}
	for _, m := range ms[current:] {
		if _, err := q.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if m.version == displayNameKeyVersion {
			if err := db.backfillDisplayNameKeys(ctx, q); err != nil {
				return false, fmt.Errorf("migrate: apply %s: %w", m.name, err)
			}
		}
		if _, err := q.ExecContext(ctx, db.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
			m.version, db.now().UnixMicro()); err != nil {
			return false, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		db.logger.Info("migration applied", "dialect", db.dialect, "version", m.version, "name", m.name)
	}
	return empty, nil
}

// displayNameKeyVersion is the migration that adds profiles.display_name_key.
const displayNameKeyVersion = 5

// backfillDisplayNameKeys fills display_name_key of existing profiles with
// textkey.Key(display_name), in the migration's transaction: SQL lower()
// folds differently on each database (SQLite only ASCII) and does not
// normalise, so only Go computes the keys new writes store.
func (db *DB) backfillDisplayNameKeys(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `SELECT id, display_name FROM profiles WHERE display_name IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("read display names: %w", err)
	}
	type pair struct{ id, key string }
	var todo []pair
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return fmt.Errorf("read display names: %w", err)
		}
		todo = append(todo, pair{id, textkey.Key(name)})
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read display names: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read display names: %w", err)
	}
	update := db.rebind(`UPDATE profiles SET display_name_key = ? WHERE id = ?`)
	for _, p := range todo {
		if _, err := q.ExecContext(ctx, update, p.key, p.id); err != nil {
			return fmt.Errorf("write display name key: %w", err)
		}
	}
	return nil
}

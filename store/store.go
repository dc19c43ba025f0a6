// Package store is the SQL persistence of scimbridge: one implementation of
// scimbridge.Store over SQLite (modernc.org/sqlite, no cgo) and PostgreSQL
// (lib/pq), both through sqlx. Queries are written once with ? placeholders
// and rebound per dialect; the schema differs only in column types
// (SQLite keeps times as INTEGER Unix microseconds, PostgreSQL as
// timestamptz) and is migrated forward-only from embedded files.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/scimbridge/scimbridge"
)

// Dialect names.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DB is a scimbridge.Store over one SQL database.
type DB struct {
	dialect string
	// read serves queries; write serves every write. On SQLite write is a
	// separate pool of one connection (SQLite has one writer at a time) and
	// read a small query_only pool; on PostgreSQL both are the same pool.
	read  *sqlx.DB
	write *sqlx.DB
	// lockFile holds the exclusive flock that keeps a second process off a
	// SQLite file.
	lockFile *os.File
	path     string
	logger   *slog.Logger
	now      scimbridge.Clock
	// changes counts profile changes since the last SQLite optimize.
	changes atomic.Int64
	// analyser refreshes PostgreSQL's planner statistics (stats.go).
	analyser analyser
	// eventStats refreshes the events table's (events_stats.go).
	eventStats eventsAnalyser
	// readStmts and writeStmts keep the prepared statements of the read
	// and write pools (one cache on PostgreSQL, where they are one pool);
	// writesPrepared says prepareWrites has run.
	readStmts, writeStmts *stmtCache
	writesPrepared        atomic.Bool
	// renderer and changeNotify serve the changes feed (changerecords.go).
	renderer     scimbridge.ChangeRenderer
	changeNotify func(orgID string)
}

var _ scimbridge.Store = (*DB)(nil)

// sqliteParams are the connection settings of every SQLite connection.
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// Options are the pool settings of Open.
type Options struct {
	// Logger receives the store's warnings; nil discards them.
	Logger *slog.Logger
	// MaxOpenConns caps the open connections: the PostgreSQL pool, or
	// SQLite's read pool (SQLite writes through one connection). Zero
	// means 16 on PostgreSQL and 4 on SQLite.
	MaxOpenConns int
	// StatementTimeout bounds every PostgreSQL statement, commit and
	// rollback (the caller's context may end it sooner). Zero means
	// DefaultStatementTimeout.
	StatementTimeout time.Duration
}

// DefaultStatementTimeout is the statement timeout of Open.
const DefaultStatementTimeout = 30 * time.Second

// Open connects to dsn ("sqlite:///abs/path.db", "postgres://..." or
// "postgresql://...") with the default Options, without migrating. A SQLite
// file already opened by another scimbridge process is refused.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return OpenWith(ctx, dsn, Options{Logger: logger})
}

// OpenWith is Open with explicit pool settings.
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, dsn, opts)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, opts)
	default:
		return nil, scimbridge.Errorf(scimbridge.EINVALID,
			"database url must start with sqlite:// or postgres://")
	}
}

func openPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 16
	}
	connector, err := newPGConnector(dsn, opts.StatementTimeout)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	pool.SetMaxOpenConns(opts.MaxOpenConns)
	pool.SetMaxIdleConns(opts.MaxOpenConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	db := &DB{dialect: DialectPostgres, read: pool, write: pool, logger: opts.Logger, now: time.Now}
	db.readStmts = newStmtCache(pool, db.rebind)
	db.writeStmts = db.readStmts
	return db, nil
}

// sqlitePath returns the file path of a sqlite:///abs/path.db url.
func sqlitePath(dsn string) (string, error) {
	p := strings.TrimPrefix(dsn, "sqlite:")
	p = strings.TrimPrefix(p, "//")
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return "", scimbridge.Errorf(scimbridge.EINVALID, "sqlite url takes no query: %s", dsn)
	}
	if !strings.HasPrefix(p, "/") {
		return "", scimbridge.Errorf(scimbridge.EINVALID, "sqlite url needs an absolute path (sqlite:///path/to/file.db): %s", dsn)
	}
	return p, nil
}

func openSQLite(ctx context.Context, dsn string, opts Options) (*DB, error) {
	logger := opts.Logger
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 4
	}
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	name := "file:" + (&url.URL{Path: path}).EscapedPath()
	// analysis_limit keeps PRAGMA optimize's ANALYZE to a sample.
	write, err := sqlx.Open("sqlite", name+"?"+sqliteParams+"&_pragma=analysis_limit(1000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The write connection goes first: it turns WAL on before any reader.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Readers map up to 256 MiB of the file instead of reading it page by
	// page (whole-set reads of 100k profiles halve).
	read, err := sqlx.Open("sqlite", name+"?"+sqliteParams+"&_pragma=mmap_size(268435456)&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(opts.MaxOpenConns)
	read.SetMaxIdleConns(opts.MaxOpenConns)
	read.SetConnMaxLifetime(0)
	read.SetConnMaxIdleTime(0)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db := &DB{dialect: DialectSQLite, read: read, write: write,
		path: path, logger: logger, now: time.Now}
	db.readStmts, db.writeStmts = newStmtCache(read, db.rebind), newStmtCache(write, db.rebind)
	// Refresh the planner statistics of tables that grew or were never
	// analysed, as SQLite recommends for long-lived connections.
	if _, err := write.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		logger.Warn("sqlite optimize failed", "err", err)
	}
	return db, nil
}

// createPrivate creates the database file 0600 whatever the umask, when it
// does not exist yet. SQLite gives its -wal and -shm files the mode of the
// database file, so they are private too.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return nil
}

// ClaimServe marks this process as the one serving the database. On SQLite
// it takes an exclusive lock on "<file>.lock", so a second serve on the same
// file exits with a clear error while CLI commands keep working beside it;
// on PostgreSQL, where any number of replicas serve, it does nothing. The
// lock is released by Close or when the process dies.
func (db *DB) ClaimServe() error {
	if db.dialect != DialectSQLite || db.lockFile != nil {
		return nil
	}
	lock, err := lockSQLite(db.path)
	if err != nil {
		return err
	}
	db.lockFile = lock
	return nil
}

// lockSQLite takes the exclusive lock on "<path>.lock" that keeps a second
// process from serving the same file.
func lockSQLite(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}

	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("database %s is in use by another scimbridge process", path)
		}
		return nil, fmt.Errorf("lock database %s: %w", path, err)
	}
	return f, nil
}

// SetClock replaces the clock the store reads "now" from (lease expiry, the
// SCIM token's last-used time, release times). Call it before use.
func (db *DB) SetClock(clock scimbridge.Clock) {
	if clock != nil {
		db.now = clock
	}
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQLX returns the read pool, for tests and EXPLAIN.
func (db *DB) SQLX() *sqlx.DB { return db.read }

// WriteSQLX returns the write handle (the one write connection on SQLite),
// for benchmarks and maintenance statements such as checkpoints.
func (db *DB) WriteSQLX() *sqlx.DB { return db.write }

// Ping checks the database is reachable and its schema current.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current != latest {
		return fmt.Errorf("check schema: database is at version %d, this binary expects %d", current, latest)
	}
	return nil
}

// optimizeEvery is how many profile changes pass between two SQLite
// PRAGMA optimize runs, so the planner's statistics follow the data (a
// query by externalId must not scan the organization in id order).
const optimizeEvery = 5000

// Optimize refreshes the query planner's statistics: PRAGMA optimize on
// SQLite (which re-analyses only tables that changed much), ANALYZE of the
// profile and group tables on PostgreSQL (autovacuum does it there too).
func (db *DB) Optimize(ctx context.Context) error {
	query := "PRAGMA optimize"
	if db.dialect == DialectPostgres {
		query = "ANALYZE profiles, profile_emails, groups, group_members"
	}
	if _, err := db.write.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("optimize database: %w", err)
	}
	return nil
}

// Close closes the pools and releases the SQLite lock.
func (db *DB) Close() error {
	var errs []error
	db.analyser.stop()
	db.eventStats.stop()
	db.readStmts.close()
	db.writeStmts.close()
	if db.dialect == DialectSQLite {
		if _, err := db.write.Exec("PRAGMA optimize"); err != nil {
			db.logger.Warn("sqlite optimize failed", "err", err)
		}
	}
	if db.write != db.read {
		errs = append(errs, db.write.Close())
	}
	errs = append(errs, db.read.Close())
	if db.lockFile != nil {
		errs = append(errs, db.lockFile.Close())
		db.lockFile = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// rebind turns ? placeholders into the dialect's.
func (db *DB) rebind(query string) string {
	if db.dialect == DialectPostgres {
		return sqlx.Rebind(sqlx.DOLLAR, query)
	}
	return query
}

// readTx starts a read-only transaction on the read pool, so the several
// queries of one read see one snapshot.
func (db *DB) readTx(ctx context.Context) (*sqlx.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTxx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return tx, nil
}

// writeTx starts a transaction on the write handle (BEGIN IMMEDIATE on
// SQLite).
func (db *DB) writeTx(ctx context.Context) (*sqlx.Tx, error) {
	tx, err := db.write.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin write: %w", err)
	}
	return tx, nil
}

// inTx runs fn in a write transaction and commits it, or rolls back on error.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return db.convertError(err)
	}
	if err := tx.Commit(); err != nil {
		return db.convertError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// exec runs one write statement outside an explicit transaction.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.write.ExecContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, db.convertError(err)
	}
	return res, nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxCachedStmts bounds how many distinct statements one pool keeps
// prepared (on PostgreSQL, on each of its connections). The fixed
// statements number a few dozen; listings add one or two per filter shape
// and sort (values are always parameters). Past the bound a new shape runs
// unprepared, which is correct, only slower, so a client sending ever new
// filter shapes cannot grow the server's memory.
const maxCachedStmts = 128

// stmtCache keeps one prepared statement per query text for a pool. A
// prepared statement spares PostgreSQL the parse, analysis and usually the
// planning of each execution, and lib/pq a round trip (an unprepared query
// with parameters is a Parse/Describe exchange, then a Bind/Execute one);
// SQLite keeps the compiled program. database/sql prepares each statement
// lazily on every connection that runs it.
type stmtCache struct {
	pool   *sqlx.DB
	rebind func(string) string
	mu     sync.RWMutex
	m      map[string]*sql.Stmt // by query text with ? placeholders
}

func newStmtCache(pool *sqlx.DB, rebind func(string) string) *stmtCache {
	return &stmtCache{pool: pool, rebind: rebind, m: make(map[string]*sql.Stmt)}
}

// get returns the prepared statement of query (? placeholders), preparing
// it on first use; nil (no error) when the cache is full. It takes a
// connection of the pool to prepare, so it must not be called while the
// caller holds one in a transaction (SQLite's write pool has only one):
// write transactions use lookup.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.lookup(query); ok || c.full() {
		return st, nil
	}
	st, err := c.pool.PrepareContext(ctx, c.rebind(query))
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		// Another request prepared it meanwhile.
		st.Close()
		return prev, nil
	}
	if len(c.m) >= maxCachedStmts {
		st.Close()
		return nil, nil
	}
	c.m[query] = st
	return st, nil
}

// lookup returns query's statement if it is prepared already.
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st, ok := c.m[query]
	return st, ok
}

func (c *stmtCache) full() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m) >= maxCachedStmts
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// query runs a read on the read pool through a prepared statement; query
// has ? placeholders.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.read.QueryContext(ctx, db.rebind(query), args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for a single row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := db.readStmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.read.QueryRowContext(ctx, db.rebind(query), args...), nil
	}
	return st.QueryRowContext(ctx, args...), nil
}

// txStmts runs the statements of one write transaction through the write
// pool's prepared statements, binding each to the transaction once.
type txStmts struct {
	db    *DB
	tx    *sqlx.Tx
	bound map[string]*sql.Stmt
	// later are statements execCached ran unprepared, to prepare once
	// the transaction has released its connection.
	later []string
}

func (db *DB) txStmts(tx *sqlx.Tx) *txStmts {
	return &txStmts{db: db, tx: tx}
}

// exec runs query (with ? placeholders) in the transaction.
func (s *txStmts) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.ExecContext(ctx, s.db.rebind(query), args...)
	}
	return st.ExecContext(ctx, args...)
}

// query runs a query (with ? placeholders) in the transaction.
func (s *txStmts) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.QueryContext(ctx, s.db.rebind(query), args...)
	}
	return st.QueryContext(ctx, args...)
}

// execCached is exec for a statement built at run time (SQLite's
// narrowed UPDATE): one not prepared yet runs unprepared and is prepared
// by prepareLater.
func (s *txStmts) execCached(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, ok := s.db.writeStmts.lookup(query); !ok {
		s.later = append(s.later, query)
	}
	return s.exec(ctx, query, args...)
}

// prepareLater prepares the statements s ran unprepared through
// execCached; call it after the transaction ended.
func (s *txStmts) prepareLater(ctx context.Context) {
	for _, q := range s.later {
		if _, err := s.db.writeStmts.get(ctx, q); err != nil {
			s.db.logger.Warn("prepare statement", "err", err)
		}
	}
	s.later = nil
}

// queryRow runs a single-row query (with ? placeholders) in the transaction.
func (s *txStmts) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.QueryRowContext(ctx, s.db.rebind(query), args...), nil
	}
	return st.QueryRowContext(ctx, args...), nil
}

// stmt returns query's prepared statement bound to the transaction; nil
// when the write pool has not prepared query (see prepareWrites).
func (s *txStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.bound[query]; ok {
		return st, nil
	}
	parent, ok := s.db.writeStmts.lookup(query)
	if !ok {
		return nil, nil
	}
	st := s.tx.StmtContext(ctx, parent)
	if s.bound == nil {
		s.bound = make(map[string]*sql.Stmt, 4)
	}
	s.bound[query] = st
	return st, nil
}

// prepareWrites prepares, once, the statements the write transactions of
// single changes run, before any transaction holds a connection.
func (db *DB) prepareWrites(ctx context.Context) error {
	if db.writesPrepared.Load() {
		return nil
	}
	for _, q := range []string{profileInsert, profileUpdate, emailDelete, emailInsert, eventInsert, versionSelect, profileByID, changeInsert} {
		if _, err := db.writeStmts.get(ctx, q); err != nil {
			return err
		}
	}
	db.writesPrepared.Store(true)
	return nil
}

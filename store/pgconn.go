package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// The PostgreSQL pool goes through pgConnector, a thin layer over lib/pq's
// connector that keeps one bad statement from poisoning the pool:
//
//   - A connection whose operation failed with anything but a complete
//     server error (*pq.Error) is out of step with the server: lib/pq
//     returns "pq: server error: ..." for an error message over 30,000
//     bytes without reading the rest of it, and network errors leave a
//     half-read reply. Such a connection is closed on the spot and reports
//     itself invalid, so database/sql drops it instead of handing it to the
//     next request, where it would hang.
//   - Every statement, commit and rollback runs under a deadline
//     (statementTimeout, or the caller's if sooner). lib/pq asks the server
//     to cancel the statement when it passes; if no answer comes within
//     cancelGrace (a hung network), the socket is closed, which fails the
//     read that waits.
//   - TCP keep-alives find a dead server or path while a connection idles.

// cancelGrace is how long a statement whose deadline passed may take to
// answer lib/pq's cancel request before its socket is closed.
const cancelGrace = 2 * time.Second

// keepAlive probes an idle connection after 15 s and gives up on it after
// three unanswered probes 5 s apart.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// pgConnector opens lib/pq connections wrapped in pgConn.
type pgConnector struct {
	pq      *pq.Connector
	timeout time.Duration
}

var _ driver.Connector = (*pgConnector)(nil)

// newPGConnector returns the connector of dsn whose statements run under
// timeout.
func newPGConnector(dsn string, timeout time.Duration) (*pgConnector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.Dialer(pgDialer{})
	return &pgConnector{pq: c, timeout: timeout}, nil
}

// socketKey carries the *dialSlot the dialer fills for Connect.
type socketKey struct{}

// dialSlot is what Connect hands the dialer: the deadline of the
// connection's handshake, and where to put the socket.
type dialSlot struct {
	deadline time.Time
	socket   net.Conn
}

// Connect opens a connection and remembers its socket. The handshake (TLS,
// startup, authentication) must end within the statement timeout and
// cancelGrace, or the caller's deadline if sooner: a server that accepts
// the connection and then stops answering would otherwise hold the caller,
// and the pool slot, for as long as TCP takes to notice.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	slot := &dialSlot{}
	if c.timeout > 0 {
		slot.deadline = time.Now().Add(c.timeout + cancelGrace)
	}
	if d, ok := ctx.Deadline(); ok && (slot.deadline.IsZero() || d.Before(slot.deadline)) {
		slot.deadline = d
	}
	conn, err := c.pq.Connect(context.WithValue(ctx, socketKey{}, slot))
	if err != nil {
		return nil, err
	}
	if slot.socket != nil {
		if err := slot.socket.SetDeadline(time.Time{}); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return &pgConn{conn: conn, socket: slot.socket, timeout: c.timeout}, nil
}

// Driver returns lib/pq's driver.
func (c *pgConnector) Driver() driver.Driver { return c.pq.Driver() }

// pgDialer dials with TCP keep-alives and hands the socket to Connect.
type pgDialer struct{}

func (pgDialer) Dial(network, address string) (net.Conn, error) {
	return pgDialer{}.DialContext(context.Background(), network, address)
}

func (pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return pgDialer{}.DialContext(ctx, network, address)
}

func (pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d := net.Dialer{KeepAliveConfig: keepAlive}
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if slot, ok := ctx.Value(socketKey{}).(*dialSlot); ok {
		if !slot.deadline.IsZero() {
			if err := conn.SetDeadline(slot.deadline); err != nil {
				conn.Close()
				return nil, err
			}
		}
		slot.socket = conn
	}
	return conn, nil
}

// pgConn is one lib/pq connection that closes itself when it falls out of
// step with the server.
type pgConn struct {
	conn    driver.Conn
	socket  net.Conn // nil if the dialer was bypassed
	timeout time.Duration
	broken  atomic.Bool
}

var (
	_ driver.Conn               = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

// cleanError reports whether err leaves the connection in step with the
// server: a complete server error, or one of database/sql's signals.
func cleanError(err error) bool {
	var pqErr *pq.Error
	return err == nil || errors.Is(err, driver.ErrSkip) || errors.Is(err, driver.ErrRemoveArgument) ||
		errors.As(err, &pqErr)
}

// check breaks the connection unless err is clean, and returns err.
func (c *pgConn) check(err error) error {
	if !cleanError(err) {
		c.breakConn()
	}
	return err
}

// breakConn marks the connection bad and closes its socket, so that no
// later read on it can wait for a reply that will never come in step.
func (c *pgConn) breakConn() {
	if c.broken.Swap(true) {
		return
	}
	if c.socket != nil {
		c.socket.Close()
	}
}

// guard starts an operation: it returns the context to give lib/pq (the
// caller's bounded by the statement timeout) and the function that ends
// the operation. If the operation is still running cancelGrace after the
// context ends, the connection is broken.
func (c *pgConn) guard(ctx context.Context) (context.Context, func()) {
	if c.broken.Load() {
		return ctx, func() {}
	}
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	var (
		mu    sync.Mutex
		ended bool
		timer *time.Timer
	)
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			timer = time.AfterFunc(cancelGrace, c.breakConn)
		}
	})
	return ctx, func() {
		stopWatch()
		mu.Lock()
		ended = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	ctx, end := c.guard(ctx)
	defer end()
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, c.check(err)
	}
	return &pgStmt{c: c, stmt: st}, nil
}

func (c *pgConn) Close() error {
	err := c.conn.Close()
	if c.broken.Load() {
		// The socket is closed already; lib/pq's Close fails at once.
		return nil
	}
	return err
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx starts a transaction. The caller's context, not the statement
// timeout, bounds the transaction; each statement in it, the commit and the
// rollback have their own deadline.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	// lib/pq watches ctx until the transaction ends; only the BEGIN
	// itself is guarded here.
	_, end := c.guard(ctx)
	defer end()
	tx, err := c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, c.check(err)
	}
	return &pgTx{c: c, tx: tx}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	ctx, end := c.guard(ctx)
	defer end()
	res, err := c.conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	return res, c.check(err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	ctx, end := c.guard(ctx)
	rows, err := c.conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if err != nil {
		end()
		return nil, c.check(err)
	}
	return &pgRows{c: c, rows: rows, end: end}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	ctx, end := c.guard(ctx)
	defer end()
	return c.check(c.conn.(driver.Pinger).Ping(ctx))
}

// ResetSession refuses a broken connection before database/sql reuses it.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

// IsValid tells database/sql whether the connection may go back to the
// pool.
func (c *pgConn) IsValid() bool {
	return !c.broken.Load() && c.conn.(driver.Validator).IsValid()
}

func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// pgTx guards the commit and rollback of a transaction.
type pgTx struct {
	c  *pgConn
	tx driver.Tx
}

func (t *pgTx) Commit() error {
	if t.c.broken.Load() {
		return driver.ErrBadConn
	}
	_, end := t.c.guard(context.Background())
	defer end()
	return t.c.check(t.tx.Commit())
}

func (t *pgTx) Rollback() error {
	if t.c.broken.Load() {
		return driver.ErrBadConn
	}
	_, end := t.c.guard(context.Background())
	defer end()
	return t.c.check(t.tx.Rollback())
}

// pgStmt is a prepared statement on a pgConn.
type pgStmt struct {
	c    *pgConn
	stmt driver.Stmt
}

var (
	_ driver.StmtExecContext  = (*pgStmt)(nil)
	_ driver.StmtQueryContext = (*pgStmt)(nil)
)

func (s *pgStmt) Close() error {
	if s.c.broken.Load() {
		return nil
	}
	_, end := s.c.guard(context.Background())
	defer end()
	return s.c.check(s.stmt.Close())
}

func (s *pgStmt) NumInput() int { return s.stmt.NumInput() }

func (s *pgStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	ctx, end := s.c.guard(ctx)
	defer end()
	var (
		res driver.Result
		err error
	)
	if e, ok := s.stmt.(driver.StmtExecContext); ok {
		res, err = e.ExecContext(ctx, args)
	} else {
		// lib/pq's COPY FROM STDIN statement has only Exec; the guard
		// still bounds it.
		res, err = s.stmt.Exec(values(args))
	}
	return res, s.c.check(err)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.c.broken.Load() {
		return nil, driver.ErrBadConn
	}
	ctx, end := s.c.guard(ctx)
	var (
		rows driver.Rows
		err  error
	)
	if q, ok := s.stmt.(driver.StmtQueryContext); ok {
		rows, err = q.QueryContext(ctx, args)
	} else {
		// As in ExecContext.
		rows, err = s.stmt.Query(values(args))
	}
	if err != nil {
		end()
		return nil, s.c.check(err)
	}
	return &pgRows{c: s.c, rows: rows, end: end}, nil
}

func values(args []driver.NamedValue) []driver.Value {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		v[i] = a.Value
	}
	return v
}

func namedValues(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

// pgRows reads a result under its statement's deadline, which ends when
// the rows are closed.
type pgRows struct {
	c    *pgConn
	rows driver.Rows
	end  func()
	once sync.Once
}

var (
	_ driver.RowsNextResultSet              = (*pgRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*pgRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*pgRows)(nil)
)

func (r *pgRows) Columns() []string { return r.rows.Columns() }

func (r *pgRows) Close() error {
	defer r.once.Do(r.end)
	return r.c.check(r.rows.Close())
}

func (r *pgRows) Next(dest []driver.Value) error {
	err := r.rows.Next(dest)
	if err == io.EOF {
		return err
	}
	return r.c.check(err)
}

func (r *pgRows) HasNextResultSet() bool {
	n, ok := r.rows.(driver.RowsNextResultSet)
	return ok && n.HasNextResultSet()
}

func (r *pgRows) NextResultSet() error {
	n, ok := r.rows.(driver.RowsNextResultSet)
	if !ok {
		return io.EOF
	}
	err := n.NextResultSet()
	if err == io.EOF {
		return err
	}
	return r.c.check(err)
}

func (r *pgRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *pgRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

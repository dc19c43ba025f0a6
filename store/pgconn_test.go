package store_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// hugeError raises an error whose message (40,000 bytes) is over lib/pq's
// 30,000-byte limit: lib/pq returns "pq: server error" without reading the
// rest of the message.
const hugeError = `DO $$ BEGIN RAISE EXCEPTION '%', repeat('x', 40000); END $$`

// openPostgresWith opens a fresh migrated PostgreSQL database with opts.
func openPostgresWith(t *testing.T, dsn string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.OpenWith(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A connection that received an oversized error is discarded: after twice
// the pool size of them, in and out of transactions, the pool still
// answers.
func TestPostgres_OversizedErrorLeavesPoolHealthy(t *testing.T) {
	const poolSize = 3
	db := openPostgresWith(t, storetest.PostgresURL(t), store.Options{MaxOpenConns: poolSize})
	pool := db.SQLX()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range 2 * poolSize {
		if i%2 == 0 {
			if _, err := pool.ExecContext(ctx, hugeError); err == nil {
				t.Fatal("oversized error statement succeeded")
			}
			continue
		}
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("begin %d: %v", i, err)
		}
		if _, err := tx.ExecContext(ctx, hugeError); err == nil {
			t.Fatal("oversized error statement succeeded")
		}
		tx.Rollback()
	}
	for range 2 * poolSize {
		var n int
		if err := pool.GetContext(ctx, &n, "SELECT 1"); err != nil || n != 1 {
			t.Fatalf("query after oversized errors: %d, %v", n, err)
		}
	}
}

// An ordinary server error keeps its connection; an oversized one replaces
// it.
func TestPostgres_OnlyBrokenConnectionsAreReplaced(t *testing.T) {
	db := openPostgresWith(t, storetest.PostgresURL(t), store.Options{MaxOpenConns: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backend := func() int {
		t.Helper()
		var pid int
		if err := db.SQLX().GetContext(ctx, &pid, "SELECT pg_backend_pid()"); err != nil {
			t.Fatalf("backend pid: %v", err)
		}
		return pid
	}
	first := backend()
	if _, err := db.SQLX().ExecContext(ctx, "SELECT 1/0"); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("division by zero: %v", err)
	}
	if got := backend(); got != first {
		t.Errorf("a server error replaced the connection: backend %d, then %d", first, got)
	}
	if _, err := db.SQLX().ExecContext(ctx, hugeError); err == nil {
		t.Fatal("oversized error statement succeeded")
	}
	if got := backend(); got == first {
		t.Errorf("the connection that got an oversized error was reused (backend %d)", got)
	}
}

// A statement that outlives the statement timeout is cancelled and the
// pool stays usable.
func TestPostgres_StatementTimeout(t *testing.T) {
	db := openPostgresWith(t, storetest.PostgresURL(t), store.Options{MaxOpenConns: 1, StatementTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	if _, err := db.SQLX().ExecContext(ctx, "SELECT pg_sleep(60)"); err == nil {
		t.Fatal("pg_sleep(60) under a 200 ms statement timeout succeeded")
	}
	var n int
	if err := db.SQLX().GetContext(ctx, &n, "SELECT 1"); err != nil || n != 1 {
		t.Fatalf("query after a timeout: %d, %v", n, err)
	}
}

// A statement on a network that stops answering (the server never sees the
// cancel request either) ends with an error instead of waiting forever.
func TestPostgres_HungNetwork(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewFreezeProxy(t, u.Host)
	u.Host = p.Addr()
	db := openPostgresWith(t, u.String(), store.Options{MaxOpenConns: 2, StatementTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	var n int
	if err := db.SQLX().GetContext(ctx, &n, "SELECT 1"); err != nil {
		t.Fatalf("query through the proxy: %v", err)
	}
	p.Freeze()
	if err := db.SQLX().GetContext(ctx, &n, "SELECT 1"); err == nil {
		t.Fatal("query over a frozen network succeeded")
	}
	p.Thaw()
	if err := db.SQLX().GetContext(ctx, &n, "SELECT 1"); err != nil {
		t.Fatalf("query after the network came back: %v", err)
	}
}

// A new connection to a server that accepts it and then stops answering
// (the network froze after the pool's connections were closed) ends with
// an error within the statement timeout and its grace, instead of holding
// the caller until TCP gives up.
func TestPostgres_HungHandshake(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewFreezeProxy(t, u.Host)
	u.Host = p.Addr()
	db := openPostgresWith(t, u.String(), store.Options{MaxOpenConns: 2, StatementTimeout: 300 * time.Millisecond})
	// No connection is left open: the next query dials.
	db.SQLX().SetMaxIdleConns(0)
	p.Freeze()
	done := make(chan error, 1)
	go func() {
		var n int
		done <- db.SQLX().GetContext(context.Background(), &n, "SELECT 1")
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("query over a frozen network succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a connection's handshake over a frozen network is still waiting after 20 s")
	}
	p.Thaw()
	var n int
	if err := db.SQLX().GetContext(context.Background(), &n, "SELECT 1"); err != nil || n != 1 {
		t.Fatalf("query after the network came back: %d, %v", n, err)
	}
}

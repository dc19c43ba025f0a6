package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store"
)

// Environment variables the PostgreSQL helpers read.
const (
	// EnvDatabaseURL names the PostgreSQL server tests use (any database on
	// it; the helpers create their own).
	EnvDatabaseURL = "SCIMBRIDGE_TEST_DATABASE_URL"
	// EnvRequirePostgres=1 turns an unreachable server into a test failure
	// instead of a skip (CI sets it).
	EnvRequirePostgres = "SCIMBRIDGE_TEST_REQUIRE_POSTGRES"
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// Renderer renders the resources of the change records the helpers'
// stores write, as the daemon's store does.
var Renderer = scim.ChangeRenderer{BaseURL: "https://scim.test/api/connect/v1"}

// templateLockKey serialises template creation and cloning across the test
// processes go test runs in parallel.
const templateLockKey int64 = 0x7363627465737431

// OpenSQLite returns a migrated SQLite store in a temporary directory,
// closed at cleanup.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimbridge.db")
	db, err := store.Open(context.Background(), "sqlite://"+path, nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetChangeRenderer(Renderer)
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// OpenPostgres returns a store on a fresh PostgreSQL database cloned from a
// pre-migrated template, dropped at cleanup. It skips the test when no
// server answers, unless SCIMBRIDGE_TEST_REQUIRE_POSTGRES=1.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresURL(t)
	db, err := store.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	// Registered after PostgresURL's drop, so it runs before it.
	t.Cleanup(func() { db.Close() })
	db.SetChangeRenderer(Renderer)
	return db
}

// PostgresURL returns the URL of a fresh, migrated PostgreSQL database,
// dropped at cleanup, for tests that start the binary.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		base = defaultDatabaseURL
	}
	admin, err := sql.Open("postgres", base)
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (set %s): %v", redact(base), EnvDatabaseURL, err)
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer admin.Close()

	name := "scimbridge_test_" + randomHex(8)
	if err := cloneTemplate(admin, base, name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		drop, err := sql.Open("postgres", base)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer drop.Close()
		if _, err := drop.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// cloneTemplate creates database name from the current template, creating
// or refreshing the template first when needed, all under an advisory lock.
func cloneTemplate(admin *sql.DB, base, name string) error {
	ctx := context.Background()
	sum, err := store.SchemaChecksum(store.DialectPostgres)
	if err != nil {
		return err
	}
	latest, err := store.LatestVersion(store.DialectPostgres)
	if err != nil {
		return err
	}
	tpl := fmt.Sprintf("scimbridge_template_%d", latest)
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, templateLockKey)

	// The template's comment records the checksum of the migrations it was
	// built from; a different one means the files changed since.
	var comment sql.NullString
	err = conn.QueryRowContext(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, tpl).Scan(&comment)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := buildTemplate(ctx, conn, base, tpl, sum); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("find template: %w", err)
	case comment.String != sum:
		if _, err := conn.ExecContext(ctx, `DROP DATABASE `+tpl+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop stale template: %w", err)
		}
		if err := buildTemplate(ctx, conn, base, tpl, sum); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tpl); err != nil {
		return fmt.Errorf("clone template: %w", err)
	}
	return nil
}

func buildTemplate(ctx context.Context, conn *sql.Conn, base, tpl, sum string) error {
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+tpl); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	db, err := store.Open(ctx, withDatabase(base, tpl), nil)
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	err = db.Migrate(ctx, nil)
	db.Close()
	if err != nil {
		conn.ExecContext(ctx, `DROP DATABASE `+tpl+` WITH (FORCE)`)
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `COMMENT ON DATABASE `+tpl+` IS '`+sum+`'`); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

// withDatabase returns base pointing at database name.
func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

// redact hides a password in a URL for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

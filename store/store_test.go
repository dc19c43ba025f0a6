package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestStore_Conformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) scimbridge.Store { return storetest.OpenSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) scimbridge.Store { return storetest.OpenPostgres(t) })
	})
}

// schema describes tables (with their columns) and indexes by name.
type schema struct {
	Tables  map[string][]string
	Indexes []string
}

func sqliteSchema(t *testing.T, db *store.DB) schema {
	x := db.SQLX()
	s := schema{Tables: map[string][]string{}}
	var tables []string
	if err := x.Select(&tables, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range tables {
		var cols []string
		if err := x.Select(&cols, `SELECT name FROM pragma_table_info(?)`, tbl); err != nil {
			t.Fatal(err)
		}
		sort.Strings(cols)
		s.Tables[tbl] = cols
	}
	if err := x.Select(&s.Indexes, `SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'`); err != nil {
		t.Fatal(err)
	}
	sort.Strings(s.Indexes)
	return s
}

func postgresSchema(t *testing.T, db *store.DB) schema {
	x := db.SQLX()
	s := schema{Tables: map[string][]string{}}
	var rows []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	if err := x.Select(&rows, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema()`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		s.Tables[r.Table] = append(s.Tables[r.Table], r.Column)
	}
	for _, cols := range s.Tables {
		sort.Strings(cols)
	}
	// Indexes that back primary keys are implicit on both sides.
	if err := x.Select(&s.Indexes, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')`); err != nil {
		t.Fatal(err)
	}
	sort.Strings(s.Indexes)
	return s
}

func TestStore_SchemaParity(t *testing.T) {
	ctx := context.Background()
	lite, pg := storetest.OpenSQLite(t), storetest.OpenPostgres(t)
	lc, ll, err := lite.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pc, pl, err := pg.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lc != ll || pc != pl || lc != pc {
		t.Errorf("versions: sqlite %d/%d, postgres %d/%d", lc, ll, pc, pl)
	}
	ls, ps := sqliteSchema(t, lite), postgresSchema(t, pg)
	if len(ls.Tables) < 11 || len(ls.Indexes) < 15 {
		t.Fatalf("sqlite schema looks empty: %+v", ls)
	}
	if !reflect.DeepEqual(ls.Tables, ps.Tables) {
		t.Errorf("tables differ:\nsqlite   %v\npostgres %v", ls.Tables, ps.Tables)
	}
	if !reflect.DeepEqual(ls.Indexes, ps.Indexes) {
		t.Errorf("indexes differ:\nsqlite   %v\npostgres %v", ls.Indexes, ps.Indexes)
	}
}

func TestOpen_SQLiteSingleProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	first, err := store.Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.ClaimServe(); err != nil {
		t.Fatal(err)
	}
	t.Run("CommandsOpenBesideServe", func(t *testing.T) {
		cli, err := store.Open(ctx, "sqlite://"+path, nil)
		if err != nil {
			t.Fatalf("open beside a serving process: %v", err)
		}
		cli.Close()
	})
	t.Run("SecondServeFails", func(t *testing.T) {
		second, err := store.Open(ctx, "sqlite://"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		err = second.ClaimServe()
		if err == nil {
			t.Fatal("second serve of the same file succeeded")
		}
		if want := "database " + path + " is in use by another scimbridge process"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})
	t.Run("ReopenAfterClose", func(t *testing.T) {
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := store.Open(ctx, "sqlite://"+path, nil)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer again.Close()
		if err := again.ClaimServe(); err != nil {
			t.Fatalf("serve after the first serve closed: %v", err)
		}
	})
	t.Run("BadURL", func(t *testing.T) {
		for _, dsn := range []string{"sqlite://relative.db", "mysql://x", "sqlite:///x.db?mode=ro"} {
			if db, err := store.Open(ctx, dsn, nil); err == nil {
				db.Close()
				t.Errorf("open %q succeeded", dsn)
			}
		}
	})
}

func TestStore_SchemaVersion(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			if err := db.Ping(ctx); err == nil {
				t.Error("ping of an unmigrated database succeeded")
			}
			cur, latest, err := db.SchemaVersion(ctx)
			if err != nil || cur != 0 || latest < 1 {
				t.Fatalf("unmigrated version = %d/%d, %v", cur, latest, err)
			}
			var calls atomic.Int32
			bootstrap := func(ctx context.Context) error {
				calls.Add(1)
				return db.CreateOrganization(ctx, scimbridge.Organization{ID: uuid.NewString(), Slug: "default",
					Name: "default", CreatedAt: time.Now(), AdoptExisting: true})
			}
			for range 2 {
				if err := db.Migrate(ctx, bootstrap); err != nil {
					t.Fatalf("migrate: %v", err)
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("bootstrap ran %d times, want once", n)
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("ping after migrate: %v", err)
			}
			if cur, latest, _ := db.SchemaVersion(ctx); cur != latest {
				t.Errorf("version after migrate = %d/%d", cur, latest)
			}

			// A newer binary migrated this database: serve must refuse it.
			b.exec(t, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, latest+1)
			cur, latest, err = db.SchemaVersion(ctx)
			if err != nil || cur <= latest {
				t.Errorf("newer schema reported as %d/%d, %v", cur, latest, err)
			}
			if err := db.Ping(ctx); err == nil {
				t.Error("ping accepted a newer schema")
			}
			if err := db.Migrate(ctx, nil); err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("migrate over a newer schema = %v", err)
			}
		})
	}
}

func TestMigrate_ConcurrentPostgres(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	// Start from an empty schema so both replicas race to migrate it.
	wipe, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wipe.SQLX().ExecContext(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	wipe.Close()

	var calls atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := store.Open(ctx, url, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(ctx, func(ctx context.Context) error {
				calls.Add(1)
				return db.CreateOrganization(ctx, scimbridge.Organization{ID: uuid.NewString(), Slug: "default",
					Name: "default", CreatedAt: time.Now(), AdoptExisting: true})
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("bootstrap ran %d times across replicas, want once", n)
	}
}

// backend opens an unmigrated store and runs raw statements beside it.
type backend struct {
	name string
	open func(t *testing.T) *store.DB
	exec func(t *testing.T, query string, args ...any)
}

func backends() []backend {
	var litePath string
	var pg *store.DB
	return []backend{
		{
			name: "sqlite",
			open: func(t *testing.T) *store.DB {
				litePath = filepath.Join(t.TempDir(), "s.db")
				db, err := store.Open(context.Background(), "sqlite://"+litePath, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			},
			exec: func(t *testing.T, query string, args ...any) {
				// The store's read pool is query_only and its write handle
				// private: write through a plain connection.
				raw, err := sqlx.Open("sqlite", "file:"+litePath)
				if err != nil {
					t.Fatal(err)
				}
				defer raw.Close()
				if _, err := raw.Exec(query, args...); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "postgres",
			open: func(t *testing.T) *store.DB {
				pg = storetest.OpenPostgres(t)
				if _, err := pg.SQLX().Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
					t.Fatal(err)
				}
				return pg
			},
			exec: func(t *testing.T, query string, args ...any) {
				if _, err := pg.SQLX().Exec(pg.SQLX().Rebind(query), args...); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
}

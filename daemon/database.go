package daemon

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store"
)

// database is what the daemon needs of the store: the domain contract plus
// schema management.
type database interface {
	scimbridge.Store
	// Migrate applies pending migrations; on a fresh database it runs
	// bootstrap (when non-nil) under the migration lock.
	Migrate(ctx context.Context, bootstrap func(ctx context.Context) error) error
	// SchemaVersion returns the database's schema version and the latest
	// this binary knows.
	SchemaVersion(ctx context.Context) (current, latest int, err error)
	// Stats reports the connection pools, by name (metrics).
	Stats() map[string]sql.DBStats
	// EachReportItem reads a stored report's items one at a time.
	EachReportItem(ctx context.Context, orgID, reportID string, fn func(scimbridge.ReportItem) error) error
}

var _ database = (*store.DB)(nil)

// openMode says who opens the database.
type openMode int

const (
	// openServe is serve: it claims the SQLite file (a second serve on it
	// fails) and creates the database when missing.
	openServe openMode = iota
	// openMigrate creates the database when missing, without the serve
	// lock.
	openMigrate
	// openCommand is every other command: the database must exist and
	// its schema be current; it does not claim the file, so it runs
	// beside a running serve.
	openCommand
)

// openDatabase opens the configured database.
func openDatabase(ctx context.Context, cfg configs.Config, logger *slog.Logger, clock scimbridge.Clock, mode openMode) (database, error) {
	if path := cfg.SQLitePath(); path != "" {
		switch mode {
		case openCommand:
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("no database at %s: start 'scimbridge serve' or run 'scimbridge migrate' first", path)
			}
		default:
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
	}
	db, err := store.OpenWith(ctx, cfg.Database.URL, store.Options{
		Logger:           logger,
		MaxOpenConns:     cfg.Database.MaxOpenConns,
		StatementTimeout: cfg.Database.StatementTimeout.Duration(),
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetClock(clock)
	db.SetChangeRenderer(scim.ChangeRenderer{BaseURL: strings.TrimSuffix(cfg.PublicURL, "/") + scim.BasePath})
	if mode == openServe {
		if err := db.ClaimServe(); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	return db, nil
}

// checkSchema refuses a schema newer than this binary and, when current is
// set, one older than it.
func checkSchema(ctx context.Context, db database, requireCurrent bool) error {
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case cur > latest:
		return fmt.Errorf("database schema version %d is newer than this binary's %d: run a newer scimbridge", cur, latest)
	case requireCurrent && cur < latest:
		return fmt.Errorf("database schema version %d is older than this binary's %d: run 'scimbridge migrate' or start 'scimbridge serve'", cur, latest)
	}
	return nil
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/scimbridge/scimbridge/configs"
)

func serveCommands() []command {
	return []command{
		{name: "serve", summary: "run the daemon: SCIM API, Google bridge scheduler and ops endpoints", run: runServe},
		{name: "migrate", summary: "apply database migrations", run: runMigrate},
	}
}

func runServe(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("serve", false)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	cfg, err := c.config(f)
	if err != nil {
		return err
	}
	err = Serve(ctx, cfg, Options{Stdout: c.stdout, Stderr: c.stderr, Clock: c.clock, Getenv: c.getenv,
		Reload: c.reload, LoadConfig: func() (configs.Config, error) { return c.config(f) }})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // stopped by a signal while starting
	}
	return err
}

func runMigrate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("migrate", true)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	cfg, err := c.config(f)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, c.stderr, slog.LevelInfo)
	db, err := openDatabase(ctx, cfg, logger, c.clock, openMigrate)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkSchema(ctx, db, false); err != nil {
		return err
	}
	before, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	// The bootstrap belongs to serve's first start: it runs there as long
	// as the database holds no organization.
	if err := db.Migrate(ctx, nil); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	after, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if f.json {
		return writeJSON(c.stdout, map[string]int{"from_version": before, "version": after})
	}
	if before == after {
		fmt.Fprintf(c.stdout, "Database schema is current (version %d).\n", after)
	} else {
		fmt.Fprintf(c.stdout, "Database schema migrated from version %d to %d.\n", before, after)
	}
	return nil
}

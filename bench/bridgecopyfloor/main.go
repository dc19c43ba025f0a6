// Command bridgecopyfloor measures the floor of a first bridge sync on
// PostgreSQL: the Google client lists the whole directory and every page's
// users are mapped into profiles, change records and events (the same
// mapping and encodings a run uses) and bulk-inserted with COPY, page by page, with no
// plan, no lease and no check. bench/bridge-scale.sh runs it against an
// empty, migrated database of its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bridgecopyfloor:", err)
		os.Exit(1)
	}
}

// result is what bridgecopyfloor prints.
type result struct {
	Users  int     `json:"users"`
	Rows   int     `json:"rows"`
	Pages  int     `json:"pages"`
	Second float64 `json:"seconds"`
	// CopySeconds is the time spent in COPY, part of Seconds.
	CopySeconds float64 `json:"copy_seconds"`
}

// publicURL is the public_url the resources in events and change records
// are located under.
const publicURL = "http://127.0.0.1:8080"

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bridgecopyfloor", flag.ContinueOnError)
	api := fs.String("api-endpoint", "", "Directory API `URL` (google.api_endpoint)")
	tokenURL := fs.String("token-url", "", "OAuth token `URL` (google.token_url)")
	keyFile := fs.String("credentials", "", "service-account key `FILE`")
	adminEmail := fs.String("admin-email", "admin@example.com", "admin `EMAIL` to impersonate")
	dbURL := fs.String("database-url", "", "PostgreSQL `URL` of a migrated database")
	orgID := fs.String("org", "", "`ID` of an existing organization the rows belong to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *api == "" || *tokenURL == "" || *keyFile == "" || *dbURL == "" || *orgID == "" {
		return errors.New("need -api-endpoint, -token-url, -credentials, -database-url and -org")
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	creds, err := bridge.ParseServiceAccount(raw, *adminEmail, *tokenURL)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, *dbURL, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	// Change records carry the rendered resource, as the daemon's do.
	db.SetChangeRenderer(scim.ChangeRenderer{BaseURL: publicURL + scim.BasePath})
	org, err := db.Organization(ctx, *orgID)
	if err != nil {
		return err
	}
	dir, err := bridge.NewDirectory(ctx, creds, bridge.Endpoints{APIEndpoint: *api, TokenURL: *tokenURL}, nil,
		slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		return err
	}
	b, err := db.Bridge(ctx, *orgID)
	if err != nil {
		return err
	}
	settings := b.Settings
	runID := uuid.NewString()
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	var res result
	var copying time.Duration
	start := time.Now()
	l, err := dir.EachPage(ctx, "", false, func(page []bridge.GoogleUser) error {
		res.Users += len(page)
		rows, err := bridge.FirstSyncRows(org, settings, runID, publicURL, page, newID, time.Now().UTC())
		if err != nil {
			return err
		}
		t := time.Now()
		err = db.CopyCreates(ctx, rows)
		copying += time.Since(t)
		res.Rows += len(rows)
		return err
	})
	if err != nil {
		return err
	}
	res.Pages, res.Second, res.CopySeconds = l.Pages, time.Since(start).Seconds(), copying.Seconds()
	return json.NewEncoder(stdout).Encode(res)
}

package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// EnvSeededURL names a PostgreSQL database filled by bench/seedscale
// (bench/scale-rest.sh sets it): the benchmarks that read it add a case
// on that database beside their fresh one. The database is kept: a
// benchmark may add rows to it, and the purge benchmark deletes its old
// events.
const EnvSeededURL = "SCIMBRIDGE_BENCH_SEEDED_URL"

// Slugs of the organizations bench/seedscale creates.
const (
	SeededOrg        = "big"
	SeededArchiveOrg = "archive"
)

// SeededURL is EnvSeededURL's value ("" when unset).
func SeededURL() string { return os.Getenv(EnvSeededURL) }

// OpenSeeded returns a store on the seeded database and its organization
// slug, closed (never dropped) at cleanup. Call it only when SeededURL is
// set.
func OpenSeeded(t testing.TB, slug string) (*store.DB, scimbridge.Organization) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, SeededURL(), nil)
	if err != nil {
		t.Fatalf("open seeded database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetChangeRenderer(Renderer)
	org, err := db.OrganizationBySlug(ctx, slug)
	if err != nil {
		t.Fatalf("seeded organization %s (run bench/seedscale): %v", slug, err)
	}
	return db, org
}

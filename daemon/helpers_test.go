package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/daemon"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// testEnv is one configuration (environment variables) and its database,
// against which the CLI runs in-process.
type testEnv struct {
	t       *testing.T
	vars    map[string]string
	dataDir string
	// terminal makes the CLI take its stdout for a terminal.
	terminal bool
}

// backend names a database the CLI tests run against.
type backend struct {
	name string
	env  func(t *testing.T) *testEnv
}

// backends are the databases the table tests run against.
func backends() []backend {
	return []backend{
		{"SQLite", newSQLiteEnv},
		{"PostgreSQL", newPostgresEnv},
	}
}

// newSQLiteEnv returns an environment with a fresh SQLite database in a
// temporary data directory, migrated.
func newSQLiteEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{t: t, dataDir: dir, vars: map[string]string{
		"SCIMBRIDGE_DATA_DIR":   dir,
		"SCIMBRIDGE_PUBLIC_URL": "https://scim.example.test",
		"SCIMBRIDGE_LISTEN":     "127.0.0.1:0",
		"SCIMBRIDGE_OPS_LISTEN": "127.0.0.1:0",
	}}
	e.mustRun("migrate")
	return e
}

// newPostgresEnv returns an environment with a fresh, migrated PostgreSQL
// database and its encryption key (PostgreSQL needs one configured),
// kept where SQLite generates its own.
func newPostgresEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "encryption-key")
	if err := os.Rename(writeKey(t), key); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, dataDir: dir, vars: map[string]string{
		"SCIMBRIDGE_ENCRYPTION_KEY_FILE": key,
		"SCIMBRIDGE_DATA_DIR":            dir,
		"SCIMBRIDGE_DATABASE_URL":        storetest.PostgresURL(t),
		"SCIMBRIDGE_PUBLIC_URL":          "https://scim.example.test",
		"SCIMBRIDGE_LISTEN":              "127.0.0.1:0",
		"SCIMBRIDGE_OPS_LISTEN":          "127.0.0.1:0",
	}}
}

// getenv reads the environment's variables.
func (e *testEnv) getenv(name string) string { return e.vars[name] }

// result is what one run of the CLI printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the CLI with args.
func (e *testEnv) run(args ...string) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := daemon.Run(ctx, daemon.Process{Args: args, Getenv: e.getenv, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		IsTerminal: func(w io.Writer) bool { return e.terminal && w == &stdout }})
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mustRun runs the CLI and fails the test unless it exits 0.
func (e *testEnv) mustRun(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("scimbridge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// mustJSON runs the CLI and decodes its stdout into v.
func (e *testEnv) mustJSON(v any, args ...string) {
	e.t.Helper()
	out := e.mustRun(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("scimbridge %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// withStore opens the database, hands it to fn and closes it again (so
// that the next CLI run can open it).
func (e *testEnv) withStore(fn func(db *store.DB)) {
	e.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, e.databaseURL(), nil)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	fn(db)
}

// databaseURL is the database the environment names.
func (e *testEnv) databaseURL() string {
	if u := e.vars["SCIMBRIDGE_DATABASE_URL"]; u != "" {
		return u
	}
	return "sqlite://" + e.dataDir + "/scimbridge.db"
}

// org returns the organization with the slug.
func (e *testEnv) org(slug string) scimbridge.Organization {
	e.t.Helper()
	var org scimbridge.Organization
	e.withStore(func(db *store.DB) {
		var err error
		if org, err = db.OrganizationBySlug(context.Background(), slug); err != nil {
			e.t.Fatalf("organization %s: %v", slug, err)
		}
	})
	return org
}

// addProfile stores a profile in the organization.
func (e *testEnv) addProfile(org scimbridge.Organization, p scimbridge.Profile) scimbridge.Profile {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	p.ID, p.OrgID, p.Version = uuid.NewString(), org.ID, 1
	p.CreatedAt, p.UpdatedAt = now, now
	if p.State == "" {
		p.State = scimbridge.StateActive
	}
	if p.Role == "" {
		p.Role = scimbridge.RoleMember
	}
	if p.Email == "" {
		p.Email = p.PrimaryEmail()
	}
	e.withStore(func(db *store.DB) {
		ev := scimbridge.Event{Time: now, Method: "POST", Path: "/Users", Status: 201,
			Source: scimbridge.EventIdP, Count: 1, TargetUserName: p.UserName}
		err := db.ApplyChange(context.Background(), scimbridge.ChangeEvent{
			Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event:  ev,
		})
		if err != nil {
			e.t.Fatalf("add profile %s: %v", p.UserName, err)
		}
	})
	return p
}

// events lists the organization's events, newest first.
func (e *testEnv) events(org scimbridge.Organization) []scimbridge.Event {
	e.t.Helper()
	var page scimbridge.EventPage
	e.withStore(func(db *store.DB) {
		var err error
		if page, err = db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: org.ID, Limit: 1000}); err != nil {
			e.t.Fatalf("list events: %v", err)
		}
	})
	return page.Events
}

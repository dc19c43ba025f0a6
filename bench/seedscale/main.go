// Command seedscale fills a PostgreSQL database with what a large
// organization holds a few days after its first Google sync, for the
// benchmarks of the rest of the system at that size (bench/scale-rest.sh):
//
//   - organization "big": -users profiles written as a first bridge sync
//     writes them (bridge.FirstSyncRows over generated users of Google's
//     full projection: profile, emails, one event and one user.created
//     change record each, 500 a transaction), then -scim-events SCIM
//     request events (statuses 2xx/4xx/5xx over the synced usernames);
//   - organization "archive": -old-events events older than the default
//     retention (90 days), written first so that they hold the lowest ids,
//     as events written months ago do; the purge benchmark deletes them.
//
// Rows go in by COPY (the store's CopyCreates, which writes the change
// records too, and AppendEvents) and, for the old events, one
// INSERT ... SELECT over generate_series from 1,000 template events the store wrote. With
// -old-events-only it adds the old events to an already seeded database
// (after a purge). It prints what it wrote and how long each part took as
// JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "seedscale:", err)
		os.Exit(1)
	}
}

// Slugs of the seeded organizations; the benchmarks find them by these.
const (
	bigSlug     = "big"
	archiveSlug = "archive"
)

// templateEvents is how many events the old events are copied from.
const templateEvents = 1000

// result is what seedscale prints.
type result struct {
	Users          int     `json:"users"`
	UserSeconds    float64 `json:"users_seconds"`
	SCIMEvents     int     `json:"scim_events"`
	SCIMSeconds    float64 `json:"scim_events_seconds"`
	OldEvents      int     `json:"old_events"`
	OldSeconds     float64 `json:"old_events_seconds"`
	AnalyzeSeconds float64 `json:"analyze_seconds"`
	Seconds        float64 `json:"seconds"`
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seedscale", flag.ContinueOnError)
	dbURL := fs.String("database-url", "", "PostgreSQL `URL` of the database to fill (migrated here if needed)")
	users := fs.Int("users", 1_000_000, "profiles of the first sync (a multiple of 500)")
	scimEvents := fs.Int("scim-events", 1_000_000, "SCIM request events after the sync")
	oldEvents := fs.Int("old-events", 10_000_000, "events older than retention, in organization archive")
	oldOnly := fs.Bool("old-events-only", false, "add only the old events (to a database seeded before)")
	analyze := fs.Bool("analyze", true, "ANALYZE at the end, as autovacuum would after a bulk load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" {
		return errors.New("need -database-url")
	}
	// The old events' INSERT ... SELECT statements run for minutes.
	db, err := store.OpenWith(ctx, *dbURL, store.Options{StatementTimeout: time.Hour})
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect() != store.DialectPostgres {
		return errors.New("seedscale needs PostgreSQL")
	}
	if err := db.Migrate(ctx, nil); err != nil {
		return err
	}
	db.SetChangeRenderer(scim.ChangeRenderer{BaseURL: "http://127.0.0.1:8080" + scim.BasePath})
	var res result
	start := time.Now()
	now := time.Now().UTC()
	if *oldEvents > 0 {
		t := time.Now()
		if err := seedOld(ctx, db, *oldEvents, now); err != nil {
			return err
		}
		res.OldEvents, res.OldSeconds = *oldEvents, time.Since(t).Seconds()
	}
	if !*oldOnly {
		org, err := newOrg(ctx, db, bigSlug, now)
		if err != nil {
			return err
		}
		t := time.Now()
		names, err := seedSync(ctx, db, org, *users, now.Add(-7*24*time.Hour))
		if err != nil {
			return err
		}
		res.Users, res.UserSeconds = *users, time.Since(t).Seconds()
		t = time.Now()
		if err := seedSCIMEvents(ctx, db, org.ID, names, *scimEvents, now); err != nil {
			return err
		}
		res.SCIMEvents, res.SCIMSeconds = *scimEvents, time.Since(t).Seconds()
	}
	if *analyze {
		t := time.Now()
		if _, err := db.WriteSQLX().ExecContext(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		res.AnalyzeSeconds = time.Since(t).Seconds()
	}
	res.Seconds = time.Since(start).Seconds()
	return json.NewEncoder(stdout).Encode(res)
}

// newOrg creates the organization slug, or returns it when it exists.
func newOrg(ctx context.Context, db *store.DB, slug string, now time.Time) (scimbridge.Organization, error) {
	if org, err := db.OrganizationBySlug(ctx, slug); err == nil {
		return org, nil
	}
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: slug, Name: slug, CreatedAt: now.Add(-200 * 24 * time.Hour)}
	if err := db.CreateOrganization(ctx, org); err != nil {
		return org, fmt.Errorf("create organization %s: %w", slug, err)
	}
	return org, nil
}

// seedSync writes n users as a first sync writes them, 500 a
// transaction, two writers, and returns the synced users' emails.
func seedSync(ctx context.Context, db *store.DB, org scimbridge.Organization, n int, at time.Time) ([]string, error) {
	const page = scimbridge.MaxBatch
	gen := fakegoogle.NewGenerated(n, 14, fakegoogle.ShapeFull)
	runID := uuid.NewString()
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	names := make([]string, n)
	pages := make(chan int)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for first := range pages {
				users := make([]bridge.GoogleUser, 0, page)
				for i := first; i < min(first+page, n); i++ {
					raw, err := json.Marshal(gen.User(i))
					if err == nil {
						var u bridge.GoogleUser
						err = json.Unmarshal(raw, &u)
						u.IsGuest = false
						users = append(users, u)
						names[i] = u.PrimaryEmail
					}
					if err != nil {
						errs <- err
						return
					}
				}
				// A first sync of 1M users writes about 2,000 pages in
				// some minutes: each page a little later than the last.
				when := at.Add(time.Duration(first/page) * 300 * time.Millisecond)
				rows, err := bridge.FirstSyncRows(org, scimbridge.BridgeSettings{}, runID, "http://127.0.0.1:8080", users, newID, when)
				if err == nil {
					err = db.CopyCreates(ctx, rows)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for first := 0; first < n; first += page {
		select {
		case pages <- first:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(pages)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return nil, fmt.Errorf("seed first sync: %w", err)
	}
	return names, nil
}

// scimEvent is the i-th SCIM request event: 80% 200, 10% 404, 7% 409,
// 3% 500, one in 20 a 401 without a username, over the synced users.
func scimEvent(orgID string, names []string, i int, at time.Time) scimbridge.Event {
	e := scimbridge.Event{OrgID: orgID, Time: at, Method: "PATCH", Path: "/api/connect/v1/Users/" + uuid.NewString(),
		ClientIP: "192.0.2.1", UserAgent: "Okta SCIM Client 1.0.0", RequestID: uuid.NewString(),
		Duration: 3 * time.Millisecond, Source: scimbridge.EventIdP, Count: 1,
		RequestBody:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Engineer"}]}`,
		ResponseBody: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"` + uuid.NewString() + `"}`}
	switch r := i % 100; {
	case r < 80:
		e.Status = 200
	case r < 90:
		e.Status = 404
	case r < 97:
		e.Status = 409
	default:
		e.Status = 500
	}
	if i%20 == 19 {
		e.Status, e.Method, e.Path, e.RequestBody, e.ResponseBody = 401, "GET", "/api/connect/v1/Users", "", ""
	} else if len(names) > 0 {
		e.TargetUserName = names[(i*7919)%min(len(names), 10_000)]
	}
	return e
}

// seedSCIMEvents appends n SCIM events over the days since the sync.
func seedSCIMEvents(ctx context.Context, db *store.DB, orgID string, names []string, n int, now time.Time) error {
	const chunk = 5000
	step := 6 * 24 * time.Hour / time.Duration(max(n, 1))
	t0 := now.Add(-6 * 24 * time.Hour)
	evs := make([]scimbridge.Event, 0, chunk)
	for i := range n {
		evs = append(evs, scimEvent(orgID, names, i, t0.Add(time.Duration(i)*step)))
		if len(evs) == chunk || i == n-1 {
			if err := db.AppendEvents(ctx, evs); err != nil {
				return fmt.Errorf("seed scim events: %w", err)
			}
			evs = evs[:0]
		}
	}
	return nil
}

// seedOld writes n events of organization archive, all older than 100
// days, one a second in id order: templateEvents through the store, the
// rest copied from them by the database.
func seedOld(ctx context.Context, db *store.DB, n int, now time.Time) error {
	org, err := newOrg(ctx, db, archiveSlug, now)
	if err != nil {
		return err
	}
	end := now.Add(-100 * 24 * time.Hour)
	first := end.Add(-time.Duration(n) * time.Second)
	tmpl := make([]scimbridge.Event, 0, min(n, templateEvents))
	for i := range cap(tmpl) {
		e := scimEvent(org.ID, nil, i, first.Add(time.Duration(i)*time.Second))
		if i%10 < 7 && e.Status != 401 {
			// Most of an identity provider's requests are lookups: a GET
			// event carries no body.
			e.Method, e.Path, e.RequestBody, e.ResponseBody = "GET", "/api/connect/v1/Users", "", ""
		}
		e.TargetUserName = fmt.Sprintf("user%05d@archive.example", (i*7919)%10_000)
		tmpl = append(tmpl, e)
	}
	if err := db.AppendEvents(ctx, tmpl); err != nil {
		return fmt.Errorf("seed old events: %w", err)
	}
	rest := n - len(tmpl)
	if rest <= 0 {
		return nil
	}
	// Every column but time is a template event's (target username
	// varied); time goes on a second a row after the templates.
	cols := `org_id, time, method, path, status, target_username, target_username_key, client_ip, user_agent,
		request_id, duration_us, source, run_id, kind, profile_id, error, request_body, response_body,
		request_truncated, response_truncated, count, actor`
	sel := strings.NewReplacer(
		"time,", "$2::timestamptz + g * interval '1 second',",
		"target_username,", "'u' || (g % 100000) || '@archive.example',",
		"target_username_key,", "'u' || (g % 100000) || '@archive.example',",
		"request_id,", "md5(g::text),",
	).Replace(cols)
	q := `WITH t AS (SELECT ` + cols + `, row_number() OVER (ORDER BY id) - 1 AS k FROM events WHERE org_id = $1)
		INSERT INTO events (` + cols + `)
		SELECT ` + sel + ` FROM generate_series($3::bigint, $4::bigint) g
		JOIN t ON t.k = g % ` + fmt.Sprint(len(tmpl)) + ` ORDER BY g`
	// Two statements at a time, a million rows each: the database's index
	// maintenance is the cost, and it runs on one core a statement.
	const chunk = 1_000_000
	ranges := make(chan [2]int64)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for r := range ranges {
				if errs[w] == nil {
					_, errs[w] = db.WriteSQLX().ExecContext(ctx, q, org.ID, first, r[0], r[1])
				}
			}
		})
	}
	for lo := len(tmpl); lo < n; lo += chunk {
		ranges <- [2]int64{int64(lo), int64(min(lo+chunk, n) - 1)}
	}
	close(ranges)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seed old events: %w", err)
	}
	return nil
}

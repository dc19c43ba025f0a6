package daemon_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

const fakeAdmin = "admin@example.com"

var (
	runStarted  = regexp.MustCompile(`msg="bridge run started"`)
	runApplied  = regexp.MustCompile(`msg="bridge run finished".* status=applied`)
	orgIDInLine = regexp.MustCompile(`org_id=(\S+)`)
)

// cluster is a PostgreSQL database, a fake Google and the environment
// every replica and CLI command of a test shares.
type cluster struct {
	t      *testing.T
	bin    string
	dbURL  string
	env    []string
	fake   *fakegoogle.Server
	saFile string
}

func newCluster(t *testing.T, vars ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, dbURL: storetest.PostgresURL(t), fake: fakegoogle.NewServer()}
	c.bin = buildScimbridge(t)
	c.fake.SetAdmin(fakeAdmin)
	google := httptest.NewServer(c.fake.Handler())
	t.Cleanup(google.Close)
	tokenURL := google.URL + fakegoogle.TokenPath

	home := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(home, "encryption-key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	c.saFile = filepath.Join(home, "service-account.json")
	if err := os.WriteFile(c.saFile, c.fake.ServiceAccountKey(tokenURL), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = daemonEnv(home, append([]string{
		"SCIMBRIDGE_DATA_DIR=" + filepath.Join(home, "data"),
		"SCIMBRIDGE_DATABASE_URL=" + c.dbURL,
		"SCIMBRIDGE_GOOGLE_API_ENDPOINT=" + google.URL + "/",
		"SCIMBRIDGE_GOOGLE_TOKEN_URL=" + tokenURL,
		"SCIMBRIDGE_ENCRYPTION_KEY_FILE=" + keyFile,
		"SCIMBRIDGE_TEST_BRIDGE_POLL=500ms",
	}, vars...)...)
	c.cli("migrate")
	return c
}

func (c *cluster) cli(args ...string) string {
	c.t.Helper()
	return runCLI(c.t, c.bin, c.env, args...)
}

// addBridge creates an organization with a Google bridge on schedule.
func (c *cluster) addBridge(slug, schedule string) scimbridge.Organization {
	c.t.Helper()
	c.cli("org", "create", slug)
	args := []string{"bridge", "google", "set", "--org", slug, "--credentials", c.saFile, "--admin-email", fakeAdmin}
	if schedule != "" {
		args = append(args, "--schedule", schedule)
	}
	c.cli(args...)
	var org scimbridge.Organization
	c.withStore(func(db *store.DB) {
		var err error
		if org, err = db.OrganizationBySlug(context.Background(), slug); err != nil {
			c.t.Fatal(err)
		}
	})
	return org
}

func (c *cluster) withStore(fn func(db *store.DB)) {
	c.t.Helper()
	db, err := store.Open(context.Background(), c.dbURL, nil)
	if err != nil {
		c.t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	fn(db)
}

// googleEvents returns every event of the organization's bridge.
func googleEvents(t *testing.T, db *store.DB, orgID string) []scimbridge.Event {
	t.Helper()
	var all []scimbridge.Event
	q := scimbridge.EventQuery{OrgID: orgID, Source: scimbridge.EventGoogle, Limit: 1000}
	for {
		page, err := db.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		all = append(all, page.Events...)
		if page.NextCursor == 0 {
			return all
		}
		q.Cursor = page.NextCursor
	}
}

// checkOneEventPerProfile checks the organization has exactly one create
// event per Google-managed profile, and want such profiles.
func checkOneEventPerProfile(t *testing.T, db *store.DB, orgID string, want int) []scimbridge.Event {
	t.Helper()
	ps, err := db.ManagedProfiles(context.Background(), orgID, scimbridge.SourceGoogle)
	if err != nil {
		t.Fatal(err)
	}
	evs := googleEvents(t, db, orgID)
	perProfile := map[string]int{}
	for _, ev := range evs {
		if ev.Kind == scimbridge.ChangeCreate {
			perProfile[ev.ProfileID]++
		}
	}
	if len(ps) != want || len(evs) != want || len(perProfile) != want {
		t.Errorf("%d google profiles, %d google events for %d profiles; want %d of each", len(ps), len(evs), len(perProfile), want)
	}
	for _, p := range ps {
		if perProfile[p.ID] != 1 {
			t.Errorf("profile %s (%s) has %d create events, want 1", p.ID, p.UserName, perProfile[p.ID])
		}
	}
	return evs
}

// synced counts the users a bridge creates: guests are skipped.
func synced(users []*admin.User) int {
	n := 0
	for _, u := range users {
		if !u.IsGuestUser {
			n++
		}
	}
	return n
}

func TestReplicas_BridgeOncePerScheduleTick(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	c := newCluster(t)
	users := fakegoogle.GenerateUsers(60, 1)
	c.fake.SetUsers(users)
	slugs := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	orgs := map[string]scimbridge.Organization{}
	for _, s := range slugs {
		orgs[s] = c.addBridge(s, "* * * * *")
	}
	// The replicas' clock is set forward so that the next minute begins
	// a few seconds after they start, instead of waiting for the wall
	// clock's: the first runs (due at once) finish before it, the second
	// runs belong to its tick.
	const lead = 15 * time.Second
	now := time.Now()
	tick := now.Truncate(time.Minute).Add(2 * time.Minute)
	c.env = append(c.env, "SCIMBRIDGE_TEST_CLOCK_OFFSET="+tick.Add(-lead).Sub(now).String())
	a := runDaemon(t, "replica-a", c.bin, c.env)
	b := runDaemon(t, "replica-b", c.bin, c.env)
	mainA, opsA := a.ready()
	mainB, opsB := b.ready()

	t.Run("SCIMServedByBoth", func(t *testing.T) {
		var tok struct{ Token string }
		if err := json.Unmarshal([]byte(c.cli("scim", "enable", "--org", "alpha", "--json")), &tok); err != nil {
			t.Fatal(err)
		}
		u := scimRequest(t, "POST", mainA+"/api/connect/v1/Users", tok.Token,
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"scim.user@example.net"}`, 201)
		id := u["id"].(string)
		scimRequest(t, "PATCH", mainB+"/api/connect/v1/Users/"+id, tok.Token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Engineer"}]}`, 200)
		if got := scimRequest(t, "GET", mainA+"/api/connect/v1/Users/"+id, tok.Token, "", 200); got["title"] != "Engineer" {
			t.Errorf("replica A does not see replica B's write: %v", got)
		}
	})

	// Wait for the second tick's runs: two finished reports per organization.
	deadline := now.Add(lead + 30*time.Second)
	reports := map[string][]scimbridge.Report{}
	for {
		done := true
		c.withStore(func(db *store.DB) {
			for _, s := range slugs {
				reps, err := db.Reports(context.Background(), orgs[s].ID, 10)
				if err != nil {
					t.Fatal(err)
				}
				reports[s] = reps
				finished := 0
				for _, r := range reps {
					if r.FinishedAt != nil {
						finished++
					}
				}
				done = done && finished >= 2
			}
		})
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Both replicas poll every 500 ms: give them time to run anything twice.
	time.Sleep(2 * time.Second)

	want := synced(users)
	c.withStore(func(db *store.DB) {
		for _, s := range slugs {
			reps, err := db.Reports(context.Background(), orgs[s].ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(reps) != 2 {
				t.Errorf("%s: %d reports, want one per tick (2)", s, len(reps))
				continue
			}
			first, second := reps[1], reps[0] // newest first
			if first.Status != scimbridge.ReportApplied || second.Status != scimbridge.ReportApplied ||
				first.Trigger != scimbridge.TriggerSchedule || second.Trigger != scimbridge.TriggerSchedule {
				t.Errorf("%s: reports %s/%s %s/%s, want applied schedule runs", s, first.Status, first.Trigger, second.Status, second.Trigger)
			}
			if !first.StartedAt.Before(tick) || second.StartedAt.Before(tick) {
				t.Errorf("%s: runs at %s and %s, want one before and one after %s", s, first.StartedAt, second.StartedAt, tick)
			}
			if second.Counts.Created != 0 || second.Counts.Unchanged != want {
				t.Errorf("%s: second run counts %+v, want %d unchanged", s, second.Counts, want)
			}
			checkOneEventPerProfile(t, db, orgs[s].ID, want)
		}
	})
	runsA, runsB := a.count(runStarted), b.count(runStarted)
	t.Logf("bridge runs: replica A %d, replica B %d", runsA, runsB)
	if runsA+runsB != 2*len(slugs) {
		t.Errorf("%d runs started across the replicas, want %d (each organization once per tick)", runsA+runsB, 2*len(slugs))
	}

	t.Run("Metrics", func(t *testing.T) {
		ma, mb := scrape(t, opsA), scrape(t, opsB)
		sum := func(name string, labels map[string]string) float64 {
			x, _ := ma.value(name, labels)
			y, _ := mb.value(name, labels)
			return x + y
		}
		if got := sum("scimbridge_bridge_runs_total", map[string]string{"result": "applied"}); got != float64(2*len(slugs)) {
			t.Errorf("applied runs across the replicas = %v, want %d", got, 2*len(slugs))
		}
		if got := sum("scimbridge_bridge_changes_total", map[string]string{"kind": "created"}); got != float64(want*len(slugs)) {
			t.Errorf("created in run reports across the replicas = %v, want %d", got, want*len(slugs))
		}
		if got := sum("scimbridge_bridge_listing_pages_total", nil); got < float64(2*len(slugs)) {
			t.Errorf("listed pages in run reports across the replicas = %v, want at least one per run", got)
		}
		if got := sum("scimbridge_bridge_phase_seconds", map[string]string{"phase": "applying"}); got != float64(2*len(slugs)) {
			t.Errorf("runs with an applying phase across the replicas = %v, want %d", got, 2*len(slugs))
		}
		if got := sum("scimbridge_google_api_calls_total", nil); got < float64(2*len(slugs)) {
			t.Errorf("google API calls = %v, want at least one page per run", got)
		}
		if got := sum("scimbridge_google_http_requests_total", map[string]string{"endpoint": "api", "code": "200"}); got < float64(2*len(slugs)) {
			t.Errorf("google API 200s = %v", got)
		}
		for _, m := range []metricFamilies{ma, mb} {
			// Bridge state comes from the shared database: the same on both.
			if v, ok := m.value("scimbridge_bridge_last_success_timestamp_seconds", map[string]string{"organization": "alpha"}); !ok || v < float64(tick.Unix()) {
				t.Errorf("alpha last success = %v (present %v), want after %s", v, ok, tick)
			}
			if v, ok := m.value("scimbridge_bridge_needs_attention", map[string]string{"organization": "alpha"}); !ok || v != 0 {
				t.Errorf("alpha needs attention = %v (present %v)", v, ok)
			}
			if v, _ := m.value("scimbridge_bridges", nil); v != float64(len(slugs)) {
				t.Errorf("bridges = %v, want %d", v, len(slugs))
			}
		}
	})

	a.signal(syscall.SIGTERM)
	b.signal(syscall.SIGTERM)
	if code := a.exitCode(40 * time.Second); code != 0 {
		t.Errorf("replica A exit code %d", code)
	}
	if code := b.exitCode(40 * time.Second); code != 0 {
		t.Errorf("replica B exit code %d", code)
	}
}

func TestReplicas_TakeoverAfterSIGKILL(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	c := newCluster(t, "SCIMBRIDGE_TEST_LEASE_TTL=3s")
	users := fakegoogle.GenerateUsers(6000, 7)
	c.fake.SetUsers(users)
	org := c.addBridge("big", "")
	want := synced(users)

	a := runDaemon(t, "replica-a", c.bin, c.env)
	b := runDaemon(t, "replica-b", c.bin, c.env)
	a.ready()
	b.ready()

	// Find the replica that runs the bridge.
	var runner, other *daemonProc
	for deadline := time.Now().Add(30 * time.Second); runner == nil; time.Sleep(20 * time.Millisecond) {
		switch {
		case a.find(runStarted) != "":
			runner, other = a, b
		case b.find(runStarted) != "":
			runner, other = b, a
		case time.Now().After(deadline):
			t.Fatal("no replica started the bridge run within 30s")
		}
	}
	// Kill it once its first batches are committed, mid-apply.
	pg, err := sql.Open("postgres", c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var applied int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := pg.QueryRow(`SELECT count(*) FROM profiles WHERE org_id = $1 AND source = 'google'`, org.ID).Scan(&applied)
		if err != nil {
			t.Fatal(err)
		}
		if applied > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run applied nothing within 60s")
		}
	}
	runner.signal(syscall.SIGKILL)
	if code := runner.exitCode(10 * time.Second); code != -1 {
		t.Fatalf("%s exit code %d after SIGKILL", runner.name, code)
	}
	t.Logf("%s killed with %d of %d profiles applied", runner.name, applied, want)

	// The other replica takes over once the 3 s lease has expired.
	other.waitFor(runApplied, 60*time.Second)
	c.withStore(func(db *store.DB) {
		ctx := context.Background()
		evs := checkOneEventPerProfile(t, db, org.ID, want)
		reps, err := db.Reports(ctx, org.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != 2 {
			t.Fatalf("%d reports, want the killed run and the takeover", len(reps))
		}
		killed, takeover := reps[1], reps[0]
		if killed.Status != scimbridge.ReportFailed || killed.Error != "holder lost" {
			t.Errorf("killed run's report: %s %q, want failed \"holder lost\"", killed.Status, killed.Error)
		}
		if takeover.Status != scimbridge.ReportApplied {
			t.Errorf("takeover report: %s %q", takeover.Status, takeover.Error)
		}
		byRun := map[string]int{}
		for _, ev := range evs {
			byRun[ev.RunID]++
		}
		if byRun[killed.ID] == 0 || byRun[killed.ID]+byRun[takeover.ID] != want || byRun[takeover.ID] != takeover.Counts.Created {
			t.Errorf("events by run: killed %d, takeover %d (report says %d created); want them to add up to %d",
				byRun[killed.ID], byRun[takeover.ID], takeover.Counts.Created, want)
		}
		if l, err := db.CurrentLease(ctx, org.ID); err == nil && l.ExpiresAt.After(time.Now()) {
			t.Errorf("lease still held after the run: %+v", l)
		}
	})
	if m := orgIDInLine.FindStringSubmatch(other.find(runApplied)); m == nil || m[1] != org.ID {
		t.Errorf("takeover log line names another organization: %v", m)
	}
	other.signal(syscall.SIGTERM)
	if code := other.exitCode(40 * time.Second); code != 0 {
		t.Errorf("%s exit code %d", other.name, code)
	}
}

func TestServe_SIGTERMInterruptsReconcile(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	c := newCluster(t)
	users := fakegoogle.GenerateUsers(8000, 11)
	c.fake.SetUsers(users)
	org := c.addBridge("big", "")
	p := runDaemon(t, "serve", c.bin, c.env)
	p.waitFor(runStarted, 60*time.Second)
	pg, err := sql.Open("postgres", c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := pg.QueryRow(`SELECT count(*) FROM profiles WHERE org_id = $1`, org.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run applied nothing within 60s")
		}
	}
	p.signal(syscall.SIGTERM)
	if code := p.exitCode(40 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	c.withStore(func(db *store.DB) {
		ctx := context.Background()
		reps, err := db.Reports(ctx, org.ID, 10)
		if err != nil || len(reps) != 1 {
			t.Fatalf("reports: %v %v", reps, err)
		}
		rep := reps[0]
		if rep.Status != scimbridge.ReportInterrupted && rep.Status != scimbridge.ReportApplied {
			t.Errorf("report status %s %q, want interrupted (or applied, had the run finished)", rep.Status, rep.Error)
		}
		// Nothing half-applied: every committed change has its one event,
		// and the report counts exactly those.
		evs := googleEvents(t, db, org.ID)
		ps, _ := db.ManagedProfiles(ctx, org.ID, scimbridge.SourceGoogle)
		if len(evs) != len(ps) || rep.Counts.Created != len(ps) {
			t.Errorf("%d profiles, %d events, report counts %d created", len(ps), len(evs), rep.Counts.Created)
		}
		if l, err := db.CurrentLease(ctx, org.ID); err == nil && l.ExpiresAt.After(time.Now()) {
			t.Errorf("lease not released on shutdown: %+v", l)
		}
		t.Logf("interrupted after %d of %d profiles: %s", len(ps), synced(users), rep.Status)
	})
	if l := p.find(regexp.MustCompile(`msg="bridge run finished"`)); l == "" {
		t.Errorf("the run did not finish its report before exit")
	}
}

package bridge_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// eachBackend runs fn on a fresh SQLite and a fresh PostgreSQL store.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("SQLite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

// hookStore lets a test step in before each ApplyChanges.
type hookStore struct {
	scimbridge.Store
	mu     sync.Mutex
	before func(batch []scimbridge.ChangeEvent) error
	calls  int
}

func (h *hookStore) ApplyChanges(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	if err := h.hook(batch); err != nil {
		return err
	}
	return h.Store.ApplyChanges(ctx, batch, lease)
}

// ApplyCreates is the store's bulk path for creates, after the same hook.
func (h *hookStore) ApplyCreates(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	if err := h.hook(batch); err != nil {
		return err
	}
	return h.Store.(*store.DB).ApplyCreates(ctx, batch, lease)
}

// hook counts a batch and runs the test's before hook, if any, on it.
func (h *hookStore) hook(batch []scimbridge.ChangeEvent) error {
	h.mu.Lock()
	h.calls++
	before := h.before
	h.mu.Unlock()
	if before != nil {
		return before(batch)
	}
	return nil
}

// AppendReportItems and PutReportFrom pass the optional store methods
// through, so runs take the daemon's path.
func (h *hookStore) AppendReportItems(ctx context.Context, orgID, reportID string, start int, items []scimbridge.ReportItem) error {
	return h.Store.(bridge.ReportStreamer).AppendReportItems(ctx, orgID, reportID, start, items)
}

func (h *hookStore) PutReportFrom(ctx context.Context, r scimbridge.Report, start int) error {
	return h.Store.(bridge.ReportStreamer).PutReportFrom(ctx, r, start)
}

// EachProfileIndex passes the streamed profile index through, as the
// daemon's store serves it.
func (h *hookStore) EachProfileIndex(ctx context.Context, orgID string, size func(int), fn func(scimbridge.StoredProfile) error) error {
	return h.Store.(*store.DB).EachProfileIndex(ctx, orgID, size, fn)
}

// syncEnv is one organization with a Google bridge against a fake Google
// served over HTTP and read by the real client.
type syncEnv struct {
	t       testing.TB
	db      *store.DB
	hooks   *hookStore
	google  *fakegoogle.Server
	ep      bridge.Endpoints
	keyring *seal.Keyring
	org     scimbridge.Organization
	runner  *bridge.Runner
	users   []*admin.User
}

func newKeyring(t testing.TB) *seal.Keyring {
	t.Helper()
	raw := make([]byte, seal.KeySize)
	rand.Read(raw)
	k, err := seal.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fastRetries retries without sleeping.
func fastRetries() bridge.Option {
	return bridge.WithRetryPolicy(bridge.RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
}

// newSyncEnv creates an organization and its bridge (mode sync, guard on,
// hold guarded) on db, with settings changed by mutate.
func newSyncEnv(t *testing.T, db *store.DB, mutate ...func(*scimbridge.BridgeSettings)) *syncEnv {
	t.Helper()
	g := newGoogle(t)
	return newSyncEnvWith(t, db, g, newKeyring(t), mutate...)
}

// fakeGoogle is a fake Google served on a loopback port.
type fakeGoogle struct {
	*fakegoogle.Server
	ep bridge.Endpoints
}

func newGoogle(t testing.TB) fakeGoogle {
	g := fakeGoogle{Server: fakegoogle.NewServer()}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	g.ep = bridge.Endpoints{APIEndpoint: srv.URL + "/", TokenURL: srv.URL + fakegoogle.TokenPath}
	return g
}

// newSyncEnvWith is newSyncEnv with a given Google and keyring, so several
// organizations can share them (as they share a daemon).
func newSyncEnvWith(t testing.TB, db *store.DB, g fakeGoogle, keyring *seal.Keyring, mutate ...func(*scimbridge.BridgeSettings)) *syncEnv {
	t.Helper()
	e := &syncEnv{t: t, db: db, hooks: &hookStore{Store: db}, google: g.Server, ep: g.ep, keyring: keyring}
	ctx := context.Background()
	now := time.Now().UTC()
	e.org = scimbridge.Organization{ID: uuid.NewString(), Slug: "acme-" + strings.ToLower(uuid.NewString()[:8]),
		Name: "Acme", CreatedAt: now, AdoptExisting: true}
	if err := db.CreateOrganization(ctx, e.org); err != nil {
		t.Fatal(err)
	}
	creds, err := bridge.ParseServiceAccount(e.google.ServiceAccountKey(e.ep.TokenURL), "admin@example.com", e.ep.TokenURL)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := bridge.SealCredentials(e.keyring, e.org.ID, creds)
	if err != nil {
		t.Fatal(err)
	}
	settings := scimbridge.BridgeSettings{Mode: scimbridge.ModeSync, Guard: true, Hold: scimbridge.HoldGuarded,
		AdminEmail: "admin@example.com", CredentialKind: bridge.KindServiceAccount}
	for _, m := range mutate {
		m(&settings)
	}
	b := scimbridge.Bridge{OrgID: e.org.ID, SealedCredentials: sealed, Settings: settings, CreatedAt: now, UpdatedAt: now}
	if err := db.PutBridge(ctx, b, scimbridge.Event{Time: now, Method: "PUT", Path: "/bridge", Status: 200,
		Source: scimbridge.EventAdmin, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.runner = e.newRunner("replica-a")
	return e
}

func (e *syncEnv) newRunner(holder string) *bridge.Runner {
	return &bridge.Runner{Store: e.hooks, Keyring: e.keyring, Endpoints: e.ep, Holder: holder,
		Clock: func() time.Time { return time.Now().UTC() }, DirectoryOptions: []bridge.Option{fastRetries()}}
}

// gUser is a Google user in the root org unit.
func gUser(id, email string) *admin.User {
	local := email[:strings.IndexByte(email, '@')]
	return &admin.User{Id: id, PrimaryEmail: email, OrgUnitPath: "/",
		Name: &admin.UserName{GivenName: local, FamilyName: "Test", FullName: local + " Test"}}
}

// manyUsers returns n users u0000@example.com... with ids starting at base.
func manyUsers(n, base int) []*admin.User {
	out := make([]*admin.User, n)
	for i := range out {
		out[i] = gUser(fmt.Sprintf("%d", 100000000000000000+base+i), fmt.Sprintf("u%04d@example.com", base+i))
	}
	return out
}

func (e *syncEnv) setUsers(users ...*admin.User) {
	e.users = users
	e.google.SetUsers(users)
}

// touch republishes the directory after its users were changed in place.
func (e *syncEnv) touch() { e.google.SetUsers(e.users) }

func (e *syncEnv) user(id string) *admin.User {
	for _, u := range e.users {
		if u.Id == id {
			return u
		}
	}
	e.t.Fatalf("no google user %s", id)
	return nil
}

func (e *syncEnv) without(ids ...string) []*admin.User {
	var out []*admin.User
next:
	for _, u := range e.users {
		for _, id := range ids {
			if u.Id == id {
				continue next
			}
		}
		out = append(out, u)
	}
	return out
}

// syncErr runs the bridge once (trigger manual).
func (e *syncEnv) syncErr() (scimbridge.Report, error) {
	return e.runner.RunOnce(context.Background(), e.org.ID, scimbridge.TriggerManual, false)
}

// sync runs the bridge once and fails the test unless the run completed.
func (e *syncEnv) sync() scimbridge.Report {
	e.t.Helper()
	rep, err := e.syncErr()
	if err != nil {
		e.t.Fatalf("sync: %v (report %+v)", err, rep)
	}
	return rep
}

// report reads a report with its items.
func (e *syncEnv) report(id string) scimbridge.Report {
	e.t.Helper()
	rep, err := e.db.Report(context.Background(), e.org.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// profiles returns every profile of the organization, detached included.
func (e *syncEnv) profiles() []scimbridge.Profile {
	e.t.Helper()
	page, err := e.db.ListProfiles(context.Background(), scimbridge.ProfileQuery{OrgID: e.org.ID, IncludeDetached: true, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Profiles
}

func (e *syncEnv) byGoogleID(gid string) scimbridge.Profile {
	e.t.Helper()
	for _, p := range e.profiles() {
		if p.GoogleID == gid {
			return p
		}
	}
	e.t.Fatalf("no profile with google id %s", gid)
	return scimbridge.Profile{}
}

func (e *syncEnv) bridge() scimbridge.Bridge {
	e.t.Helper()
	b, err := e.db.Bridge(context.Background(), e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// settings changes the bridge's settings.
func (e *syncEnv) settings(mutate func(*scimbridge.BridgeSettings)) {
	e.t.Helper()
	b := e.bridge()
	mutate(&b.Settings)
	if err := e.db.PutBridge(context.Background(), b, scimbridge.Event{Time: time.Now(), Method: "PUT", Path: "/bridge",
		Status: 200, Source: scimbridge.EventAdmin, Count: 1}); err != nil {
		e.t.Fatal(err)
	}
}

// events returns the organization's events of source, oldest first.
func (e *syncEnv) events(source scimbridge.EventSource) []scimbridge.Event {
	e.t.Helper()
	page, err := e.db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: e.org.ID, Source: source, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := page.Events
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// addProfile stores a profile of another source.
func (e *syncEnv) addProfile(p scimbridge.Profile) scimbridge.Profile {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	p.ID, p.OrgID, p.Version, p.State, p.Role = uuid.NewString(), e.org.ID, 1, scimbridge.StateActive, scimbridge.RoleMember
	p.CreatedAt, p.UpdatedAt = now, now
	p.Email = p.PrimaryEmail()
	if err := e.db.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event:  scimbridge.Event{OrgID: e.org.ID, Time: now, Method: "POST", Path: "/Users", Status: 201, Source: scimbridge.EventIdP, Count: 1},
	}); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func checkCounts(t *testing.T, got, want scimbridge.ReportCounts) {
	t.Helper()
	if got != want {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
}

func findItem(rep scimbridge.Report, kind scimbridge.ChangeKind, userName string) (scimbridge.ReportItem, bool) {
	for _, it := range rep.Items {
		if it.Kind == kind && strings.EqualFold(it.UserName, userName) {
			return it, true
		}
	}
	return scimbridge.ReportItem{}, false
}

func TestRunner_ListingFailures(t *testing.T) {
	t.Run("PageKeepsFailing", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(manyUsers(600, 0)...)
			e.google.FailPage(2, 503, "backendError", -1)
			rep, err := e.syncErr()
			if err == nil || rep.Status != scimbridge.ReportFailed {
				t.Fatalf("run = %v, %v; want failed", rep.Status, err)
			}
			if !strings.Contains(rep.Error, "incomplete listing") || !strings.Contains(rep.Error, "page 2") {
				t.Errorf("report error %q does not say the listing was incomplete at page 2", rep.Error)
			}
			if n := len(e.profiles()); n != 0 {
				t.Errorf("%d profiles written; a failed listing applies nothing", n)
			}
			b := e.bridge()
			if b.ConsecutiveFailures != 1 || b.NeedsAttention || b.LastError == "" || b.NextSyncAt == nil {
				t.Errorf("bridge state = failures %d, attention %v, last error %q, next %v",
					b.ConsecutiveFailures, b.NeedsAttention, b.LastError, b.NextSyncAt)
			}
			if got := e.report(rep.ID); got.Status != scimbridge.ReportFailed || got.Error != rep.Error {
				t.Errorf("stored report = %s %q", got.Status, got.Error)
			}
		})
	})
	for _, tc := range []struct {
		name   string
		status int
		reason string
	}{
		{"429", 429, "rateLimitExceeded"},
		{"403RateLimit", 403, "rateLimitExceeded"},
		{"503", 503, "backendError"},
	} {
		t.Run("Retried"+tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, db *store.DB) {
				e := newSyncEnv(t, db)
				e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
				e.google.FailPage(1, tc.status, tc.reason, 2)
				rep := e.sync()
				checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 2})
				if n := e.google.Requests(); n != 3 {
					t.Errorf("%d list requests, want 3 (two retried failures, then success)", n)
				}
			})
		})
	}
	t.Run("Permanent403", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"))
			e.google.FailAll(403, "forbidden", "Not Authorized to access this resource/api")
			rep, err := e.syncErr()
			if err == nil || rep.Status != scimbridge.ReportFailed {
				t.Fatalf("run = %v, %v; want failed", rep.Status, err)
			}
			if n := e.google.Requests(); n != 1 {
				t.Errorf("%d list requests, want exactly 1 (no retry of a permanent error)", n)
			}
			b := e.bridge()
			if !b.NeedsAttention || !strings.Contains(b.LastError, "Not Authorized to access this resource/api") {
				t.Errorf("bridge needs attention %v, last error %q; want Google's message", b.NeedsAttention, b.LastError)
			}
			// The next run keeps trying; success clears the state.
			e.google.ClearFailures()
			e.sync()
			if b := e.bridge(); b.NeedsAttention || b.ConsecutiveFailures != 0 || b.LastError != "" || b.LastSuccessAt == nil {
				t.Errorf("after a success: attention %v, failures %d, error %q", b.NeedsAttention, b.ConsecutiveFailures, b.LastError)
			}
		})
	})
	t.Run("CannotDecrypt", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"))
			sealedWith := e.runner.Keyring.KeyID()
			e.runner.Keyring = newKeyring(t)
			want := bridge.CannotDecrypt + ": needs key " + sealedWith + "; keys loaded: " + e.runner.Keyring.KeyID()
			rep, err := e.syncErr()
			if err == nil || rep.Status != scimbridge.ReportFailed || rep.Error != want {
				t.Fatalf("run = %s %q, %v; want failed %q", rep.Status, rep.Error, err, want)
			}
			if b := e.bridge(); b.LastError != want || !b.NeedsAttention {
				t.Errorf("bridge last error %q, attention %v", b.LastError, b.NeedsAttention)
			}
			if n := e.google.Requests(); n != 0 {
				t.Errorf("%d requests to Google without credentials", n)
			}
		})
	})
}

func TestRunner_DryRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(gUser("1001", "ann@example.com"), gUser("1002", "bob@example.com"))
		rep, err := e.runner.RunOnce(context.Background(), e.org.ID, scimbridge.TriggerManual, true)
		if err != nil || rep.Status != scimbridge.ReportDryRun {
			t.Fatalf("dry run = %s, %v", rep.Status, err)
		}
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 2})
		if _, ok := findItem(rep, scimbridge.ChangeCreate, "ann@example.com"); !ok {
			t.Errorf("dry-run report does not itemise the planned create: %+v", rep.Items)
		}
		if n := len(e.profiles()); n != 0 {
			t.Fatalf("dry run wrote %d profiles", n)
		}
		e.settings(func(s *scimbridge.BridgeSettings) { s.Mode = scimbridge.ModeDryRun })
		if rep := e.sync(); rep.Status != scimbridge.ReportDryRun || len(e.profiles()) != 0 {
			t.Fatalf("dry-run mode: status %s, %d profiles", rep.Status, len(e.profiles()))
		}
	})
}

func TestRunner_Lease(t *testing.T) {
	t.Run("HolderKilledIsTakenOver", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(gUser("1001", "ann@example.com"))
			ctx := context.Background()
			dead := scimbridge.Lease{OrgID: e.org.ID, RunID: uuid.NewString(), Holder: "killed",
				ExpiresAt: time.Now().UTC().Add(300 * time.Millisecond)}
			if ok, err := db.AcquireLease(ctx, dead); !ok || err != nil {
				t.Fatalf("acquire: %v %v", ok, err)
			}
			if err := db.PutReport(ctx, scimbridge.Report{ID: dead.RunID, OrgID: e.org.ID, Trigger: scimbridge.TriggerSchedule,
				Status: scimbridge.ReportRunning, StartedAt: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.syncErr(); scimbridge.ErrorCode(err) != scimbridge.ECONFLICT || !strings.Contains(err.Error(), "in progress") {
				t.Fatalf("run while the lease is held = %v, want another run in progress", err)
			}
			time.Sleep(400 * time.Millisecond)
			rep := e.sync()
			checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 1})
			old := e.report(dead.RunID)
			if old.Status != scimbridge.ReportFailed || old.Error != bridge.HolderLost || old.FinishedAt == nil {
				t.Errorf("killed run's report = %s %q, want failed %q", old.Status, old.Error, bridge.HolderLost)
			}
			if _, err := db.CurrentLease(ctx, e.org.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("lease after the run: %v, want released", err)
			}
		})
	})
	t.Run("LostMidRunStops", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(manyUsers(3, 0)...)
			e.hooks.before = func([]scimbridge.ChangeEvent) error {
				// Another holder takes the lease over, as after an expiry.
				ctx := context.Background()
				cur, err := db.CurrentLease(ctx, e.org.ID)
				if err != nil {
					return err
				}
				db.ReleaseLease(ctx, e.org.ID, cur.RunID)
				_, err = db.AcquireLease(ctx, scimbridge.Lease{OrgID: e.org.ID, RunID: uuid.NewString(), Holder: "other",
					ExpiresAt: time.Now().Add(time.Minute)})
				return err
			}
			rep, err := e.syncErr()
			if err == nil || rep.Status != scimbridge.ReportFailed || rep.Error != bridge.HolderLost {
				t.Fatalf("run = %s %q, %v; want failed %q", rep.Status, rep.Error, err, bridge.HolderLost)
			}
			if n := len(e.profiles()); n != 0 {
				t.Errorf("%d profiles written after the lease was lost", n)
			}
		})
	})
	t.Run("InterruptedBetweenBatches", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, db *store.DB) {
			e := newSyncEnv(t, db)
			e.setUsers(manyUsers(scimbridge.MaxBatch+100, 0)...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.hooks.before = func([]scimbridge.ChangeEvent) error { cancel(); return nil }
			rep, err := e.runner.RunOnce(ctx, e.org.ID, scimbridge.TriggerSchedule, false)
			if err == nil || rep.Status != scimbridge.ReportInterrupted {
				t.Fatalf("run = %s, %v; want interrupted", rep.Status, err)
			}
			if n := len(e.profiles()); n != scimbridge.MaxBatch || rep.Counts.Created != scimbridge.MaxBatch {
				t.Errorf("%d profiles, %d created; want the first batch (%d) whole and nothing more", n, rep.Counts.Created, scimbridge.MaxBatch)
			}
			if e.hooks.calls != 1 {
				t.Errorf("%d batches attempted after the interruption", e.hooks.calls)
			}
			if got := e.report(rep.ID); got.Status != scimbridge.ReportInterrupted {
				t.Errorf("stored status %s", got.Status)
			}
		})
	})
}

package feed_test

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	directory "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/feed"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// writer changes its own users at random on one store: creates, updates,
// deactivations, reactivations and deletions (detach).
type writer struct {
	s     scimbridge.Store
	orgID string
	rng   *rand.Rand
	users []scimbridge.Profile
	ops   *atomic.Int64
}

func (w *writer) step(t *testing.T, name string) {
	var err error
	i := w.rng.IntN(len(w.users) + 1)
	if i == len(w.users) || w.users[i].Detached() {
		p := newProfile(w.orgID, fmt.Sprintf("%s-%d@x.example", name, len(w.users)))
		if err = createUser(w.s, p); err == nil {
			w.users = append(w.users, p)
		}
	} else {
		p := &w.users[i]
		kind := scimbridge.ChangeUpdate
		switch r := w.rng.IntN(10); {
		case r == 0:
			kind = scimbridge.ChangeDetach
		case r < 3 && p.Active():
			kind = scimbridge.ChangeDeactivate
		case r < 3:
			kind = scimbridge.ChangeReactivate
		}
		err = updateUser(w.s, p, kind)
	}
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
	w.ops.Add(1)
}

// bridgeRun runs a real Google bridge run on s: a first sync of n users
// from a fake Google Directory, applied in batches of the bridge's size.
func bridgeRun(t *testing.T, s *store.DB, org scimbridge.Organization, n int) {
	ctx := context.Background()
	g := fakegoogle.NewServer()
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	users := make([]*directory.User, n)
	for i := range users {
		users[i] = &directory.User{Id: fmt.Sprintf("1000000000000000%05d", i), PrimaryEmail: fmt.Sprintf("g%05d@example.com", i),
			OrgUnitPath: "/", Name: &directory.UserName{GivenName: "G", FamilyName: fmt.Sprint(i)}}
	}
	g.SetUsers(users)
	raw := make([]byte, 32)
	crand.Read(raw)
	keyring, err := seal.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	ep := bridge.Endpoints{APIEndpoint: srv.URL + "/", TokenURL: srv.URL + fakegoogle.TokenPath}
	a := &admin.Admin{Store: s, Clock: func() time.Time { return time.Now().UTC() }, Logger: slog.New(slog.DiscardHandler),
		Keyring: keyring, Google: ep}
	by := admin.Caller{Actor: admin.CLIActor("test")}
	if _, err := a.SetGoogleBridge(ctx, by, org.Slug, admin.BridgeChange{ServiceAccountKey: g.ServiceAccountKey(ep.TokenURL),
		AdminEmail: "admin@example.com"}); err != nil {
		t.Errorf("set bridge: %v", err)
		return
	}
	r := &bridge.Runner{Store: s, Keyring: keyring, Endpoints: ep, Clock: a.Clock, Holder: "feed-test"}
	rep, err := r.RunOnce(ctx, org.ID, scimbridge.TriggerManual, false)
	if err != nil {
		t.Errorf("bridge run: %v", err)
		return
	}
	if rep.Status != scimbridge.ReportApplied || rep.Counts.Created != n {
		t.Errorf("bridge run: %s, %+v", rep.Status, rep.Counts)
	}
}

// follow reads f from cursor until stop is closed and, after that, the
// feed is drained; fn sees every change.
func follow(t *testing.T, f *feed.Feed, s scimbridge.Store, orgID, cursor string, stop <-chan struct{}, fn func(feed.Change)) {
	ctx := context.Background()
	stopped := false
	for {
		if !stopped {
			select {
			case <-stop:
				stopped = true
				storetest.Settle(t, s) // every write has committed: wait until all are readable
			default:
			}
		}
		page, err := f.Read(ctx, orgID, cursor, 37, 50*time.Millisecond)
		if err != nil {
			t.Fatalf("read feed: %v", err)
		}
		for _, c := range page.Changes {
			fn(c)
		}
		cursor = page.NextCursor
		if stopped && len(page.Changes) == 0 {
			return
		}
	}
}

// TestFeed_ConcurrentReplicasExactlyOnceInOrder: SCIM writers on two
// replicas (two store handles on one PostgreSQL database) and a bridge run
// write concurrently while a consumer follows the cursor: it sees every
// change exactly once, in position order, each resource's versions rising.
func TestFeed_ConcurrentReplicasExactlyOnceInOrder(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	one, two := openReplica(t, dsn), openReplica(t, dsn)
	org := newOrg(t, one, "acme")
	n := feed.NewNotifier(nil)
	one.SetChangeNotifier(n.Notify)
	f := &feed.Feed{Store: one, Notifier: n, Poll: 100 * time.Millisecond}

	var ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range []*store.DB{one, two, one, two} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &writer{s: s, orgID: org.ID, rng: rand.New(rand.NewPCG(uint64(i), 7)), ops: &ops}
			for range 60 {
				w.step(t, fmt.Sprintf("w%d", i))
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); bridgeRun(t, two, org, 1200) }()
	go func() { wg.Wait(); close(stop) }()

	var seen []feed.Change
	follow(t, f, one, org.ID, "", stop, func(c feed.Change) { seen = append(seen, c) })

	all, err := one.ChangesAfter(context.Background(), org.ID, scimbridge.ChangePosition{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	// 240 writer operations and the bridge's 1,200 creates.
	if want := 240 + 1200; len(all) != want {
		t.Errorf("%d records written, want %d", len(all), want)
	}
	if len(seen) != len(all) {
		t.Fatalf("the consumer saw %d changes, %d were written", len(seen), len(all))
	}
	versions := map[string]int64{}
	for i, c := range seen {
		if c.Position != all[i].Position || c.Cursor != feed.EncodeCursor(all[i].Position) {
			t.Fatalf("change %d at %v, want %v", i, c.Position, all[i].Position)
		}
		if c.Version <= versions[c.ResourceID] {
			t.Fatalf("%s %s version %d after %d", c.Type, c.ResourceID, c.Version, versions[c.ResourceID])
		}
		versions[c.ResourceID] = c.Version
	}
}

// userState is what a consumer keeps of a user.
type userState struct {
	Version     int64
	DisplayName string
	Active      bool
	Deleted     bool
}

// TestFeed_BootstrapEndsWithTheDirectory: a consumer reads a snapshot of
// the users while writers run, then follows the feed from the cursor taken
// before the snapshot, skipping what it already holds by version; it ends
// with exactly the directory's users.
func TestFeed_BootstrapEndsWithTheDirectory(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.OpenSQLite(t)
		bootstrap(t, db, db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresURL(t)
		bootstrap(t, openReplica(t, dsn), openReplica(t, dsn))
	})
}

func bootstrap(t *testing.T, one, two *store.DB) {
	ctx := context.Background()
	org := newOrg(t, one, "acme")
	n := feed.NewNotifier(nil)
	one.SetChangeNotifier(n.Notify)
	f := &feed.Feed{Store: one, Notifier: n, Poll: 100 * time.Millisecond}
	var ops atomic.Int64
	writers := make([]*writer, 4)
	for i := range writers {
		s := one
		if i%2 == 1 {
			s = two
		}
		writers[i] = &writer{s: s, orgID: org.ID, rng: rand.New(rand.NewPCG(uint64(i), 11)), ops: &ops}
		for range 10 {
			writers[i].step(t, fmt.Sprintf("w%d", i))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 60 {
				w.step(t, fmt.Sprintf("w%d", i))
			}
		}()
	}
	go func() { wg.Wait(); close(stop) }()
	for ops.Load() < 80 {
		time.Sleep(time.Millisecond)
	}

	// The snapshot: the head first, then the users page by page while the
	// writers go on.
	head, err := f.Head(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]userState{}
	for offset := 0; ; offset += 7 {
		page, err := one.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Offset: offset, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Profiles {
			if p.Version > state[p.ID].Version {
				state[p.ID] = userState{Version: p.Version, DisplayName: p.DisplayName, Active: p.Active()}
			}
		}
		if len(page.Profiles) < 7 {
			break
		}
	}
	snapshotOps := ops.Load()

	follow(t, f, one, org.ID, head, stop, func(c feed.Change) {
		if c.Version <= state[c.ResourceID].Version {
			return // already held
		}
		if c.Type == scimbridge.ChangeUserDeleted {
			state[c.ResourceID] = userState{Version: c.Version, Deleted: true}
			return
		}
		var r struct {
			DisplayName string `json:"displayName"`
			Active      bool   `json:"active"`
		}
		if err := json.Unmarshal(c.Resource, &r); err != nil {
			t.Fatalf("%s resource: %v", c.Type, err)
		}
		state[c.ResourceID] = userState{Version: c.Version, DisplayName: r.DisplayName, Active: r.Active}
	})
	if snapshotOps >= ops.Load() {
		t.Errorf("the writers did not write after the snapshot (%d ops)", snapshotOps)
	}

	final, err := one.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]userState{}
	for _, p := range final.Profiles {
		want[p.ID] = userState{Version: p.Version, DisplayName: p.DisplayName, Active: p.Active()}
	}
	for id, st := range state {
		if st.Deleted {
			delete(state, id)
		}
	}
	if len(state) != len(want) {
		t.Errorf("the consumer holds %d users, the directory %d", len(state), len(want))
	}
	for id, w := range want {
		if state[id] != w {
			t.Errorf("user %s: consumer %+v, directory %+v", id, state[id], w)
		}
	}
}

package bridge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestScheduler_DefaultSchedule(t *testing.T) {
	minutes := map[string]bool{}
	for i := 0; i < 50; i++ {
		id := uuid.NewString()
		spec := bridge.DefaultSchedule(id)
		if spec != bridge.DefaultSchedule(id) {
			t.Fatal("the default schedule is not stable")
		}
		var m0, m1, m2, m3 int
		if _, err := fmt.Sscanf(spec, "%d,%d,%d,%d * * * *", &m0, &m1, &m2, &m3); err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		if m0 < 0 || m0 >= 15 || m1 != m0+15 || m2 != m0+30 || m3 != m0+45 {
			t.Fatalf("%q is not every 15 minutes at an offset below 15", spec)
		}
		minutes[spec] = true
		if _, err := bridge.ParseSchedule("", id); err != nil {
			t.Fatal(err)
		}
	}
	if len(minutes) < 5 {
		t.Errorf("50 organizations share %d offsets", len(minutes))
	}
}

func TestScheduler_ParseSchedule(t *testing.T) {
	at := time.Date(2025, 1, 10, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec string
		want time.Time
	}{
		{"0 9 * * *", time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)},
		{"CRON_TZ=America/New_York 0 9 * * *", time.Date(2025, 1, 10, 14, 0, 0, 0, time.UTC)},
		{"@hourly", time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)},
		{"@every 30m", at.Add(30 * time.Minute)},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := bridge.ParseSchedule(tc.spec, "org")
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(at); !got.Equal(tc.want) {
				t.Errorf("next = %v, want %v", got.UTC(), tc.want)
			}
		})
	}
	for _, bad := range []string{"61 * * * *", "every day", "@every 10s", "CRON_TZ=Nowhere/Else 0 9 * * *"} {
		t.Run("Invalid "+bad, func(t *testing.T) {
			if _, err := bridge.ParseSchedule(bad, "org"); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Errorf("ParseSchedule(%q) = %v, want EINVALID", bad, err)
			}
		})
	}
}

func TestScheduler_NextSync(t *testing.T) {
	now := time.Date(2025, 1, 10, 8, 1, 0, 0, time.UTC)
	b := scimbridge.Bridge{OrgID: "org", Settings: scimbridge.BridgeSettings{Schedule: "*/15 * * * *"}}
	for _, tc := range []struct {
		failures int
		want     time.Time
	}{
		{0, now.Add(14 * time.Minute)}, // the schedule
		{3, now.Add(14 * time.Minute)}, // 4 min of backoff: still the schedule
		{5, now.Add(16 * time.Minute)}, // 16 min of backoff
		{7, now.Add(time.Hour)},        // capped
		{500, now.Add(time.Hour)},
	} {
		b.ConsecutiveFailures = tc.failures
		got, err := bridge.NextSync(b, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%d failures: next = %v, %v; want %v", tc.failures, got, err, tc.want)
		}
	}
	if !bridge.Due(scimbridge.Bridge{}, now) {
		t.Error("a bridge that never ran is not due")
	}
}

func TestScheduler_Tick(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db)
		e.setUsers(gUser("1001", "ann@example.com"))
		old := scimbridge.Report{ID: uuid.NewString(), OrgID: e.org.ID, Trigger: scimbridge.TriggerSchedule,
			Status: scimbridge.ReportApplied, StartedAt: time.Now().Add(-200 * 24 * time.Hour)}
		if err := db.PutReport(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		s := &bridge.Scheduler{Runner: e.runner, Store: db}
		if err := s.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		reps, _ := db.Reports(context.Background(), e.org.ID, 10)
		if len(reps) != 1 || reps[0].Trigger != scimbridge.TriggerSchedule || reps[0].Status != scimbridge.ReportApplied {
			t.Fatalf("reports after a tick: %+v (the 200-day-old one purged, one scheduled run)", reps)
		}
		b := e.bridge()
		if b.NextSyncAt == nil || !b.NextSyncAt.After(time.Now()) {
			t.Fatalf("next sync %v", b.NextSyncAt)
		}
		if err := s.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if reps, _ := db.Reports(context.Background(), e.org.ID, 10); len(reps) != 1 {
			t.Errorf("%d reports: a bridge not due ran", len(reps))
		}

		t.Run("FailuresBackOffAndStayVisible", func(t *testing.T) {
			e.google.FailAll(503, "backendError", "")
			b := e.bridge()
			b.NextSyncAt = nil
			b.ConsecutiveFailures = 6
			if err := db.UpdateBridgeState(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := s.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			b = e.bridge()
			if b.ConsecutiveFailures != 7 || b.LastError == "" || b.NextSyncAt == nil ||
				b.NextSyncAt.Before(start.Add(bridge.MaxBackoff-time.Minute)) {
				t.Errorf("failing bridge: failures %d, error %q, next %v", b.ConsecutiveFailures, b.LastError, b.NextSyncAt)
			}
		})
	})
}

func TestScheduler_Run(t *testing.T) {
	e := newSyncEnv(t, storetest.OpenSQLite(t))
	e.setUsers(gUser("1001", "ann@example.com"))
	ctx, cancel := context.WithCancel(context.Background())
	s := &bridge.Scheduler{Runner: e.runner, Store: e.db, Poll: 20 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.bridge().LastSuccessAt == nil {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not run the due bridge")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestScheduler_TwoReplicas runs two schedulers, each with its own runner
// (holder) and database connection, on one PostgreSQL database: each
// organization runs once per tick.
func TestScheduler_TwoReplicas(t *testing.T) {
	url := storetest.PostgresURL(t)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	g, keyring := newGoogle(t), newKeyring(t)
	var envs []*syncEnv
	for i := 0; i < 6; i++ {
		envs = append(envs, newSyncEnvWith(t, dbA, g, keyring))
	}
	envs[0].setUsers(manyUsers(30, 0)...)
	a := &bridge.Scheduler{Runner: envs[0].newRunner("replica-a"), Store: dbA, ReportRetention: -1}
	rb := envs[0].newRunner("replica-b")
	rb.Store = dbB
	b := &bridge.Scheduler{Runner: rb, Store: dbB, ReportRetention: -1}

	reportsPerOrg := func() map[string]int {
		out := map[string]int{}
		for _, e := range envs {
			reps, err := dbA.Reports(context.Background(), e.org.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reps {
				if r.Status == scimbridge.ReportRunning || r.Status == scimbridge.ReportFailed {
					t.Errorf("org %s: report %s %s %q", e.org.Slug, r.ID, r.Status, r.Error)
				}
			}
			out[e.org.ID] = len(reps)
		}
		return out
	}
	for tick := 1; tick <= 2; tick++ {
		var wg sync.WaitGroup
		for _, s := range []*bridge.Scheduler{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for org, n := range reportsPerOrg() {
			if n != 1 {
				t.Errorf("tick %d: organization %s ran %d times in all, want once", tick, org, n)
			}
		}
	}
	for _, e := range envs {
		if n := len(e.profiles()); n != 30 {
			t.Errorf("organization %s has %d profiles, want 30", e.org.Slug, n)
		}
	}
	// Make every organization due again: each runs once more.
	for _, e := range envs {
		bb := e.bridge()
		past := time.Now().Add(-time.Second)
		bb.NextSyncAt = &past
		if err := dbA.UpdateBridgeState(context.Background(), bb); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range []*bridge.Scheduler{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Tick(context.Background()) }()
	}
	wg.Wait()
	for org, n := range reportsPerOrg() {
		if n != 2 {
			t.Errorf("organization %s ran %d times after two due ticks, want 2", org, n)
		}
	}
}

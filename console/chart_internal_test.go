package console

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// chartStores runs a test on a real store of each database with one
// organization.
func chartStores(t *testing.T, test func(t *testing.T, db *store.DB, orgID string)) {
	for _, be := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(be.name, func(t *testing.T) {
			db := be.open(t)
			org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "acme", CreatedAt: time.Now().UTC()}
			if err := db.CreateOrganization(context.Background(), org); err != nil {
				t.Fatal(err)
			}
			test(t, db, org.ID)
		})
	}
}

// addEvent writes one event of the organization at a time.
func addEvent(t *testing.T, st scimbridge.Store, orgID string, at time.Time, status int) {
	t.Helper()
	ev := scimbridge.Event{OrgID: orgID, Time: at, Method: "GET", Path: "/scim/v2/Users", Status: status,
		Source: scimbridge.EventIdP, Count: 1}
	if err := st.AppendEvents(context.Background(), []scimbridge.Event{ev}); err != nil {
		t.Fatal(err)
	}
}

// countOf sums the counts of one hour and status class.
func countOf(counts []scimbridge.HourCount, hour time.Time, class int) int {
	n := 0
	for _, c := range counts {
		if c.Hour.Equal(hour) && c.StatusClass == class {
			n += c.Count
		}
	}
	return n
}

// chartNow is the time the tests count at: half past an hour, so the
// current hour's first 25 minutes have settled.
var chartNow = time.Date(2026, 12, 6, 15, 30, 0, 0, time.UTC)

// The overview's hourly counts are read once for what has settled: a
// later count reads only the last chartSettle, and still shows what
// arrived in it.
func TestHourCounts_SettledCountedOnce(t *testing.T) {
	chartStores(t, func(t *testing.T, db *store.DB, orgID string) {
		ctx := context.Background()
		now := chartNow
		since := now.Truncate(time.Hour).Add(-23 * time.Hour)
		old := since.Add(2 * time.Hour) // settled long ago
		current := now.Truncate(time.Hour)
		addEvent(t, db, orgID, old.Add(time.Minute), 200)
		addEvent(t, db, orgID, old.Add(2*time.Minute), 404)
		addEvent(t, db, orgID, current.Add(time.Minute), 200)

		c := hourCounts{firstWait: time.Hour}
		got, at, err := c.get(ctx, db, orgID, since, 24, now)
		if err != nil {
			t.Fatal(err)
		}
		if countOf(got, old, 2) != 1 || countOf(got, old, 4) != 1 || countOf(got, current, 2) != 1 || !at.Equal(now) {
			t.Fatalf("first counts = %+v as of %v", got, at)
		}
		// Within the TTL the counts are served as they are, and not
		// counted again.
		addEvent(t, db, orgID, current.Add(28*time.Minute), 500)
		c.get(ctx, db, orgID, since, 24, now.Add(time.Second))
		c.counting.Wait()
		if got, _, _ := c.get(ctx, db, orgID, since, 24, now.Add(2*time.Second)); countOf(got, current, 5) != 0 {
			t.Fatalf("counts within the TTL were read again: %+v", got)
		}
		// After it, only the last chartSettle is counted again: events
		// written since into a settled hour, or into the current hour's
		// settled start (which no writer does), stay uncounted, which shows
		// neither was read again.
		addEvent(t, db, orgID, old.Add(3*time.Minute), 200)
		addEvent(t, db, orgID, current.Add(10*time.Minute), 200)
		later := now.Add(chartTTL)
		c.get(ctx, db, orgID, since, 24, later)
		c.counting.Wait()
		got, at, err = c.get(ctx, db, orgID, since, 24, later)
		if err != nil {
			t.Fatal(err)
		}
		if countOf(got, current, 5) != 1 || countOf(got, current, 2) != 1 || !at.Equal(later) {
			t.Errorf("current hour after the TTL = %+v as of %v, want the new 5xx only", got, at)
		}
		if countOf(got, old, 2) != 1 {
			t.Errorf("settled hour was counted again: %+v", got)
		}
		// A window that moves on keeps what settled, the current hour's
		// start included, and drops the oldest hour.
		next := since.Add(time.Hour)
		moved := now.Add(time.Hour)
		c.get(ctx, db, orgID, next, 24, moved)
		c.counting.Wait()
		got, _, err = c.get(ctx, db, orgID, next, 24, moved)
		if err != nil {
			t.Fatal(err)
		}
		if countOf(got, old, 2) != 1 || countOf(got, current, 5) != 1 || countOf(got, current, 2) != 1 {
			t.Errorf("moved window = %+v", got)
		}
		for _, hc := range got {
			if hc.Hour.Before(next) {
				t.Errorf("hour %v before the window is kept", hc.Hour)
			}
		}
	})
}

// Counts older than the TTL are served at once, as of when they were
// counted, and counted again in the background: the next call after that
// count sees what arrived.
func TestHourCounts_StaleServedAndRefreshed(t *testing.T) {
	chartStores(t, func(t *testing.T, db *store.DB, orgID string) {
		ctx := context.Background()
		now := chartNow
		since := now.Truncate(time.Hour).Add(-23 * time.Hour)
		current := now.Truncate(time.Hour)
		addEvent(t, db, orgID, now.Add(-time.Minute), 200)
		c := hourCounts{firstWait: time.Hour}
		if got, _, err := c.get(ctx, db, orgID, since, 24, now); err != nil || countOf(got, current, 2) != 1 {
			t.Fatalf("first counts = %+v, %v", got, err)
		}
		addEvent(t, db, orgID, now.Add(time.Second), 200)
		stale := now.Add(chartTTL + time.Second)
		got, at, err := c.get(ctx, db, orgID, since, 24, stale)
		if err != nil || countOf(got, current, 2) != 1 || !at.Equal(now) {
			t.Fatalf("stale call = %+v as of %v, %v; want the old counts as of %v", got, at, err, now)
		}
		c.counting.Wait()
		got, at, err = c.get(ctx, db, orgID, since, 24, stale.Add(time.Second))
		if err != nil || countOf(got, current, 2) != 2 || !at.Equal(stale) {
			t.Fatalf("call after the refresh = %+v as of %v, %v; want the new event as of %v", got, at, err, stale)
		}
	})
}

// gatedStore is a store whose counts can be held until a gate closes, or
// fail, and that counts the counts.
type gatedStore struct {
	scimbridge.Store
	calls atomic.Int64
	gate  chan struct{} // when set, counts wait for it to close
	fail  atomic.Bool
}

func (s *gatedStore) EventCountsBetween(ctx context.Context, orgID string, from, to time.Time) ([]scimbridge.HourCount, error) {
	s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.fail.Load() {
		return nil, errors.New("database is down")
	}
	return s.Store.EventCountsBetween(ctx, orgID, from, to)
}

// However many calls find the counts stale (or find none) at once, one
// count runs for them.
func TestHourCounts_OneCountAtATime(t *testing.T) {
	chartStores(t, func(t *testing.T, db *store.DB, orgID string) {
		ctx := context.Background()
		now := chartNow
		since := now.Truncate(time.Hour).Add(-23 * time.Hour)
		stale := now.Add(chartTTL)
		addEvent(t, db, orgID, now.Add(-time.Minute), 200)
		// What one first count and one refresh read, one call at a time.
		one := &gatedStore{Store: db}
		c1 := hourCounts{firstWait: time.Hour}
		c1.get(ctx, one, orgID, since, 24, now)
		firstCalls := one.calls.Load()
		c1.get(ctx, one, orgID, since, 24, stale)
		c1.counting.Wait()
		refreshCalls := one.calls.Load() - firstCalls

		concurrently := func(st scimbridge.Store, c *hourCounts, at time.Time) {
			t.Helper()
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					if got, _, err := c.get(ctx, st, orgID, since, 24, at); err != nil || countOf(got, now.Truncate(time.Hour), 2) != 1 {
						t.Errorf("counts = %+v, %v", got, err)
					}
				})
			}
			wg.Wait()
		}
		many := &gatedStore{Store: db}
		c := hourCounts{firstWait: time.Hour}
		concurrently(many, &c, now)
		if got := many.calls.Load(); got != firstCalls {
			t.Errorf("concurrent first calls made %d counts, want %d (one count)", got, firstCalls)
		}
		// The refresh is held until every stale call has returned.
		many.calls.Store(0)
		many.gate = make(chan struct{})
		concurrently(many, &c, stale)
		close(many.gate)
		c.counting.Wait()
		if got := many.calls.Load(); got != refreshCalls {
			t.Errorf("concurrent stale calls made %d counts, want %d (one refresh)", got, refreshCalls)
		}
	})
}

// A refresh that fails is logged and leaves the counts as they were; the
// next stale call tries again. A first count that fails is the call's
// error, and the next call counts again.
func TestHourCounts_FailedRefreshKeepsCounts(t *testing.T) {
	chartStores(t, func(t *testing.T, db *store.DB, orgID string) {
		ctx := context.Background()
		now := chartNow
		since := now.Truncate(time.Hour).Add(-23 * time.Hour)
		current := now.Truncate(time.Hour)
		addEvent(t, db, orgID, now.Add(-time.Minute), 200)
		st := &gatedStore{Store: db}
		var logs bytes.Buffer
		c := hourCounts{firstWait: time.Hour, logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if _, _, err := c.get(ctx, st, orgID, since, 24, now); err != nil {
			t.Fatal(err)
		}
		addEvent(t, db, orgID, now.Add(time.Second), 200)
		st.fail.Store(true)
		stale := now.Add(chartTTL)
		c.get(ctx, st, orgID, since, 24, stale)
		c.counting.Wait()
		got, at, err := c.get(ctx, st, orgID, since, 24, stale)
		if err != nil || countOf(got, current, 2) != 1 || !at.Equal(now) {
			t.Errorf("after a failed refresh = %+v as of %v, %v; want the old counts as of %v", got, at, err, now)
		}
		c.counting.Wait()
		if !strings.Contains(logs.String(), "count events per hour") || !strings.Contains(logs.String(), "database is down") {
			t.Errorf("log = %q, want the failed count", logs.String())
		}
		st.fail.Store(false)
		c.get(ctx, st, orgID, since, 24, stale)
		c.counting.Wait()
		if got, at, err := c.get(ctx, st, orgID, since, 24, stale); err != nil || countOf(got, current, 2) != 2 || !at.Equal(stale) {
			t.Errorf("after the database is back = %+v as of %v, %v", got, at, err)
		}

		fresh := hourCounts{firstWait: time.Hour}
		st.fail.Store(true)
		if _, _, err := fresh.get(ctx, st, orgID, since, 24, now); err == nil {
			t.Error("a failed first count is no error")
		}
		st.fail.Store(false)
		if got, _, err := fresh.get(ctx, st, orgID, since, 24, now); err != nil || countOf(got, current, 2) != 2 {
			t.Errorf("first count after a failed one = %+v, %v", got, err)
		}
	})
}

// An organization's first count that takes longer than the page may wait
// leaves the page without counts (a zero time) and goes on; the next call
// after it ends is served its counts.
func TestHourCounts_FirstCountDoesNotHoldThePage(t *testing.T) {
	chartStores(t, func(t *testing.T, db *store.DB, orgID string) {
		ctx := context.Background()
		now := chartNow
		since := now.Truncate(time.Hour).Add(-23 * time.Hour)
		addEvent(t, db, orgID, now.Add(-time.Minute), 200)
		st := &gatedStore{Store: db, gate: make(chan struct{})}
		c := hourCounts{firstWait: time.Millisecond}
		got, at, err := c.get(ctx, st, orgID, since, 24, now)
		if err != nil || got != nil || !at.IsZero() {
			t.Fatalf("first call during the count = %+v as of %v, %v; want no counts", got, at, err)
		}
		close(st.gate)
		c.counting.Wait()
		got, at, err = c.get(ctx, st, orgID, since, 24, now.Add(time.Second))
		if err != nil || countOf(got, now.Truncate(time.Hour), 2) != 1 || !at.Equal(now) {
			t.Fatalf("call after the first count = %+v as of %v, %v", got, at, err)
		}
	})
}

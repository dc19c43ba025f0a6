package scimserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// outageStore is a store whose database can be made unreachable: while
// down, AppendEvents and Ping fail; failed counts the refused attempts.
type outageStore struct {
	scimbridge.Store
	down   atomic.Bool
	failed atomic.Int64
}

var errDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (o *outageStore) AppendEvents(ctx context.Context, events []scimbridge.Event) error {
	if o.down.Load() {
		o.failed.Add(1)
		return fmt.Errorf("insert events: %w", errDown)
	}
	return o.Store.AppendEvents(ctx, events)
}

func (o *outageStore) Ping(ctx context.Context) error {
	if o.down.Load() {
		return fmt.Errorf("ping database: %w", errDown)
	}
	return o.Store.Ping(ctx)
}

// waitUntil polls cond until it holds; it fails the test after a minute
// (a hang, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventWriter_KeepsEventsThroughOutage(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		orgID := writerOrg(t, db)
		st := &outageStore{Store: db}
		st.down.Store(true)
		clock := newTestClock()
		w := newEventWriter(st, slog.New(slog.DiscardHandler), clock.Now, eventLimits{})
		stop := startWriter(t, w)
		defer stop()

		const n = 1234
		for i := range n / 2 {
			w.record(testEvent(orgID, fmt.Sprintf("r%04d", i), "192.0.2.1", 500, clock.Now()))
		}
		waitUntil(t, "the writer tried the unreachable database", func() bool { return st.failed.Load() >= 2 })
		for i := n / 2; i < n; i++ {
			w.record(testEvent(orgID, fmt.Sprintf("r%04d", i), "192.0.2.1", 500, clock.Now()))
		}
		if s := w.stats(); s.EventsQueued != n || s.EventWriteFailures != 0 {
			t.Fatalf("during the outage: stats %+v, want %d queued and no failure", s, n)
		}
		st.down.Store(false)
		waitUntil(t, "the queue is written", func() bool { return w.stats().EventsQueued == 0 })

		got := listEvents(t, db, orgID, scimbridge.EventIdP)
		if len(got) != n {
			t.Fatalf("%d events written, want %d", len(got), n)
		}
		for i, ev := range got {
			if want := fmt.Sprintf("r%04d", i); ev.RequestID != want {
				t.Fatalf("event %d is %s, want %s (in the order recorded)", i, ev.RequestID, want)
			}
		}
		if s := w.stats(); s.EventsWritten != n || s.EventWriteFailures != 0 || s.EventsQueuedBytes != 0 {
			t.Fatalf("stats %+v, want %d written, no failure, an empty queue", s, n)
		}
	})
}

func TestEventWriter_FullQueueDropsAndCounts(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	clock := newTestClock()
	body := strings.Repeat("x", 64<<10) // the largest body an event carries
	for _, tc := range []struct {
		name   string
		limits eventLimits
		body   string
		offer  int
		queued int
	}{
		{"ByCount", eventLimits{events: 10}, "", 15, 10},
		{"ByBytes", eventLimits{bytes: 10 * (eventOverhead + 200 + len(body))}, body, 15, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The writer does not run: every event stays queued.
			w := newEventWriter(db, slog.New(slog.DiscardHandler), clock.Now, tc.limits)
			for i := range tc.offer {
				ev := testEvent(orgID, fmt.Sprintf("%s%d", tc.name, i), "192.0.2.1", 200, clock.Now())
				ev.RequestBody = tc.body
				w.record(ev)
			}
			s := w.stats()
			if s.EventsQueued != uint64(tc.queued) || s.EventsDropped != uint64(tc.offer-tc.queued) ||
				s.EventWriteFailures != s.EventsDropped {
				t.Fatalf("stats %+v, want %d queued and %d dropped", s, tc.queued, tc.offer-tc.queued)
			}
			stop := startWriter(t, w)
			stop()
			got := 0
			for _, ev := range listEvents(t, db, orgID, scimbridge.EventIdP) {
				if strings.HasPrefix(ev.RequestID, tc.name) {
					got++
				}
			}
			if got != tc.queued {
				t.Fatalf("%d events written, want the %d queued", got, tc.queued)
			}
		})
	}
}

// With the default limits, a queue of events with the largest bodies
// stops at DefaultEventBufferBytes, far below DefaultEventBuffer events.
func TestEventWriter_LargeBodiesBoundedInBytes(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	clock := newTestClock()
	w := newEventWriter(db, slog.New(slog.DiscardHandler), clock.Now, eventLimits{})
	body := strings.Repeat("x", 64<<10)
	const offered = 2000 // 2 × 64 KiB each: about 256 MiB
	for i := range offered {
		ev := testEvent(orgID, fmt.Sprintf("big%d", i), "192.0.2.1", 200, clock.Now())
		ev.RequestBody, ev.ResponseBody = body, body
		w.record(ev)
	}
	s := w.stats()
	if s.EventsQueuedBytes > DefaultEventBufferBytes {
		t.Fatalf("queue holds %d bytes, over the %d bound", s.EventsQueuedBytes, DefaultEventBufferBytes)
	}
	if s.EventsDropped == 0 || s.EventsQueued+s.EventsDropped != offered {
		t.Fatalf("stats %+v: want the events past the byte bound dropped and counted", s)
	}
}

// When the database is still down at shutdown, the drain gives up after
// its timeout and counts what it lost.
func TestEventWriter_DrainGivesUpWhenDatabaseDown(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	st := &outageStore{Store: db}
	st.down.Store(true)
	clock := newTestClock()
	w := newEventWriter(st, slog.New(slog.DiscardHandler), clock.Now, eventLimits{drain: 300 * time.Millisecond})
	stop := startWriter(t, w)
	for i := range 5 {
		w.record(testEvent(orgID, fmt.Sprintf("d%d", i), "192.0.2.1", 500, clock.Now()))
	}
	stop() // returns: the drain is bounded
	if s := w.stats(); s.EventsLost != 5 || s.EventWriteFailures != 5 || s.EventsQueued != 0 {
		t.Fatalf("stats %+v, want 5 lost", s)
	}
}

// While the database is unavailable the writer waits longer and longer
// between attempts, up to a bound: it neither spins nor gives up.
func TestNextBackoff(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for range 7 {
		d = nextBackoff(d)
		got = append(got, d)
	}
	want := []time.Duration{minBackoff, 2 * minBackoff, 4 * minBackoff, 8 * minBackoff, 16 * minBackoff, maxBackoff, maxBackoff}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("backoffs %v, want %v", got, want)
	}
}

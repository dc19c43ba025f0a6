package scimserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// startWriter runs w until the returned stop is called; stop waits for the
// drain.
func startWriter(t *testing.T, w *eventWriter) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

func writerOrg(t *testing.T, db scimbridge.Store) string {
	t.Helper()
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "w", Name: "w", CreatedAt: time.Now().UTC()}
	if err := db.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return org.ID
}

func testEvent(orgID, requestID, ip string, status int, at time.Time) scimbridge.Event {
	return scimbridge.Event{OrgID: orgID, Time: at, Method: "GET", Path: "/api/connect/v1/Users",
		Status: status, ClientIP: ip, RequestID: requestID, Source: scimbridge.EventIdP, Count: 1}
}

func TestEventWriter_DrainsOnShutdown(t *testing.T) {
	backends(t, func(t *testing.T, db scimbridge.Store) {
		orgID := writerOrg(t, db)
		clock := newTestClock()
		w := newEventWriter(db, slog.New(slog.DiscardHandler), clock.Now, eventLimits{})
		stop := startWriter(t, w)
		const n = 1234
		for i := range n {
			w.record(testEvent(orgID, fmt.Sprintf("r%d", i), "192.0.2.1", 200, clock.Now()))
		}
		stop()
		if got := len(listEvents(t, db, orgID, scimbridge.EventIdP)); got != n {
			t.Fatalf("%d events written, want %d", got, n)
		}
		if st := w.stats(); st.EventsWritten != n || st.EventWriteFailures != 0 {
			t.Fatalf("stats %+v, want %d written, no failures", st, n)
		}
		t.Run("AfterRunWritesSynchronously", func(t *testing.T) {
			w.record(testEvent(orgID, "late", "192.0.2.1", 200, clock.Now()))
			if got := len(listEvents(t, db, orgID, scimbridge.EventIdP)); got != n+1 {
				t.Fatalf("%d events, want %d", got, n+1)
			}
		})
	})
}

func TestEventWriter_FlushesWhileRunning(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	w := newEventWriter(db, slog.New(slog.DiscardHandler), time.Now, eventLimits{})
	stop := startWriter(t, w)
	defer stop()
	w.record(testEvent(orgID, "one", "192.0.2.1", 200, time.Now()))
	deadline := time.Now().Add(10 * time.Second)
	for len(listEvents(t, db, orgID, scimbridge.EventIdP)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("event not written while the writer runs")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEventWriter_Aggregates(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	clock := newTestClock()
	w := newEventWriter(db, slog.New(slog.DiscardHandler), clock.Now, eventLimits{})
	stop := startWriter(t, w)

	for i := range 25 {
		w.record(testEvent(orgID, fmt.Sprintf("a%d", i), "198.51.100.1", http.StatusUnauthorized, clock.Now()))
		clock.Add(time.Second)
	}
	for i := range 3 {
		w.record(testEvent(orgID, fmt.Sprintf("b%d", i), "198.51.100.2", http.StatusUnauthorized, clock.Now()))
	}
	for i := range 12 {
		w.record(testEvent(orgID, fmt.Sprintf("c%d", i), "198.51.100.1", http.StatusTooManyRequests, clock.Now()))
	}
	// A new window for the first IP: the aggregate of the old one is
	// written, the next refusal is an event of its own.
	clock.Add(time.Minute)
	w.record(testEvent(orgID, "a-next", "198.51.100.1", http.StatusUnauthorized, clock.Now()))
	stop()

	counts := map[string]int{} // ip/status -> requests
	rows := map[string]int{}
	for _, ev := range listEvents(t, db, orgID, scimbridge.EventIdP) {
		k := fmt.Sprintf("%s/%d", ev.ClientIP, ev.Status)
		counts[k] += ev.Count
		rows[k]++
	}
	want := map[string][2]int{ // requests, rows
		"198.51.100.1/401": {26, 12}, // 10 + one aggregate of 15 + the new window's first
		"198.51.100.2/401": {3, 3},
		"198.51.100.1/429": {12, 11}, // 10 + one aggregate of 2
	}
	for k, v := range want {
		if counts[k] != v[0] || rows[k] != v[1] {
			t.Errorf("%s: %d requests in %d events, want %d in %d", k, counts[k], rows[k], v[0], v[1])
		}
	}
	if st := w.stats(); st.EventsAggregated != 15+2 {
		t.Errorf("aggregated %d, want 17", st.EventsAggregated)
	}
}

func TestEventWriter_CountsFailures(t *testing.T) {
	db := storetest.OpenSQLite(t)
	orgID := writerOrg(t, db)
	w := newEventWriter(failingStore{db}, slog.New(slog.DiscardHandler), time.Now, eventLimits{})
	stop := startWriter(t, w)
	for i := range 5 {
		w.record(testEvent(orgID, fmt.Sprintf("ok%d", i), "192.0.2.1", 200, time.Now()))
	}
	w.record(testEvent(orgID, "fail-1", "192.0.2.1", 200, time.Now()))
	stop()
	if got := len(listEvents(t, db, orgID, scimbridge.EventIdP)); got != 5 {
		t.Fatalf("%d events written, want the 5 good ones", got)
	}
	if st := w.stats(); st.EventsWritten != 5 || st.EventWriteFailures != 1 {
		t.Fatalf("stats %+v, want 5 written and 1 failure", st)
	}
}

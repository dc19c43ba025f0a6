package console

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// The overview's hourly counts are read once for hours that have settled:
// a later refresh counts only the hours that may still change, and still
// shows what arrived in them.
func TestHourCounts_SettledHoursCountedOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "acme", CreatedAt: time.Now().UTC()}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 15, 30, 0, 0, time.UTC)
	since := now.Truncate(time.Hour).Add(-23 * time.Hour)
	add := func(at time.Time, status int) {
		t.Helper()
		ev := scimbridge.Event{OrgID: org.ID, Time: at, Method: "GET", Path: "/scim/v2/Users", Status: status,
			Source: scimbridge.EventIdP, Count: 1}
		if err := db.AppendEvents(ctx, []scimbridge.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	total := func(counts []scimbridge.HourCount, hour time.Time, class int) int {
		n := 0
		for _, c := range counts {
			if c.Hour.Equal(hour) && c.StatusClass == class {
				n += c.Count
			}
		}
		return n
	}
	old := since.Add(2 * time.Hour) // settled long ago
	current := now.Truncate(time.Hour)
	add(old.Add(time.Minute), 200)
	add(old.Add(2*time.Minute), 404)
	add(current.Add(time.Minute), 200)

	var c hourCounts
	got, err := c.get(ctx, db, org.ID, since, 24, now)
	if err != nil {
		t.Fatal(err)
	}
	if total(got, old, 2) != 1 || total(got, old, 4) != 1 || total(got, current, 2) != 1 {
		t.Fatalf("first counts = %+v", got)
	}
	// Within the TTL the counts are reused as they are.
	add(current.Add(2*time.Minute), 500)
	if got, _ := c.get(ctx, db, org.ID, since, 24, now.Add(time.Second)); total(got, current, 5) != 0 {
		t.Fatalf("counts within the TTL were read again: %+v", got)
	}
	// After it, the current hour is counted again and the settled one is
	// not: an event written into it since (which no writer does) stays
	// uncounted, which shows the hour was not read.
	add(old.Add(3*time.Minute), 200)
	later := now.Add(chartTTL)
	got, err = c.get(ctx, db, org.ID, since, 24, later)
	if err != nil {
		t.Fatal(err)
	}
	if total(got, current, 5) != 1 || total(got, current, 2) != 1 {
		t.Errorf("current hour after the TTL = %+v, want the new 5xx counted", got)
	}
	if total(got, old, 2) != 1 {
		t.Errorf("settled hour was counted again: %+v", got)
	}
	// A window that moves on keeps its settled hours and drops the oldest.
	next := since.Add(time.Hour)
	got, err = c.get(ctx, db, org.ID, next, 24, later.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if total(got, old, 2) != 1 || total(got, current, 5) != 1 {
		t.Errorf("moved window = %+v", got)
	}
	for _, hc := range got {
		if hc.Hour.Before(next) {
			t.Errorf("hour %v before the window is kept", hc.Hour)
		}
	}
}

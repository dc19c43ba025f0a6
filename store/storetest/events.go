package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

func testEvents(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")

	full := scimbridge.Event{
		OrgID: org.ID, Time: at(time.Second), Method: "PATCH", Path: "/api/connect/v1/Users/x?attributes=userName",
		Status: 200, TargetUserName: "Éve@X", ClientIP: "192.0.2.1", UserAgent: "Okta SCIM Client 1.0.0",
		RequestID: "req-1", Duration: 2345 * time.Microsecond, Source: scimbridge.EventIdP, RunID: "run-1",
		Kind: scimbridge.ChangeUpdate, ProfileID: "p-1", Error: "", RequestBody: "{\"Operations\":[]}\n\t\\N \\ \r é \\.",
		ResponseBody: `{"id":"x"}`, RequestTruncated: true, ResponseTruncated: false, Count: 3, Actor: "cli:root",
	}
	var events []scimbridge.Event
	for i := range 1199 {
		events = append(events, scimbridge.Event{OrgID: org.ID, Time: at(time.Duration(i) * time.Millisecond),
			Method: "GET", Path: fmt.Sprintf("/Users?n=%d", i), Status: 200, Source: scimbridge.EventIdP})
	}
	events = append(events, full)
	if err := s.AppendEvents(ctx, events); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.AppendEvents(ctx, []scimbridge.Event{{OrgID: other.ID, Time: base, Method: "GET", Status: 200},
		{Time: base, Method: "GET", Path: "/ServiceProviderConfig", Status: 401}}); err != nil {
		t.Fatalf("append: %v", err)
	}

	t.Run("RoundTrip", func(t *testing.T) {
		page, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 1})
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("list = %+v, %v", page, err)
		}
		got := page.Events[0]
		want := full
		want.ID, want.Time = got.ID, utc(full.Time)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		if got.ID == 0 || page.NextCursor != got.ID {
			t.Errorf("id %d, next cursor %d", got.ID, page.NextCursor)
		}
	})

	t.Run("CursorPaging", func(t *testing.T) {
		var seen []int64
		q := scimbridge.EventQuery{OrgID: org.ID, Limit: 250}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			page, err := s.ListEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				seen = append(seen, e.ID)
				if e.OrgID != org.ID {
					t.Fatalf("event of another organization: %+v", e)
				}
			}
			if page.NextCursor == 0 {
				break
			}
			q.Cursor = page.NextCursor
		}
		if len(seen) != 1200 {
			t.Fatalf("paged %d events, want 1200", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("not newest first at %d: %d then %d", i, seen[i-1], seen[i])
			}
		}
	})

	t.Run("DefaultAndMaxLimit", func(t *testing.T) {
		page, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
		if len(page.Events) != 100 {
			t.Errorf("default page = %d, want 100", len(page.Events))
		}
		page, _ = s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 5000})
		if len(page.Events) != 1000 {
			t.Errorf("max page = %d, want 1000", len(page.Events))
		}
	})

	t.Run("Unattributed", func(t *testing.T) {
		page, _ := s.ListEvents(ctx, scimbridge.EventQuery{})
		if len(page.Events) != 1 || page.Events[0].Status != 401 || page.Events[0].OrgID != "" {
			t.Errorf("unattributed events = %+v", page.Events)
		}
	})
}

func testEventFilters(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	mk := func(sec int, method string, status int, user string, src scimbridge.EventSource) scimbridge.Event {
		return scimbridge.Event{OrgID: org.ID, Time: at(time.Duration(sec) * time.Second), Method: method,
			Status: status, TargetUserName: user, Source: src}
	}
	err := s.AppendEvents(ctx, []scimbridge.Event{
		mk(0, "GET", 200, "", scimbridge.EventIdP),
		mk(1, "POST", 201, "Éve@x.example", scimbridge.EventIdP),
		mk(2, "POST", 409, "e\u0301ve@X.EXAMPLE", scimbridge.EventIdP),
		mk(3, "PATCH", 500, "bob", scimbridge.EventIdP),
		mk(4, "POST", 201, "carol", scimbridge.EventGoogle),
		mk(5, "POST", 200, "", scimbridge.EventAdmin),
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    scimbridge.EventQuery
		want []int // seconds, newest first
	}{
		{"All", scimbridge.EventQuery{}, []int{5, 4, 3, 2, 1, 0}},
		{"Status2xx", scimbridge.EventQuery{StatusClass: 2}, []int{5, 4, 1, 0}},
		{"Status4xx", scimbridge.EventQuery{StatusClass: 4}, []int{2}},
		{"Status5xx", scimbridge.EventQuery{StatusClass: 5}, []int{3}},
		{"Method", scimbridge.EventQuery{Method: "POST"}, []int{5, 4, 2, 1}},
		{"UserNameCaseInsensitive", scimbridge.EventQuery{UserName: "ÉVE@X.EXAMPLE"}, []int{2, 1}},
		{"Source", scimbridge.EventQuery{Source: scimbridge.EventGoogle}, []int{4}},
		{"SinceInclusiveUntilExclusive", scimbridge.EventQuery{Since: at(time.Second), Until: at(3 * time.Second)}, []int{2, 1}},
		{"Combined", scimbridge.EventQuery{Method: "POST", Source: scimbridge.EventIdP, StatusClass: 2}, []int{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.OrgID = org.ID
			page, err := s.ListEvents(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, e := range page.Events {
				got = append(got, int(e.Time.Sub(base)/time.Second))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("events = %v, want %v", got, c.want)
			}
		})
	}
}

func testPurgeEvents(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	var events []scimbridge.Event
	for i := range 30 {
		events = append(events, scimbridge.Event{OrgID: org.ID, Time: at(time.Duration(i) * time.Hour), Method: "GET", Status: 200})
	}
	if err := s.AppendEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeEvents(ctx, at(25*time.Hour), 10)
	if err != nil || n != 25 {
		t.Fatalf("purge = %d, %v; want 25", n, err)
	}
	page, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
	if len(page.Events) != 5 || page.Events[4].Time != utc(at(25*time.Hour)) {
		t.Errorf("left %d events, oldest %v", len(page.Events), page.Events)
	}
	if n, err := s.PurgeEvents(ctx, at(25*time.Hour), 10); err != nil || n != 0 {
		t.Errorf("second purge = %d, %v", n, err)
	}

	// Ids need not follow time: events appended late with old times (a
	// buffered one), several of them at one time, are purged, however the
	// batches fall, and the newer events around them are kept.
	late := []scimbridge.Event{
		{OrgID: org.ID, Time: at(40 * time.Hour), Method: "GET", Status: 200},
		{OrgID: org.ID, Time: at(3 * time.Hour), Method: "GET", Status: 200},
		{OrgID: org.ID, Time: at(2 * time.Hour), Method: "GET", Status: 200},
		{OrgID: org.ID, Time: at(41 * time.Hour), Method: "GET", Status: 200},
		{OrgID: org.ID, Time: at(3 * time.Hour), Method: "GET", Status: 200},
		{OrgID: org.ID, Time: at(3 * time.Hour), Method: "GET", Status: 200},
	}
	if err := s.AppendEvents(ctx, late); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeEvents(ctx, at(25*time.Hour), 2); err != nil || n != 4 {
		t.Errorf("purge of late events = %d, %v; want 4", n, err)
	}
	page, _ = s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
	if len(page.Events) != 7 || page.Events[6].Time != utc(at(25*time.Hour)) {
		t.Errorf("left %d events, oldest %v", len(page.Events), page.Events)
	}
}

func testCountRecentChanges(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	other := newOrg(t, s, "other")
	deact := func(o string, sec int, src scimbridge.EventSource, kind scimbridge.ChangeKind) scimbridge.Event {
		return scimbridge.Event{OrgID: o, Time: at(time.Duration(sec) * time.Second), Method: "PATCH", Status: 200,
			Source: src, Kind: kind}
	}
	err := s.AppendEvents(ctx, []scimbridge.Event{
		deact(org.ID, 0, scimbridge.EventGoogle, scimbridge.ChangeDeactivate),
		deact(org.ID, 10, scimbridge.EventGoogle, scimbridge.ChangeDeactivate),
		deact(org.ID, 20, scimbridge.EventGoogle, scimbridge.ChangeDeactivate),
		deact(org.ID, 20, scimbridge.EventIdP, scimbridge.ChangeDeactivate),
		deact(org.ID, 20, scimbridge.EventGoogle, scimbridge.ChangeUpdate),
		deact(other.ID, 20, scimbridge.EventGoogle, scimbridge.ChangeDeactivate),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountRecentChanges(ctx, org.ID, scimbridge.ChangeDeactivate, scimbridge.EventGoogle, at(10*time.Second))
	if err != nil || n != 2 {
		t.Errorf("count = %d, %v; want 2", n, err)
	}
}

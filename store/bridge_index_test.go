package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// eachDialect runs fn on a fresh SQLite and a fresh PostgreSQL store.
func eachDialect(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.OpenPostgres(t)) })
}

func newOrg(t *testing.T, db *store.DB) string {
	t.Helper()
	id := uuid.NewString()
	org := scimbridge.Organization{ID: id, Slug: "o-" + id[:8], Name: "O", CreatedAt: time.Now().UTC()}
	if err := db.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return id
}

// createProfiles creates google profiles n0@x.com... in org, and one
// detached SCIM profile, with one event each.
func createProfiles(t *testing.T, db *store.DB, orgID string, n int) []scimbridge.Profile {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var out []scimbridge.Profile
	var batch []scimbridge.ChangeEvent
	for i := range n {
		d := scimbridge.DesiredProfile{Active: i%3 != 0, GoogleID: fmt.Sprint(1000 + i), ExternalID: fmt.Sprint(1000 + i)}
		d.UserName, d.Title = fmt.Sprintf("N%d@x.com", i), "T"
		d.Emails = []scimbridge.Email{{Value: d.UserName, Type: "work"}, {Value: fmt.Sprintf("alt%d@x.com", i)}}
		p, err := reconcile.NewProfile(orgID, scimbridge.SourceGoogle, d, uuid.NewString(), now)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
		batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event: scimbridge.Event{Time: now, Method: "POST", Path: "/Users", Status: 201, Source: scimbridge.EventGoogle, Count: 1}})
	}
	gone, err := reconcile.NewProfile(orgID, scimbridge.SourceSCIM, scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{UserName: "gone@x.com"}, Active: false}, uuid.NewString(), now)
	if err != nil {
		t.Fatal(err)
	}
	gone.DetachedAt = &now
	batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: gone}})
	if err := db.ApplyChanges(context.Background(), batch, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStore_ProfileIndex(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, other := newOrg(t, db), newOrg(t, db)
		ps := createProfiles(t, db, org, 7)
		createProfiles(t, db, other, 2)
		t.Run("LightView", func(t *testing.T) {
			ix, err := db.ProfileIndex(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if len(ix) != len(ps) {
				t.Fatalf("%d entries, want %d (detached and other organizations left out)", len(ix), len(ps))
			}
			for _, p := range ps {
				want := reconcile.StoredView(&p)
				want.Full = nil
				i := slices.IndexFunc(ix, func(s reconcile.StoredProfile) bool { return s.ID == p.ID })
				if i < 0 || ix[i] != want {
					t.Errorf("entry of %s: %+v, want %+v", p.UserName, ix, want)
				}
			}
		})
		t.Run("ProfilesByID", func(t *testing.T) {
			ids := []string{ps[1].ID, ps[4].ID, "not-a-uuid", uuid.NewString()}
			got, err := db.ProfilesByID(ctx, org, ids)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b scimbridge.Profile) int { return cmpStr(a.UserName, b.UserName) })
			for i, want := range []scimbridge.Profile{ps[1], ps[4]} {
				full, err := db.Profile(ctx, org, want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if i >= len(got) || !reflect.DeepEqual(got[i], full) || len(got[i].Emails) != 2 {
					t.Errorf("got %+v, want %+v", got, full)
				}
			}
			if len(got) != 2 {
				t.Errorf("%d profiles, want 2", len(got))
			}
			if got, err := db.ProfilesByID(ctx, other, ids); err != nil || len(got) != 0 {
				t.Errorf("another organization read %d profiles (%v)", len(got), err)
			}
		})
		t.Run("ManyIDs", func(t *testing.T) {
			ids := make([]string, 0, store.MaxBatch+10)
			for range store.MaxBatch + 5 {
				ids = append(ids, uuid.NewString())
			}
			ids = append(ids, ps[0].ID, ps[6].ID)
			got, err := db.ProfilesByID(ctx, org, ids)
			if err != nil || len(got) != 2 {
				t.Errorf("%d profiles over two chunks, want 2 (%v)", len(got), err)
			}
		})
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestStore_RecentBridgeChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := newOrg(t, db)
		now := time.Now().UTC().Truncate(time.Microsecond)
		ev := func(at time.Time, kind scimbridge.ChangeKind, src scimbridge.EventSource, status int) scimbridge.Event {
			return scimbridge.Event{OrgID: org, Time: at, Method: "PATCH", Path: "/Users/x", Status: status,
				Source: src, Kind: kind, Count: 1}
		}
		if err := db.AppendEvents(ctx, []scimbridge.Event{
			ev(now, scimbridge.ChangeDeactivate, scimbridge.EventGoogle, 200),
			ev(now, scimbridge.ChangeDeactivate, scimbridge.EventGoogle, 200),
			ev(now, scimbridge.ChangeReactivate, scimbridge.EventGoogle, 200),
			ev(now, scimbridge.ChangeDeactivate, scimbridge.EventIdP, 200),
			ev(now, scimbridge.ChangeDeactivate, scimbridge.EventGoogle, 500),
			ev(now.Add(-48*time.Hour), scimbridge.ChangeDeactivate, scimbridge.EventGoogle, 200),
			ev(now, scimbridge.ChangeUpdate, scimbridge.EventGoogle, 200),
		}); err != nil {
			t.Fatal(err)
		}
		since := now.Add(-24 * time.Hour)
		d, r, err := db.RecentBridgeChanges(ctx, org, since)
		if err != nil || d != 2 || r != 1 {
			t.Fatalf("RecentBridgeChanges = %d, %d, %v; want 2, 1", d, r, err)
		}
		for kind, want := range map[scimbridge.ChangeKind]int{scimbridge.ChangeDeactivate: d, scimbridge.ChangeReactivate: r} {
			if n, err := db.CountRecentChanges(ctx, org, kind, scimbridge.EventGoogle, since); err != nil || n != want {
				t.Errorf("CountRecentChanges(%s) = %d, %v; RecentBridgeChanges said %d", kind, n, err, want)
			}
		}
		if d, r, err := db.RecentBridgeChanges(ctx, newOrg(t, db), since); err != nil || d+r != 0 {
			t.Errorf("another organization: %d, %d, %v", d, r, err)
		}
	})
}

func TestStore_ReportItems(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, other := newOrg(t, db), newOrg(t, db)
		rep := scimbridge.Report{ID: uuid.NewString(), OrgID: org, Trigger: scimbridge.TriggerManual,
			Status: scimbridge.ReportRunning, StartedAt: time.Now().UTC().Truncate(time.Microsecond)}
		if err := db.PutReport(ctx, rep); err != nil {
			t.Fatal(err)
		}
		item := func(i int) scimbridge.ReportItem {
			return scimbridge.ReportItem{Kind: scimbridge.ChangeCreate, UserName: fmt.Sprintf("u%04d@x.com", i),
				Fields: []scimbridge.FieldChange{{Field: "title", After: "<T&>"}}}
		}
		var all []scimbridge.ReportItem
		for i := range store.MaxBatch + 20 {
			all = append(all, item(i))
		}
		if err := db.AppendReportItems(ctx, org, rep.ID, 0, all[:store.MaxBatch+10]); err != nil {
			t.Fatal(err)
		}
		t.Run("OtherOrganization", func(t *testing.T) {
			err := db.AppendReportItems(ctx, other, rep.ID, 9999, all[:1])
			if scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("append to another organization's report: %v", err)
			}
			err = db.EachReportItem(ctx, other, rep.ID, func(scimbridge.ReportItem) error { return nil })
			if scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("read another organization's report: %v", err)
			}
		})
		// The rest, with a leftover from an earlier attempt to replace.
		if err := db.AppendReportItems(ctx, org, rep.ID, store.MaxBatch+10, []scimbridge.ReportItem{item(-1)}); err != nil {
			t.Fatal(err)
		}
		rep.Status, rep.Counts.Created = scimbridge.ReportApplied, len(all)
		rep.Items = all[store.MaxBatch+10:]
		if err := db.PutReportFrom(ctx, rep, store.MaxBatch+10); err != nil {
			t.Fatal(err)
		}
		got, err := db.Report(ctx, org, rep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != scimbridge.ReportApplied || got.Counts.Created != len(all) || !reflect.DeepEqual(got.Items, all) {
			t.Errorf("report %s %+v with %d items, want applied with %d items in order", got.Status, got.Counts, len(got.Items), len(all))
		}
		var streamed []scimbridge.ReportItem
		stop := errors.New("stop")
		err = db.EachReportItem(ctx, org, rep.ID, func(it scimbridge.ReportItem) error {
			streamed = append(streamed, it)
			if len(streamed) == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !reflect.DeepEqual(streamed, all[:3]) {
			t.Errorf("EachReportItem stopped with %v after %+v", err, streamed)
		}
		rep.Items = nil
		rep.Error = "annotated"
		if err := db.PutReportFrom(ctx, rep, len(all)); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Report(ctx, org, rep.ID); err != nil || got.Error != "annotated" || len(got.Items) != len(all) {
			t.Errorf("header-only update: %q with %d items (%v)", got.Error, len(got.Items), err)
		}
	})
}

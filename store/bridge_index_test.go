package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
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
		for i := range scimbridge.MaxBatch + 20 {
			all = append(all, item(i))
		}
		if err := db.AppendReportItems(ctx, org, rep.ID, 0, all[:scimbridge.MaxBatch+10]); err != nil {
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
		if err := db.AppendReportItems(ctx, org, rep.ID, scimbridge.MaxBatch+10, []scimbridge.ReportItem{item(-1)}); err != nil {
			t.Fatal(err)
		}
		rep.Status, rep.Counts.Created = scimbridge.ReportApplied, len(all)
		rep.Items = all[scimbridge.MaxBatch+10:]
		if err := db.PutReportFrom(ctx, rep, scimbridge.MaxBatch+10); err != nil {
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
		// More than a page of items: EachReportItem reads page after page,
		// each its own statement, and misses none.
		var more []scimbridge.ReportItem
		for i := len(all); i < 2*scimbridge.MaxPageSize+7; i++ {
			more = append(more, item(i))
		}
		if err := db.AppendReportItems(ctx, org, rep.ID, len(all), more); err != nil {
			t.Fatal(err)
		}
		all = append(all, more...)
		streamed = nil
		if err := db.EachReportItem(ctx, org, rep.ID, func(it scimbridge.ReportItem) error {
			streamed = append(streamed, it)
			return nil
		}); err != nil || !reflect.DeepEqual(streamed, all) {
			t.Errorf("EachReportItem read %d items (%v), want the %d in order", len(streamed), err, len(all))
		}
		// A header-only update past any position keeps every item.
		rep.Error = "noted again"
		if err := db.PutReportFrom(ctx, rep, math.MaxInt32); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Report(ctx, org, rep.ID); err != nil || got.Error != "noted again" || len(got.Items) != len(all) {
			t.Errorf("update past the items: %q with %d items (%v)", got.Error, len(got.Items), err)
		}
	})
}

package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// marker is a store that tells when the records committed so far are
// readable (package store's DB).
type marker interface {
	ChangesMark(ctx context.Context) (scimbridge.ChangePosition, error)
}

// Settle waits until every change record committed before the call is
// readable: on PostgreSQL a reader stops below the oldest transaction of
// its database in progress, and one whose session the role may not see is
// counted as its database's.
func Settle(t testing.TB, s scimbridge.Store) {
	t.Helper()
	m, ok := s.(marker)
	if !ok {
		return
	}
	ctx := context.Background()
	mark, err := m.ChangesMark(ctx)
	if err != nil {
		t.Fatalf("changes mark: %v", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		head, err := s.ChangesHead(ctx, "")
		if err != nil {
			t.Fatalf("changes head: %v", err)
		}
		if !head.Less(mark) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("changes head %v has not reached %v in 2 minutes", head, mark)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// feedOf returns every readable record (call Settle first to wait for
// those just committed) of orgID ("" for all) after after,
// read in pages of page records, failing unless positions strictly rise.
func feedOf(t *testing.T, s scimbridge.Store, orgID string, after scimbridge.ChangePosition, page int) []scimbridge.ChangeRecord {
	t.Helper()
	var out []scimbridge.ChangeRecord
	for {
		recs, err := s.ChangesAfter(context.Background(), orgID, after, page)
		if err != nil {
			t.Fatalf("changes after %v: %v", after, err)
		}
		for _, r := range recs {
			if !after.Less(r.Position) {
				t.Fatalf("record at %v does not follow %v", r.Position, after)
			}
			after = r.Position
		}
		out = append(out, recs...)
		if len(recs) < page {
			return out
		}
	}
}

// summary is a record's type and ids, for comparing feeds.
func summary(r scimbridge.ChangeRecord) string {
	s := string(r.Type) + " " + r.ResourceID
	if r.UserID != "" {
		s += " user=" + r.UserID
	}
	if len(r.Attributes) > 0 {
		s += " [" + strings.Join(r.Attributes, ",") + "]"
	}
	return s
}

func summaries(recs []scimbridge.ChangeRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = summary(r)
	}
	return out
}

// resource decodes a record's resource.
func resource(t *testing.T, r scimbridge.ChangeRecord) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Resource, &m); err != nil {
		t.Fatalf("%s resource %q: %v", r.Type, r.Resource, err)
	}
	return m
}

// testChangeRecords checks that every path that changes the directory
// writes its records, with the resource after the change and the names of
// the changed attributes, and that a failed change writes none.
func testChangeRecords(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	head, err := s.ChangesHead(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if recs := feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 10); len(recs) != 0 {
		t.Fatalf("new organization has records: %v", summaries(recs))
	}

	ann := create(t, s, newProfile(org.ID, "ann@x.example"))
	bob := create(t, s, newProfile(org.ID, "bob@x.example"))
	// A version miss writes nothing.
	wantCode(t, tryUpdate(s, scimbridge.ChangeUpdate, ann, 7), scimbridge.EPRECONDITION)

	ann2 := ann
	ann2.DisplayName, ann2.Version, ann2.UpdatedAt = "Ann", 2, at(time.Minute)
	err = s.ApplyChange(ctx, scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeUpdate, Profile: ann2, ExpectedVersion: 1,
			Fields: []scimbridge.FieldChange{{Field: "displayName", After: "Ann"}}},
		Event: scimbridge.Event{Time: at(time.Minute), Method: "PUT", Status: 200, Source: scimbridge.EventIdP, RequestID: "req-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := newGroup(org.ID, "Eng", scimbridge.SourceSCIM)
	createGroup(t, s, g, ann.ID, bob.ID)
	// Adding a member already there and removing one that is not write
	// no membership records.
	upd := groupUpdate(g, 1, []string{ann.ID}, []string{bob.ID})
	upd.Change.Group.DisplayName = "Engineering"
	if err := s.ApplyGroupChange(ctx, upd); err != nil {
		t.Fatal(err)
	}
	// Deactivate and detach bob in one batch with a lease-free batch path
	// (two changes): the detach leaves no group (bob left Eng above).
	bobOff := bob
	bobOff.State, bobOff.Version, bobOff.UpdatedAt = scimbridge.StateInactive, 2, at(2*time.Minute)
	bobOff.DeactivatedAt = &bobOff.UpdatedAt
	annOff := ann2
	annOff.State, annOff.Version, annOff.UpdatedAt = scimbridge.StateInactive, 3, at(2*time.Minute)
	annOff.DeactivatedAt = &annOff.UpdatedAt
	err = s.ApplyChanges(ctx, []scimbridge.ChangeEvent{
		{Change: scimbridge.Change{Kind: scimbridge.ChangeDeactivate, Profile: bobOff, ExpectedVersion: 1,
			Fields: []scimbridge.FieldChange{{Field: "active"}}}, Event: scimbridge.Event{Time: at(2 * time.Minute), Source: scimbridge.EventGoogle, RunID: "run-1"}},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeDeactivate, Profile: annOff, ExpectedVersion: 2,
			Fields: []scimbridge.FieldChange{{Field: "active"}}}, Event: scimbridge.Event{Time: at(2 * time.Minute), Source: scimbridge.EventGoogle, RunID: "run-1"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	annOn := annOff
	annOn.State, annOn.Version, annOn.DeactivatedAt = scimbridge.StateActive, 4, nil
	if err := tryUpdate(s, scimbridge.ChangeReactivate, annOn, 3); err != nil {
		t.Fatal(err)
	}
	// A detach removes ann from Engineering: a membership record.
	annGone := annOn
	annGone.Version, annGone.DetachedAt = 5, &annGone.UpdatedAt
	if err := tryUpdate(s, scimbridge.ChangeDetach, annGone, 4); err != nil {
		t.Fatal(err)
	}
	del := scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete,
		Group: mustGroup(t, s, org.ID, g.ID), ExpectedVersion: 3}, Event: groupEvent("DELETE", "/Groups/"+g.ID, 204)}
	if err := s.ApplyGroupChange(ctx, del); err != nil {
		t.Fatal(err)
	}
	carl := newProfile(org.ID, "carl@x.example")
	carl.Source = scimbridge.SourceGoogle
	create(t, s, carl)
	if n, err := s.ReleaseProfiles(ctx, org.ID, scimbridge.SourceGoogle, adminEvent("profiles release")); err != nil || n != 1 {
		t.Fatalf("release = %d, %v", n, err)
	}

	Settle(t, s)
	got := feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 100)
	want := []string{
		"user.created " + ann.ID,
		"user.created " + bob.ID,
		"user.updated " + ann.ID + " [displayName]",
		"group.created " + g.ID,
		"group.member_added " + g.ID + " user=" + min(ann.ID, bob.ID),
		"group.member_added " + g.ID + " user=" + max(ann.ID, bob.ID),
		"group.updated " + g.ID + " [displayName,members]",
		"group.member_removed " + g.ID + " user=" + bob.ID,
		"user.deactivated " + bob.ID + " [active]",
		"user.deactivated " + ann.ID + " [active]",
		"user.reactivated " + ann.ID,
		"group.member_removed " + g.ID + " user=" + ann.ID,
		"user.deleted " + ann.ID,
		"group.deleted " + g.ID,
		"user.created " + carl.ID,
		"user.updated " + carl.ID + " [source]",
	}
	if !reflect.DeepEqual(summaries(got), want) {
		t.Fatalf("feed:\n got %s\nwant %s", strings.Join(summaries(got), "\n     "), strings.Join(want, "\n     "))
	}
	// The same records follow the head taken before the first change.
	if after := feedOf(t, s, org.ID, head, 3); !reflect.DeepEqual(summaries(after), want) {
		t.Errorf("feed after the head:\n got %v\nwant %v", summaries(after), want)
	}

	// Resources: the user after the change, a group without members;
	// none for deletions and memberships.
	if r := resource(t, got[2]); r["displayName"] != "Ann" || r["userName"] != "ann@x.example" || r["id"] != ann.ID {
		t.Errorf("user.updated resource = %v", r)
	}
	if got[2].Version != 2 || got[2].Source != scimbridge.EventIdP || got[2].RequestID != "req-1" || !got[2].Time.Equal(at(time.Minute)) {
		t.Errorf("user.updated record = %+v", got[2])
	}
	if r := resource(t, got[6]); r["displayName"] != "Engineering" || r["members"] != nil {
		t.Errorf("group.updated resource = %v", r)
	}
	if got[6].Version != 2 {
		t.Errorf("group.updated version = %d, want 2", got[6].Version)
	}
	if r := resource(t, got[9]); r["active"] != false {
		t.Errorf("user.deactivated resource = %v", r)
	}
	if got[9].Source != scimbridge.EventGoogle || got[9].RunID != "run-1" {
		t.Errorf("bridge record source = %q run %q", got[9].Source, got[9].RunID)
	}
	for _, i := range []int{4, 7, 11, 12, 13} {
		if len(got[i].Resource) != 0 {
			t.Errorf("%s carries a resource: %s", got[i].Type, got[i].Resource)
		}
	}
	if got[4].GroupID != g.ID || got[4].OrgID != org.ID {
		t.Errorf("membership record = %+v", got[4])
	}
	if got[15].Source != scimbridge.EventAdmin || got[15].Version != 2 {
		t.Errorf("release record = %+v", got[15])
	}
	if r := resource(t, got[15]); r["id"] != carl.ID {
		t.Errorf("release resource = %v", r)
	}

	// Bridge states: needs_attention when it begins (not again while it
	// lasts), plan_held when a plan is held.
	b := scimbridge.Bridge{OrgID: org.ID, SealedCredentials: []byte{1}, CreatedAt: base, UpdatedAt: base,
		Settings: scimbridge.BridgeSettings{Schedule: "*/15 * * * *", Mode: scimbridge.ModeSync}}
	if err := s.PutBridge(ctx, b, adminEvent("bridge google set")); err != nil {
		t.Fatal(err)
	}
	last := feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 100)
	from := last[len(last)-1].Position
	st := b
	st.NeedsAttention, st.LastError, st.UpdatedAt = true, "403", at(time.Hour)
	for range 2 {
		if err := s.UpdateBridgeState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHeldPlan(ctx, org.ID, "rep-1", []byte(`{}`), at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	Settle(t, s)
	bridge := feedOf(t, s, org.ID, from, 100)
	if want := []string{"bridge.needs_attention " + org.ID, "bridge.plan_held rep-1"}; !reflect.DeepEqual(summaries(bridge), want) {
		t.Errorf("bridge records = %v, want %v", summaries(bridge), want)
	}
	if got, err := s.Bridge(ctx, org.ID); err != nil || !got.NeedsAttention || got.LastError != "403" {
		t.Errorf("bridge state = %+v, %v", got, err)
	}
}

// testChangeOrder checks the feed's order and organization isolation:
// interleaved writes of two organizations read back per organization and
// for all, in the order they committed, whatever the page size.
func testChangeOrder(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	a, b := newOrg(t, s, "alpha"), newOrg(t, s, "beta")
	var wantA, wantB, wantAll []string
	for i := range 12 {
		org := a
		if i%3 == 2 {
			org = b
		}
		p := create(t, s, newProfile(org.ID, fmt.Sprintf("u%d@x.example", i)))
		line := "user.created " + p.ID
		wantAll = append(wantAll, line)
		if org.ID == a.ID {
			wantA = append(wantA, line)
		} else {
			wantB = append(wantB, line)
		}
	}
	Settle(t, s)
	for _, page := range []int{1, 5, 100} {
		if got := summaries(feedOf(t, s, a.ID, scimbridge.ChangePosition{}, page)); !reflect.DeepEqual(got, wantA) {
			t.Errorf("alpha page %d:\n got %v\nwant %v", page, got, wantA)
		}
		if got := summaries(feedOf(t, s, b.ID, scimbridge.ChangePosition{}, page)); !reflect.DeepEqual(got, wantB) {
			t.Errorf("beta page %d:\n got %v\nwant %v", page, got, wantB)
		}
		if got := summaries(feedOf(t, s, "", scimbridge.ChangePosition{}, page)); !reflect.DeepEqual(got, wantAll) {
			t.Errorf("all page %d:\n got %v\nwant %v", page, got, wantAll)
		}
	}
	for _, r := range feedOf(t, s, b.ID, scimbridge.ChangePosition{}, 100) {
		if r.OrgID != b.ID {
			t.Errorf("beta's feed holds a record of %s", r.OrgID)
		}
	}
	if _, err := s.ChangesAfter(ctx, a.ID, scimbridge.ChangePosition{}, 0); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
		t.Errorf("limit 0: %v, want EINVALID", err)
	}
	// A head taken now is after every record written.
	head, err := s.ChangesHead(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := s.ChangesAfter(ctx, "", head, 10); err != nil || len(recs) != 0 {
		t.Errorf("after the head: %v, %v", summaries(recs), err)
	}
}

// testPurgeChanges checks retention: records older than the bound go, in
// batches; the oldest kept and the purged-through positions move.
func testPurgeChanges(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	var ps []scimbridge.Profile
	for i := range 7 {
		p := newProfile(org.ID, fmt.Sprintf("u%d@x.example", i))
		p.UpdatedAt = at(time.Duration(i) * time.Hour)
		ps = append(ps, create(t, s, p))
	}
	Settle(t, s)
	all := feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 100)
	if len(all) != 7 {
		t.Fatalf("%d records, want 7", len(all))
	}
	oldest, ok, err := s.OldestChange(ctx, org.ID)
	if err != nil || !ok || oldest != all[0].Position {
		t.Fatalf("oldest = %v %v %v, want %v", oldest, ok, err, all[0].Position)
	}
	type purged interface {
		ChangesPurgedThrough(ctx context.Context) (scimbridge.ChangePosition, bool, error)
	}
	pt, isPurged := s.(purged)
	if isPurged {
		if _, ok, err := pt.ChangesPurgedThrough(ctx); err != nil || ok {
			t.Fatalf("purged through before any purge: %v %v", ok, err)
		}
	}
	n, err := s.PurgeChanges(ctx, at(4*time.Hour), 2)
	if err != nil || n != 4 {
		t.Fatalf("purge = %d, %v; want 4", n, err)
	}
	left := feedOf(t, s, org.ID, scimbridge.ChangePosition{}, 100)
	if !reflect.DeepEqual(summaries(left), summaries(all[4:])) {
		t.Errorf("kept %v, want %v", summaries(left), summaries(all[4:]))
	}
	if oldest, ok, err := s.OldestChange(ctx, org.ID); err != nil || !ok || oldest != all[4].Position {
		t.Errorf("oldest after purge = %v %v %v, want %v", oldest, ok, err, all[4].Position)
	}
	if isPurged {
		if through, ok, err := pt.ChangesPurgedThrough(ctx); err != nil || !ok || through != all[3].Position {
			t.Errorf("purged through = %v %v %v, want %v", through, ok, err, all[3].Position)
		}
	}
	if n, err := s.PurgeChanges(ctx, at(4*time.Hour), 2); err != nil || n != 0 {
		t.Errorf("second purge = %d, %v", n, err)
	}
	if n, err := s.PurgeChanges(ctx, at(100*time.Hour), 1000); err != nil || n != 3 {
		t.Errorf("purge of the rest = %d, %v", n, err)
	}
	if _, ok, err := s.OldestChange(ctx, org.ID); err != nil || ok {
		t.Errorf("oldest of an empty feed: %v %v", ok, err)
	}
	// The head after a purge of everything is still past every record.
	head, err := s.ChangesHead(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if isPurged {
		through, _, _ := pt.ChangesPurgedThrough(ctx)
		if head.Less(through) {
			t.Errorf("head %v is below the purged position %v", head, through)
		}
	}
	p := create(t, s, newProfile(org.ID, "late@x.example"))
	Settle(t, s)
	if got := feedOf(t, s, org.ID, head, 10); len(got) != 1 || got[0].ResourceID != p.ID {
		t.Errorf("after the head: %v", summaries(got))
	}
}

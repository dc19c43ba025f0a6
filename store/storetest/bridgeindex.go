package storetest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// createGoogleProfiles creates active google profiles n0@x.com... with a
// desired-state hash and two emails each, and one detached SCIM profile.
func createGoogleProfiles(t *testing.T, s scimbridge.Store, orgID string, n int) []scimbridge.Profile {
	t.Helper()
	var out []scimbridge.Profile
	var batch []scimbridge.ChangeEvent
	for i := range n {
		p := newProfile(orgID, fmt.Sprintf("N%d@x.com", i))
		p.Source, p.GoogleID, p.ExternalID = scimbridge.SourceGoogle, fmt.Sprint(1000+i), fmt.Sprint(1000+i)
		p.DesiredHash = fmt.Sprintf("hash%d", i)
		p.Emails = append(p.Emails, scimbridge.Email{Value: fmt.Sprintf("alt%d@x.com", i)})
		p.PhoneNumbers = []scimbridge.PhoneNumber{{Value: fmt.Sprint(5550000 + i), Type: "work"}}
		p.Addresses = []scimbridge.Address{{Locality: "City", Country: "FR", Type: "work", Primary: yes()}}
		if i%3 == 0 {
			p.State, p.AccessRevoked, p.DeactivatedAt = scimbridge.StateInactive, true, &p.CreatedAt
		}
		out = append(out, p)
		batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event: createEvent(p)})
	}
	gone := newProfile(orgID, "gone@x.com")
	gone.State, gone.AccessRevoked, gone.DeactivatedAt, gone.DetachedAt = scimbridge.StateInactive, true, &gone.CreatedAt, &gone.CreatedAt
	batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: gone}})
	if err := s.ApplyChanges(context.Background(), batch, nil); err != nil {
		t.Fatalf("create google profiles: %v", err)
	}
	return out
}

func testProfileIndex(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org, other := newOrg(t, s, "acme"), newOrg(t, s, "other")
	ps := createGoogleProfiles(t, s, org.ID, 7)
	m := newProfile(org.ID, "m@x.com")
	m.Source = scimbridge.SourceManual
	ps = append(ps, create(t, s, m))
	createGoogleProfiles(t, s, other.ID, 2)

	ix, err := s.ProfileIndex(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix) != len(ps) {
		t.Fatalf("%d entries, want %d (detached and other organizations left out)", len(ix), len(ps))
	}
	for _, p := range ps {
		want := scimbridge.StoredProfile{ID: p.ID, UserName: p.UserName, Email: p.Email, GoogleID: p.GoogleID,
			DesiredHash: p.DesiredHash, Version: p.Version, State: p.State, Source: p.Source}
		i := slices.IndexFunc(ix, func(v scimbridge.StoredProfile) bool { return v.ID == p.ID })
		if i < 0 || ix[i] != want {
			t.Errorf("entry of %s: %+v, want %+v", p.UserName, ix, want)
		}
	}
}

func testProfilesByID(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org, other := newOrg(t, s, "acme"), newOrg(t, s, "other")
	ps := createGoogleProfiles(t, s, org.ID, 7)
	ids := []string{ps[1].ID, ps[4].ID, "not-a-uuid", uuid.NewString()}
	got, err := s.ProfilesByID(ctx, org.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b scimbridge.Profile) int { return cmp.Compare(a.UserName, b.UserName) })
	if len(got) != 2 {
		t.Fatalf("%d profiles, want 2", len(got))
	}
	for i, want := range []scimbridge.Profile{ps[1], ps[4]} {
		if full := mustGet(t, s, org.ID, want.ID); !reflect.DeepEqual(got[i], full) || len(got[i].Emails) != 2 ||
			len(got[i].PhoneNumbers) != 1 || len(got[i].Addresses) != 1 {
			t.Errorf("got %+v, want %+v", got[i], full)
		}
	}
	if got, err := s.ProfilesByID(ctx, other.ID, ids); err != nil || len(got) != 0 {
		t.Errorf("another organization read %d profiles (%v)", len(got), err)
	}
	t.Run("ManyIDs", func(t *testing.T) {
		many := make([]string, 0, scimbridge.MaxBatch+10)
		for range scimbridge.MaxBatch + 5 {
			many = append(many, uuid.NewString())
		}
		many = append(many, ps[0].ID, ps[6].ID)
		if got, err := s.ProfilesByID(ctx, org.ID, many); err != nil || len(got) != 2 {
			t.Errorf("%d profiles over two chunks, want 2 (%v)", len(got), err)
		}
	})
}

func testRecentBridgeChanges(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org, other := newOrg(t, s, "acme"), newOrg(t, s, "other")
	now := utc(base)
	ev := func(at time.Time, kind scimbridge.ChangeKind, src scimbridge.EventSource, status int) scimbridge.Event {
		return scimbridge.Event{OrgID: org.ID, Time: at, Method: "PATCH", Path: "/Users/x", Status: status,
			Source: src, Kind: kind, Count: 1}
	}
	if err := s.AppendEvents(ctx, []scimbridge.Event{
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
	d, r, err := s.RecentBridgeChanges(ctx, org.ID, since)
	if err != nil || d != 2 || r != 1 {
		t.Fatalf("RecentBridgeChanges = %d, %d, %v; want 2, 1", d, r, err)
	}
	for kind, want := range map[scimbridge.ChangeKind]int{scimbridge.ChangeDeactivate: d, scimbridge.ChangeReactivate: r} {
		if n, err := s.CountRecentChanges(ctx, org.ID, kind, scimbridge.EventGoogle, since); err != nil || n != want {
			t.Errorf("CountRecentChanges(%s) = %d, %v; RecentBridgeChanges said %d", kind, n, err, want)
		}
	}
	if d, r, err := s.RecentBridgeChanges(ctx, other.ID, since); err != nil || d+r != 0 {
		t.Errorf("another organization: %d, %d, %v", d, r, err)
	}
}

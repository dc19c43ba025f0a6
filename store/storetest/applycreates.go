package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// creator is the store's bulk create path (package store's DB).
type creator interface {
	ApplyCreates(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error
}

// testApplyCreates: a batch of creates commits with its emails, events
// and change records (in batch order) under the lease, all or nothing: a
// taken address or a lost lease writes none of it, and the same batch then
// applies one by one through ApplyChanges.
func testApplyCreates(t *testing.T, s scimbridge.Store) {
	c, ok := s.(creator)
	if !ok {
		t.Fatalf("%T has no ApplyCreates", s)
	}
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	lease := scimbridge.Lease{OrgID: org.ID, RunID: "run-1", Holder: "host-1", ExpiresAt: time.Now().Add(time.Hour)}
	if ok, err := s.AcquireLease(ctx, lease); err != nil || !ok {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	check := &scimbridge.LeaseCheck{OrgID: org.ID, RunID: "run-1", Holder: "host-1"}
	batch := func(names ...string) []scimbridge.ChangeEvent {
		out := make([]scimbridge.ChangeEvent, len(names))
		for i, n := range names {
			p := newProfile(org.ID, n)
			p.Source = scimbridge.SourceGoogle
			p.Emails = append(p.Emails, scimbridge.Email{Value: "alt-" + n, Type: "home"})
			out[i] = scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
				Event: scimbridge.Event{Time: base, Method: "POST", Path: "/Users", Status: 201, TargetUserName: n,
					Source: scimbridge.EventGoogle, RunID: "run-1"}}
		}
		return out
	}
	head, err := s.ChangesHead(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := batch("cat@x.example", "ann@x.example", "bob@x.example")
	if err := c.ApplyCreates(ctx, first, check); err != nil {
		t.Fatalf("apply creates: %v", err)
	}
	for _, ce := range first {
		got := mustGet(t, s, org.ID, ce.Change.Profile.ID)
		if got.UserName != ce.Change.Profile.UserName || len(got.Emails) != 2 || got.Emails[1].Value != "alt-"+got.UserName ||
			got.Source != scimbridge.SourceGoogle || got.Version != 1 {
			t.Errorf("stored %+v", got)
		}
	}
	page, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID, Limit: 10})
	if err != nil || len(page.Events) != 3 {
		t.Fatalf("events = %d, %v", len(page.Events), err)
	}
	for _, ev := range page.Events {
		if ev.Kind != scimbridge.ChangeCreate || ev.RunID != "run-1" || ev.ProfileID == "" {
			t.Errorf("event %+v", ev)
		}
	}
	Settle(t, s)
	recs := feedOf(t, s, org.ID, head, 2)
	var want, got []string
	for _, ce := range first {
		want = append(want, fmt.Sprintf("%s %s v1", scimbridge.ChangeUserCreated, ce.Change.Profile.ID))
	}
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s v%d", r.Type, r.ResourceID, r.Version))
		if r.Source != scimbridge.EventGoogle || r.RunID != "run-1" || len(r.Resource) == 0 {
			t.Errorf("record %+v", r)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("records = %v, want %v (batch order)", got, want)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		// The second create's userName is taken: nothing of the batch is
		// written, and ApplyChanges one by one then writes the others.
		b := batch("dan@x.example", "ANN@x.example", "eve@x.example")
		err := c.ApplyCreates(ctx, b, check)
		wantCode(t, err, scimbridge.ECONFLICT)
		for _, ce := range b {
			if _, err := s.Profile(ctx, org.ID, ce.Change.Profile.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
				t.Errorf("%s after a failed batch: %v", ce.Change.Profile.UserName, err)
			}
		}
		for i, ce := range b {
			err := s.ApplyChanges(ctx, []scimbridge.ChangeEvent{ce}, check)
			if (i == 1) != (err != nil) {
				t.Errorf("one by one %s: %v", ce.Change.Profile.UserName, err)
			}
		}
	})
	t.Run("ErrLeaseLost", func(t *testing.T) {
		b := batch("fay@x.example")
		wantCode(t, c.ApplyCreates(ctx, b, &scimbridge.LeaseCheck{OrgID: org.ID, RunID: "run-2", Holder: "host-1"}),
			scimbridge.ELEASELOST)
		if _, err := s.Profile(ctx, org.ID, b[0].Change.Profile.ID); scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
			t.Errorf("created under a lost lease: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		b := batch("gus@x.example")
		b[0].Change.Kind = scimbridge.ChangeUpdate
		wantCode(t, c.ApplyCreates(ctx, b, check), scimbridge.EINVALID)
	})
}

package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

func testProfileRoundTrip(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	deactivated, detached := at(time.Hour), at(2*time.Hour+999*time.Nanosecond)

	t.Run("EveryField", func(t *testing.T) {
		p := scimbridge.Profile{
			ID: uuid.NewString(), OrgID: org.ID,
			Attributes: scimbridge.Attributes{
				UserName: "Ada.Lovelace@Example.com", DisplayName: "Ada Lovelace",
				Emails: []scimbridge.Email{
					{Value: "ada@home.example", Type: "home", Display: "Home", Primary: no()},
					{Value: "Ada.Lovelace@Example.com", Type: "work", Primary: yes()},
					{Value: "a@other.example"},
				},
				Title: "Countess", UserType: "Employee", GivenName: "Ada", FamilyName: "Lovelace",
				Formatted: "Ada King", MiddleName: "Augusta", HonorificPrefix: "Lady", HonorificSuffix: "FRS",
				NickName: "Ada", Locale: "en-GB", Timezone: "Europe/London", PreferredLanguage: "en",
				ProfileURL: "https://example.com/ada", EmployeeNumber: "1815", Department: "Maths",
				CostCenter: "CC1", Organization: "Analytical", Division: "Engines", Manager: "babbage",
				PhoneNumbers: []scimbridge.PhoneNumber{
					{Value: "+44 20 7946 0000", Type: "work", Display: "Office", Primary: yes()},
					{Value: "tel:+44-7700-900000", Type: "mobile", Primary: no()},
					{Value: "555"},
				},
				Addresses: []scimbridge.Address{
					{Formatted: "12 St James's Sq\nLondon", StreetAddress: "12 St James's Square", Locality: "London",
						Region: "Greater London", PostalCode: "SW1Y 4JH", Country: "GB", Type: "work", Primary: yes()},
					{Locality: "Zürich", Type: "home"},
				},
			},
			Email: "Ada.Lovelace@Example.com", State: scimbridge.StateInactive, Source: scimbridge.SourceGoogle,
			ExternalID: "ext-1", GoogleID: "123456789012345678901", Version: 7, Role: scimbridge.RoleAdmin,
			AccessRevoked: true, FormerUserName: "ada.old@example.com", FormerEmail: "ada.old@example.com",
			DesiredHash: "h1", CreatedAt: base, UpdatedAt: at(time.Minute),
			DeactivatedAt: &deactivated, DetachedAt: &detached,
		}
		create(t, s, p)
		got := mustGet(t, s, org.ID, p.ID)
		if want := stored(p); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
		if got.CreatedAt.Location() != time.UTC || got.DetachedAt.Location() != time.UTC {
			t.Errorf("times are not UTC: %v, %v", got.CreatedAt.Location(), got.DetachedAt.Location())
		}
		if got.UpdatedAt.Nanosecond()%1000 != 0 || got.UpdatedAt.Nanosecond() == 0 {
			t.Errorf("updated_at lost microseconds: %v", got.UpdatedAt)
		}
	})

	t.Run("PhonesAndAddressesUpdate", func(t *testing.T) {
		p := newProfile(org.ID, "phones")
		p.PhoneNumbers = []scimbridge.PhoneNumber{{Value: "1", Type: "work"}}
		p.Addresses = []scimbridge.Address{{Locality: "Paris", Type: "work"}}
		create(t, s, p)
		q := mustGet(t, s, org.ID, p.ID)
		q.PhoneNumbers = append(q.PhoneNumbers, scimbridge.PhoneNumber{Value: "2", Type: "mobile", Primary: yes()})
		q.Addresses = nil
		if err := tryUpdate(s, scimbridge.ChangeUpdate, q, p.Version); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, org.ID, p.ID)
		if !reflect.DeepEqual(got.PhoneNumbers, q.PhoneNumbers) || got.Addresses != nil {
			t.Errorf("after update: phoneNumbers %+v, addresses %+v", got.PhoneNumbers, got.Addresses)
		}
	})

	t.Run("Unassigned", func(t *testing.T) {
		p := newProfile(org.ID, "bare")
		p.Emails, p.Email, p.Role = nil, "", ""
		create(t, s, p)
		if got, want := mustGet(t, s, org.ID, p.ID), stored(p); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		for _, id := range []string{"not-a-uuid", "", uuid.NewString(), "'; DROP TABLE profiles; --"} {
			_, err := s.Profile(ctx, org.ID, id)
			wantCode(t, err, scimbridge.ENOTFOUND)
		}
	})

	t.Run("BadIDOnWrite", func(t *testing.T) {
		p := newProfile(org.ID, "bad-id")
		p.ID = "nope"
		wantCode(t, tryCreate(s, p), scimbridge.EINVALID)
		wantCode(t, tryUpdate(s, scimbridge.ChangeUpdate, p, 1), scimbridge.ENOTFOUND)
	})
}

func testProfileUpdate(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	p := create(t, s, newProfile(org.ID, "bob@example.com"))

	t.Run("ReplacesEverything", func(t *testing.T) {
		q := p
		q.DisplayName, q.Title = "Bob", "Builder"
		q.Emails = []scimbridge.Email{{Value: "bob@example.com", Type: "work"}, {Value: "b@home.example", Type: "home"}}
		q.UpdatedAt = at(time.Minute)
		if err := tryUpdate(s, scimbridge.ChangeUpdate, q, 1); err != nil {
			t.Fatalf("update: %v", err)
		}
		q.Version = 2
		if got, want := mustGet(t, s, org.ID, p.ID), stored(q); !reflect.DeepEqual(got, want) {
			t.Errorf("after update:\n got %+v\nwant %+v", got, want)
		}
		q.Title, q.Emails = "", nil
		if err := tryUpdate(s, scimbridge.ChangeUpdate, q, 2); err != nil {
			t.Fatalf("clear: %v", err)
		}
		got := mustGet(t, s, org.ID, p.ID)
		if got.Title != "" || got.Emails != nil || got.Version != 3 {
			t.Errorf("cleared title/emails not stored: %+v", got)
		}
	})

	t.Run("EmailsGrowShrinkReorder", func(t *testing.T) {
		q := create(t, s, newProfile(org.ID, "eve@example.com"))
		steps := [][]scimbridge.Email{
			{{Value: "a@x", Type: "work", Primary: new(true)}, {Value: "b@x", Type: "home"}, {Value: "c@x", Display: "C"}},
			{{Value: "c@x", Display: "C"}, {Value: "A@x", Type: "work", Primary: new(false)}},
			{{Value: "d@x"}},
			{{Value: "d@x"}, {Value: "e@x"}, {Value: "f@x"}, {Value: "g@x"}, {Value: "h@x", Type: "other"}},
		}
		for i, emails := range steps {
			q.Emails = emails
			if err := tryUpdate(s, scimbridge.ChangeUpdate, q, q.Version); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			q.Version++
			if got := mustGet(t, s, org.ID, q.ID); !reflect.DeepEqual(got.Emails, emails) || got.Version != q.Version {
				t.Errorf("step %d: emails %+v version %d, want %+v version %d", i, got.Emails, got.Version, emails, q.Version)
			}
		}
	})

	t.Run("StaleVersion", func(t *testing.T) {
		err := tryUpdate(s, scimbridge.ChangeUpdate, p, 1)
		wantCode(t, err, scimbridge.EPRECONDITION)
		if got := mustGet(t, s, org.ID, p.ID); got.Version != 3 {
			t.Errorf("version = %d after a failed update, want 3", got.Version)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		q := newProfile(org.ID, "ghost@example.com")
		wantCode(t, tryUpdate(s, scimbridge.ChangeDeactivate, q, 1), scimbridge.ENOTFOUND)
	})

	t.Run("EventCommitsWithChange", func(t *testing.T) {
		page, err := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		// Two creates and six updates; the failed writes left nothing.
		if len(page.Events) != 8 {
			t.Fatalf("events = %d, want 8", len(page.Events))
		}
		ev := page.Events[len(page.Events)-3]
		if ev.Kind != scimbridge.ChangeUpdate || ev.ProfileID != p.ID || ev.OrgID != org.ID || ev.Method != "PUT" {
			t.Errorf("update event = %+v", ev)
		}
		if first := page.Events[len(page.Events)-1]; first.Kind != scimbridge.ChangeCreate || first.Duration != 1500*time.Microsecond ||
			first.ResponseBody == "" || first.Count != 1 {
			t.Errorf("create event = %+v", first)
		}
	})
}

func testUniqueness(t *testing.T, s scimbridge.Store) {
	org := newOrg(t, s, "acme")
	eve := newProfile(org.ID, "éve@x.example")
	eve.ExternalID, eve.GoogleID = "Ext-1", "g-1"
	create(t, s, eve)

	t.Run("UserNameCaseInsensitive", func(t *testing.T) {
		for _, name := range []string{"ÉVE@x.example", "éve@X.EXAMPLE", "e\u0301ve@x.example", "E\u0301VE@x.example"} {
			p := newProfile(org.ID, name)
			p.Email, p.Emails = name+".other", nil
			wantConflict(t, tryCreate(s, p), "userName")
		}
	})

	t.Run("EmailCaseInsensitive", func(t *testing.T) {
		p := newProfile(org.ID, "someone-else")
		p.Email = "E\u0301VE@X.example"
		wantConflict(t, tryCreate(s, p), "email")
	})

	t.Run("ExternalIDCaseExactAmongSCIM", func(t *testing.T) {
		p := newProfile(org.ID, "x1@x.example")
		p.ExternalID = "Ext-1"
		wantConflict(t, tryCreate(s, p), "externalId")
		p.ExternalID = "ext-1"
		create(t, s, p)
		manual := newProfile(org.ID, "x2@x.example")
		manual.ExternalID, manual.Source = "Ext-1", scimbridge.SourceManual
		create(t, s, manual)
	})

	t.Run("GoogleID", func(t *testing.T) {
		p := newProfile(org.ID, "g@x.example")
		p.GoogleID, p.Source = "g-1", scimbridge.SourceGoogle
		wantConflict(t, tryCreate(s, p), "googleId")
	})

	t.Run("OnUpdate", func(t *testing.T) {
		p := create(t, s, newProfile(org.ID, "y@x.example"))
		p.UserName = "ÉVE@X.EXAMPLE"
		wantConflict(t, tryUpdate(s, scimbridge.ChangeUpdate, p, 1), "userName")
	})

	t.Run("DuplicateID", func(t *testing.T) {
		p := newProfile(org.ID, "z@x.example")
		p.ID = eve.ID
		wantCode(t, tryCreate(s, p), scimbridge.ECONFLICT)
	})

	t.Run("DetachedHoldsNothing", func(t *testing.T) {
		d := create(t, s, newProfile(org.ID, "dora@x.example"))
		d.ExternalID = "dora"
		if err := tryUpdate(s, scimbridge.ChangeUpdate, d, 1); err != nil {
			t.Fatal(err)
		}
		now := at(time.Hour)
		d.DetachedAt, d.State = &now, scimbridge.StateInactive
		if err := tryUpdate(s, scimbridge.ChangeDetach, d, 2); err != nil {
			t.Fatal(err)
		}
		again := newProfile(org.ID, "DORA@x.example")
		again.ExternalID = "dora"
		create(t, s, again)
		// The detached one cannot come back while the new one holds the keys.
		d.DetachedAt = nil
		wantCode(t, tryUpdate(s, scimbridge.ChangeRevive, d, 3), scimbridge.ECONFLICT)
	})

	t.Run("PerOrganization", func(t *testing.T) {
		other := newOrg(t, s, "other")
		p := newProfile(other.ID, "éve@x.example")
		p.ExternalID, p.GoogleID = "Ext-1", "g-1"
		create(t, s, p)
	})
}

func testBatch(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	org := newOrg(t, s, "acme")
	batch := func(names ...string) []scimbridge.ChangeEvent {
		var out []scimbridge.ChangeEvent
		for _, n := range names {
			p := newProfile(org.ID, n)
			out = append(out, scimbridge.ChangeEvent{
				Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
				Event:  scimbridge.Event{Time: base, Method: "POST", Path: "/Users", Status: 201, Source: scimbridge.EventGoogle, RunID: "run-1"},
			})
		}
		return out
	}
	count := func() int {
		page, err := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}

	t.Run("Commits", func(t *testing.T) {
		if err := s.ApplyChanges(ctx, batch("a@x", "b@x", "c@x"), nil); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 3 {
			t.Errorf("profiles = %d, want 3", n)
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		err := s.ApplyChanges(ctx, batch("d@x", "e@x", "A@X"), nil)
		wantCode(t, err, scimbridge.ECONFLICT)
		if n := count(); n != 3 {
			t.Errorf("profiles = %d after a failed batch, want 3", n)
		}
		page, _ := s.ListEvents(ctx, scimbridge.EventQuery{OrgID: org.ID})
		if len(page.Events) != 3 {
			t.Errorf("events = %d after a failed batch, want 3", len(page.Events))
		}
	})

	t.Run("Full", func(t *testing.T) {
		names := make([]string, 500)
		for i := range names {
			names[i] = uuid.NewString() + "@x"
		}
		if err := s.ApplyChanges(ctx, batch(names...), nil); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 503 {
			t.Errorf("profiles = %d, want 503", n)
		}
	})

	t.Run("InOrder", func(t *testing.T) {
		// A rename frees a name a later create takes, and a profile created
		// in the batch is updated further down the same batch.
		got, _ := s.LookupProfiles(ctx, org.ID, scimbridge.ProfileLookup{UserName: "a@x"})
		if len(got) != 1 {
			t.Fatalf("lookup a@x = %v", got)
		}
		renamed := got[0]
		renamed.UserName, renamed.Email, renamed.Version = "a-old@x", "a-old@x", 2
		taker := newProfile(org.ID, "a@x")
		later := newProfile(org.ID, "later@x")
		later2 := later
		later2.Version, later2.Title = 2, "updated"
		later2.Emails = []scimbridge.Email{{Value: "later@x"}, {Value: "later2@x", Type: "home"}}
		b := []scimbridge.ChangeEvent{
			{Change: scimbridge.Change{Kind: scimbridge.ChangeUpdate, Profile: renamed, ExpectedVersion: 1}},
			{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: taker}},
			{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: later}},
			{Change: scimbridge.Change{Kind: scimbridge.ChangeUpdate, Profile: later2, ExpectedVersion: 1}},
		}
		for i := range b {
			b[i].Event = scimbridge.Event{Time: base, Status: 200, Source: scimbridge.EventGoogle}
		}
		if err := s.ApplyChanges(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, org.ID, later.ID); !reflect.DeepEqual(got, stored(later2)) {
			t.Errorf("created then updated:\n got %+v\nwant %+v", got, stored(later2))
		}
		if got := mustGet(t, s, org.ID, taker.ID); got.UserName != "a@x" {
			t.Errorf("taker = %+v", got)
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		names := make([]string, 501)
		for i := range names {
			names[i] = uuid.NewString()
		}
		wantCode(t, s.ApplyChanges(ctx, batch(names...), nil), scimbridge.EINVALID)
	})
}

func testConcurrentWriters(t *testing.T, s scimbridge.Store) {
	org := newOrg(t, s, "acme")
	for round := range 5 {
		p := create(t, s, newProfile(org.ID, uuid.NewString()+"@x"))
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() {
				q := p
				q.DisplayName = []string{"first", "second"}[i]
				<-start
				errs[i] = tryUpdate(s, scimbridge.ChangeUpdate, q, 1)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch scimbridge.ErrorCode(err) {
			case "":
				won++
			case scimbridge.EPRECONDITION:
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (errors %v)", round, won, errs)
		}
		if got := mustGet(t, s, org.ID, p.ID); got.Version != 2 {
			t.Errorf("round %d: version = %d, want 2", round, got.Version)
		}
	}
}

// Package storetest is the conformance suite of scimbridge.Store: Run checks
// one implementation against the contract, and the Open helpers give other
// packages' tests a migrated SQLite or PostgreSQL store.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// Run runs the conformance suite; open returns a fresh, migrated, empty
// store for each subtest.
func Run(t *testing.T, open func(t *testing.T) scimbridge.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s scimbridge.Store)
	}{
		{"Organizations", testOrganizations},
		{"ProfileRoundTrip", testProfileRoundTrip},
		{"ProfileUpdate", testProfileUpdate},
		{"Uniqueness", testUniqueness},
		{"Batch", testBatch},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Lookup", testLookup},
		{"List", testList},
		{"Managed", testManaged},
		{"Release", testRelease},
		{"ProfileIndex", testProfileIndex},
		{"ProfilesByID", testProfilesByID},
		{"RecentBridgeChanges", testRecentBridgeChanges},
		{"Events", testEvents},
		{"EventFilters", testEventFilters},
		{"PurgeEvents", testPurgeEvents},
		{"CountRecentChanges", testCountRecentChanges},
		{"SCIMConfig", testSCIMConfig},
		{"AdminTokens", testAdminTokens},
		{"OperatorTokens", testOperatorTokens},
		{"DeleteBridge", testDeleteBridge},
		{"Bridges", testBridges},
		{"SealingKeys", testSealingKeys},
		{"Reports", testReports},
		{"HeldPlans", testHeldPlans},
		{"Leases", testLeases},
		{"LeaseInBatch", testLeaseInBatch},
		{"ApplyCreates", testApplyCreates},
		{"TenantIsolation", testTenantIsolation},
		{"GroupRoundTrip", testGroupRoundTrip},
		{"GroupUniqueness", testGroupUniqueness},
		{"GroupVersions", testGroupVersions},
		{"GroupMembership", testGroupMembership},
		{"GroupRemoval", testGroupRemoval},
		{"GroupTenantIsolation", testGroupTenantIsolation},
		{"GroupLargeMembership", testGroupLargeMembership},
		{"ChangeRecords", testChangeRecords},
		{"ChangeOrder", testChangeOrder},
		{"PurgeChanges", testPurgeChanges},
		{"GroupFilters", testGroupFilters},
		{"Webhooks", testWebhooks},
		{"ConsoleSessions", testConsoleSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// base is a fixed instant with a non-zero microsecond part, in a non-UTC
// zone, so round trips show both precision and normalisation to UTC.
var base = time.Date(2024, 3, 10, 9, 30, 15, 123456000, time.FixedZone("X", 2*3600))

func at(d time.Duration) time.Time { return base.Add(d) }

func newOrg(t *testing.T, s scimbridge.Store, slug string) scimbridge.Organization {
	t.Helper()
	o := scimbridge.Organization{ID: uuid.NewString(), Slug: slug, Name: strings.ToUpper(slug),
		CreatedAt: base, AdoptExisting: true}
	if err := s.CreateOrganization(context.Background(), o); err != nil {
		t.Fatalf("create organization %s: %v", slug, err)
	}
	return o
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// newProfile returns an active SCIM profile with userName as its one
// primary work email.
func newProfile(orgID, userName string) scimbridge.Profile {
	return scimbridge.Profile{
		ID:    uuid.NewString(),
		OrgID: orgID,
		Attributes: scimbridge.Attributes{
			UserName: userName,
			Emails:   []scimbridge.Email{{Value: userName, Type: "work", Primary: yes()}},
		},
		Email:     userName,
		State:     scimbridge.StateActive,
		Source:    scimbridge.SourceSCIM,
		Version:   1,
		Role:      scimbridge.RoleMember,
		CreatedAt: base,
		UpdatedAt: base,
	}
}

func createEvent(p scimbridge.Profile) scimbridge.Event {
	return scimbridge.Event{Time: p.UpdatedAt, Method: "POST", Path: "/api/connect/v1/Users", Status: 201,
		TargetUserName: p.UserName, Source: scimbridge.EventIdP, Duration: 1500 * time.Microsecond,
		ResponseBody: `{"id":"` + p.ID + `"}`}
}

func create(t *testing.T, s scimbridge.Store, p scimbridge.Profile) scimbridge.Profile {
	t.Helper()
	err := s.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event:  createEvent(p),
	})
	if err != nil {
		t.Fatalf("create profile %s: %v", p.UserName, err)
	}
	return p
}

func tryCreate(s scimbridge.Store, p scimbridge.Profile) error {
	return s.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event:  createEvent(p),
	})
}

// tryUpdate writes p as version expected+1.
func tryUpdate(s scimbridge.Store, kind scimbridge.ChangeKind, p scimbridge.Profile, expected int64) error {
	p.Version = expected + 1
	return s.ApplyChange(context.Background(), scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: kind, Profile: p, ExpectedVersion: expected},
		Event: scimbridge.Event{Time: p.UpdatedAt, Method: "PUT", Path: "/api/connect/v1/Users/" + p.ID,
			Status: 200, TargetUserName: p.UserName, Source: scimbridge.EventIdP},
	})
}

func mustGet(t *testing.T, s scimbridge.Store, orgID, id string) scimbridge.Profile {
	t.Helper()
	p, err := s.Profile(context.Background(), orgID, id)
	if err != nil {
		t.Fatalf("get profile %s: %v", id, err)
	}
	return p
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := scimbridge.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// wantConflict fails unless err is a uniqueness conflict naming attr.
func wantConflict(t *testing.T, err error, attr string) {
	t.Helper()
	wantCode(t, err, scimbridge.ECONFLICT)
	var e *scimbridge.Error
	errors.As(err, &e)
	if e.ScimType != "uniqueness" {
		t.Errorf("scimType = %q, want uniqueness", e.ScimType)
	}
	if !strings.Contains(e.Message, attr) {
		t.Errorf("message %q does not name %s", e.Message, attr)
	}
}

// utc is the stored form of a time: UTC, microsecond precision.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// stored returns p as the store gives it back.
func stored(p scimbridge.Profile) scimbridge.Profile {
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	p.DeactivatedAt, p.DetachedAt = utcPtr(p.DeactivatedAt), utcPtr(p.DetachedAt)
	if len(p.Emails) == 0 {
		p.Emails = nil
	}
	return p
}

func ids(ps []scimbridge.Profile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func userNames(ps []scimbridge.Profile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.UserName
	}
	return out
}

package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// benchBackends opens a fresh store per backend.
var benchBackends = []struct {
	name string
	open func(b *testing.B) *store.DB
}{
	{"sqlite", func(b *testing.B) *store.DB { return storetest.OpenSQLite(b) }},
	{"postgres", func(b *testing.B) *store.DB { return storetest.OpenPostgres(b) }},
}

func benchOrg(b *testing.B, db *store.DB) string {
	id := uuid.NewString()
	err := db.CreateOrganization(context.Background(), scimbridge.Organization{ID: id, Slug: "bench",
		Name: "Bench", CreatedAt: time.Now(), AdoptExisting: true})
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// benchChange is the create of user n with its event, as a SCIM POST
// commits it.
func benchChange(orgID string, n int) scimbridge.ChangeEvent {
	now := time.Now()
	name := fmt.Sprintf("user%07d@bench.example", n)
	p := scimbridge.Profile{
		ID: uuid.NewString(), OrgID: orgID,
		Attributes: scimbridge.Attributes{UserName: name, DisplayName: fmt.Sprintf("User %d", n),
			GivenName: "User", FamilyName: fmt.Sprint(n), Department: "Engineering",
			Emails: []scimbridge.Email{{Value: name, Type: "work", Primary: new(true)}}},
		Email: name, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM,
		ExternalID: fmt.Sprintf("ext-%07d", n), Version: 1, Role: scimbridge.RoleMember,
		CreatedAt: now, UpdatedAt: now,
	}
	return scimbridge.ChangeEvent{
		Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
		Event: scimbridge.Event{Time: now, Method: "POST", Path: "/api/connect/v1/Users", Status: 201,
			TargetUserName: name, ClientIP: "127.0.0.1", UserAgent: "bench", RequestID: p.ID,
			Duration: time.Millisecond, Source: scimbridge.EventIdP,
			RequestBody:  `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `"}`,
			ResponseBody: `{"id":"` + p.ID + `","userName":"` + name + `"}`},
	}
}

func BenchmarkApplyChange(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			org := benchOrg(b, db)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := db.ApplyChange(ctx, benchChange(org, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkApplyChanges500(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			org := benchOrg(b, db)
			ctx := context.Background()
			n := 0
			b.ResetTimer()
			for b.Loop() {
				if err := db.ApplyChanges(ctx, benchBatch(org, &n), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*scimbridge.MaxBatch)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

func benchBatch(org string, n *int) []scimbridge.ChangeEvent {
	batch := make([]scimbridge.ChangeEvent, scimbridge.MaxBatch)
	for i := range batch {
		batch[i] = benchChange(org, *n)
		*n++
	}
	return batch
}

// BenchmarkListProfiles seeds 100,000 SCIM profiles in one organization once
// per backend, then times the listings a SCIM client makes.
func BenchmarkListProfiles(b *testing.B) {
	const seed = 100_000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			org := benchOrg(b, db)
			ctx := context.Background()
			n := 0
			for n < seed {
				if err := db.ApplyChanges(ctx, benchBatch(org, &n), nil); err != nil {
					b.Fatal(err)
				}
			}
			// Steady state: planner statistics current (and, on PostgreSQL,
			// the visibility map autovacuum keeps, for index-only counts).
			if err := db.Optimize(ctx); err != nil {
				b.Fatal(err)
			}
			if db.Dialect() == store.DialectPostgres {
				if _, err := db.SQLX().ExecContext(ctx, `VACUUM ANALYZE profiles, profile_emails`); err != nil {
					b.Fatal(err)
				}
			}
			eq := func(attr string, value func(i int) string) func(i int) scimbridge.ProfileQuery {
				return func(i int) scimbridge.ProfileQuery {
					return scimbridge.ProfileQuery{Limit: 100, Filter: scimbridge.CompareFilter{
						Attr: attr, Op: scimbridge.OpEq, Value: value(i * 7919 % seed)}}
				}
			}
			cases := []struct {
				name  string
				query func(i int) scimbridge.ProfileQuery
				want  int
			}{
				{"userName_eq", eq("userName", func(i int) string { return fmt.Sprintf("USER%07d@bench.example", i) }), 1},
				{"externalId_eq", eq("externalId", func(i int) string { return fmt.Sprintf("ext-%07d", i) }), 1},
				{"emails.value_eq", eq("emails.value", func(i int) string { return fmt.Sprintf("user%07d@bench.example", i) }), 1},
				{"userName_sw", func(i int) scimbridge.ProfileQuery {
					return scimbridge.ProfileQuery{Limit: 100, Filter: scimbridge.CompareFilter{Attr: "userName",
						Op: scimbridge.OpSw, Value: fmt.Sprintf("user%06d", i*31%(seed/10))}}
				}, 10},
				{"default_page_100", func(int) scimbridge.ProfileQuery {
					return scimbridge.ProfileQuery{Limit: 100}
				}, 100},
				// A client paging through everything reaches deep offsets.
				{"default_page_100_offset_50k", func(int) scimbridge.ProfileQuery {
					return scimbridge.ProfileQuery{Limit: 100, Offset: seed / 2}
				}, 100},
			}
			// The bridge's whole-set read: every managed profile with emails.
			b.Run("ManagedProfiles", func(b *testing.B) {
				for b.Loop() {
					ps, err := db.ManagedProfiles(ctx, org, scimbridge.SourceSCIM)
					if err != nil {
						b.Fatal(err)
					}
					if len(ps) != seed || len(ps[seed/2].Emails) != 1 {
						b.Fatalf("managed profiles = %d", len(ps))
					}
				}
			})
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					b.ResetTimer()
					for i := 0; b.Loop(); i++ {
						q := c.query(i)
						q.OrgID, q.Sources = org, []scimbridge.Source{scimbridge.SourceSCIM}
						page, err := db.ListProfiles(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Profiles) != c.want {
							b.Fatalf("%s: %d profiles, want %d", c.name, len(page.Profiles), c.want)
						}
					}
				})
			}
		})
	}
}

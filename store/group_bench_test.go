package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// BenchmarkGroupAddMembers measures one group change adding 1,000 members
// with its event, as a SCIM PATCH commits it; the members are removed
// again outside the timer.
func BenchmarkGroupAddMembers(b *testing.B) {
	const members = 1000
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			db := be.open(b)
			orgID := benchOrg(b, db)
			ids := storetest.SeedProfiles(b, db, orgID, 10*members)
			now := time.Now()
			g := scimbridge.Group{ID: uuid.NewString(), OrgID: orgID, DisplayName: "Bench", Source: scimbridge.SourceSCIM,
				Version: 1, CreatedAt: now, UpdatedAt: now}
			change := func(add, remove []string) scimbridge.GroupChangeEvent {
				g.Version++
				return scimbridge.GroupChangeEvent{
					Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate, Group: g, ExpectedVersion: g.Version - 1,
						AddMembers: add, RemoveMembers: remove},
					Event: scimbridge.Event{Time: now, Method: "PATCH", Path: "/Groups/" + g.ID, Status: 204, Source: scimbridge.EventIdP},
				}
			}
			if err := db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{
				Kind: scimbridge.ChangeGroupCreate, Group: g}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := (i % 10) * members
				chunk := ids[start : start+members]
				if err := db.ApplyGroupChange(ctx, change(chunk, nil)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := db.ApplyGroupChange(ctx, change(nil, chunk)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

package bridge_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// BenchmarkDirectory_ListGroups5k is the Google client alone listing 5,000
// groups of about 50 members each (groups.list, then members.list of every
// group) from the fake over HTTP, with the quota off on both sides: the
// client's own cost. Within Google's default quota the same 5,025 calls
// take at least two minutes.
func BenchmarkDirectory_ListGroups5k(b *testing.B) {
	const groups, members = 5000, 50
	e := newFakeEnv(b)
	users := fakegoogle.GenerateUsers(100_000, 1)
	e.fake.SetUsers(users)
	e.fake.SetGroups(fakegoogle.GenerateGroups(users, groups, members, 1))
	e.fake.SetQuota(0)
	d := e.directory(b, e.serviceAccount(b), bridge.WithGroups(), bridge.WithQueryLimiter(nil))
	ctx := context.Background()
	b.ReportAllocs()
	calls, listed := 0, 0
	for b.Loop() {
		calls, listed = 0, 0
		var keys []string
		l, err := d.ListGroups(ctx, bridge.GroupQuery{}, func(page []bridge.GoogleGroup) error {
			for _, g := range page {
				keys = append(keys, g.ID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		calls += l.Pages
		for _, k := range keys {
			l, err := d.ListMembers(ctx, k, func(page []bridge.GoogleMember) error {
				listed += len(page)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			calls += l.Pages
		}
		if len(keys) != groups {
			b.Fatalf("listed %d groups, want %d", len(keys), groups)
		}
	}
	b.ReportMetric(float64(calls), "calls/op")
	b.ReportMetric(float64(listed), "members/op")
}

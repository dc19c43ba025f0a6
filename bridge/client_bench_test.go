package bridge_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// BenchmarkDirectory_ListUsers100k is the Google client alone paging through
// a 100,000-user fake directory: the floor a whole bridge run is measured
// against. The fake renders each user once, before the timer starts. The
// quota is off on both sides: back-to-back listings would otherwise measure
// the query budget.
func BenchmarkDirectory_ListUsers100k(b *testing.B) {
	const n = 100_000
	e := newFakeEnv(b)
	e.fake.SetUsers(fakegoogle.GenerateUsers(n, 42))
	e.fake.SetQuota(0)
	d := e.directory(b, e.serviceAccount(b), bridge.WithQueryLimiter(nil))
	ctx := context.Background()
	if l, err := d.ListUsers(ctx, "", false); err != nil || len(l.Users) != n {
		b.Fatalf("warm-up listing: %d users, %v", len(l.Users), err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	pages := 0
	for b.Loop() {
		l, err := d.ListUsers(ctx, "", false)
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Users) != n {
			b.Fatalf("listed %d users, want %d", len(l.Users), n)
		}
		pages = l.Pages
	}
	b.ReportMetric(float64(pages), "pages/op")
}

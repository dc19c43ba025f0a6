package bridge_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

var benchUsers = flag.Int("bridge.users", 100_000, "directory size of the bridge sync benchmarks")

// BenchmarkBridgeSync measures whole bridge runs against a generated
// directory served by the fake Google over HTTP and read by the real
// client: the first sync (every profile created), a second sync with
// nothing changed (no profile written) and a sync with 1% of the users
// changed, on SQLite and PostgreSQL. pages/op is the users.list pages of
// one pass: ⌈users/500⌉.
func BenchmarkBridgeSync(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"SQLite", storetest.OpenSQLite},
		{"PostgreSQL", storetest.OpenPostgres},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			users := fakegoogle.GenerateUsers(*benchUsers, 1)
			g, keyring := newGoogle(b), newKeyring(b)
			g.SetUsers(users)
			g.SetQuota(0) // back-to-back runs would measure Google's quota
			newEnv := func() *syncEnv {
				e := newSyncEnvWith(b, be.open(b), g, keyring, func(s *scimbridge.BridgeSettings) { s.Guard = false })
				e.users = users
				return e
			}
			b.Run("First", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					e := newEnv()
					g.ResetCounters()
					b.StartTimer()
					rep := benchSync(b, e)
					b.StopTimer()
					if rep.Counts.Created == 0 {
						b.Fatalf("first sync created nothing: %+v", rep.Counts)
					}
					reportPages(b, g.Server, len(users), 1)
				}
				b.ReportMetric(float64(len(users)), "users")
			})
			e := newEnv()
			benchSync(b, e)
			b.Run("Unchanged", func(b *testing.B) {
				g.ResetCounters()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rep := benchSync(b, e)
					if c := rep.Counts; c.Created+c.Updated+c.Deactivated+c.Reactivated != 0 {
						b.Fatalf("an unchanged directory wrote profiles: %+v", c)
					}
				}
				b.StopTimer()
				reportPages(b, g.Server, len(users), b.N)
			})
			b.Run("OnePercentChanged", func(b *testing.B) {
				g.ResetCounters()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					changed := changeOnePercent(users, i)
					g.SetUsers(users)
					b.StartTimer()
					rep := benchSync(b, e)
					if rep.Counts.Updated+rep.Counts.Deactivated+rep.Counts.Reactivated == 0 || rep.Counts.Updated > changed {
						b.Fatalf("1%% changed (%d users): counts %+v", changed, rep.Counts)
					}
				}
				b.StopTimer()
				reportPages(b, g.Server, len(users), b.N)
			})
		})
	}
}

func benchSync(b *testing.B, e *syncEnv) scimbridge.Report {
	b.Helper()
	rep, err := e.runner.RunOnce(context.Background(), e.org.ID, scimbridge.TriggerManual, false)
	if err != nil {
		b.Fatalf("sync: %v", err)
	}
	return rep
}

// reportPages reports the pages of one pass and checks it is ⌈users/500⌉.
func reportPages(b *testing.B, g *fakegoogle.Server, users, passes int) {
	b.Helper()
	want := (users + bridge.PageSize - 1) / bridge.PageSize
	per := g.Pages() / passes
	if per != want {
		b.Errorf("%d pages per pass, want %d", per, want)
	}
	b.ReportMetric(float64(per), "pages/op")
}

// changeOnePercent changes the title of every hundredth user (a different
// title each round) and returns how many it changed.
func changeOnePercent(users []*admin.User, round int) int {
	n := 0
	for i := round % 100; i < len(users); i += 100 {
		u := users[i]
		orgs, _ := u.Organizations.([]admin.UserOrganization)
		if len(orgs) == 0 {
			continue
		}
		orgs = append([]admin.UserOrganization(nil), orgs...)
		orgs[0].Title = fmt.Sprintf("Title round %d", round)
		u.Organizations = orgs
		n++
	}
	return n
}

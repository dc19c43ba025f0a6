package daemon_test

import (
	"context"
	"strings"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
)

func TestCLI_BridgeGroups(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := be.env(t)
			g, key := e.withGoogle()
			users := googleUsers(3)
			g.SetUsers(users)
			g.SetGroups(&fakegoogle.StaticGroups{
				Groups:  []*admin.Group{{Id: "g01", Email: "eng@example.com", Name: "Engineering"}},
				Members: [][]*admin.Member{{{Id: users[0].Id, Email: users[0].PrimaryEmail, Type: "USER", Role: "MEMBER"}}},
			})
			e.mustRun("org", "create", "acme")
			org := e.org("acme")
			settings := func() scimbridge.BridgeSettings {
				var s scimbridge.BridgeSettings
				e.withStore(func(db *store.DB) {
					b, err := db.Bridge(context.Background(), org.ID)
					if err != nil {
						t.Fatal(err)
					}
					s = b.Settings
				})
				return s
			}

			// Groups need the group scope: without it nothing is stored.
			g.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope)
			r := e.run("bridge", "google", "set", "--org", "acme", "--credentials", key, "--admin-email", "admin@example.com",
				"--groups", "all")
			if r.code == 0 || !strings.Contains(r.stderr, bridge.GroupScope) {
				t.Fatalf("exit %d, stderr %q; want the missing group scope named", r.code, r.stderr)
			}
			// Without groups the same credentials work: the group scope is
			// asked for only with groups on.
			e.mustRun("bridge", "google", "set", "--org", "acme", "--credentials", key, "--admin-email", "admin@example.com")
			if s := settings(); s.Groups != "" {
				t.Fatalf("groups %q stored", s.Groups)
			}
			g.SetDelegatedScopes(fakegoogle.DirectoryReadonlyScope, fakegoogle.GroupReadonlyScope)

			for _, bad := range [][]string{
				{"--groups", "some"},
				{"--groups", "emails:not-an-address"},
				{"--groups", "query:"},
				{"--users-from-groups"},
				{"--flatten-groups"},
			} {
				r := e.run(append([]string{"bridge", "google", "set", "--org", "acme"}, bad...)...)
				if r.code == 0 || r.stderr == "" || strings.Contains(r.stderr, "internal") {
					t.Errorf("%v: exit %d, stderr %q; want a clear refusal", bad, r.code, r.stderr)
				}
			}
			e.mustRun("bridge", "google", "set", "--org", "acme", "--groups", "query:email:eng*", "--flatten-groups")
			if s := settings(); s.Groups != "query:email:eng*" || !s.FlattenGroups || s.UsersFromGroups {
				t.Fatalf("settings %+v", s)
			}
			out := e.mustRun("bridge", "status", "--org", "acme")
			if !strings.Contains(out, "groups matching email:eng*, nested groups flattened") {
				t.Fatalf("status does not show the group settings:\n%s", out)
			}
			out = e.mustRun("bridge", "sync", "--org", "acme")
			if !strings.Contains(out, "groups") || !strings.Contains(out, "created 1") {
				t.Fatalf("sync output lacks the group counts:\n%s", out)
			}
			e.mustRun("bridge", "google", "set", "--org", "acme", "--groups", "emails:ENG@example.com, ops@example.com", "--users-from-groups")
			if s := settings(); s.Groups != "emails:eng@example.com,ops@example.com" || !s.UsersFromGroups || !s.FlattenGroups {
				t.Fatalf("settings %+v", s)
			}
			e.mustRun("bridge", "google", "set", "--org", "acme", "--groups", "none", "--users-from-groups=false", "--flatten-groups=false")
			if s := settings(); s.Groups != "" || s.UsersFromGroups || s.FlattenGroups {
				t.Fatalf("settings after --groups none: %+v", s)
			}
		})
	}
}

package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

func TestCLI_ConsoleLink(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := be.env(t)
			e.mustRun("org", "create", "acme")
			org := e.org("acme")

			out := e.mustRun("console", "link", "--org", "acme", "--role", "viewer", "--expires", "48h")
			i := strings.Index(out, "https://scim.example.test/console/setup/scbl_")
			if i < 0 || !strings.Contains(out, "shown only now") {
				t.Fatalf("output:\n%s", out)
			}
			token := strings.Fields(out[i+len("https://scim.example.test/console/setup/"):])[0]
			e.withStore(func(db *store.DB) {
				l, err := db.SetupLinkByHash(context.Background(), scimbridge.HashToken(token))
				if err != nil || l.Role != scimbridge.AdminViewer || l.ExpiresAt.Sub(l.CreatedAt) != 48*time.Hour || l.OrgID != org.ID {
					t.Errorf("stored link = %+v, %v", l, err)
				}
				if strings.Contains(string(l.TokenHash), token) {
					t.Error("the token is stored in clear")
				}
			})
			var found bool
			for _, ev := range e.events(org) {
				if ev.Method == "POST" && ev.Path == "/api/admin/v1/orgs/acme/setup-links" && ev.Actor == cliActor(t) {
					found = true
					if strings.Contains(ev.RequestBody+ev.ResponseBody, token) {
						t.Error("the event carries the token")
					}
				}
			}
			if !found {
				t.Error("no admin event for console link")
			}
			for _, bad := range [][]string{
				{"--expires", "8d"}, {"--expires", "0s"}, {"--role", "app"}, {"--expires", "soon"},
			} {
				r := e.run(append([]string{"console", "link", "--org", "acme"}, bad...)...)
				if r.code != 2 {
					t.Errorf("console link %v: exit %d, stderr %q", bad, r.code, r.stderr)
				}
			}
			if r := e.run("console", "link", "--org", "nope"); r.code != 1 || !strings.Contains(r.stderr, "nope") {
				t.Errorf("unknown organization: exit %d, %q", r.code, r.stderr)
			}
		})
	}
}

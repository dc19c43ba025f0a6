package daemon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

// admin-token create makes app tokens and named operator tokens; list and
// revoke take --operator; the flags are checked before anything opens.
func TestCLI_AdminTokenRolesAndOperators(t *testing.T) {
	type created struct {
		scimbridge.AdminToken
		Token string `json:"token"`
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			var app, op created
			e.mustJSON(&app, "admin-token", "create", "--org", "acme", "--role", "app", "--name", "crm sync", "--json")
			if app.Role != scimbridge.AdminApp || app.Name != "crm sync" || !strings.HasPrefix(app.Token, "scba_") {
				t.Errorf("app token %+v", app)
			}
			e.mustJSON(&op, "admin-token", "create", "--operator", "--name", "deploy", "--expires", "30d", "--json")
			if !op.Operator || op.OrgID != "" || op.Role != "" || op.ExpiresAt == nil || !strings.HasPrefix(op.Token, "scbo_") {
				t.Errorf("operator token %+v", op)
			}
			e.withStore(func(db *store.DB) {
				got, err := db.OperatorTokenByHash(context.Background(), scimbridge.HashToken(op.Token))
				if err != nil || got.ID != op.ID || got.Name != "deploy" {
					t.Errorf("stored operator token %+v, %v", got, err)
				}
			})
			list := e.mustRun("admin-token", "list", "--operator")
			if !strings.Contains(list, op.ID) || strings.Contains(list, op.Token) || !strings.Contains(list, "deploy") {
				t.Errorf("operator list:\n%s", list)
			}
			if l := e.mustRun("admin-token", "list", "--org", "acme"); strings.Contains(l, op.ID) || !strings.Contains(l, "crm sync") {
				t.Errorf("acme's list:\n%s", l)
			}
			e.mustRun("admin-token", "revoke", "--operator", op.ID)
			var ops []scimbridge.AdminToken
			e.mustJSON(&ops, "admin-token", "list", "--operator", "--json")
			if len(ops) != 1 || ops[0].RevokedAt == nil {
				t.Errorf("after revoke: %+v", ops)
			}
			for _, args := range [][]string{
				{"admin-token", "create", "--org", "acme", "--role", "admin"},
				{"admin-token", "create", "--org", "acme", "--operator"},
				{"admin-token", "create"},
				{"admin-token", "list"},
				{"admin-token", "revoke", "--operator"},
			} {
				if r := e.run(args...); r.code != 2 {
					t.Errorf("%v: exit %d, want 2 (usage): %s", args, r.code, r.stderr)
				}
			}
			if r := e.run("admin-token", "revoke", "--operator", "00000000-0000-0000-0000-000000000000"); r.code != 1 {
				t.Errorf("revoke unknown operator token: exit %d", r.code)
			}
		})
	}
}

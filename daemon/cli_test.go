package daemon_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

func TestCLI_Org(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			var org scimbridge.Organization
			e.mustJSON(&org, "org", "create", "acme", "--name", "Acme Inc", "--json")
			if org.Slug != "acme" || org.Name != "Acme Inc" || org.ID == "" || org.CreatedAt.IsZero() || !org.AdoptExisting {
				t.Fatalf("org create --json = %+v", org)
			}
			out := e.mustRun("org", "create", "--name", "Beta", "beta")
			if !strings.Contains(out, "beta") {
				t.Errorf("org create prints %q, want the slug", out)
			}

			var orgs []scimbridge.Organization
			e.mustJSON(&orgs, "org", "list", "--json")
			if len(orgs) != 2 {
				t.Fatalf("org list --json = %+v, want acme and beta", orgs)
			}
			slugs := map[string]string{}
			for _, o := range orgs {
				slugs[o.Slug] = o.Name
			}
			if slugs["acme"] != "Acme Inc" || slugs["beta"] != "Beta" {
				t.Errorf("org list --json = %+v", orgs)
			}
			table := e.mustRun("org", "list")
			if !strings.Contains(table, "SLUG") || !strings.Contains(table, "Acme Inc") || !strings.Contains(table, org.ID) {
				t.Errorf("org list =\n%s", table)
			}

			t.Run("ErrDuplicate", func(t *testing.T) {
				r := e.run("org", "create", "acme")
				if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
					t.Errorf("duplicate org create: exit %d, stderr %q", r.code, r.stderr)
				}
			})
			t.Run("SetAdoptExisting", func(t *testing.T) {
				var got scimbridge.Organization
				e.mustJSON(&got, "org", "set", "acme", "--adopt-existing=false", "--json")
				if got.AdoptExisting || e.org("acme").AdoptExisting {
					t.Fatalf("after --adopt-existing=false: %+v, stored %+v", got, e.org("acme"))
				}
				e.mustRun("org", "set", "--adopt-existing=true", "acme")
				if !e.org("acme").AdoptExisting {
					t.Fatal("--adopt-existing=true did not turn it back on")
				}
				var bodies []string
				for _, ev := range e.events(org) {
					if ev.Method == "PATCH" && ev.Path == "/api/admin/v1/orgs/acme" && ev.Source == scimbridge.EventAdmin && ev.Actor == cliActor(t) {
						bodies = append(bodies, ev.RequestBody)
					}
				}
				if strings.Join(bodies, "|") != `{"adopt_existing":true}|{"adopt_existing":false}` {
					t.Errorf("org set events = %q", bodies)
				}
				for _, args := range [][]string{{"org", "set", "acme"}, {"org", "set", "--adopt-existing=maybe", "acme"}, {"org", "set", "--adopt-existing=false"}} {
					if r := e.run(args...); r.code != 2 {
						t.Errorf("%v: exit %d, want 2 (usage)", args, r.code)
					}
				}
				if r := e.run("org", "set", "nope", "--adopt-existing=false"); r.code != 1 {
					t.Errorf("unknown org: exit %d, want 1", r.code)
				}
			})
		})
	}
}

// cliActor is the actor of the admin events of commands this test runs.
func cliActor(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return "cli:" + u.Username
}

func TestCLI_SCIM(t *testing.T) {
	type token struct {
		BaseURL string `json:"base_url"`
		Token   string `json:"token"`
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			org := e.org("acme")

			var first token
			e.mustJSON(&first, "scim", "enable", "--org", "acme", "--json")
			if first.BaseURL != "https://scim.example.test/api/connect/v1" {
				t.Errorf("base_url = %q", first.BaseURL)
			}
			if slug, ok := scimbridge.SCIMTokenSlug(first.Token); !ok || slug != "acme" {
				t.Fatalf("token = %q, not a SCIM token of acme", first.Token)
			}
			var firstHash []byte
			e.withStore(func(db *store.DB) {
				sc, err := db.SCIMConfig(context.Background(), org.ID)
				if err != nil {
					t.Fatalf("SCIMConfig: %v", err)
				}
				if !scimbridge.TokenMatches(first.Token, sc.TokenHash) {
					t.Error("stored hash does not match the printed token")
				}
				if bytes.Contains(sc.TokenHash, []byte(first.Token)) {
					t.Error("the token itself is stored")
				}
				firstHash = sc.TokenHash
			})

			t.Run("EnableTwice", func(t *testing.T) {
				r := e.run("scim", "enable", "--org", "acme")
				if r.code != 1 || !strings.Contains(r.stderr, "regenerate-token") {
					t.Errorf("second enable: exit %d, stderr %q; want 1 naming regenerate-token", r.code, r.stderr)
				}
			})

			t.Run("Regenerate", func(t *testing.T) {
				out := e.mustRun("scim", "regenerate-token", "--org", "acme")
				if !strings.Contains(out, "https://scim.example.test/api/connect/v1") || !strings.Contains(out, "scb_acme_") {
					t.Errorf("regenerate-token prints\n%s", out)
				}
				var second token
				e.mustJSON(&second, "scim", "regenerate-token", "--org", "acme", "--json")
				if second.Token == first.Token || second.BaseURL != first.BaseURL {
					t.Fatalf("regenerated %+v, first %+v", second, first)
				}
				e.withStore(func(db *store.DB) {
					sc, err := db.SCIMConfig(context.Background(), org.ID)
					if err != nil {
						t.Fatalf("SCIMConfig: %v", err)
					}
					if bytes.Equal(sc.TokenHash, firstHash) || scimbridge.TokenMatches(first.Token, sc.TokenHash) {
						t.Error("the old token still matches after regenerate-token")
					}
					if !scimbridge.TokenMatches(second.Token, sc.TokenHash) {
						t.Error("the new token does not match")
					}
					if sc.RotatedAt == nil {
						t.Error("rotated_at not set")
					}
				})
			})

			t.Run("StatusNeverShowsToken", func(t *testing.T) {
				out := e.mustRun("scim", "status", "--org", "acme")
				js := e.mustRun("scim", "status", "--org", "acme", "--json")
				for _, s := range []string{out, js} {
					if strings.Contains(s, "scb_") {
						t.Errorf("status shows a token:\n%s", s)
					}
				}
				if !strings.Contains(out, "enabled") || !strings.Contains(js, `"enabled": true`) || !strings.Contains(js, `"rotated_at"`) {
					t.Errorf("status =\n%s\n%s", out, js)
				}
			})

			t.Run("Disable", func(t *testing.T) {
				e.mustRun("scim", "disable", "--org", "acme")
				js := e.mustRun("scim", "status", "--org", "acme", "--json")
				if !strings.Contains(js, `"enabled": false`) {
					t.Errorf("status after disable =\n%s", js)
				}
				if r := e.run("scim", "regenerate-token", "--org", "acme"); r.code != 1 || !strings.Contains(r.stderr, "scim enable") {
					t.Errorf("regenerate after disable: exit %d, stderr %q", r.code, r.stderr)
				}
				if r := e.run("scim", "disable", "--org", "acme"); r.code != 1 {
					t.Errorf("second disable: exit %d, want 1", r.code)
				}
				var again token
				e.mustJSON(&again, "scim", "enable", "--org", "acme", "--json")
				if again.Token == "" || again.Token == first.Token {
					t.Errorf("enable after disable = %+v", again)
				}
			})

			t.Run("AdminEvents", func(t *testing.T) {
				var kinds []string
				for _, ev := range e.events(org) {
					if ev.Source != scimbridge.EventAdmin {
						t.Errorf("event %+v: source %q, want admin", ev, ev.Source)
					}
					if ev.Actor != cliActor(t) {
						t.Errorf("event %d: actor %q, want %q", ev.ID, ev.Actor, cliActor(t))
					}
					if strings.Contains(ev.RequestBody+ev.ResponseBody, "scb_") {
						t.Errorf("event %d carries a token", ev.ID)
					}
					kinds = append(kinds, ev.Method+" "+ev.Path)
				}
				want := []string{ // newest first
					"POST /api/admin/v1/orgs/acme/scim",
					"DELETE /api/admin/v1/orgs/acme/scim",
					"POST /api/admin/v1/orgs/acme/scim/token",
					"POST /api/admin/v1/orgs/acme/scim/token",
					"POST /api/admin/v1/orgs/acme/scim",
					"POST /api/admin/v1/orgs",
				}
				if strings.Join(kinds, "\n") != strings.Join(want, "\n") {
					t.Errorf("admin events =\n%s\nwant\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
				}
				if out := e.mustRun("events", "list", "--org", "acme"); !strings.Contains(out, "admin ("+cliActor(t)+")") {
					t.Errorf("the table does not name the actor:\n%s", out)
				}
				rows, err := csv.NewReader(strings.NewReader(e.mustRun("events", "list", "--org", "acme", "--csv"))).ReadAll()
				if err != nil || len(rows) < 2 || rows[0][len(rows[0])-1] != "actor" || rows[1][len(rows[1])-1] != cliActor(t) {
					t.Errorf("CSV export = %q, %v; want the actor last", rows, err)
				}
			})

			t.Run("UnknownOrg", func(t *testing.T) {
				r := e.run("scim", "status", "--org", "nope")
				if r.code != 1 || !strings.Contains(r.stderr, `"nope"`) {
					t.Errorf("unknown org: exit %d, stderr %q", r.code, r.stderr)
				}
			})
		})
	}
}

func TestCLI_AdminToken(t *testing.T) {
	type created struct {
		scimbridge.AdminToken
		Token string `json:"token"`
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			org := e.org("acme")

			var owner, viewer created
			e.mustJSON(&owner, "admin-token", "create", "--org", "acme", "--json")
			e.mustJSON(&viewer, "admin-token", "create", "--org", "acme", "--role", "viewer", "--expires", "7d", "--json")
			if !strings.HasPrefix(owner.Token, "scba_") || owner.Role != scimbridge.AdminOwner || owner.ExpiresAt != nil {
				t.Errorf("owner token = %+v", owner)
			}
			if viewer.Role != scimbridge.AdminViewer || viewer.ExpiresAt == nil ||
				viewer.ExpiresAt.Sub(viewer.CreatedAt) != 7*24*time.Hour {
				t.Errorf("viewer token = %+v", viewer)
			}
			e.withStore(func(db *store.DB) {
				got, err := db.AdminTokenByHash(context.Background(), scimbridge.HashToken(owner.Token))
				if err != nil || got.ID != owner.ID {
					t.Errorf("AdminTokenByHash(owner) = %+v, %v", got, err)
				}
			})

			list := e.mustRun("admin-token", "list", "--org", "acme")
			listJSON := e.mustRun("admin-token", "list", "--org", "acme", "--json")
			for _, s := range []string{list, listJSON} {
				if strings.Contains(s, owner.Token) || strings.Contains(s, viewer.Token) {
					t.Errorf("admin-token list shows a token:\n%s", s)
				}
				if !strings.Contains(s, owner.ID) || !strings.Contains(s, viewer.ID) {
					t.Errorf("admin-token list misses a token id:\n%s", s)
				}
			}

			e.mustRun("admin-token", "revoke", "--org", "acme", viewer.ID)
			var tokens []scimbridge.AdminToken
			e.mustJSON(&tokens, "admin-token", "list", "--org", "acme", "--json")
			for _, tok := range tokens {
				if revoked := tok.RevokedAt != nil; revoked != (tok.ID == viewer.ID) {
					t.Errorf("token %s (%s): revoked %v", tok.ID, tok.Role, revoked)
				}
			}
			if r := e.run("admin-token", "revoke", "--org", "acme", "00000000-0000-0000-0000-000000000000"); r.code != 1 {
				t.Errorf("revoke unknown: exit %d, stderr %q", r.code, r.stderr)
			}

			var paths []string
			for _, ev := range e.events(org) {
				if ev.Source == scimbridge.EventAdmin {
					paths = append(paths, ev.Method+" "+ev.Path)
				}
			}
			want := "DELETE /api/admin/v1/orgs/acme/admin-tokens/" + viewer.ID +
				"|POST /api/admin/v1/orgs/acme/admin-tokens|POST /api/admin/v1/orgs/acme/admin-tokens|POST /api/admin/v1/orgs"
			if got := strings.Join(paths, "|"); got != want {
				t.Errorf("admin events = %s, want %s", got, want)
			}
		})
	}
}

func TestCLI_Usage(t *testing.T) {
	e := newSQLiteEnv(t)
	e.mustRun("org", "create", "acme")
	for _, tt := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"NoCommand", nil, "no command"},
		{"UnknownCommand", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"UnknownSubcommand", []string{"scim", "frobnicate"}, `unknown command "scim frobnicate"`},
		{"MissingSubcommand", []string{"org"}, "missing subcommand"},
		{"UnknownFlag", []string{"org", "list", "--frob"}, "flag provided but not defined: -frob"},
		{"MissingOrg", []string{"scim", "enable"}, "--org SLUG is required"},
		{"BadSlug", []string{"org", "create", "Bad_Slug"}, "invalid organization slug"},
		{"MissingArgument", []string{"org", "create"}, "missing SLUG"},
		{"ExtraArgument", []string{"org", "list", "extra"}, `unexpected argument "extra"`},
		{"BadRole", []string{"admin-token", "create", "--org", "acme", "--role", "god"}, "invalid --role"},
		{"BadExpires", []string{"admin-token", "create", "--org", "acme", "--expires", "soon"}, "invalid --expires"},
		{"BadSource", []string{"profiles", "release", "--org", "acme", "--source", "manual"}, "invalid --source"},
		{"BadStatus", []string{"events", "list", "--org", "acme", "--status", "3xx"}, "invalid --status"},
		{"BadSince", []string{"events", "list", "--org", "acme", "--since", "yesterday"}, "invalid --since"},
		{"BadLimit", []string{"events", "list", "--org", "acme", "--limit", "0"}, "invalid --limit"},
		{"FlagNeedsValue", []string{"org", "list", "--config"}, "flag needs an argument"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.want)
			}
		})
	}
	t.Run("Help", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"--help"}, {"org", "create", "-h"}} {
			r := e.run(args...)
			if r.code != 0 || !strings.Contains(r.stdout, "org create") {
				t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
			}
		}
	})
}

func TestCLI_Config(t *testing.T) {
	t.Run("EveryProblemListed", func(t *testing.T) {
		e := newSQLiteEnv(t)
		path := filepath.Join(t.TempDir(), "scimbridge.yaml")
		yaml := "tls_cert_file: /etc/cert.pem\nlog:\n  level: loud\nbogus_key: 1\nscim:\n  rate_limit: -1\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		e.vars["SCIMBRIDGE_EVENTS_RETENTION"] = "forever"
		for _, args := range [][]string{
			{"org", "list", "--config", path},
			{"--config", path, "org", "list"},
			{"serve", "--config", path},
		} {
			r := e.run(args...)
			if r.code != 2 {
				t.Errorf("%v: exit %d, want 2", args, r.code)
			}
			for _, key := range []string{"tls_key_file:", "log.level:", "bogus_key:", "scim.rate_limit:", "events.retention:"} {
				if !strings.Contains(r.stderr, key) {
					t.Errorf("%v: stderr does not name %s:\n%s", args, key, r.stderr)
				}
			}
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		e := newSQLiteEnv(t)
		// A missing file is a configuration problem like any other.
		r := e.run("org", "list", "--config", filepath.Join(t.TempDir(), "none.yaml"))
		if r.code != 2 || !strings.Contains(r.stderr, "none.yaml") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("OneProblem", func(t *testing.T) {
		e := newSQLiteEnv(t)
		e.vars["SCIMBRIDGE_EVENTS_RETENTION"] = "forever"
		if r := e.run("org", "list"); r.code != 2 || !strings.Contains(r.stderr, "invalid configuration (1 problem):\n") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("NoDatabaseYet", func(t *testing.T) {
		dir := t.TempDir()
		e := &testEnv{t: t, dataDir: dir, vars: map[string]string{"SCIMBRIDGE_DATA_DIR": dir}}
		r := e.run("org", "list")
		if r.code != 1 || !strings.Contains(r.stderr, "scimbridge migrate") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "scimbridge.db")); err == nil {
			t.Error("a command other than serve and migrate created the database")
		}
	})
}

package daemon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
)

func TestCLI_Webhooks(t *testing.T) {
	type out struct {
		scimbridge.WebhookEndpoint
		Secret string `json:"secret"`
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := b.env(t)
			e.mustRun("org", "create", "acme")
			org := e.org("acme")

			if r := e.run("webhooks", "add", "--org", "acme", "--url", "http://hooks.example.com/x"); r.code == 0 ||
				!strings.Contains(r.stderr, "https") {
				t.Errorf("plain http accepted: exit %d, %s", r.code, r.stderr)
			}
			if r := e.run("webhooks", "add", "--org", "acme"); r.code != 2 {
				t.Errorf("add without --url: exit %d", r.code)
			}
			var added out
			e.mustJSON(&added, "webhooks", "add", "--org", "acme", "--url", "https://hooks.example.com/x",
				"--types", "user.created, user.deleted", "--batch", "20", "--on-reject", "skip", "--json")
			if !strings.HasPrefix(added.Secret, "whsec_") || added.Batch != 20 || len(added.Types) != 2 ||
				added.OnReject != scimbridge.RejectSkip || !added.Enabled {
				t.Errorf("added = %+v", added)
			}
			text := e.mustRun("webhooks", "add", "--org", "acme", "--url", "https://other.example.com/y")
			if !strings.Contains(text, "whsec_") || !strings.Contains(text, "shown only now") {
				t.Errorf("add output:\n%s", text)
			}
			list := e.mustRun("webhooks", "list", "--org", "acme")
			listJSON := e.mustRun("webhooks", "list", "--org", "acme", "--json")
			for _, s := range []string{list, listJSON} {
				if strings.Contains(s, "whsec_") || strings.Contains(s, strings.TrimPrefix(added.Secret, "whsec_")) {
					t.Errorf("list shows a secret:\n%s", s)
				}
				if !strings.Contains(s, added.ID) || !strings.Contains(s, "https://other.example.com/y") {
					t.Errorf("list misses an endpoint:\n%s", s)
				}
			}

			var rotated out
			e.mustJSON(&rotated, "webhooks", "rotate-secret", "--org", "acme", added.ID, "--json")
			if rotated.Secret == added.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousExpiresAt == nil {
				t.Errorf("rotated = %+v", rotated)
			}
			e.mustRun("webhooks", "disable", "--org", "acme", added.ID)
			e.withStore(func(db *store.DB) {
				got, err := db.WebhookEndpoint(context.Background(), org.ID, added.ID)
				if err != nil || got.Enabled {
					t.Errorf("after disable: %+v, %v", got, err)
				}
			})
			e.mustRun("webhooks", "enable", "--org", "acme", added.ID)
			if s := e.mustRun("webhooks", "attempts", "--org", "acme", added.ID); !strings.Contains(s, "ATTEMPT") {
				t.Errorf("attempts output:\n%s", s)
			}
			if r := e.run("webhooks", "redeliver", "--org", "acme", added.ID, "msg_1_1"); r.code != 1 ||
				!strings.Contains(r.stderr, "no message") {
				t.Errorf("redeliver unknown: exit %d, %s", r.code, r.stderr)
			}
			e.mustRun("webhooks", "remove", "--org", "acme", added.ID)
			if r := e.run("webhooks", "remove", "--org", "acme", added.ID); r.code != 1 {
				t.Errorf("remove twice: exit %d", r.code)
			}

			var paths []string
			for _, ev := range e.events(org) {
				if ev.Source == scimbridge.EventAdmin && strings.Contains(ev.Path, "/webhooks") {
					paths = append(paths, ev.Method+" "+strings.TrimPrefix(ev.Path, "/api/admin/v1/orgs/acme"))
				}
			}
			id := added.ID
			want := "DELETE /webhooks/" + id + "|PATCH /webhooks/" + id + "|PATCH /webhooks/" + id +
				"|POST /webhooks/" + id + "/rotate-secret|POST /webhooks|POST /webhooks"
			if got := strings.Join(paths, "|"); got != want {
				t.Errorf("admin events = %s\nwant %s", got, want)
			}
		})
	}
}

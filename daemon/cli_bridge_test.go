package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/store"
)

// withGoogle points the environment at a fake Google and returns it with
// a service-account key file it accepts.
func (e *testEnv) withGoogle() (*fakegoogle.Server, string) {
	e.t.Helper()
	g := fakegoogle.NewServer()
	srv := httptest.NewServer(g.Handler())
	e.t.Cleanup(srv.Close)
	e.vars["SCIMBRIDGE_GOOGLE_API_ENDPOINT"] = srv.URL + "/"
	e.vars["SCIMBRIDGE_GOOGLE_TOKEN_URL"] = srv.URL + fakegoogle.TokenPath
	key := filepath.Join(e.t.TempDir(), "key.json")
	if err := os.WriteFile(key, g.ServiceAccountKey(srv.URL+fakegoogle.TokenPath), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return g, key
}

func googleUsers(n int) []*admin.User {
	out := make([]*admin.User, n)
	for i := range out {
		out[i] = &admin.User{Id: fmt.Sprintf("10000000000000000%04d", i), PrimaryEmail: fmt.Sprintf("user%02d@example.com", i),
			OrgUnitPath: "/", Name: &admin.UserName{GivenName: "User", FamilyName: fmt.Sprint(i)}}
	}
	return out
}

func writeKey(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 32)
	rand.Read(raw)
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(raw)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLI_Bridge(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := be.env(t)
			g, key := e.withGoogle()
			g.SetUsers(googleUsers(40))
			e.mustRun("org", "create", "acme")
			org := e.org("acme")

			t.Run("SetRefusesCredentialsGoogleRejects", func(t *testing.T) {
				g.FailAll(403, "forbidden", "Not Authorized to access this resource/api")
				defer g.ClearFailures()
				r := e.run("bridge", "google", "set", "--org", "acme", "--credentials", key, "--admin-email", "admin@example.com")
				if r.code != 1 || !strings.Contains(r.stderr, "Not Authorized to access this resource/api") {
					t.Fatalf("exit %d, stderr %q; want Google's message", r.code, r.stderr)
				}
				if r := e.run("bridge", "status", "--org", "acme"); r.code == 0 {
					t.Fatalf("a bridge was stored: %s", r.stdout)
				}
			})
			t.Run("Set", func(t *testing.T) {
				var out struct {
					Settings scimbridge.BridgeSettings `json:"settings"`
				}
				e.mustJSON(&out, "bridge", "google", "set", "--org", "acme", "--credentials", key, "--admin-email", "admin@example.com",
					"--domain", "example.com", "--exclude", "user39@example.com", "--schedule", "*/30 * * * *", "--json")
				s := out.Settings
				if s.Mode != scimbridge.ModeSync || !s.Guard || s.Hold != scimbridge.HoldGuarded || s.Schedule != "*/30 * * * *" ||
					len(s.Domains) != 1 || len(s.ExcludedUsers) != 1 || s.CredentialKind != bridge.KindServiceAccount {
					t.Errorf("settings = %+v", s)
				}
				info, err := os.Stat(filepath.Join(e.dataDir, "encryption-key"))
				if err != nil || info.Mode().Perm() != 0o600 {
					t.Fatalf("generated key: %v, %v", info, err)
				}
				e.withStore(func(db *store.DB) {
					b, err := db.Bridge(context.Background(), org.ID)
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := os.ReadFile(key)
					if strings.Contains(string(b.SealedCredentials), "PRIVATE KEY") || len(b.SealedCredentials) < len(raw) {
						t.Error("credentials are not sealed")
					}
				})
				var found bool
				for _, ev := range e.events(org) {
					if ev.Source == scimbridge.EventAdmin && ev.Method == "PUT" && strings.HasSuffix(ev.Path, "/bridge/google") {
						found = true
						if strings.Contains(ev.RequestBody, "PRIVATE") {
							t.Error("the admin event carries the key")
						}
					}
				}
				if !found {
					t.Error("no admin event for bridge google set")
				}
				// Settings not given are kept.
				e.mustRun("bridge", "google", "set", "--org", "acme", "--mode", "upsert-only")
				e.withStore(func(db *store.DB) {
					b, _ := db.Bridge(context.Background(), org.ID)
					if b.Settings.Mode != scimbridge.ModeUpsertOnly || len(b.Settings.Domains) != 1 || b.Settings.Schedule != "*/30 * * * *" {
						t.Errorf("after a partial set: %+v", b.Settings)
					}
				})
				e.mustRun("bridge", "google", "set", "--org", "acme", "--mode", "sync")
			})
			t.Run("Excludes", func(t *testing.T) {
				excluded := func() []string {
					var got []string
					e.withStore(func(db *store.DB) {
						b, err := db.Bridge(context.Background(), org.ID)
						if err != nil {
							t.Fatal(err)
						}
						got = b.Settings.ExcludedUsers
					})
					return got
				}
				puts := func() int {
					n := 0
					for _, ev := range e.events(org) {
						if ev.Source == scimbridge.EventAdmin && ev.Method == "PUT" && strings.HasSuffix(ev.Path, "/bridge/google") {
							n++
						}
					}
					return n
				}
				before := puts()
				out := e.mustRun("bridge", "google", "set", "--org", "acme", "--add-exclude", "user38@example.com", "--add-exclude", "USER39@example.com")
				if got := excluded(); strings.Join(got, ",") != "user39@example.com,user38@example.com" {
					t.Errorf("after --add-exclude: %q", got)
				}
				if !strings.Contains(out, "Excluded users: user39@example.com, user38@example.com.") {
					t.Errorf("set prints\n%s", out)
				}
				e.mustRun("bridge", "google", "set", "--org", "acme", "--remove-exclude", "User38@Example.com")
				if got := excluded(); strings.Join(got, ",") != "user39@example.com" {
					t.Errorf("after --remove-exclude: %q", got)
				}
				if n := puts() - before; n != 2 {
					t.Errorf("%d admin events for two changes of the excluded users", n)
				}
				st := e.mustRun("bridge", "status", "--org", "acme")
				for _, want := range []string{"excluded users: user39@example.com", "scope:", "domains example.com",
					"guard:", "on: a guarded run holds its guarded changes", "mode:", "sync"} {
					if !strings.Contains(st, want) {
						t.Errorf("status lacks %q:\n%s", want, st)
					}
				}
			})
			t.Run("SyncAndReports", func(t *testing.T) {
				// By default a report is a summary: counts by kind and
				// reason, and the first items of each kind.
				out := e.mustRun("bridge", "sync", "--org", "acme", "--dry-run")
				for _, want := range []string{"status:", "dry-run", "guard:", "passed: nothing held", "ITEMS", "39", "create",
					"First items of each kind", "--items", "userName, name.familyName"} {
					if !strings.Contains(out, want) {
						t.Errorf("dry-run summary lacks %q:\n%s", want, out)
					}
				}
				if n := len(regexp.MustCompile(`(?m)^create +user`).FindAllString(out, -1)); n != 3 {
					t.Errorf("the summary shows %d creates, want the first 3:\n%s", n, out)

				}
				out = e.mustRun("bridge", "sync", "--org", "acme", "--dry-run", "--items")
				for i := range 39 {
					if u := fmt.Sprintf("user%02d@example.com", i); !strings.Contains(out, u) {
						t.Fatalf("--items lacks %s:\n%s", u, out)
					}
				}
				// On a terminal, the run shows its progress, then erases it.
				e.terminal = true
				out = e.mustRun("bridge", "sync", "--org", "acme")
				e.terminal = false
				if !strings.HasPrefix(out, "\r\x1b[Klisted 1 page of Google users, applied 0 changes") ||
					!strings.Contains(out, "\r\x1b[Klisted 1 page of Google users, applied 39 changes\r\x1b[Kreport:") {
					t.Errorf("progress on a terminal:\n%q", out)
				}
				var list []scimbridge.Report
				e.mustJSON(&list, "reports", "list", "--org", "acme", "--json")
				if len(list) != 3 || list[0].Status != scimbridge.ReportApplied || list[0].Trigger != scimbridge.TriggerManual || list[0].Counts.Created != 39 {
					t.Fatalf("reports = %+v", list)
				}
				rep := list[0]
				out = e.mustRun("bridge", "sync", "--org", "acme")
				if strings.Contains(out, "\r") || !strings.Contains(out, "applied") || !strings.Contains(out, "unchanged 39") {
					t.Errorf("human report (not a terminal):\n%q", out)
				}
				st := e.mustRun("bridge", "status", "--org", "acme")
				if !regexp.MustCompile(`last run phases: +listing [0-9.]+s \(1 pages, [0-9.]+/s\), planning [0-9.]+s, applying [0-9.]+s \(0 changes, 0.0/s\)`).MatchString(st) {
					t.Errorf("status lacks the last run's phases:\n%s", st)
				}
				e.mustJSON(&list, "reports", "list", "--org", "acme", "--limit", "2", "--json")
				if len(list) != 2 {
					t.Fatalf("reports list --limit 2: %d reports", len(list))
				}
				var shown scimbridge.Report
				e.mustJSON(&shown, "reports", "show", "--org", "acme", rep.ID, "--json")
				if shown.ID != rep.ID || len(shown.Items) < 39 {
					t.Errorf("report show: %s with %d items", shown.ID, len(shown.Items))
				}
				e.mustJSON(&shown, "reports", "show", "--org", "acme", rep.ID, "--kind", "create", "--limit", "5", "--json")
				if len(shown.Items) != 5 || shown.Items[4].Kind != scimbridge.ChangeCreate {
					t.Errorf("report show --kind create --limit 5: %+v", shown.Items)
				}
				out = e.mustRun("reports", "show", "--org", "acme", rep.ID, "--kind", "create", "--limit", "5")
				if n := len(regexp.MustCompile(`(?m)^create +user`).FindAllString(out, -1)); n != 5 {
					t.Errorf("report show --kind create --limit 5 shows %d users:\n%s", n, out)
				}
				if out := e.mustRun("reports", "show", "--org", "acme", rep.ID); !strings.Contains(out, "user00@example.com") ||
					strings.Contains(out, "user20@example.com") {
					t.Errorf("human report show (a summary):\n%s", out)
				}
				if r := e.run("reports", "show", "--org", "acme", uuid.NewString()); r.code != 1 {
					t.Errorf("unknown report: exit %d", r.code)
				}
			})
			t.Run("Status", func(t *testing.T) {
				var st struct {
					Credentials string            `json:"credentials"`
					Bridge      scimbridge.Bridge `json:"bridge"`
					Schedule    string            `json:"schedule"`
					Status      string            `json:"status"`
				}
				e.mustJSON(&st, "bridge", "status", "--org", "acme", "--json")
				if st.Credentials != "ok" || st.Bridge.LastSuccessAt == nil || st.Bridge.NextSyncAt == nil || st.Schedule != "*/30 * * * *" {
					t.Errorf("status = %+v", st)
				}
				if st.Status != "ok" {
					t.Errorf("status --json: %q, want ok", st.Status)
				}
				if out := e.mustRun("bridge", "status", "--org", "acme"); !strings.Contains(out, "next sync") || !regexp.MustCompile(`\nstatus: +ok\n`).MatchString(out) {
					t.Errorf("human status:\n%s", out)
				}
			})
			t.Run("HeldApproveDiscard", func(t *testing.T) {
				g.SetUsers(googleUsers(40)[10:])
				var rep scimbridge.Report
				heldSync := func() {
					t.Helper()
					r := e.run("bridge", "sync", "--org", "acme", "--json")
					if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
						t.Fatalf("sync --json: %v\n%s", err, r.stdout)
					}
					if r.code != 3 || rep.Status != scimbridge.ReportHeld || rep.Counts.Held != 10 {
						t.Fatalf("guarded sync: exit %d, %s %+v", r.code, rep.Status, rep.Counts)
					}
				}
				heldSync()
				// A held run has its own exit status and status text, naming
				// the organization.
				wantHeld := "held: 10 changes wait for approval (scimbridge reports show --org acme " + rep.ID + ")"
				r := e.run("bridge", "sync", "--org", "acme")
				if r.code != 3 || !strings.Contains(r.stderr, "held: 10 changes wait for approval (scimbridge reports show --org acme ") || strings.Contains(r.stdout, "ORG") ||
					!strings.Contains(r.stdout, "reports approve --org acme ") || !strings.Contains(r.stdout, "guarded: 10 changes held") {
					t.Errorf("held sync: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
				}
				if out := e.mustRun("bridge", "status", "--org", "acme"); !regexp.MustCompile(`\nstatus: +` + regexp.QuoteMeta(wantHeld) + "\n").MatchString(out) {
					t.Errorf("status while a plan waits:\n%s", out)
				}
				var st struct {
					Status string `json:"status"`
				}
				e.mustJSON(&st, "bridge", "status", "--org", "acme", "--json")
				if st.Status != wantHeld {
					t.Errorf("status --json: %q, want %q", st.Status, wantHeld)
				}
				e.mustRun("reports", "discard", "--org", "acme", rep.ID)
				if out := e.mustRun("bridge", "status", "--org", "acme"); strings.Contains(out, "held plan") {
					t.Errorf("status after discard still shows the held plan:\n%s", out)
				}
				heldSync()
				var approved scimbridge.Report
				e.mustJSON(&approved, "reports", "approve", "--org", "acme", rep.ID, "--json")
				if approved.Trigger != scimbridge.TriggerApproval || approved.Counts.Deactivated != 10 {
					t.Fatalf("approval = %s %+v", approved.Trigger, approved.Counts)
				}
				var approves, discards int
				for _, ev := range e.events(org) {
					switch {
					case ev.Source == scimbridge.EventAdmin && strings.HasSuffix(ev.Path, "/approve"):
						approves++
					case ev.Source == scimbridge.EventAdmin && strings.HasSuffix(ev.Path, "/discard"):
						discards++
					}
				}
				if approves != 1 || discards != 1 {
					t.Errorf("admin events: %d approve, %d discard", approves, discards)
				}
			})
			t.Run("SyncWhileAnotherRunHoldsTheLease", func(t *testing.T) {
				e.withStore(func(db *store.DB) {
					if ok, err := db.AcquireLease(context.Background(), scimbridge.Lease{OrgID: org.ID, RunID: uuid.NewString(),
						Holder: "serve-1", ExpiresAt: time.Now().Add(time.Minute)}); !ok || err != nil {
						t.Fatalf("acquire: %v %v", ok, err)
					}
				})
				r := e.run("bridge", "sync", "--org", "acme")
				if r.code != 1 || !strings.Contains(r.stderr, "in progress") {
					t.Errorf("exit %d, stderr %q", r.code, r.stderr)
				}
				e.withStore(func(db *store.DB) {
					l, _ := db.CurrentLease(context.Background(), org.ID)
					db.ReleaseLease(context.Background(), org.ID, l.RunID)
				})
			})
			t.Run("KeysRotate", func(t *testing.T) {
				oldKey := filepath.Join(e.dataDir, "encryption-key")
				e.vars["SCIMBRIDGE_ENCRYPTION_KEY_FILE"] = writeKey(t)
				var st struct {
					Credentials string `json:"credentials"`
				}
				oldID, newID := keyID(t, oldKey), keyID(t, e.vars["SCIMBRIDGE_ENCRYPTION_KEY_FILE"])
				e.mustJSON(&st, "bridge", "status", "--org", "acme", "--json")
				if want := bridge.CannotDecrypt + ": needs key " + oldID + "; keys loaded: " + newID; st.Credentials != want {
					t.Fatalf("credentials under a wrong key: %q, want %q", st.Credentials, want)
				}
				if out := e.mustRun("bridge", "status", "--org", "acme"); !strings.Contains(out, "needs key "+oldID) {
					t.Errorf("status under a wrong key does not name the key needed:\n%s", out)
				}
				r := e.run("bridge", "sync", "--org", "acme")
				if r.code != 2 || !strings.Contains(r.stderr, "sealed with key "+oldID+", which is not loaded") {
					t.Errorf("sync under a wrong key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
				}
				e.vars["SCIMBRIDGE_ENCRYPTION_PREVIOUS_KEYS"] = oldKey
				var out struct {
					Resealed []string `json:"resealed"`
				}
				e.mustJSON(&out, "keys", "rotate", "--json")
				if len(out.Resealed) != 1 || out.Resealed[0] != "acme" {
					t.Fatalf("rotate = %+v", out)
				}
				delete(e.vars, "SCIMBRIDGE_ENCRYPTION_PREVIOUS_KEYS")
				e.mustJSON(&st, "bridge", "status", "--org", "acme", "--json")
				if st.Credentials != "ok" {
					t.Fatalf("after rotation without the old key: %q", st.Credentials)
				}
				e.mustRun("bridge", "sync", "--org", "acme")
			})
			t.Run("Usage", func(t *testing.T) {
				for _, args := range [][]string{
					{"bridge", "google", "set", "--org", "acme", "--mode", "sometimes"},
					{"bridge", "google", "set", "--org", "acme", "--schedule", "never"},
					{"bridge", "google", "set", "--org", "acme", "--credentials", key},
					{"bridge", "sync"},
					{"reports", "show", "--org", "acme"},
				} {
					if r := e.run(args...); r.code != 2 {
						t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, r.code, r.stderr)
					}
				}
			})
		})
	}
}

package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
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
			t.Run("SyncAndReports", func(t *testing.T) {
				var rep scimbridge.Report
				e.mustJSON(&rep, "bridge", "sync", "--org", "acme", "--dry-run", "--json")
				if rep.Status != scimbridge.ReportDryRun || rep.Counts.Created != 39 {
					t.Fatalf("dry run = %s %+v", rep.Status, rep.Counts)
				}
				e.mustJSON(&rep, "bridge", "sync", "--org", "acme", "--json")
				if rep.Status != scimbridge.ReportApplied || rep.Trigger != scimbridge.TriggerManual || rep.Counts.Created != 39 {
					t.Fatalf("sync = %s %s %+v", rep.Status, rep.Trigger, rep.Counts)
				}
				out := e.mustRun("bridge", "sync", "--org", "acme")
				if !strings.Contains(out, "applied") || !strings.Contains(out, "unchanged 39") {
					t.Errorf("human report:\n%s", out)
				}
				var list []scimbridge.Report
				e.mustJSON(&list, "reports", "list", "--org", "acme", "--json")
				if len(list) != 3 {
					t.Fatalf("%d reports, want 3", len(list))
				}
				var shown scimbridge.Report
				e.mustJSON(&shown, "reports", "show", "--org", "acme", rep.ID, "--json")
				if shown.ID != rep.ID || len(shown.Items) < 39 {
					t.Errorf("report show: %s with %d items", shown.ID, len(shown.Items))
				}
				if out := e.mustRun("reports", "show", "--org", "acme", rep.ID); !strings.Contains(out, "user00@example.com") {
					t.Errorf("human report show:\n%s", out)
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
				}
				e.mustJSON(&st, "bridge", "status", "--org", "acme", "--json")
				if st.Credentials != "ok" || st.Bridge.LastSuccessAt == nil || st.Bridge.NextSyncAt == nil || st.Schedule != "*/30 * * * *" {
					t.Errorf("status = %+v", st)
				}
				if out := e.mustRun("bridge", "status", "--org", "acme"); !strings.Contains(out, "next sync") {
					t.Errorf("human status:\n%s", out)
				}
			})
			t.Run("HeldApproveDiscard", func(t *testing.T) {
				g.SetUsers(googleUsers(40)[10:])
				var rep scimbridge.Report
				e.mustJSON(&rep, "bridge", "sync", "--org", "acme", "--json")
				if rep.Status != scimbridge.ReportHeld || rep.Counts.Held != 10 {
					t.Fatalf("guarded sync = %s %+v", rep.Status, rep.Counts)
				}
				e.mustRun("reports", "discard", "--org", "acme", rep.ID)
				if out := e.mustRun("bridge", "status", "--org", "acme"); strings.Contains(out, "held plan") {
					t.Errorf("status after discard still shows the held plan:\n%s", out)
				}
				e.mustJSON(&rep, "bridge", "sync", "--org", "acme", "--json")
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

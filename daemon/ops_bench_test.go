package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// seedProfiles adds n SCIM-managed profiles (each with its event) to a new
// organization of the migrated database at dbURL.
func seedProfiles(b *testing.B, dbURL string, n int) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	orgID := uuid.NewString()
	now := time.Now().UTC()
	if err := db.CreateOrganization(ctx, scimbridge.Organization{ID: orgID, Slug: "seeded", Name: "Seeded",
		CreatedAt: now, AdoptExisting: true}); err != nil {
		b.Fatal(err)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		var ces []scimbridge.ChangeEvent
		for j := i; j < min(n, i+batch); j++ {
			name := fmt.Sprintf("user%07d@seed.example", j)
			p := scimbridge.Profile{ID: uuid.NewString(), OrgID: orgID,
				Attributes: scimbridge.Attributes{UserName: name, DisplayName: fmt.Sprintf("User %d", j),
					Emails: []scimbridge.Email{{Value: name, Type: "work"}}},
				Email: name, State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
				Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
			ces = append(ces, scimbridge.ChangeEvent{
				Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
				Event: scimbridge.Event{Time: now, Method: "POST", Path: "/api/connect/v1/Users", Status: 201,
					TargetUserName: name, Source: scimbridge.EventIdP, Count: 1}})
		}
		if err := db.ApplyChanges(ctx, ces, nil); err != nil {
			b.Fatalf("seed profiles: %v", err)
		}
	}
}

// rssMB is the resident set size of process pid in MiB.
func rssMB(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkServe_StartupToReady measures the time from exec to READY=1 on
// the notify socket (ns/op), and the resident memory after 3 s idle.
// "fresh" includes creating the schema; the others restart on a migrated
// database.
func BenchmarkServe_StartupToReady(b *testing.B) {
	bin := buildScimbridge(b)
	for _, be := range []string{"SQLite", "PostgreSQL"} {
		for _, size := range []struct {
			name     string
			profiles int
			fresh    bool
		}{{"fresh", 0, true}, {"empty", 0, false}, {"100k", 100_000, false}} {
			b.Run(be+"/"+size.name, func(b *testing.B) {
				home := b.TempDir()
				newURL := func() string {
					if be == "PostgreSQL" {
						return storetest.PostgresURL(b)
					}
					return "sqlite://" + filepath.Join(b.TempDir(), "scimbridge.db")
				}
				dbURL := newURL()
				key := keyVar(b)
				env := func(url string) []string {
					return daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"), "SCIMBRIDGE_DATABASE_URL="+url,
						"SCIMBRIDGE_BOOTSTRAP=false", key)
				}
				if !size.fresh {
					runCLI(b, bin, env(dbURL), "migrate")
					seedProfiles(b, dbURL, size.profiles)
				}
				var rss float64
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					url := dbURL
					if size.fresh {
						url = newURL()
					}
					sock := listenNotify(b)
					e := append(env(url), "NOTIFY_SOCKET="+sock.path)
					b.StartTimer()
					p := runDaemon(b, "serve", bin, e)
					if !sock.waitReady(60 * time.Second) {
						b.Fatalf("no READY=1 within 60s\n%s", p.log())
					}
					b.StopTimer()
					time.Sleep(3 * time.Second)
					rss = rssMB(p.cmd.Process.Pid)
					p.signal(syscall.SIGTERM)
					p.exitCode(60 * time.Second)
					b.StartTimer()
				}
				b.ReportMetric(rss, "idle-RSS-MiB")
			})
		}
	}
}

// BenchmarkReplicas_SCIMThroughput measures SCIM requests per second
// against one and two replicas sharing one PostgreSQL database, requests
// spread round-robin: creates (POST /Users) and reads (GET /Users/{id}).
func BenchmarkReplicas_SCIMThroughput(b *testing.B) {
	bin := buildScimbridge(b)
	for _, replicas := range []int{1, 2} {
		for _, op := range []string{"create", "read"} {
			b.Run(fmt.Sprintf("%s/replicas=%d", op, replicas), func(b *testing.B) {
				home := b.TempDir()
				dbURL := storetest.PostgresURL(b)
				env := daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"), "SCIMBRIDGE_DATABASE_URL="+dbURL,
					"SCIMBRIDGE_SCIM_RATE_LIMIT=0", keyVar(b))
				runCLI(b, bin, env, "migrate")
				runCLI(b, bin, env, "org", "create", "bench")
				var tok struct{ Token string }
				if err := json.Unmarshal([]byte(runCLI(b, bin, env, "scim", "enable", "--org", "bench", "--json")), &tok); err != nil {
					b.Fatal(err)
				}
				var apis []string
				for i := range replicas {
					main, _ := runDaemon(b, fmt.Sprintf("replica-%d", i), bin, env).ready()
					apis = append(apis, main+"/api/connect/v1/Users")
				}
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
				var ids []string
				if op == "read" {
					for i := range 200 {
						code, body, err := httpDo(client, "POST", apis[0], tok.Token,
							fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed%d@bench.example"}`, i))
						var u struct{ ID string }
						if err != nil || code != 201 || json.Unmarshal(body, &u) != nil {
							b.Fatalf("seed: %d %v %s", code, err, body)
						}
						ids = append(ids, u.ID)
					}
				}
				var n atomic.Int64
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						api := apis[int(i)%len(apis)]
						var code int
						var err error
						if op == "create" {
							code, _, err = httpDo(client, "POST", api, tok.Token,
								fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@bench.example"}`, i))
							if code == 201 {
								code = 200
							}
						} else {
							code, _, err = httpDo(client, "GET", api+"/"+ids[int(i)%len(ids)], tok.Token, "")
						}
						if err != nil || code != 200 {
							b.Errorf("request %d: %d %v", i, code, err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestServe_SIGTERMDuringSCIMWrites(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	bin := buildScimbridge(t)
	for _, b := range []struct {
		name  string
		dbURL func(t *testing.T, dir string) string
	}{
		{"SQLite", func(t *testing.T, dir string) string { return "sqlite://" + filepath.Join(dir, "scimbridge.db") }},
		{"PostgreSQL", func(t *testing.T, dir string) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			home := t.TempDir()
			dataDir := filepath.Join(home, "data")
			dbURL := b.dbURL(t, dataDir)
			p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+dataDir,
				"SCIMBRIDGE_DATABASE_URL="+dbURL, "SCIMBRIDGE_BOOTSTRAP=true", "SCIMBRIDGE_SCIM_RATE_LIMIT=0", keyVar(t)))
			mainURL, _ := p.ready()
			token := readCredentials(t, filepath.Join(dataDir, "bootstrap-credentials"))["scim_token"]
			api := mainURL + "/api/connect/v1/Users"

			// Writers create users until the server stops answering;
			// every 201 is an acknowledged write.
			type ack struct{ id, userName string }
			var (
				mu        sync.Mutex
				acked     []ack
				signalled atomic.Bool
				afterSig  atomic.Int64
				wg        sync.WaitGroup
			)
			client := &http.Client{Timeout: 30 * time.Second}
			deadline := time.Now().Add(60 * time.Second)
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; time.Now().Before(deadline); i++ {
						name := fmt.Sprintf("w%d-%d@example.com", w, i)
						code, body, err := httpDo(client, "POST", api, token,
							`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`)
						if err != nil {
							return // the server is gone
						}
						if code != 201 {
							t.Errorf("POST %s = %d: %s", name, code, body)
							return
						}
						var u struct{ ID string }
						if err := json.Unmarshal(body, &u); err != nil || u.ID == "" {
							t.Errorf("POST %s: bad body %s", name, body)
							return
						}
						if signalled.Load() {
							afterSig.Add(1)
						}
						mu.Lock()
						acked = append(acked, ack{u.ID, name})
						mu.Unlock()
					}
				}()
			}
			time.Sleep(time.Second)
			signalled.Store(true)
			p.signal(syscall.SIGTERM)
			code := p.exitCode(40 * time.Second)
			wg.Wait()
			if code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0", code)
			}
			if len(acked) == 0 {
				t.Fatal("no write was acknowledged before the signal")
			}
			t.Logf("%d writes acknowledged, %d of them after SIGTERM was sent", len(acked), afterSig.Load())

			ctx := context.Background()
			db, err := store.Open(ctx, dbURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			org, err := db.OrganizationBySlug(ctx, "default")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acked {
				p, err := db.Profile(ctx, org.ID, a.id)
				if err != nil || p.UserName != a.userName {
					t.Errorf("acknowledged write %s (%s) lost: %v", a.id, a.userName, err)
				}
			}
			// Each committed create has its one event.
			ps, err := db.ManagedProfiles(ctx, org.ID, scimbridge.SourceSCIM)
			if err != nil {
				t.Fatal(err)
			}
			events := 0
			q := scimbridge.EventQuery{OrgID: org.ID, Source: scimbridge.EventIdP, Method: "POST", StatusClass: 2, Limit: 1000}
			for {
				page, err := db.ListEvents(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				events += len(page.Events)
				if page.NextCursor == 0 {
					break
				}
				q.Cursor = page.NextCursor
			}
			if events != len(ps) {
				t.Errorf("%d SCIM profiles but %d POST 2xx events", len(ps), events)
			}
		})
	}
}

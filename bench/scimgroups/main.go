// Command scimgroups times SCIM group requests against the real scimbridge
// binary over HTTP, from a process of its own: a PATCH adding 1,000
// members in one operation, and GET of a 10,000-member group with and
// without excludedAttributes=members.
//
// It runs twice on one database: "fresh" right after the binary created
// it (bootstrap organization, 10,000 users posted over SCIM, no manual
// ANALYZE), then "seeded+analysed" after stopping the binary, writing
// -seed-users more users and -seed-groups groups of 50 members through
// the store, running ANALYZE, and starting the binary again.
//
// Usage:
//
//	go build -o /tmp/scimbridge ./cmd/scimbridge
//	go run ./bench/scimgroups -binary /tmp/scimbridge -db sqlite
//	go run ./bench/scimgroups -binary /tmp/scimbridge -db postgres
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	_ "github.com/lib/pq"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

const basePath = "/api/connect/v1"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scimgroups:", err)
		os.Exit(1)
	}
}

type bench struct {
	binary  string
	env     []string
	dataDir string
	dsn     string
	base    string
	token   string
	client  *http.Client
	cmd     *exec.Cmd
	users   []string // ids of the users posted over SCIM
	reps    int
}

func run() error {
	binary := flag.String("binary", "", "the scimbridge `binary` to run")
	dbKind := flag.String("db", "sqlite", "sqlite or postgres")
	pgURL := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server `URL` (a database is created and dropped)")
	reps := flag.Int("reps", 5, "timed requests per measurement")
	seedUsers := flag.Int("seed-users", 90_000, "users written through the store before the seeded run")
	seedGroups := flag.Int("seed-groups", 2_000, "groups of 50 members written through the store before the seeded run")
	keep := flag.Bool("keep", false, "keep the PostgreSQL database afterwards (its name is printed), to look at plans")
	flag.Parse()
	if *binary == "" {
		return errors.New("need -binary")
	}
	dir, err := os.MkdirTemp("", "scimgroups-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{binary: *binary, dataDir: dir, reps: *reps, client: &http.Client{Timeout: 5 * time.Minute}}
	b.env = append(os.Environ(), "SCIMBRIDGE_DATA_DIR="+dir, "SCIMBRIDGE_SCIM_RATE_LIMIT=0", "SCIMBRIDGE_BOOTSTRAP=true",
		"SCIMBRIDGE_LOG_LEVEL=warn")
	switch *dbKind {
	case "sqlite":
		b.dsn = "sqlite://" + filepath.Join(dir, "scimbridge.db")
	case "postgres":
		name := fmt.Sprintf("scimbridge_bench_groups_%d", os.Getpid())
		admin, err := sql.Open("postgres", *pgURL)
		if err != nil {
			return err
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
		if *keep {
			fmt.Printf("# postgres: database %s is kept\n", name)
		} else {
			defer admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		}
		u := regexp.MustCompile(`/[^/?]*(\?|$)`).ReplaceAllString(*pgURL, "/"+name+"$1")
		b.dsn = u
		key := filepath.Join(dir, "key")
		if err := os.WriteFile(key, bytes.Repeat([]byte{'k'}, 32), 0o600); err != nil {
			return err
		}
		b.env = append(b.env, "SCIMBRIDGE_ENCRYPTION_KEY_FILE="+key)
	default:
		return fmt.Errorf("-db %q: use sqlite or postgres", *dbKind)
	}
	b.env = append(b.env, "SCIMBRIDGE_DATABASE_URL="+b.dsn)
	ctx := context.Background()

	if err := b.start(); err != nil {
		return err
	}
	defer b.stop()
	creds, err := os.ReadFile(filepath.Join(dir, "bootstrap-credentials"))
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`scim_token: (\S+)`).FindSubmatch(creds)
	if m == nil {
		return errors.New("no SCIM token in the bootstrap credentials")
	}
	b.token = string(m[1])

	start := time.Now()
	if err := b.postUsers(10_000); err != nil {
		return err
	}
	fmt.Printf("# %s: posted %d users over SCIM in %.1f s\n", *dbKind, len(b.users), time.Since(start).Seconds())
	big, err := b.createGroup("big")
	if err != nil {
		return err
	}
	d, _, err := b.timed("PATCH", "/Groups/"+big, addMembers(b.users))
	if err != nil {
		return err
	}
	fmt.Printf("# %s: PATCH adding 10,000 members in one operation: %.0f ms\n", *dbKind, ms(d))
	if err := b.measure(*dbKind, "fresh", big, b.users[:b.reps*1000]); err != nil {
		return err
	}

	b.stop()
	start = time.Now()
	if err := seed(ctx, b.dsn, *seedUsers, *seedGroups); err != nil {
		return err
	}
	fmt.Printf("# %s: seeded %d users and %d groups of 50 through the store and analysed in %.1f s\n",
		*dbKind, *seedUsers, *seedGroups, time.Since(start).Seconds())
	if err := b.start(); err != nil {
		return err
	}
	return b.measure(*dbKind, "seeded+analysed", big, b.users[len(b.users)-b.reps*1000:])
}

// measure times, b.reps times each, a PATCH adding 1,000 members to a new
// empty group (members from pool, 1,000 a request), and GET of the big
// group with and without excludedAttributes=members.
func (b *bench) measure(db, phase, big string, pool []string) error {
	var patch []time.Duration
	for r := range b.reps {
		id, err := b.createGroup(fmt.Sprintf("%s-%d", phase, r))
		if err != nil {
			return err
		}
		d, _, err := b.timed("PATCH", "/Groups/"+id, addMembers(pool[r*1000:(r+1)*1000]))
		if err != nil {
			return err
		}
		patch = append(patch, d)
	}
	report(db, phase, "PATCH add 1,000 members (one operation)", patch, 0)
	for _, q := range []string{"", "?excludedAttributes=members"} {
		var ds []time.Duration
		var size int
		for range b.reps + 1 {
			d, n, err := b.timed("GET", "/Groups/"+big+q, nil)
			if err != nil {
				return err
			}
			ds, size = append(ds, d), n
		}
		report(db, phase, "GET 10,000-member group"+q, ds[1:], size) // the first warms the caches
	}
	return nil
}

func report(db, phase, what string, ds []time.Duration, size int) {
	slices.Sort(ds)
	sizeText := ""
	if size > 0 {
		sizeText = fmt.Sprintf(" | %d bytes", size)
	}
	fmt.Printf("| %s | %s | %s | median %.1f ms (min %.1f, max %.1f, n=%d)%s |\n",
		db, phase, what, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]), len(ds), sizeText)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func addMembers(ids []string) map[string]any {
	vs := make([]map[string]string, len(ids))
	for i, id := range ids {
		vs[i] = map[string]string{"value": id}
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": vs}}}
}

// start runs the binary and waits until it answers.
func (b *bench) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	ops, err := freePort()
	if err != nil {
		return err
	}
	b.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	b.cmd = exec.Command(b.binary, "serve")
	b.cmd.Env = append(slices.Clone(b.env), fmt.Sprintf("SCIMBRIDGE_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("SCIMBRIDGE_OPS_LISTEN=127.0.0.1:%d", ops))
	b.cmd.Stdout, b.cmd.Stderr = io.Discard, os.Stderr
	if err := b.cmd.Start(); err != nil {
		return err
	}
	for range 600 {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", ops))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the binary did not become ready")
}

func (b *bench) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	b.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// timed sends one request and returns its duration and body size; any
// status but 200/201 is an error.
func (b *bench) timed(method, path string, body any) (time.Duration, int, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, 0, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+basePath+path, rd)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	start := time.Now()
	res, err := b.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode != 200 && res.StatusCode != 201 {
		return 0, 0, fmt.Errorf("%s %s: status %d", method, path, res.StatusCode)
	}
	return d, int(n), nil
}

func (b *bench) createGroup(name string) (string, error) {
	j, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name})
	req, _ := http.NewRequest("POST", b.base+basePath+"/Groups", bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := b.client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 {
		return "", fmt.Errorf("create group %s: status %d, %v", name, res.StatusCode, err)
	}
	return out.ID, nil
}

// postUsers creates n users over SCIM with 8 clients.
func (b *bench) postUsers(n int) error {
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				name := fmt.Sprintf("user%06d@example.com", i)
				j, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
					"userName": name, "active": true, "name": map[string]string{"givenName": "User", "familyName": fmt.Sprint(i)},
					"emails": []map[string]any{{"value": name, "type": "work", "primary": true}}})
				req, _ := http.NewRequest("POST", b.base+basePath+"/Users", bytes.NewReader(j))
				req.Header.Set("Authorization", "Bearer "+b.token)
				req.Header.Set("Content-Type", "application/scim+json")
				res, err := b.client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				var out struct{ ID string }
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if err != nil || res.StatusCode != 201 {
					errs <- fmt.Errorf("create user %s: status %d, %v", name, res.StatusCode, err)
					return
				}
				ids[i] = out.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	b.users = ids
	return nil
}

// seed writes users and groups of 50 members of the bootstrap
// organization through the store, in batches, then analyses the database.
func seed(ctx context.Context, dsn string, users, groups int) error {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := db.OrganizationBySlug(ctx, "default")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	ev := scimbridge.Event{OrgID: org.ID, Time: now, Method: "POST", Path: "/seed", Status: 201, Source: scimbridge.EventAdmin, Count: 1}
	ids := make([]string, 0, users)
	var batch []scimbridge.ChangeEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.ApplyChanges(ctx, batch, nil)
		batch = batch[:0]
		return err
	}
	for i := range users {
		name := fmt.Sprintf("seed%06d@example.com", i)
		p, err := reconcile.NewProfile(org.ID, scimbridge.SourceSCIM, reconcile.Normalize(scimbridge.DesiredProfile{
			Attributes: scimbridge.Attributes{UserName: name, Emails: []scimbridge.Email{{Value: name, Type: "work"}}}, Active: true}),
			uuid.NewString(), now)
		if err != nil {
			return err
		}
		e := ev
		e.RequestID = uuid.NewString()
		batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}, Event: e})
		ids = append(ids, p.ID)
		if len(batch) == scimbridge.MaxBatch {
			if err := flush(); err != nil {
				return fmt.Errorf("seed users: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	for i := range groups {
		if len(ids) == 0 {
			break
		}
		members := make([]string, 0, 50)
		for j := range 50 {
			members = append(members, ids[(i*50+j)%len(ids)])
		}
		g := scimbridge.Group{ID: uuid.NewString(), OrgID: org.ID, DisplayName: fmt.Sprintf("seed group %05d", i),
			Source: scimbridge.SourceSCIM, Version: 1, CreatedAt: now, UpdatedAt: now}
		e := ev
		e.RequestID = uuid.NewString()
		if err := db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{
			Kind: scimbridge.ChangeGroupCreate, Group: g, AddMembers: members}, Event: e}); err != nil {
			return fmt.Errorf("seed groups: %w", err)
		}
	}
	_, err = db.WriteSQLX().ExecContext(ctx, "ANALYZE")
	return err
}

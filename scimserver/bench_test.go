package scimserver

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

const (
	// loadClients is how many clients send requests at the same time.
	loadClients = 8
	// loadSeedUsers is how many users the organization holds before the
	// load starts; lookups and PATCHes pick among them.
	loadSeedUsers = 100_000
	// checkpointAfter is the smallest run that forces a checkpoint midway
	// (the benchmark framework's short calibration runs do not).
	checkpointAfter = 2000
)

// loadClientProcess runs the load clients in a child process.
var loadClientProcess = flag.Bool("load-client-process", false,
	"BenchmarkSCIMLoad: run the HTTP clients in a child process instead of the server's")

func TestMain(m *testing.M) {
	if os.Getenv(envLoadClient) != "" {
		os.Exit(runLoadClientProcess())
	}
	os.Exit(m.Run())
}

// BenchmarkSCIMLoad measures the SCIM API as an identity provider uses it:
// loadClients concurrent clients over HTTP/1.1 keep-alive connections on
// 127.0.0.1, the rate limit off, every request writing its event, against
// an organization seeded with loadSeedUsers users. Sub-benchmarks:
//
//	POST            create a user (Okta's body, with a password)
//	GET_userName_eq look a seeded user up by userName (Okta's query)
//	PATCH           replace a seeded user's title (Entra's body)
//	pgbench         PostgreSQL only: pgbench's rate for the same insert
//	                transaction (store/testdata/pgbench_insert.sql), same
//	                client count, simple protocol: the database's own rate
//
// Each reports req/s, p50-ms, p99-ms and max-ms, and CPU per request: of
// this process (proc-cpu-us/req: the server, and the clients unless they
// run in a child process, whose share is client-cpu-us/req), of the
// PostgreSQL server processes (pg-cpu-us/req) and of the whole host
// (host-cpu-us/req: also whatever else runs on the machine). Midway
// through every run of at least checkpointAfter requests a checkpoint is
// forced (CHECKPOINT on PostgreSQL, PRAGMA wal_checkpoint on SQLite), so
// the latencies include one; checkpoint-ms is how long it took. On
// PostgreSQL it also reports, per request, the blocks the benchmark's
// database found in shared buffers (pg-blks-hit/req) and read from the
// operating system (pg-blks-read/req), and the server's WAL: full-page
// images (wal-fpi/req) and kilobytes (wal-kB/req). Run:
//
//	go test -run '^$' -bench SCIMLoad -benchtime 30s ./scimserver/ [-args -load-client-process]
func BenchmarkSCIMLoad(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"PostgreSQL", storetest.OpenPostgres},
		{"SQLite", storetest.OpenSQLite},
	} {
		b.Run(backend.name, func(b *testing.B) {
			db := backend.open(b)
			e := newEnv(b, db)
			runLoads(b, e, db, seedLoadUsers(b, db, e.org.ID, loadSeedUsers))
		})
	}
	// The same on the database bench/seedscale filled (bench/scale-rest.sh):
	// its organization of 1,000,000 synced profiles, 2,000,000 events and
	// 1,000,000 change records, with loadSeedUsers SCIM users added to it.
	if storetest.SeededURL() != "" {
		b.Run("PostgreSQL_seeded", func(b *testing.B) {
			db, org := storetest.OpenSeeded(b, storetest.SeededOrg)
			e := startEnv(b, db)
			e.org, e.token = org, e.setToken(org)
			runLoads(b, e, db, seededLoadUsers(b, db, org.ID, loadSeedUsers))
		})
	}
}

// runLoads runs the workloads against e's organization, whose seeded
// users are ids.
func runLoads(b *testing.B, e *testEnv, db *store.DB, ids []string) {
	idsFile := filepath.Join(b.TempDir(), "ids")
	if err := os.WriteFile(idsFile, []byte(strings.Join(ids, "\n")), 0o600); err != nil {
		b.Fatal(err)
	}
	l := &loadRun{e: e, db: db, ids: ids, idsFile: idsFile}
	for _, kind := range []struct{ name, method string }{
		{"POST", "POST"}, {"GET_userName_eq", "GET"}, {"PATCH", "PATCH"},
	} {
		b.Run(kind.name, func(b *testing.B) { l.run(b, kind.method) })
	}
	if db.Dialect() == store.DialectPostgres {
		b.Run("pgbench", func(b *testing.B) { runPgbench(b, db) })
	}
}

// seededLoadUsers returns the ids of the n users seedLoadUsers created in
// the seeded organization, creating them on the first run (then analysing
// the profile tables only: the seeded events and changes were analysed
// by the seeding).
func seededLoadUsers(b *testing.B, db *store.DB, orgID string, n int) []string {
	b.Helper()
	ctx := context.Background()
	var ids []string
	if err := db.SQLX().SelectContext(ctx, &ids, `SELECT id FROM profiles WHERE org_id = $1
		AND user_name_key LIKE 'seed.%' AND source = 'scim' ORDER BY user_name_key`, orgID); err != nil {
		b.Fatal(err)
	}
	if len(ids) == n {
		return ids
	}
	if len(ids) != 0 {
		b.Fatalf("the seeded organization has %d of the %d load users", len(ids), n)
	}
	ids = createLoadUsers(b, db, orgID, n)
	if _, err := db.WriteSQLX().ExecContext(ctx, `ANALYZE profiles, profile_emails`); err != nil {
		b.Fatal(err)
	}
	return ids
}

// seedLoadUsers creates n SCIM users (userName seedName(i)) in org
// directly through the store, in batches, and returns their ids. It then
// brings the planner statistics up to date, as a long-running database
// has them.
func seedLoadUsers(b *testing.B, db *store.DB, orgID string, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := createLoadUsers(b, db, orgID, n)
	if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if db.Dialect() == store.DialectPostgres {
		if _, err := db.SQLX().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// createLoadUsers creates seedLoadUsers' users and returns their ids.
func createLoadUsers(b *testing.B, db *store.DB, orgID string, n int) []string {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	ids := make([]string, 0, n)
	for len(ids) < n {
		batch := make([]scimbridge.ChangeEvent, 0, scimbridge.MaxBatch)
		for len(batch) < scimbridge.MaxBatch && len(ids) < n {
			i := len(ids)
			d := scimbridge.DesiredProfile{Active: true, ExternalID: fmt.Sprintf("00useed%06d", i)}
			d.UserName, d.DisplayName, d.GivenName, d.FamilyName = seedName(i), "Seed User", "Seed", fmt.Sprint(i)
			d.Title, d.Locale, d.Department = "Engineer", "en-US", "Engineering"
			d.Emails = []scimbridge.Email{{Value: seedName(i), Type: "work", Primary: new(true)}}
			p, err := reconcile.NewProfile(orgID, scimbridge.SourceSCIM, reconcile.Normalize(d), uuid.NewString(), now)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}})
			ids = append(ids, p.ID)
		}
		if err := db.ApplyChanges(ctx, batch, nil); err != nil {
			b.Fatalf("seed users: %v", err)
		}
	}
	return ids
}

// loadRun sends the requests of one environment.
type loadRun struct {
	e       *testEnv
	db      *store.DB
	ids     []string
	idsFile string
}

// run sends b.N requests of kind and reports what they measured.
func (l *loadRun) run(b *testing.B, kind string) {
	w := &workload{kind: kind, ids: l.ids}
	var checkpoint time.Duration
	var cpDone sync.WaitGroup
	half := func() {
		if b.N < checkpointAfter {
			return
		}
		cpDone.Go(func() { checkpoint = l.checkpoint(b) })
	}
	pg0 := l.samplePostgres(b)
	b.ResetTimer()
	cpu0 := sampleCPU()
	var res loadResult
	if *loadClientProcess {
		var err error
		if res, err = runLoadInChild(l.e.base, l.e.token, b.N, w, l.idsFile, half); err != nil {
			b.Fatal(err)
		}
	} else {
		res = runLoad(l.e.base, l.e.token, b.N, w, half)
	}
	cpu1 := sampleCPU()
	b.StopTimer()
	cpDone.Wait()
	pg1 := l.samplePostgres(b)
	if res.Error != "" {
		b.Fatal(res.Error)
	}
	if res.Count == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := float64(res.Count)
	b.ReportMetric(n/res.Elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(res.P50), "p50-ms")
	b.ReportMetric(ms(res.P99), "p99-ms")
	b.ReportMetric(ms(res.Max), "max-ms")
	b.ReportMetric(float64((cpu1.process-cpu0.process).Microseconds())/n, "proc-cpu-us/req")
	if *loadClientProcess {
		b.ReportMetric(float64(res.ClientCPU.Microseconds())/n, "client-cpu-us/req")
	}
	if cpu1.hostBusy > 0 {
		b.ReportMetric(float64((cpu1.hostBusy-cpu0.hostBusy).Microseconds())/n, "host-cpu-us/req")
		b.ReportMetric(float64(postgresUsed(cpu0, cpu1).Microseconds())/n, "pg-cpu-us/req")
	}
	if checkpoint > 0 {
		b.ReportMetric(ms(checkpoint), "checkpoint-ms")
	}
	if pg1 != nil {
		b.ReportMetric(float64(pg1.blksRead-pg0.blksRead)/n, "pg-blks-read/req")
		b.ReportMetric(float64(pg1.blksHit-pg0.blksHit)/n, "pg-blks-hit/req")
		b.ReportMetric(float64(pg1.walFPI-pg0.walFPI)/n, "wal-fpi/req")
		b.ReportMetric(float64(pg1.walBytes-pg0.walBytes)/1024/n, "wal-kB/req")
	}
}

// pgSample is what PostgreSQL counted of the benchmark's database (its
// shared buffers: blocks found there, blocks read from the operating
// system) and of the whole server (WAL full-page images and bytes,
// checkpoints started).
type pgSample struct {
	blksRead, blksHit, walFPI, walBytes, checkpoints int64
}

// samplePostgres reads the counters, nil on SQLite. Backends report their
// counts at most once a second, so it waits that long first.
func (l *loadRun) samplePostgres(b *testing.B) *pgSample {
	if l.db.Dialect() != store.DialectPostgres {
		return nil
	}
	time.Sleep(1100 * time.Millisecond)
	s := readPostgresCounters(b, l.db)
	return &s
}

// readPostgresCounters reads the counters of pgSample.
func readPostgresCounters(b *testing.B, db *store.DB) pgSample {
	var s pgSample
	err := db.WriteSQLX().QueryRowContext(context.Background(), `SELECT d.blks_read, d.blks_hit, w.wal_fpi,
		w.wal_bytes::bigint, c.checkpoints_timed + c.checkpoints_req
		FROM pg_stat_database d, pg_stat_wal w, pg_stat_bgwriter c WHERE d.datname = current_database()`).
		Scan(&s.blksRead, &s.blksHit, &s.walFPI, &s.walBytes, &s.checkpoints)
	if err != nil {
		b.Fatalf("read PostgreSQL's counters: %v", err)
	}
	return s
}

// checkpoint forces a checkpoint and returns how long it took.
func (l *loadRun) checkpoint(b *testing.B) time.Duration {
	query := "CHECKPOINT"
	if l.db.Dialect() == store.DialectSQLite {
		query = "PRAGMA wal_checkpoint(PASSIVE)"
	}
	t0 := time.Now()
	if _, err := l.db.WriteSQLX().ExecContext(context.Background(), query); err != nil {
		b.Errorf("checkpoint: %v", err)
	}
	return max(time.Since(t0), time.Microsecond)
}

// cpuSample is the CPU time this process (server and clients) and the
// whole host have used so far.
type cpuSample struct {
	process  time.Duration
	hostBusy time.Duration // 0 where /proc/stat is not readable
	// postgres is the CPU time of the processes named postgres (on this
	// host, the database server), by pid.
	postgres map[string]time.Duration
}

// sampleCPU reads getrusage and, on Linux, /proc/stat (busy = every state
// but idle and iowait, in USER_HZ ticks, 100 a second). The host figure
// includes the database server and anything else running beside.
func sampleCPU() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 9 || fields[0] != "cpu" {
		return s
	}
	var ticks int64
	for i, f := range fields[1:9] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return s
		}
		if i != 3 && i != 4 { // idle, iowait
			ticks += n
		}
	}
	s.hostBusy = time.Duration(ticks) * 10 * time.Millisecond
	s.postgres = postgresCPU()
	return s
}

// postgresCPU reads the CPU time of every process named postgres from
// /proc/<pid>/stat (utime and stime, fields 14 and 15).
func postgresCPU() map[string]time.Duration {
	out := map[string]time.Duration{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		if open < 0 || end < open || string(raw[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(raw[end+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[d.Name()] = time.Duration(u+st) * 10 * time.Millisecond
	}
	return out
}

// postgresUsed is the CPU the postgres processes used between two samples
// (a process that started meanwhile counts from zero; one that exited is
// lost).
func postgresUsed(a, b cpuSample) time.Duration {
	var d time.Duration
	for pid, t := range b.postgres {
		d += t - a.postgres[pid]
	}
	return d
}

// pgbenchTPS matches pgbench's throughput line.
var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+)`)

// runPgbench runs pgbench's insert transaction (one profile, its email and
// its event) b.N times with loadClients clients on the benchmark's
// database and reports pgbench's tps as req/s. It needs pgbench on PATH.
func runPgbench(b *testing.B, db *store.DB) {
	path, err := exec.LookPath("pgbench")
	if err != nil {
		b.Skip("pgbench is not on PATH: no reference rate")
	}
	ctx := context.Background()
	_, err = db.WriteSQLX().ExecContext(ctx, `INSERT INTO organizations (id, slug, name, adopt_existing, created_at)
		VALUES ('00000000-0000-0000-0000-00000000b0b0', 'pgbench', 'pgbench', true, now()) ON CONFLICT DO NOTHING`)
	if err != nil {
		b.Fatal(err)
	}
	var dbName, port, user string
	if err := db.WriteSQLX().QueryRowContext(ctx, `SELECT current_database(), current_setting('port'), current_user`).
		Scan(&dbName, &port, &user); err != nil {
		b.Fatal(err)
	}
	perClient := (b.N + loadClients - 1) / loadClients
	cmd := exec.Command(path, "-n", "-c", strconv.Itoa(loadClients), "-j", "2", "-t", strconv.Itoa(perClient),
		"-f", "../store/testdata/pgbench_insert.sql", "-h", "127.0.0.1", "-p", port, "-U", user, dbName)
	b.ResetTimer()
	out, err := cmd.CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("pgbench: %v: %s", err, out)
	}
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps: %s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(tps, "req/s")
}

// freshPhase is how long each phase of BenchmarkFreshPostgres sends
// requests.
const freshPhase = 10 * time.Second

// BenchmarkFreshPostgres measures a new deployment's first seconds on
// PostgreSQL: a fresh database, no manual ANALYZE, loadClients clients in
// a child process. POST creates users for freshPhase, then GET userName eq
// looks them up for freshPhase; the database is then analysed (ANALYZE)
// and both run again for freshPhase. It reports the four rates, the first
// ones as a share of the analysed ones, and pgbench's rate for one
// profile-sized and one event-sized row per transaction on a database
// holding only the contract's indexes (bench/pgbench-post.sh, same client
// count, freshPhase), with both POST rates as a share of it. b.N is
// ignored: one run takes about a minute.
//
//	go test -run '^$' -bench FreshPostgres -benchtime 1x ./scimserver/
func BenchmarkFreshPostgres(b *testing.B) {
	db := storetest.OpenPostgres(b)
	e := newEnv(b, db)
	idsFile := filepath.Join(b.TempDir(), "ids")
	var posted int64
	phase := func(kind string) float64 {
		// GET looks up the users POST_seq created: seedName(0 .. posted-1).
		if err := os.WriteFile(idsFile, bytes.Repeat([]byte("-\n"), int(posted)), 0o600); err != nil {
			b.Fatal(err)
		}
		w := &workload{kind: kind, duration: freshPhase, first: posted}
		res, err := runLoadInChild(e.base, e.token, 1<<30, w, idsFile, func() {})
		if err == nil && res.Error != "" {
			err = errors.New(res.Error)
		}
		if err != nil {
			b.Fatalf("%s: %v", kind, err)
		}
		if kind == "POST_seq" {
			posted += int64(res.Count)
		}
		return float64(res.Count) / res.Elapsed.Seconds()
	}
	b.ResetTimer()
	post0 := phase("POST_seq")
	get0 := phase("GET")
	if _, err := db.WriteSQLX().ExecContext(context.Background(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	post1 := phase("POST_seq")
	get1 := phase("GET")
	b.StopTimer()
	b.ReportMetric(post0, "post-fresh-req/s")
	b.ReportMetric(get0, "get-fresh-req/s")
	b.ReportMetric(post1, "post-analysed-req/s")
	b.ReportMetric(get1, "get-analysed-req/s")
	b.ReportMetric(100*post0/post1, "post-fresh-%")
	b.ReportMetric(100*get0/get1, "get-fresh-%")
	out, err := exec.Command("../bench/pgbench-post.sh", "-c", strconv.Itoa(loadClients), "-j", "2",
		"-T", strconv.Itoa(int(freshPhase.Seconds()))).CombinedOutput()
	if err != nil {
		b.Fatalf("bench/pgbench-post.sh: %v: %s", err, out)
	}
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps: %s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(tps, "pgbench-tps")
	b.ReportMetric(100*post0/tps, "post-fresh-of-pgbench-%")
	b.ReportMetric(100*post1/tps, "post-analysed-of-pgbench-%")
}

package daemon_test

import (
	"context"
	"database/sql"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// migrationLockKey is the advisory lock the store migrates under.
const migrationLockKey int64 = 0x7363696d62726467

// notifySocket is a NOTIFY_SOCKET the test listens on, as systemd does.
type notifySocket struct {
	path string
	msgs chan string
}

func listenNotify(t testing.TB) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on notify socket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifySocket{path: path, msgs: make(chan string, 1000)}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n
}

// next returns the next notification containing want, failing after
// timeout; the notifications before it are returned too.
func (n *notifySocket) next(t *testing.T, want string, timeout time.Duration) (string, []string) {
	t.Helper()
	var skipped []string
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-n.msgs:
			if !ok {
				t.Fatalf("notify socket closed before %q", want)
			}
			if strings.Contains(m, want) {
				return m, skipped
			}
			skipped = append(skipped, m)
		case <-deadline:
			t.Fatalf("no %q notification within %s (got %q)", want, timeout, skipped)
		}
	}
}

// waitReady reports whether READY=1 arrives within timeout.
func (n *notifySocket) waitReady(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-n.msgs:
			if !ok {
				return false
			}
			if strings.Contains(m, "READY=1") {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func TestServe_SystemdNotify(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	bin := buildScimbridge(t)
	dbURL := storetest.PostgresURL(t)
	ctx := context.Background()
	pg, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	// An empty database: serve must migrate it from scratch before READY.
	if _, err := pg.ExecContext(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatalf("empty the database: %v", err)
	}
	lock, err := pg.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		t.Fatalf("take the migration lock: %v", err)
	}

	sock := listenNotify(t)
	home := t.TempDir()
	p := runDaemon(t, "serve", bin, daemonEnv(home,
		"SCIMBRIDGE_DATA_DIR="+filepath.Join(home, "data"),
		"SCIMBRIDGE_DATABASE_URL="+dbURL, keyVar(t),
		"NOTIFY_SOCKET="+sock.path,
		"WATCHDOG_USEC=1000000", // pings every 500 ms
	))

	t.Run("ReadyOnlyAfterMigrations", func(t *testing.T) {
		// Serve waits on the lock another replica holds: no READY yet.
		time.Sleep(2 * time.Second)
		for len(sock.msgs) > 0 {
			if m := <-sock.msgs; strings.Contains(m, "READY=1") {
				t.Fatalf("READY=1 before the migrations could run: %q", m)
			}
		}
		if _, err := lock.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			t.Fatal(err)
		}
		ready, _ := sock.next(t, "READY=1", 30*time.Second)
		if !strings.Contains(ready, "STATUS=serving 0 organizations") {
			t.Errorf("READY notification without the status line: %q", ready)
		}
		db, err := store.Open(ctx, dbURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if cur, latest, err := db.SchemaVersion(ctx); err != nil || cur != latest || cur == 0 {
			t.Errorf("at READY the schema is at %d of %d (%v)", cur, latest, err)
		}
		_, ops := p.ready()
		if code, body := get(t, ops+"/readyz"); code != 200 {
			t.Errorf("/readyz after READY = %d %q", code, body)
		}
	})

	t.Run("WatchdogPings", func(t *testing.T) {
		start := time.Now()
		sock.next(t, "WATCHDOG=1", 3*time.Second)
		sock.next(t, "WATCHDOG=1", 3*time.Second)
		sock.next(t, "WATCHDOG=1", 3*time.Second)
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Errorf("three watchdog pings took %s with WatchdogSec=1s", d)
		}
	})

	t.Run("StoppingThenExit0", func(t *testing.T) {
		p.signal(syscall.SIGTERM)
		msg, _ := sock.next(t, "STOPPING=1", 10*time.Second)
		if !strings.Contains(msg, "STATUS=stopping") {
			t.Errorf("STOPPING notification = %q", msg)
		}
		if code := p.exitCode(40 * time.Second); code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0", code)
		}
	})
}

package daemon_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// keyID is the id of the key in file, as the sealed values record it.
func keyID(t *testing.T, file string) string {
	t.Helper()
	k, err := seal.LoadKeyring(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.KeyID()
}

// runCode runs a scimbridge command and returns its exit code and stderr.
func runCode(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// TestServe_RefusesWithoutRecordedKey: a replica whose keys lack the one
// that sealed the stored credentials refuses to start, naming that key,
// instead of failing every bridge run (or generating a key of its own).
func TestServe_RefusesWithoutRecordedKey(t *testing.T) {
	t.Parallel() // child processes: runs beside the other end-to-end tests
	bin := buildScimbridge(t)
	for _, be := range []string{"SQLite", "PostgreSQL"} {
		t.Run(be, func(t *testing.T) {
			fake := fakegoogle.NewServer()
			fake.SetAdmin(fakeAdmin)
			google := httptest.NewServer(fake.Handler())
			t.Cleanup(google.Close)
			tokenURL := google.URL + fakegoogle.TokenPath
			home := t.TempDir()
			dataDir := filepath.Join(home, "data")
			saFile := filepath.Join(home, "service-account.json")
			if err := os.WriteFile(saFile, fake.ServiceAccountKey(tokenURL), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := []string{"SCIMBRIDGE_DATA_DIR=" + dataDir,
				"SCIMBRIDGE_GOOGLE_API_ENDPOINT=" + google.URL + "/", "SCIMBRIDGE_GOOGLE_TOKEN_URL=" + tokenURL}
			dbURL := "sqlite://" + filepath.Join(dataDir, "scimbridge.db")
			if be == "PostgreSQL" {
				dbURL = storetest.PostgresURL(t)
			}
			vars = append(vars, "SCIMBRIDGE_DATABASE_URL="+dbURL)
			env := daemonEnv(home, vars...)
			with := func(extra ...string) []string { return append(append([]string(nil), env...), extra...) }
			runCLI(t, bin, env, "migrate")
			runCLI(t, bin, env, "org", "create", "acme")
			setArgs := []string{"bridge", "google", "set", "--org", "acme", "--credentials", saFile, "--admin-email", fakeAdmin}

			keyA := filepath.Join(dataDir, seal.KeyFileName) // SQLite: generated in the data directory
			if be == "PostgreSQL" {
				// PostgreSQL never generates a key: one must be configured.
				code, stderr := runCode(t, bin, env, setArgs...)
				if code != 2 || !strings.Contains(stderr, "encryption_key_file: required with PostgreSQL") {
					t.Errorf("bridge set without a key: exit %d\n%s", code, stderr)
				}
				p := runDaemon(t, "serve without a key", bin, env)
				if code := p.exitCode(30 * time.Second); code != 2 ||
					!strings.Contains(p.log(), "encryption_key_file: required with PostgreSQL") {
					t.Errorf("serve without a key: exit %d", code)
				}
				if _, err := os.Stat(keyA); err == nil {
					t.Errorf("a key was generated in the data directory")
				}
				keyA = writeKey(t)
				env = with("SCIMBRIDGE_ENCRYPTION_KEY_FILE=" + keyA)
			}
			runCLI(t, bin, env, setArgs...)
			if fi, err := os.Stat(keyA); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key A: %v %v", fi, err)
			}
			idA := keyID(t, keyA)
			withStore(t, dbURL, func(db *store.DB) {
				if ids, err := db.SealingKeyIDs(context.Background()); err != nil || len(ids) != 1 || ids[0] != idA {
					t.Errorf("recorded key ids = %v, %v; want [%s]", ids, err, idA)
				}
			})

			if be == "SQLite" {
				// The data directory's key lost: serve names the key it
				// needs and does not generate another.
				saved := keyA + ".saved"
				if err := os.Rename(keyA, saved); err != nil {
					t.Fatal(err)
				}
				p := runDaemon(t, "serve without its key", bin, env)
				if code := p.exitCode(30 * time.Second); code != 2 || !strings.Contains(p.log(),
					"sealed with key "+idA+", which is not loaded (keys loaded: none)") {
					t.Errorf("serve without its key: exit %d", code)
				}
				if _, err := os.Stat(keyA); err == nil {
					t.Errorf("serve generated a key over a database that records another")
				}
				if err := os.Rename(saved, keyA); err != nil {
					t.Fatal(err)
				}
			}

			keyB := writeKey(t)
			idB := keyID(t, keyB)
			onlyB := with("SCIMBRIDGE_ENCRYPTION_KEY_FILE=" + keyB)
			refusal := regexp.MustCompile(`encryption_key_file: the database has secrets sealed with key ` + idA +
				`, which is not loaded \(keys loaded: ` + idB + `\)`)
			p := runDaemon(t, "serve with another key", bin, onlyB)
			if code := p.exitCode(30 * time.Second); code != 2 || !refusal.MatchString(p.log()) {
				t.Errorf("serve with another key: exit %d, want 2 naming key %s", code, idA)
			}
			for _, args := range [][]string{{"bridge", "sync", "--org", "acme"}, {"keys", "rotate"}} {
				if code, stderr := runCode(t, bin, onlyB, args...); code != 2 || !refusal.MatchString(stderr) {
					t.Errorf("%v with another key: exit %d\n%s", args, code, stderr)
				}
			}

			// With the old key as a previous key serve starts; keys rotate
			// re-seals and the record follows, so key B alone then suffices.
			bAndA := with("SCIMBRIDGE_ENCRYPTION_KEY_FILE="+keyB, "SCIMBRIDGE_ENCRYPTION_PREVIOUS_KEYS="+keyA)
			p = runDaemon(t, "serve with both keys", bin, bAndA)
			p.ready()
			p.signal(syscall.SIGTERM)
			if code := p.exitCode(40 * time.Second); code != 0 {
				t.Errorf("serve with both keys: exit %d", code)
			}
			runCLI(t, bin, bAndA, "keys", "rotate")
			withStore(t, dbURL, func(db *store.DB) {
				if ids, err := db.SealingKeyIDs(context.Background()); err != nil || len(ids) != 1 || ids[0] != idB {
					t.Errorf("recorded key ids after rotation = %v, %v; want [%s]", ids, err, idB)
				}
			})
			p = runDaemon(t, "serve with the new key", bin, onlyB)
			p.ready()
			p.signal(syscall.SIGTERM)
			if code := p.exitCode(40 * time.Second); code != 0 {
				t.Errorf("serve with the new key: exit %d", code)
			}
		})
	}
}

func withStore(t *testing.T, url string, fn func(db *store.DB)) {
	t.Helper()
	db, err := store.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	fn(db)
}

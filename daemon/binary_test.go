package daemon_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// process is a started `scimbridge serve`.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	addrs  chan map[string]string // listener name -> address
	exited chan error
}

var listeningLine = regexp.MustCompile(`msg=listening listener=(\w+) addr=(\S+)`)

// startBinary starts `bin serve` with env and waits until it logs both
// listening addresses.
func startBinary(t *testing.T, bin string, env []string) (*process, map[string]string) {
	t.Helper()
	p := &process{cmd: exec.Command(bin, "serve"), addrs: make(chan map[string]string, 1), exited: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout = io.Discard
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	go func() {
		found := map[string]string{}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				found[m[1]] = m[2]
				if len(found) == 2 {
					p.addrs <- found
				}
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", p.log())
		}
	})
	select {
	case addrs := <-p.addrs:
		return p, addrs
	case err := <-p.exited:
		t.Fatalf("serve exited before listening: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not log its addresses in 60s\n%s", p.log())
	}
	return nil, nil
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// scimRequest sends a SCIM request and decodes the JSON answer.
func scimRequest(t *testing.T, method, url, token, body string, want int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %v: %s", method, url, err, b)
	}
	return m
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(t *testing.T, opsAddr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + opsAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 after 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBinary_EndToEnd(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	bin := buildScimbridge(t)
	for _, b := range []struct {
		name  string
		dbURL func(t *testing.T, dir string) string
	}{
		{"SQLite", func(t *testing.T, dir string) string { return "sqlite://" + filepath.Join(dir, "db", "scimbridge.db") }},
		{"PostgreSQL", func(t *testing.T, dir string) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			home := t.TempDir()
			dataDir := filepath.Join(home, "data")
			env := []string{
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + home,
				"SCIMBRIDGE_DATA_DIR=" + dataDir,
				"SCIMBRIDGE_DATABASE_URL=" + b.dbURL(t, home), keyVar(t),
				"SCIMBRIDGE_BOOTSTRAP=true",
				"SCIMBRIDGE_PUBLIC_URL=https://scim.example.test",
				"SCIMBRIDGE_LISTEN=127.0.0.1:0",
				"SCIMBRIDGE_OPS_LISTEN=127.0.0.1:0",
			}
			p, addrs := startBinary(t, bin, env)
			waitHealthy(t, addrs["ops"])
			if code, body := get(t, "http://"+addrs["ops"]+"/readyz"); code != 200 {
				t.Errorf("/readyz = %d %q", code, body)
			}

			// Not a terminal: the credentials went to a 0600 file in a
			// 0700 data directory, and only its path to the log.
			path := filepath.Join(dataDir, "bootstrap-credentials")
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("bootstrap credentials: %v", err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("bootstrap credentials mode %v, want 0600", fi.Mode().Perm())
			}
			if di, err := os.Stat(dataDir); err != nil || di.Mode().Perm() != 0o700 {
				t.Errorf("data directory: %v, mode %v; want 0700", err, di.Mode().Perm())
			}
			creds := readCredentials(t, path)
			if _, ok := scimbridge.SCIMTokenSlug(creds["scim_token"]); !ok {
				t.Errorf("credentials file has no SCIM token: %v", creds)
			}
			if log := p.log(); strings.Contains(log, creds["scim_token"]) || strings.Contains(log, creds["admin_token"]) ||
				!strings.Contains(log, path) {
				t.Errorf("the log must name the credentials file and hold no token:\n%s", log)
			}

			// Other commands work against the same database while serve runs.
			run := func(args ...string) string {
				t.Helper()
				return runCLI(t, bin, env, args...)
			}
			run("org", "create", "acme")
			var tok struct {
				BaseURL string `json:"base_url"`
				Token   string `json:"token"`
			}
			if err := json.Unmarshal([]byte(run("scim", "enable", "--org", "acme", "--json")), &tok); err != nil {
				t.Fatal(err)
			}
			if tok.BaseURL != "https://scim.example.test/api/connect/v1" {
				t.Errorf("base_url = %q", tok.BaseURL)
			}
			api := "http://" + addrs["main"] + "/api/connect/v1"
			if slug, ok := scimbridge.SCIMTokenSlug(tok.Token); !ok || slug != "acme" {
				t.Errorf("token = %q", tok.Token)
			}

			// An IdP creates a user; the CLI shows it as the SCIM API does.
			user := scimRequest(t, "POST", api+"/Users", tok.Token,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@acme.test",`+
					`"name":{"givenName":"Alice"},"emails":[{"value":"alice@acme.test","type":"work"}],"active":true}`, 201)
			id, _ := user["id"].(string)
			fetched := scimRequest(t, "GET", api+"/Users/"+id, tok.Token, "", 200)
			var shown map[string]any
			if err := json.Unmarshal([]byte(run("profiles", "show", "--org", "acme", id, "--json")), &shown); err != nil {
				t.Fatal(err)
			}
			if shown["source"] != "scim" || shown["googleId"] != nil {
				t.Errorf("profiles show: source %v, googleId %v", shown["source"], shown["googleId"])
			}
			delete(shown, "source")
			delete(shown, "googleId")
			if !reflect.DeepEqual(shown, fetched) {
				t.Errorf("profiles show --json =\n%v\nSCIM GET =\n%v", shown, fetched)
			}

			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-p.exited:
				var exit *exec.ExitError
				if errors.As(err, &exit) || err != nil {
					t.Fatalf("serve after SIGTERM: %v\n%s", err, p.log())
				}
			case <-time.After(40 * time.Second):
				t.Fatal("serve did not exit within 40s of SIGTERM")
			}
			if !strings.Contains(p.log(), "msg=stopped") {
				t.Errorf("serve did not log its stop:\n%s", p.log())
			}

			// The buffered events of the SCIM reads were written before exit.
			var page scimbridge.EventPage
			if err := json.Unmarshal([]byte(run("events", "list", "--org", "acme", "--source", "idp", "--json")), &page); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range page.Events {
				got = append(got, fmt.Sprintf("%s %d", ev.Method, ev.Status))
			}
			if strings.Join(got, ",") != "GET 200,POST 201" {
				t.Errorf("idp events after shutdown = %v, want the GET and the POST", got)
			}
		})
	}
}

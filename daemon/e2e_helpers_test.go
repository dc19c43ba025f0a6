package daemon_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// daemonProc is a `scimbridge serve` process started by an end-to-end
// test. Its stderr (the log, text format) is kept line by line.
type daemonProc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd

	mu    sync.Mutex
	lines []string
	addrs map[string]string

	changed chan struct{} // closed and replaced on every new line
	exited  chan struct{}
	waitErr error
}

// runDaemon starts `bin serve [args]` with env. It is killed when the
// test ends.
func runDaemon(t testing.TB, name, bin string, env []string, args ...string) *daemonProc {
	t.Helper()
	p := &daemonProc{t: t, name: name, cmd: exec.Command(bin, append([]string{"serve"}, args...)...), addrs: map[string]string{},
		changed: make(chan struct{}), exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout = io.Discard
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				p.addrs[m[1]] = m[2]
			}
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log())
		}
	})
	return p
}

// log is everything the process logged so far.
func (p *daemonProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitFor waits until the process logged a line matching re and returns
// it; it fails the test after timeout or when the process exits first.
func (p *daemonProc) waitFor(re *regexp.Regexp, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if re.MatchString(l) {
				p.mu.Unlock()
				return l
			}
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.exited:
			if p.find(re) != "" {
				return p.find(re)
			}
			p.t.Fatalf("%s exited before logging %q: %v", p.name, re, p.waitErr)
		case <-deadline:
			p.t.Fatalf("%s did not log %q within %s", p.name, re, timeout)
		}
	}
}

// find returns the first logged line matching re, or "".
func (p *daemonProc) find(re *regexp.Regexp) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if re.MatchString(l) {
			return l
		}
	}
	return ""
}

// count returns how many logged lines match re.
func (p *daemonProc) count(re *regexp.Regexp) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// ready waits until both listeners are logged and returns the main and
// ops base URLs.
func (p *daemonProc) ready() (mainURL, opsURL string) {
	p.t.Helper()
	p.waitFor(regexp.MustCompile(`msg=ready `), 60*time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addrs["main"], "http://" + p.addrs["ops"]
}

// signal sends sig to the process.
func (p *daemonProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// exitCode waits for the process to exit and returns its exit code (-1
// when a signal killed it).
func (p *daemonProc) exitCode(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s", p.name, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0
	case errors.As(p.waitErr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1
		}
		return ee.ExitCode()
	}
	p.t.Fatalf("%s: %v", p.name, p.waitErr)
	return 0
}

// built is the binary the end-to-end tests share: built once per test
// process, removed by TestMain.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildScimbridge returns the path of cmd/scimbridge built for this test
// process. It is the entry of every test that runs the real binary, so it
// also applies the -short rule (see needBinary).
func buildScimbridge(tb testing.TB) string {
	tb.Helper()
	needBinary(tb)
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "scimbridge-e2e-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "scimbridge")
		cmd := exec.Command("go", "build", "-o", built.bin, "github.com/scimbridge/scimbridge/cmd/scimbridge")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// daemonEnv is the environment of a serve or CLI process: loopback
// listeners on port 0 and the given SCIMBRIDGE_* settings.
func daemonEnv(home string, vars ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"SCIMBRIDGE_LISTEN=127.0.0.1:0",
		"SCIMBRIDGE_OPS_LISTEN=127.0.0.1:0",
		"SCIMBRIDGE_PUBLIC_URL=https://scim.example.test",
	}
	return append(env, vars...)
}

// runCLI runs a scimbridge command and returns its stdout.
func runCLI(t testing.TB, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scimbridge %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// httpDo sends a request with an optional bearer token and JSON body and
// returns the status and body; a transport error is status 0.
func httpDo(client *http.Client, method, url, token, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// needBinary marks a test that builds and runs the real binary. `go test
// -short` skips it on a developer's machine; under CI (CI or
// SCIMBRIDGE_TEST_REQUIRE_POSTGRES set) a short run fails instead, so the
// end-to-end tests can never be skipped there silently.
func needBinary(t testing.TB) {
	t.Helper()
	if !testing.Short() {
		return
	}
	if os.Getenv("CI") != "" || os.Getenv(storetest.EnvRequirePostgres) == "1" {
		t.Fatal("end-to-end test skipped by -short under CI: run without -short")
	}
	t.Skip("builds and runs the binary (skipped by -short)")
}

// keyVar configures a fresh encryption key, which serve needs with
// PostgreSQL.
func keyVar(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "encryption-key")
	if err := os.WriteFile(p, bytes.Repeat([]byte{'k'}, 32), 0o600); err != nil {
		tb.Fatal(err)
	}
	return "SCIMBRIDGE_ENCRYPTION_KEY_FILE=" + p
}

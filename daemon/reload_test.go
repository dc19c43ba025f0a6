package daemon_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

func TestServe_SIGHUPReload(t *testing.T) {
	t.Parallel() // a child process: runs beside the other end-to-end tests
	bin := buildScimbridge(t)
	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	cfgFile := filepath.Join(home, "scimbridge.yaml")
	write := func(text string) {
		if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("log:\n  level: info\nscim:\n  rate_limit: 0\n")
	p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+dataDir, "SCIMBRIDGE_BOOTSTRAP=true"),
		"--config", cfgFile)
	mainURL, _ := p.ready()
	token := readCredentials(t, filepath.Join(dataDir, "bootstrap-credentials"))["scim_token"]
	burst := func() (limited int) {
		for range 6 {
			code, _, err := httpDo(http.DefaultClient, "GET", mainURL+"/api/connect/v1/Users?count=0", token, "")
			if err != nil {
				t.Fatal(err)
			}
			if code == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	if n := burst(); n != 0 {
		t.Fatalf("%d requests limited with rate_limit 0", n)
	}

	t.Run("InvalidFileKeepsRunningConfiguration", func(t *testing.T) {
		write("log:\n  level: loud\n")
		p.signal(syscall.SIGHUP)
		p.waitFor(regexp.MustCompile(`msg="configuration reload failed: keeping the running configuration" .*log\.level`), 10*time.Second)
		if n := burst(); n != 0 {
			t.Errorf("%d requests limited after a failed reload", n)
		}
	})

	t.Run("AppliesAndNamesChanges", func(t *testing.T) {
		write("log:\n  level: debug\nscim:\n  rate_limit: 1\n  rate_burst: 2\nevents:\n  retention: 30d\n")
		p.signal(syscall.SIGHUP)
		p.waitFor(regexp.MustCompile(regexp.QuoteMeta(
			`msg="configuration reloaded; some changes need a restart" changed="log.level: info -> debug; scim.rate_limit: 0 -> 1; scim.rate_burst: 200 -> 2" needs_restart=events.retention`)),
			10*time.Second)
		if n := burst(); n == 0 {
			t.Error("no request limited after the rate limit was reloaded")
		}
	})

	p.signal(syscall.SIGTERM)
	if code := p.exitCode(40 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

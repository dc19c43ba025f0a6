package daemon_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBinary_Version builds the binary as the release build does, with
// -ldflags -X, and checks that `version`, `--version` and the build_info
// metric report what the linker wrote; the shared test binary, built
// without them, falls back to Go's build information.
func TestBinary_Version(t *testing.T) {
	plain := buildScimbridge(t)
	released := filepath.Join(t.TempDir(), "scimbridge")
	const pkg = "github.com/scimbridge/scimbridge/daemon"
	ldflags := "-X " + pkg + ".version=9.8.7 -X " + pkg + ".commit=feedface -X " + pkg + ".buildDate=2026-12-01T10:00:00Z"
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", released, "github.com/scimbridge/scimbridge/cmd/scimbridge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := daemonEnv(t.TempDir())

	type version struct {
		Version   string `json:"version"`
		Commit    string `json:"commit"`
		BuildDate string `json:"build_date"`
		GoVersion string `json:"go_version"`
	}
	var got version
	if err := json.Unmarshal([]byte(runCLI(t, released, env, "version", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	want := version{"9.8.7", "feedface", "2026-12-01T10:00:00Z", runtime.Version()}
	if got != want {
		t.Errorf("version --json = %+v, want %+v", got, want)
	}
	text := runCLI(t, released, env, "--version")
	for _, s := range []string{"scimbridge 9.8.7\n", "commit:     feedface\n", "built:      2026-12-01T10:00:00Z\n", "go version: " + runtime.Version() + "\n"} {
		if !strings.Contains(text, s) {
			t.Errorf("--version prints\n%s\nwant a line %q", text, s)
		}
	}

	if err := json.Unmarshal([]byte(runCLI(t, plain, env, "version", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version == "" || got.Version == "9.8.7" || got.Commit == "" || got.GoVersion != runtime.Version() {
		t.Errorf("version --json without ldflags = %+v, want build-info fallbacks", got)
	}

	_, addrs := startBinary(t, released, env)
	waitHealthy(t, addrs["ops"])
	code, body := get(t, "http://"+addrs["ops"]+"/metrics")
	if wantLine := `scimbridge_build_info{goversion="` + runtime.Version() + `",revision="feedface",version="9.8.7"} 1`; code != 200 || !strings.Contains(body, wantLine) {
		t.Errorf("/metrics: status %d, want the line %s", code, wantLine)
	}
}

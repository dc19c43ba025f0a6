// Package packaging holds the release build, the Debian package and the
// checks of the documented installation recipes; its Go files are tests.
package packaging

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// unitSettings returns the unit's Key=Value lines, by key.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	return settings
}

var runLine = regexp.MustCompile(`^(sudo )?systemd-run -`)

// systemdRunCommands returns the systemd-run commands in a file, each with
// its continuation lines joined and comment markers removed.
func systemdRunCommands(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	var cur strings.Builder
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if runLine.MatchString(line) {
			in = true
		}
		if !in {
			continue
		}
		cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
		if !strings.HasSuffix(line, `\`) {
			cmds = append(cmds, cur.String())
			cur.Reset()
			in = false
		}
	}
	return cmds
}

// TestSystemdRunRecipe checks the documented way to run commands beside the
// service (README.md and the unit's comment): with DynamicUser=yes it must
// name the unit's user, or each run may get another UID and systemd
// re-owns the state directory under the running service; and it must give
// the command the unit's state directory, environment file and credentials.
func TestSystemdRunRecipe(t *testing.T) {
	unit := unitSettings(t, "../systemd/scimbridge.service")
	if got := unit["DynamicUser"]; len(got) != 1 || got[0] != "yes" {
		t.Fatalf("unit DynamicUser = %q: update this test with the unit", got)
	}
	users := unit["User"]
	if len(users) != 1 {
		t.Fatalf("unit User = %q: a dynamic user must be named, so that commands can share it", users)
	}
	want := []string{"-p DynamicUser=yes", "-p User=" + users[0]}
	for _, k := range []string{"StateDirectory", "StateDirectoryMode", "UMask", "EnvironmentFile", "LoadCredential"} {
		if len(unit[k]) == 0 {
			t.Fatalf("unit has no %s=", k)
		}
		for _, v := range unit[k] {
			want = append(want, "-p "+k+"="+v)
		}
	}
	for _, path := range []string{"../README.md", "../systemd/scimbridge.service"} {
		cmds := systemdRunCommands(t, path)
		if len(cmds) == 0 {
			t.Errorf("%s: no systemd-run recipe found", path)
		}
		for _, cmd := range cmds {
			cmd = regexp.MustCompile(`\s+`).ReplaceAllString(cmd, " ")
			for _, w := range want {
				if !strings.Contains(cmd, w+" ") {
					t.Errorf("%s: systemd-run recipe lacks %q:\n%s", path, w, cmd)
				}
			}
		}
	}
}

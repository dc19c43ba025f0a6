package daemon

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// runCLI runs the command line in-process, without configuration.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errs bytes.Buffer
	c := &cli{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &out, stderr: &errs,
		clock: time.Now, isTerminal: isTerminal}
	code = c.exit(c.run(context.Background(), args))
	return out.String(), errs.String(), code
}

// Every command and every group answers -h with its usage on stdout and
// exit 0; flags are spelled with two dashes, as the synopses spell them.
func TestCLI_HelpForEveryCommand(t *testing.T) {
	groups := map[string]bool{}
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		for n := 1; n < len(words); n++ {
			groups[strings.Join(words[:n], " ")] = true
		}
		for _, h := range []string{"-h", "--help"} {
			out, errs, code := runCLI(append(words, h)...)
			if code != ExitOK || !strings.HasPrefix(out, "usage: scimbridge "+cmd.name) || errs != "" {
				t.Errorf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.name, h, code, out, errs)
			}
			if !strings.Contains(out, "  --config FILE\n") || regexp.MustCompile(`\n  -[a-z]`).MatchString(out) {
				t.Errorf("%s %s: flags not spelled --flag:\n%s", cmd.name, h, out)
			}
			if strings.Contains(cmd.args, "--org") && !strings.Contains(out, "  --org SLUG\n") {
				t.Errorf("%s %s: --org not listed as --org SLUG:\n%s", cmd.name, h, out)
			}
		}
	}
	for g := range groups {
		out, errs, code := runCLI(append(strings.Fields(g), "-h")...)
		if code != ExitOK || !strings.Contains(out, "scimbridge "+g+" ") || errs != "" {
			t.Errorf("%s -h: exit %d\nstdout:\n%s\nstderr:\n%s", g, code, out, errs)
		}
	}
	if len(groups) < 8 {
		t.Errorf("only %d groups: %v", len(groups), groups)
	}
	out, _, _ := runCLI("help")
	for _, want := range []string{"Exit status: 0 success; 1 failure; 2 bad command line or configuration;", "3 a bridge run"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 problems", 1: "1 problem", 2: "2 problems"} {
		if got := plural(n, "problem", "problems"); got != want {
			t.Errorf("plural(%d) = %q", n, got)
		}
	}
}

// The README's command-line section lists every command with the synopsis
// 'scimbridge help' prints, and nothing else.
func TestCLI_READMESynopses(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "## Command line\n\n```\n")
	section, _, ok2 := strings.Cut(section, "```")
	if !ok || !ok2 {
		t.Fatal("README has no command-line block")
	}
	var listed []string
	for _, line := range strings.Split(section, "\n") {
		line, _, _ = strings.Cut(line, "  #")
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "scimbridge "):
			listed = append(listed, line)
		case len(listed) > 0: // a continuation line
			listed[len(listed)-1] += " " + line
		}
	}
	var want []string
	for _, cmd := range commands() {
		want = append(want, "scimbridge "+cmd.usage())
	}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("README synopses:\n%s\nwant (scimbridge help):\n%s", strings.Join(listed, "\n"), strings.Join(want, "\n"))
	}
}

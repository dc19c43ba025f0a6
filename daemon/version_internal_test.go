package daemon

import (
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/scimbridge/scimbridge", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"},
			{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	for _, tc := range []struct {
		name                  string
		ldVer, ldCommit, ldAt string
		bi                    *debug.BuildInfo
		want                  versionInfo
	}{
		{"ldflags win over build info", "1.2.0", "feedface", "2026-12-01T00:00:00Z", vcs,
			versionInfo{"1.2.0", "feedface", "2026-12-01T00:00:00Z", "go1.26.8"}},
		{"checkout build: revision, dirty, commit time", "", "", "", vcs,
			versionInfo{"devel", "0123abcd-dirty", "2026-11-30T10:00:00Z", "go1.26.8"}},
		{"go install module@version", "", "", "", installed,
			versionInfo{"v1.4.0", unknown, unknown, "go1.26.8"}},
		{"partial ldflags keep the fallbacks", "1.2.0", "", "", vcs,
			versionInfo{"1.2.0", "0123abcd-dirty", "2026-11-30T10:00:00Z", "go1.26.8"}},
		{"no build info", "", "", "", nil,
			versionInfo{unknown, unknown, unknown, runtime.Version()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolveVersion(tc.ldVer, tc.ldCommit, tc.ldAt, tc.bi); got != tc.want {
				t.Errorf("resolveVersion = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--version"}, []string{"version"}},
		{[]string{"-version", "--json"}, []string{"version", "--json"}},
		{[]string{"--config", "/etc/s.yaml", "--version"}, []string{"--config", "/etc/s.yaml", "version"}},
		{[]string{"--config=/etc/s.yaml", "-version"}, []string{"--config=/etc/s.yaml", "version"}},
		{[]string{"--config", "--version", "org", "list"}, []string{"--config", "--version", "org", "list"}},
		{[]string{"org", "list", "--version"}, []string{"org", "list", "--version"}},
		{nil, nil},
	} {
		if got := versionFlag(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("versionFlag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

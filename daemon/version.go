package daemon

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
)

// Set by the release build (packaging/build-release.sh):
//
//	go build -ldflags "-X github.com/scimbridge/scimbridge/daemon.version=1.2.0
//	  -X github.com/scimbridge/scimbridge/daemon.commit=<revision>
//	  -X github.com/scimbridge/scimbridge/daemon.buildDate=<RFC 3339 time>"
//
// These are the only package-level variables of the package: the linker
// writes them and nothing changes them at run time. Empty means "not set";
// the Go build information then supplies what it knows.
var (
	version   string
	commit    string
	buildDate string
)

// versionInfo describes the running binary.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
	GoVersion string `json:"go_version"`
}

// unknown is what versionInfo holds for something nobody recorded.
const unknown = "unknown"

// currentVersion is the running binary's versionInfo.
func currentVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveVersion(version, commit, buildDate, bi)
}

// resolveVersion prefers the values set with -ldflags -X and falls back,
// one field at a time, to the build information Go records in every
// binary: the module version (set by `go install module@version`), the
// VCS revision and commit time (set when built from a Git checkout),
// and the toolchain. bi may be nil.
func resolveVersion(ldVersion, ldCommit, ldDate string, bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: ldVersion, Commit: ldCommit, BuildDate: ldDate, GoVersion: runtime.Version()}
	if bi == nil {
		return v.orUnknown()
	}
	if bi.GoVersion != "" {
		v.GoVersion = bi.GoVersion
	}
	if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	var revision, modified, vcsTime string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			vcsTime = s.Value
		}
	}
	if v.Commit == "" && revision != "" {
		v.Commit = revision
		if modified == "true" {
			v.Commit += "-dirty"
		}
	}
	if v.BuildDate == "" {
		// Not the build's date, but the best Go records: the commit's.
		v.BuildDate = vcsTime
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	return v.orUnknown()
}

func (v versionInfo) orUnknown() versionInfo {
	for _, f := range []*string{&v.Version, &v.Commit, &v.BuildDate, &v.GoVersion} {
		if *f == "" {
			*f = unknown
		}
	}
	return v
}

func versionCommands() []command {
	return []command{
		{name: "version", summary: "print the version, commit, build date and Go version", run: runVersion},
	}
}

func runVersion(_ context.Context, c *cli, args []string) error {
	f := c.newFlags("version", true)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	v := currentVersion()
	if f.json {
		return writeJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "scimbridge %s\ncommit:     %s\nbuilt:      %s\ngo version: %s\n",
		v.Version, v.Commit, v.BuildDate, v.GoVersion)
	return nil
}

// versionFlag turns --version (or -version) among the flags before the
// command into the version command, so `scimbridge --version` works as in
// most programs, also after --config FILE (as wrappers pass it).
func versionFlag(args []string) []string {
	for i := 0; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		switch args[i] {
		case "--version", "-version":
			return slices.Concat(args[:i], []string{"version"}, args[i+1:])
		case "--config", "-config":
			i++ // skip the file name
		}
	}
	return args
}

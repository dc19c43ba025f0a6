package daemon_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// A run of a directory of 1,000 users prints a summary of a few lines by
// default; its items, read back from the store one at a time, are listed
// only when asked for.
func TestCLI_LargeReportSummary(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := be.env(t)
			g, key := e.withGoogle()
			g.SetUsers(googleUsers(1000))
			e.mustRun("org", "create", "acme")
			e.mustRun("bridge", "google", "set", "--org", "acme", "--credentials", key, "--admin-email", "admin@example.com")

			out := e.mustRun("bridge", "sync", "--org", "acme")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			longest := 0
			for _, l := range lines {
				longest = max(longest, len(l))
			}
			if len(lines) > 25 || longest > 200 || !strings.Contains(out, "1000   create  new in Google 1000") {
				t.Errorf("summary of 1,000 creates: %d lines, the longest %d characters:\n%s", len(lines), longest, out)
			}
			var list []scimbridge.Report
			e.mustJSON(&list, "reports", "list", "--org", "acme", "--limit", "1", "--json")
			id := list[0].ID

			if out := e.mustRun("reports", "show", "--org", "acme", id, "--items"); strings.Count(out, "\ncreate ") != 1000 {
				t.Errorf("--items lists %d creates, want 1000", strings.Count(out, "\ncreate "))
			}
			var rep scimbridge.Report
			e.mustJSON(&rep, "reports", "show", "--org", "acme", id, "--json")
			if len(rep.Items) != 1000 {
				t.Errorf("--json: %d items, want 1000", len(rep.Items))
			}
			r := e.run("reports", "show", "--org", "acme", id, "--kind", "create", "--limit", "2", "--json")
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || len(rep.Items) != 2 {
				t.Errorf("--kind create --limit 2 --json: exit %d, %d items, %v\n%s", r.code, len(rep.Items), err, r.stderr)
			}
			if out := e.mustRun("reports", "show", "--org", "acme", id, "--kind", "deactivate"); strings.Contains(out, "\ncreate ") || !strings.HasSuffix(out, "\nNo items.\n") {
				t.Errorf("--kind deactivate lists creates:\n%s", out)
			}
		})
	}
}

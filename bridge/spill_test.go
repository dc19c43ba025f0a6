package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/fakegoogle"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

// spillFiles returns the spill files in dir this process holds open.
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read open files: %v", err)
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/scimbridge-spill-") {
			out = append(out, target)
		}
	}
	return out
}

// itemKeys are a report's items as comparable strings.
func itemKeys(items []scimbridge.ReportItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprintf("%s %s %s %q", it.Kind, it.GoogleID, strings.ToLower(it.UserName), it.Reason)
	}
	slices.Sort(out)
	return out
}

// minus returns the strings of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestRunner_SpilledCreates: new users that take an address no stored
// profile and no other listed user takes are spilled while listing and
// created after the plan; those whose address another listed user also
// takes (another new user, a renamed one) are planned with the rest, so
// the run does what the dry run (which spills nothing) planned.
func TestRunner_SpilledCreates(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		e := newSyncEnv(t, db, func(s *scimbridge.BridgeSettings) { s.Guard = false })
		var logs bytes.Buffer
		e.runner.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		e.runner.SpillDir = t.TempDir()
		e.setUsers(gUser("2001", "carl@example.com"), gUser("2002", "dora@example.com"))
		checkCounts(t, e.sync().Counts, scimbridge.ReportCounts{Created: 2})

		carl := e.user("2001")
		carl.PrimaryEmail = "zed@example.com"
		suspended := gUser("3005", "sue@example.com")
		suspended.Suspended = true
		users := append([]*admin.User{carl, e.user("2002"),
			gUser("3001", "zed@example.com"),  // takes the address carl is renamed to
			gUser("3002", "ann@example.com"),  // two new users, one address
			gUser("3003", "ANN@example.com"),  //
			gUser("3004", "dora@example.com"), // a stored profile's address
			suspended,
		}, manyUsers(1200, 5000)...)
		e.setUsers(users...)

		dry, err := e.runner.RunOnce(context.Background(), e.org.ID, scimbridge.TriggerManual, true)
		if err != nil {
			t.Fatal(err)
		}
		rep := e.sync()
		if rep.Counts != dry.Counts {
			t.Errorf("counts = %+v, dry run planned %+v", rep.Counts, dry.Counts)
		}
		// A run itemises only the skips the last planned report (the dry
		// run's) did not: compare the changes; the counts hold the skips.
		changes := func(id string) []scimbridge.ReportItem {
			return slices.DeleteFunc(e.report(id).Items, func(it scimbridge.ReportItem) bool { return it.Kind == reconcile.ItemSkip })
		}
		got, want := itemKeys(changes(rep.ID)), itemKeys(changes(dry.ID))
		if !slices.Equal(got, want) {
			t.Errorf("items differ from the dry run's: only in the run %v, only in the dry run %v",
				minus(got, want), minus(want, got))
		}
		var skips []string
		for _, it := range e.report(dry.ID).Items {
			if it.Kind == reconcile.ItemSkip {
				skips = append(skips, it.GoogleID)
			}
		}
		if slices.Sort(skips); !slices.Equal(skips, []string{"2001", "3002", "3004"}) {
			t.Errorf("dry run skips %v", skips)
		}
		// Carl's rename and ann@'s first user are skipped: their addresses
		// are another new user's; dora@ is a stored profile's.
		checkCounts(t, rep.Counts, scimbridge.ReportCounts{Created: 1200 + 3, Unchanged: 1, Skipped: 3})
		if p := e.byGoogleID("3005"); p.Active() {
			t.Errorf("suspended new user created active")
		}
		m := regexp.MustCompile(`msg="directory listed".* spilled=(\d+)`).FindAllStringSubmatch(logs.String(), -1)
		// The first sync, the dry run (which spills nothing), the run.
		if len(m) != 3 || m[0][1] != "2" || m[1][1] != "0" || m[2][1] != "1201" {
			t.Errorf("spilled = %v, want 2, 0 and 1201 (the plain new users and the suspended one)", m)
		}
		if f := spillFiles(t, e.runner.SpillDir); len(f) != 0 {
			t.Errorf("spill files left open: %v", f)
		}
		if left, _ := os.ReadDir(e.runner.SpillDir); len(left) != 0 {
			t.Errorf("spill directory holds %d files", len(left))
		}
	})
}

// TestRunner_SpillRemovedOnFailedListing: a page that keeps failing after
// earlier pages were spilled fails the run, applies nothing and leaves no
// spill file (open or on disk).
func TestRunner_SpillRemovedOnFailedListing(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		g := fakeGoogle{Server: fakegoogle.NewServer()}
		dir := t.TempDir()
		var mu sync.Mutex
		var during []string
		h := g.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("pageToken") != "" {
				f := spillFiles(t, dir)
				mu.Lock()
				during = append(during, f...)
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		g.ep = bridge.Endpoints{APIEndpoint: srv.URL + "/", TokenURL: srv.URL + fakegoogle.TokenPath}
		e := newSyncEnvWith(t, db, g, newKeyring(t))
		e.runner.SpillDir = dir
		e.setUsers(manyUsers(1600, 0)...)
		e.google.FailPage(3, 503, "backendError", -1)
		rep, err := e.syncErr()
		if err == nil || rep.Status != scimbridge.ReportFailed || !strings.Contains(rep.Error, "incomplete listing") {
			t.Fatalf("run = %v %q, %v; want an incomplete listing", rep.Status, rep.Error, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(during) == 0 {
			t.Fatal("no spill file was open while the listing went on")
		}
		if n := len(e.profiles()); n != 0 {
			t.Errorf("%d profiles written; a failed listing applies nothing", n)
		}
		if f := spillFiles(t, dir); len(f) != 0 {
			t.Errorf("spill files left open: %v", f)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("spill directory holds %d files", len(left))
		}
	})
}

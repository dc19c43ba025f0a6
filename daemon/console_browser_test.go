package daemon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimbridge/scimbridge/store/storetest"
)

// Browser tests drive Debian's headless Chromium against the real binary.
// Without Chromium a local run skips them with a message; under CI (CI or
// SCIMBRIDGE_TEST_REQUIRE_POSTGRES set, as for needBinary) they fail
// instead (.ci/run installs it).

// envArtifacts names the directory the browser tests save a screenshot of
// every page in; testdata/out (ignored by git) by default.
const envArtifacts = "SCIMBRIDGE_TEST_ARTIFACTS"

// chromiumPath returns the Chromium to drive, or skips (fails under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if p := "/usr/bin/chromium"; fileExists(p) {
		return p
	}
	if os.Getenv("CI") != "" || os.Getenv(storetest.EnvRequirePostgres) == "1" {
		t.Fatal("Chromium is missing: the console's browser tests cannot run (apt-get install -y chromium)")
	}
	t.Skip("Chromium is missing: skipping the console's browser tests (apt-get install -y chromium to run them)")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// browser is one headless Chromium with its own cookies.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	name      string
}

func newBrowser(t *testing.T, chromium, base, name string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a timeout
		t.Fatalf("start Chromium: %v", err)
	}
	dir := os.Getenv(envArtifacts)
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: base, artifacts: dir, name: name}
}

// do runs steps, failing the test (with a screenshot) on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failure")
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

func (b *browser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

// open navigates to a console path and waits for its main element.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// click clicks and waits for the page the click loads: the current
// document is marked first, so a new one is told apart from it.
func (b *browser) click(sel string) {
	b.t.Helper()
	mark := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.__consoleTestOld = true`)(ctx, t)
		return err
	})
	b.do(mark, chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		loaded, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](
			`!window.__consoleTestOld && document.readyState === "complete" && !!document.querySelector("main")`))
		if loaded {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.shot("failure")
	b.t.Fatalf("clicking %s loaded no page (at %s)", sel, b.location())
}

// on returns the browser reporting to t (a subtest).
func (b *browser) on(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.shot("failure")
		b.t.Fatalf("text of %s: %v (at %s)", sel, err, b.location())
	}
	return strings.TrimSpace(s)
}

func (b *browser) present(sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
	if err != nil {
		b.t.Fatalf("query %s: %v", sel, err)
	}
	return ok
}

// rows returns the cells of a table's body rows.
func (b *browser) rows(sel string) [][]string {
	b.t.Helper()
	js := `Array.from(document.querySelectorAll(` + jsString(sel+" tbody tr") + `)).map(r => Array.from(r.cells).map(c => c.innerText.trim()))`
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[][]string](js))
	if err != nil {
		b.t.Fatalf("rows of %s: %v", sel, err)
	}
	return rows
}

func (b *browser) html() string {
	h, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	return h
}

// shot saves a full-page screenshot as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(b.artifacts, b.name+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// consoleLink creates a setup link with the CLI and returns its token.
func consoleLink(t *testing.T, e *testEnv, role string) string {
	t.Helper()
	var out struct {
		URL string `json:"url"`
	}
	e.mustJSON(&out, "console", "link", "--org", "acme", "--role", role, "--json")
	_, token, ok := strings.Cut(out.URL, "/console/setup/")
	if !ok || !strings.HasPrefix(token, "scbl_") {
		t.Fatalf("setup link URL = %q", out.URL)
	}
	return token
}

// serveEnv is the environment of serve for a CLI test environment.
func serveEnv(e *testEnv) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dataDir}
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	return env
}

func TestConsole_Browser(t *testing.T) {
	chromium := chromiumPath(t)
	bin := buildScimbridge(t)
	e := newSQLiteEnv(t)
	g, key := e.withGoogle()
	g.SetUsers(googleUsers(40))
	// The scheduler stays out of the way: every run here is the console's.
	e.vars["SCIMBRIDGE_TEST_BRIDGE_POLL"] = "1h"
	e.mustRun("org", "create", "acme")
	p := runDaemon(t, "serve", bin, serveEnv(e))
	mainURL, _ := p.ready()
	client := &http.Client{Timeout: 10 * time.Second}

	owner := newBrowser(t, chromium, mainURL, "owner")
	link := consoleLink(t, e, "owner")

	t.Run("SignInWithSetupLink", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/")
		if !strings.HasSuffix(owner.location(), "/console/sign-in") {
			t.Fatalf("without a session, /console/ shows %s", owner.location())
		}
		owner.shot("sign-in")
		owner.open("/console/setup/" + link)
		owner.shot("setup-link")
		owner.click("#use-link")
		if !strings.HasSuffix(owner.location(), "/console/provisioning") {
			t.Fatalf("after the setup link: %s", owner.location())
		}
		if got := strings.ToLower(owner.text("#role")); !strings.Contains(got, "owner") {
			t.Errorf("role badge = %q", got)
		}
		// One-time: the link is used up.
		status, body, err := httpDo(client, "GET", mainURL+"/console/setup/"+link, "", "")
		if err != nil || status != http.StatusNotFound || !strings.Contains(string(body), "already used") {
			t.Errorf("a used link: %d %v %s", status, err, body)
		}
	})

	var scimToken string
	t.Run("EnableSCIMAndCopyToken", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/provisioning")
		if got := owner.text("#scim-status"); got != "Disabled" {
			t.Errorf("SCIM status = %q", got)
		}
		owner.shot("provisioning-disabled")
		owner.click("#enable-scim")
		scimToken = owner.text("#secret-value")
		if !strings.HasPrefix(scimToken, "scb_acme_") {
			t.Fatalf("token shown = %q", scimToken)
		}
		if got := owner.text("#endpoint-url"); got != "https://scim.example.test/api/connect/v1" {
			t.Errorf("endpoint URL = %q", got)
		}
		owner.do(chromedp.Click(chromedp.CSS("#copy-secret")))
		deadline := time.Now().Add(5 * time.Second)
		for owner.text("#copy-secret") != "Copied" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := owner.text("#copy-secret"); got != "Copied" {
			t.Errorf("copy button says %q", got)
		}
		owner.shot("provisioning-token")
		// Shown once: the page does not show it again.
		owner.open("/console/provisioning")
		if strings.Contains(owner.html(), scimToken) || owner.present("#secret") {
			t.Error("the token is shown again")
		}
		owner.shot("provisioning")
		owner.open("/console/provisioning/regenerate")
		owner.shot("provisioning-regenerate-confirm")
		owner.open("/console/provisioning/delete")
		owner.shot("provisioning-delete-confirm")
	})

	scimURL := mainURL + "/api/connect/v1"
	t.Run("EventsTable", func(t *testing.T) {
		owner := owner.on(t)
		alice := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com","name":{"givenName":"Alice","familyName":"A"},"emails":[{"value":"alice@example.com","primary":true}],"active":true}`
		if status, body, err := httpDo(client, "POST", scimURL+"/Users", scimToken, alice); err != nil || status != 201 {
			t.Fatalf("create: %d %v %s", status, err, body)
		}
		if status, _, _ := httpDo(client, "POST", scimURL+"/Users", scimToken, alice); status != 409 {
			t.Fatalf("create again: %d", status)
		}
		if status, _, _ := httpDo(client, "GET", scimURL+"/Users", "scb_acme_wrongtoken", ""); status != 401 {
			t.Fatalf("wrong token: %d", status)
		}
		// Read and 4xx events go through the buffered writer.
		var rows [][]string
		deadline := time.Now().Add(10 * time.Second)
		for {
			owner.open("/console/provisioning/events?source=idp")
			rows = owner.rows("#events")
			if len(rows) >= 3 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		owner.shot("events")
		var created, conflict, unauthorized []string
		for _, r := range rows {
			if len(r) != 7 {
				t.Fatalf("row has %d cells: %q", len(r), r)
			}
			switch {
			case strings.HasPrefix(r[2], "201"):
				created = r
			case strings.HasPrefix(r[2], "409"):
				conflict = r
			case strings.HasPrefix(r[2], "401"):
				unauthorized = r
			}
		}
		if created == nil || conflict == nil || unauthorized == nil {
			t.Fatalf("events table: %q", rows)
		}
		// Method, Path, Status code, Username, IP address, Error message, Timestamp.
		if created[0] != "POST" || created[1] != "/api/connect/v1/Users" || created[3] != "alice@example.com" ||
			created[4] != "127.0.0.1" || !strings.HasSuffix(created[6], "UTC") {
			t.Errorf("created row = %q", created)
		}
		if !strings.Contains(conflict[5], "the user already exists") && !strings.Contains(conflict[5], "The user already exists") {
			t.Errorf("409 row has no explanation: %q", conflict)
		}
		if !strings.Contains(unauthorized[5], "token is wrong or was regenerated") {
			t.Errorf("401 row has no explanation: %q", unauthorized)
		}
		headers, _ := chromedp.Run(owner.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#events thead th")).map(h => h.innerText.trim())`))
		if want := "Method,Path,Status code,Username,IP address,Error message,Timestamp"; !strings.EqualFold(strings.Join(headers, ","), want) {
			t.Errorf("columns = %q, want %s", headers, want)
		}
	})

	t.Run("FilterByStatus", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/provisioning/events")
		owner.do(chromedp.SetValue(chromedp.CSS("#f-status"), "4xx"))
		owner.click("#apply-filters")
		rows := owner.rows("#events")
		if len(rows) < 2 {
			t.Fatalf("4xx rows = %q", rows)
		}
		for _, r := range rows {
			if !strings.HasPrefix(r[2], "4") {
				t.Errorf("a %s event under the 4xx filter", r[2])
			}
		}
		owner.shot("events-4xx")
		owner.open("/console/provisioning/events?status=5xx")
		if !owner.present("#no-events") {
			t.Error("no empty state under the 5xx filter")
		}
		owner.shot("events-empty")
	})

	t.Run("EventDetail", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/provisioning/events?status=4xx&method=POST")
		owner.click("#events tbody tr .evlink")
		if got := owner.text("#explanation"); !strings.Contains(got, "already exists") {
			t.Errorf("explanation = %q", got)
		}
		if got := owner.text("#request-body"); !strings.Contains(got, "alice@example.com") {
			t.Errorf("request body = %q", got)
		}
		owner.shot("event-detail")
	})

	t.Run("GoogleDryRun", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/integrations/google")
		owner.shot("google-connect")
		owner.do(chromedp.SetUploadFiles(chromedp.CSS("#g-key"), []string{key}),
			chromedp.SendKeys(chromedp.CSS("#g-email"), "admin@example.com"))
		owner.click("#connect-google")
		if got := owner.text("#notice"); !strings.Contains(got, "connected") {
			t.Fatalf("after connect: %q (error: %q)", got, owner.html())
		}
		owner.shot("google")
		owner.open("/console/provisioning/bridge")
		owner.shot("bridge")
		owner.click("#dry-run")
		if got := owner.text("#report-status"); got != "dry-run" {
			t.Fatalf("report status = %q", got)
		}
		if got := owner.text("#report-counts"); !strings.Contains(got, "40\ncreated") && !strings.Contains(got, "40 created") {
			t.Errorf("counts = %q", got)
		}
		if rows := owner.rows("#report-items"); len(rows) != 40 || !strings.Contains(rows[0][1], "create") {
			t.Errorf("report items = %d rows (%q)", len(rows), rows)
		}
		owner.shot("report-dry-run")
	})

	t.Run("ExcludedUsernames", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/provisioning/bridge")
		owner.do(chromedp.SendKeys(chromedp.CSS("#exclude-user"), "user05@example.com"))
		owner.click("#add-excluded")
		if rows := owner.rows("#excluded"); len(rows) != 1 || rows[0][0] != "user05@example.com" {
			t.Fatalf("excluded = %q", rows)
		}
		owner.shot("bridge-excluded")
		owner.click("#excluded tbody tr button")
		if owner.present("#excluded") {
			t.Errorf("still excluded: %q", owner.rows("#excluded"))
		}
	})

	t.Run("HeldPlan", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/provisioning/bridge")
		owner.click("#run-now")
		if got := owner.text("#report-status"); got != "applied" {
			t.Fatalf("first run = %q", got)
		}
		owner.shot("report-applied")
		g.SetUsers(googleUsers(30)) // ten users leave Google: more than the guard lets through
		owner.open("/console/provisioning/bridge")
		owner.click("#run-now")
		if got := owner.text("#report-status"); got != "held" {
			t.Fatalf("shrunk run = %q", got)
		}
		if !owner.present("#held-plan") || !owner.present("#approve") || !owner.present("#discard") {
			t.Fatal("the owner sees no held plan with Approve and Discard")
		}
		if rows := owner.rows("#held-items"); len(rows) != 10 || !strings.Contains(rows[0][1], "deactivate") {
			t.Errorf("held items = %q", rows)
		}
		if got := owner.text("#held-plan"); !strings.Contains(got, "Why:") {
			t.Errorf("held plan says no reason: %q", got)
		}
		owner.shot("report-held")
		owner.open("/console/")
		// Its first render may find the chart still being counted, and
		// say so: the page is loaded again, as a user would.
		for i := 0; i < 100 && owner.present("#chart-counting"); i++ {
			time.Sleep(50 * time.Millisecond)
			owner.open("/console/")
		}
		if !owner.present("#held-banner") || !owner.present("#events-chart") {
			t.Error("the overview shows no held-plan banner or no chart")
		}
		owner.shot("overview")

		viewer := newBrowser(t, chromium, mainURL, "viewer")
		viewer.open("/console/setup/" + consoleLink(t, e, "viewer"))
		viewer.click("#use-link")
		viewer.open("/console/reports")
		viewer.click("#reports tbody tr a")
		if viewer.text("#report-status") != "held" {
			t.Fatalf("viewer opened %s", viewer.location())
		}
		if viewer.present("#approve") || viewer.present("#discard") || !viewer.present("#viewer-note") {
			t.Error("a viewer sees Approve or Discard")
		}
		if viewer.present("form[method=post]:not(.signout)") {
			t.Error("a viewer sees a form that changes something")
		}
		viewer.shot("report-held")
		viewer.open("/console/provisioning")
		if viewer.present("#enable-scim, #regenerate, #delete-config") {
			t.Error("a viewer sees SCIM actions")
		}
		viewer.shot("provisioning")

		owner.open("/console/reports")
		owner.shot("reports")
		owner.click("#reports tbody tr a")
		owner.click("#approve")
		if got := owner.text("#report-status"); got != "applied" {
			t.Fatalf("approval run = %q", got)
		}
		if got := owner.text("#report-counts"); !strings.Contains(got, "10\ndeactivated") && !strings.Contains(got, "10 deactivated") {
			t.Errorf("approval counts = %q", got)
		}
		owner.shot("report-approved")
	})

	t.Run("OtherPages", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/directory")
		if rows := owner.rows("#users"); len(rows) != 41 {
			t.Errorf("directory lists %d users, want 41", len(rows))
		}
		owner.shot("directory")
		owner.open("/console/directory?q=ALI")
		if rows := owner.rows("#users"); len(rows) != 1 || rows[0][0] != "alice@example.com" {
			t.Errorf("search alice = %q", rows)
		}
		owner.shot("directory-search")
		owner.open("/console/directory?tab=groups")
		owner.shot("directory-groups")
		owner.open("/console/webhooks")
		if !owner.present("#no-webhooks") {
			t.Error("the webhooks page has no empty state")
		}
		owner.shot("webhooks")
		owner.open("/console/admin-tokens")
		if owner.present("#create-token") || owner.present("#create-link") {
			t.Error("a session signed in by a setup link sees token or link creation")
		}
		if rows := owner.rows("#setup-links"); len(rows) != 2 {
			t.Errorf("setup links = %q", rows)
		}
		owner.shot("admin-tokens")
	})

	t.Run("SignOut", func(t *testing.T) {
		owner := owner.on(t)
		owner.open("/console/")
		owner.click("#sign-out")
		if !strings.Contains(owner.location(), "/console/sign-in") {
			t.Fatalf("after sign-out: %s", owner.location())
		}
		owner.open("/console/provisioning")
		if !strings.Contains(owner.location(), "/console/sign-in") {
			t.Errorf("the session survived sign-out: %s", owner.location())
		}
	})
	if p.find(regexp.MustCompile(`level=ERROR`)) != "" {
		t.Errorf("serve logged an error:\n%s", p.log())
	}
}

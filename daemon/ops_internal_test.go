package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	dto "github.com/prometheus/client_model/go"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scimserver"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestJournalHandler_Fields(t *testing.T) {
	type entry struct {
		msg    string
		pri    journal.Priority
		fields map[string]string
	}
	var got []entry
	send := func(msg string, p journal.Priority, f map[string]string) error {
		got = append(got, entry{msg, p, f})
		return nil
	}
	level := new(slog.LevelVar)
	logger := slog.New(newJournalHandler("text", level, send))
	logger.With("org_id", "o-1").WithGroup("req").Warn("scim request failed", "request_id", "r-9", "status", 500)
	logger.Debug("hidden")
	logger.Info("run", "run_id", "u-2", "message", "clash")
	if len(got) != 2 {
		t.Fatalf("%d entries, want 2 (debug is below the level)", len(got))
	}
	t.Run("AttributesAreFields", func(t *testing.T) {
		f := got[0].fields
		if f["ORG_ID"] != "o-1" || f["REQ_REQUEST_ID"] != "r-9" || f["REQ_STATUS"] != "500" || f["SYSLOG_IDENTIFIER"] != "scimbridge" {
			t.Errorf("fields = %v", f)
		}
		if got[0].pri != journal.PriWarning || got[1].pri != journal.PriInfo {
			t.Errorf("priorities %d, %d", got[0].pri, got[1].pri)
		}
		if got[1].fields["RUN_ID"] != "u-2" || got[1].fields["ATTR_MESSAGE"] != "clash" {
			t.Errorf("fields = %v", got[1].fields)
		}
	})
	t.Run("MessageIsTheFormattedLine", func(t *testing.T) {
		want := `msg="scim request failed" org_id=o-1 req.request_id=r-9 req.status=500`
		if got[0].msg != want {
			t.Errorf("MESSAGE = %q, want %q", got[0].msg, want)
		}
		if strings.Contains(got[0].msg, "time=") || strings.Contains(got[0].msg, "level=") {
			t.Errorf("MESSAGE repeats what the journal records: %q", got[0].msg)
		}
	})
	t.Run("LevelChanges", func(t *testing.T) {
		level.Set(slog.LevelDebug)
		logger.Debug("shown")
		if len(got) != 3 || got[2].pri != journal.PriDebug {
			t.Errorf("debug entry after the level changed: %v", got)
		}
	})
	t.Run("JSONFormat", func(t *testing.T) {
		var msg string
		l := slog.New(newJournalHandler("json", level, func(m string, _ journal.Priority, _ map[string]string) error {
			msg = m
			return nil
		}))
		l.Info("hello", "org_id", "o-1")
		if msg != `{"msg":"hello","org_id":"o-1"}` {
			t.Errorf("MESSAGE = %q", msg)
		}
	})
}

// fakeSCIM records the settings a reload applies.
type fakeSCIM struct {
	proxies []netip.Prefix
	rate    float64
	burst   int
}

func (f *fakeSCIM) SetTrustedProxies(p []netip.Prefix) { f.proxies = p }
func (f *fakeSCIM) SetRateLimit(rate float64, burst int) {
	f.rate, f.burst = rate, burst
}

func TestReloader_Reload(t *testing.T) {
	base := configs.Default(func(string) string { return "" })
	base.DataDir = "/var/lib/scimbridge"
	base.Database.URL = "postgres://u:secret@db/x"
	var logs bytes.Buffer
	level := new(slog.LevelVar)
	scim := &fakeSCIM{}
	next := base
	var loadErr error
	r := &reloader{logger: slog.New(slog.NewTextHandler(&logs, nil)), level: level, scim: scim, running: base,
		load: func() (configs.Config, error) { return next, loadErr }}

	t.Run("AppliesChangeableSettings", func(t *testing.T) {
		next.Log.Level = "debug"
		next.TrustedProxies = []string{"10.0.0.0/8"}
		next.SCIM.RateLimit, next.SCIM.RateBurst = 5, 10
		r.reload()
		if level.Level() != slog.LevelDebug || scim.rate != 5 || scim.burst != 10 ||
			len(scim.proxies) != 1 || scim.proxies[0].String() != "10.0.0.0/8" {
			t.Errorf("applied: level %v, rate %v/%v, proxies %v", level.Level(), scim.rate, scim.burst, scim.proxies)
		}
		want := `msg="configuration reloaded" changed="log.level: info -> debug; trusted_proxies: [] -> [10.0.0.0/8]; scim.rate_limit: 50 -> 5; scim.rate_burst: 200 -> 10"`
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log = %s\nwant %s", logs.String(), want)
		}
	})
	t.Run("NothingChanged", func(t *testing.T) {
		logs.Reset()
		r.reload()
		if !strings.Contains(logs.String(), `msg="configuration reloaded: nothing changed"`) {
			t.Errorf("log = %s", logs.String())
		}
	})
	t.Run("RestartKeysNamedWithoutValues", func(t *testing.T) {
		logs.Reset()
		next.Listen = "127.0.0.1:8081"
		next.Database.URL = "postgres://u:other-secret@db/x"
		r.reload()
		if !strings.Contains(logs.String(), `needs_restart="listen, database.url"`) || strings.Contains(logs.String(), "secret") {
			t.Errorf("log = %s", logs.String())
		}
	})
	t.Run("InvalidConfigurationChangesNothing", func(t *testing.T) {
		logs.Reset()
		loadErr = &configs.ValidationError{Problems: []configs.Problem{{Key: "log.level", Message: "must be one of debug, info, warn, error"}}}
		next.Log.Level = "info"
		r.reload()
		if level.Level() != slog.LevelDebug || !strings.Contains(logs.String(), "configuration reload failed") ||
			!strings.Contains(logs.String(), "log.level") {
			t.Errorf("level %v, log %s", level.Level(), logs.String())
		}
	})
}

func TestWithDatabasePassword(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "database-password"), []byte("p@ss/word\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "CREDENTIALS_DIRECTORY" {
			return dir
		}
		return ""
	}
	for _, c := range []struct{ name, in, want string }{
		{"Added", "postgres://scim@db:5432/x?sslmode=disable", "postgres://scim:p%40ss%2Fword@db:5432/x?sslmode=disable"},
		{"URLPasswordWins", "postgres://scim:mine@db/x", "postgres://scim:mine@db/x"},
		{"SQLiteUntouched", "sqlite:///var/lib/x.db", "sqlite:///var/lib/x.db"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg configs.Config
			cfg.Database.URL = c.in
			got, err := withDatabasePassword(cfg, env)
			if err != nil || got.Database.URL != c.want {
				t.Errorf("url = %q (%v), want %q", got.Database.URL, err, c.want)
			}
		})
	}
	t.Run("NoCredential", func(t *testing.T) {
		var cfg configs.Config
		cfg.Database.URL = "postgres://scim@db/x"
		got, err := withDatabasePassword(cfg, func(string) string { return t.TempDir() })
		if err != nil || got.Database.URL != cfg.Database.URL {
			t.Errorf("url = %q (%v)", got.Database.URL, err)
		}
	})
}

func TestClusterState_StatusText(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	st := clusterState{organizations: 3}
	if got := st.statusText(now); got != "serving 3 organizations" {
		t.Errorf("status = %q", got)
	}
	st.bridges = []bridgeState{
		{slug: "acme", Bridge: scimbridge.Bridge{LastSyncAt: at(5 * time.Minute), LastSuccessAt: at(5 * time.Minute)}},
		{slug: "beta", Bridge: scimbridge.Bridge{LastSyncAt: at(90 * time.Second), LastSuccessAt: at(time.Hour),
			LastError: "cannot decrypt credentials"}},
		{slug: "new"},
	}
	want := "serving 3 organizations, 3 Google bridges; last reconcile: beta 1m30s ago (failed: cannot decrypt credentials)"
	if got := st.statusText(now); got != want {
		t.Errorf("status = %q\nwant     %q", got, want)
	}
	one := clusterState{organizations: 1, bridges: st.bridges[2:]}
	if got := one.statusText(now); got != "serving 1 organization, 1 Google bridge; no reconcile yet" {
		t.Errorf("status = %q", got)
	}
}

func TestMetrics_InstrumentSCIM(t *testing.T) {
	m := newMetrics(&metricsSources{clock: time.Now, logger: slog.New(slog.DiscardHandler)})
	srv := scimserver.New(scimserver.Config{Store: storetest.OpenSQLite(t), PublicURL: "http://127.0.0.1"})
	h := m.instrumentSCIM(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("{}"))
	}), srv.Route)
	for _, path := range []string{"/Users/1", "/Users/2", "/Users/missing", "/Schemas/urn:x", "/nowhere/at/all"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", scim.BasePath+path, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", scim.BasePath+"/Users", nil))
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"GET", "/Users/{id}", "200"}, 2},
		{[]string{"GET", "/Users/{id}", "404"}, 1},
		{[]string{"GET", "/Schemas/{urn}", "200"}, 1},
		{[]string{"GET", "other", "200"}, 1},
		{[]string{"other", "/Users", "200"}, 1},
	} {
		var mm dto.Metric
		if err := m.scimRequests.WithLabelValues(c.labels...).Write(&mm); err != nil {
			t.Fatal(err)
		}
		if got := mm.GetCounter().GetValue(); got != c.want {
			t.Errorf("requests%v = %v, want %v", c.labels, got, c.want)
		}
	}
}

func TestHandleSignals(t *testing.T) {
	exited := make(chan int, 1)
	var stderr bytes.Buffer
	ctx, reload, stop := HandleSignals(context.Background(), &stderr, func(code int) { exited <- code })
	defer stop()
	kill := func(sig syscall.Signal) {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
	}
	kill(syscall.SIGHUP)
	select {
	case <-reload:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP did not ask for a reload")
	}
	if ctx.Err() != nil {
		t.Fatal("SIGHUP cancelled the context")
	}
	kill(syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err() = %v", ctx.Err())
	}
	kill(syscall.SIGINT)
	select {
	case code := <-exited:
		if code != 128+int(syscall.SIGINT) {
			t.Errorf("exit code %d after a second signal", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not exit")
	}
}

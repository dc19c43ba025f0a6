package daemon

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scimserver"
)

// Options are what a caller of Serve supplies besides the configuration.
// Every field is optional.
type Options struct {
	// Logger receives the logs; nil builds one from the configuration,
	// writing to Stderr (to journald directly when Stderr is connected to
	// it), whose level a configuration reload changes.
	Logger *slog.Logger
	// Stderr is where the default logger writes; nil means os.Stderr.
	Stderr io.Writer
	// Stdout receives the bootstrap credentials when it is a terminal;
	// otherwise they go to <data dir>/bootstrap-credentials.
	Stdout io.Writer
	// Clock is the time source; nil is the system clock in UTC.
	Clock scimbridge.Clock
	// Getenv reads $CREDENTIALS_DIRECTORY and the SCIMBRIDGE_TEST_*
	// settings; nil means os.Getenv.
	Getenv func(string) string
	// Ready, when set, receives the bound addresses once the database is
	// migrated and both listeners accept connections. Serve does not wait
	// for a receiver: give it a buffer of one.
	Ready chan<- Addrs
	// Reload, when set, makes Serve load the configuration again with
	// LoadConfig and apply what can change while running (log level,
	// trusted proxies, rate limits) each time it receives. Unset, Serve
	// listens to the channel WithReload put in its context (SIGHUP).
	Reload <-chan struct{}
	// LoadConfig loads the configuration again on a reload; nil means a
	// reload only logs that it is not possible.
	LoadConfig func() (configs.Config, error)
}

// Addrs are the addresses serve is bound to; with port 0 in the
// configuration they name the ports the system chose.
type Addrs struct {
	Main      net.Addr // SCIM API
	Ops       net.Addr // /healthz, /readyz, /metrics
	PublicURL string   // public_url, with the bound port when it was 0
}

// Timings of the retention purge and of the main loop.
const (
	purgeFirstDelay = time.Minute
	purgeInterval   = time.Hour
	purgeBatch      = 1000
	// statusInterval is how often the systemd status line is refreshed.
	statusInterval = 30 * time.Second
)

func serveCommands() []command {
	return []command{
		{name: "serve", summary: "run the daemon: SCIM API, Google bridge scheduler and ops endpoints", run: runServe},
		{name: "migrate", summary: "apply database migrations", run: runMigrate},
	}
}

func runServe(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("serve", false)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	cfg, err := c.config(f)
	if err != nil {
		return err
	}
	err = Serve(ctx, cfg, Options{Stdout: c.stdout, Stderr: c.stderr, Clock: c.clock, Getenv: c.getenv,
		LoadConfig: func() (configs.Config, error) { return c.config(f) }})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // stopped by a signal while starting
	}
	return err
}

// Serve runs the daemon until ctx is cancelled: it opens and migrates the
// database (bootstrapping an empty one when configured), serves the SCIM
// API on the main listener and /healthz, /readyz and /metrics on the ops
// listener, runs the Google bridges on their schedules and purges expired
// events. It tells systemd when it is ready, pings its watchdog and keeps
// its status line current. On cancellation it stops accepting, drains
// in-flight requests and stops a running reconcile between batches within
// cfg.ShutdownTimeout, writes the buffered events, releases its leases,
// closes the database and returns nil.
func Serve(ctx context.Context, cfg configs.Config, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	started := time.Now()
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return time.Now().UTC() }
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Reload == nil {
		opts.Reload = reloadRequests(ctx)
	}
	cfg, err := withDatabasePassword(cfg, opts.Getenv)
	if err != nil {
		return err
	}
	if load := opts.LoadConfig; load != nil {
		opts.LoadConfig = func() (configs.Config, error) {
			c, err := load()
			if err != nil {
				return c, err
			}
			return withDatabasePassword(c, opts.Getenv)
		}
	}
	logger, level := opts.Logger, (*slog.LevelVar)(nil)
	if logger == nil {
		logger, level = newServeLogger(cfg.Log, opts.Stderr)
	}
	notify := newNotifier(logger)
	notify.status("starting: opening the database")

	db, err := openDatabase(ctx, cfg, logger, opts.Clock, openServe)
	if err != nil {
		return err
	}
	// Set once stopping: the flush of the events and the database's close
	// must end by then even when the database hangs.
	var stopBy time.Time
	defer func() { closeDatabase(db, stopBy, cfg.ShutdownTimeout.Duration(), logger) }()
	if err := checkSchema(ctx, db, false); err != nil {
		return err
	}

	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	mainLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer mainLn.Close()
	opsLn, err := net.Listen("tcp", cfg.OpsListen)
	if err != nil {
		return fmt.Errorf("listen on %s (ops): %w", cfg.OpsListen, err)
	}
	defer opsLn.Close()
	publicURL := boundPublicURL(cfg.PublicURL, mainLn.Addr())

	notify.status("starting: migrating the database")
	var bootstrap func(context.Context) error
	if cfg.Bootstrap() {
		b := &bootstrapper{db: db, clock: opts.Clock, logger: logger, stdout: opts.Stdout,
			dataDir: cfg.DataDir, baseURL: publicURL + scim.BasePath}
		bootstrap = b.run
	}
	if err := db.Migrate(ctx, bootstrap); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}

	src := metricsSources{store: db, clock: opts.Clock, logger: logger}
	if p, ok := db.(interface{ Stats() map[string]sql.DBStats }); ok {
		src.pools = p.Stats
	}
	m := newMetrics(&src)
	scimSvc := newSCIMService(cfg, publicURL, db, logger, opts.Clock)
	if s, ok := scimSvc.(interface{ Stats() scimserver.Stats }); ok {
		src.scim = s.Stats
	}
	scheduler := newBridgeScheduler(cfg, publicURL, opts.Getenv, db, logger, opts.Clock, m)

	mainMux := http.NewServeMux()
	mainMux.Handle(scim.BasePath+"/", m.instrumentSCIM(scimSvc.Handler(), scimSvc.Route))
	mainSrv := &http.Server{
		Handler:           mainMux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	var stopping atomic.Bool
	opsSrv := &http.Server{
		Handler:           opsHandler(db, logger, m.handler(logger), &stopping),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The main listener, the bridge scheduler and the purge run in g until
	// runCtx ends; the first to fail stops the others.
	var g group
	g.cancel = stop
	timeout := cfg.ShutdownTimeout.Duration()
	g.run(func() error { return serveHTTP(runCtx, "main", mainSrv, mainLn, tlsConfig != nil, timeout, logger) })
	g.run(func() error {
		p := purger{db: db, clock: opts.Clock, logger: logger, events: cfg.Events.Retention.Duration()}
		return p.run(runCtx, purgeFirstDelay, purgeInterval)
	})
	g.run(func() error {
		if err := scheduler.Run(runCtx); err != nil {
			return fmt.Errorf("run bridge scheduler: %w", err)
		}
		return nil
	})
	// The ops listener answers until the end, /readyz saying 503 once
	// stopping; the SCIM server's writer outlives the main listener: it
	// stops only once no request can produce another event.
	opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOps()
	opsDone := make(chan struct{})
	go func() {
		defer close(opsDone)
		if err := serveHTTP(opsCtx, "ops", opsSrv, opsLn, false, timeout, logger); err != nil {
			g.fail(err)
		}
	}()
	scimCtx, stopSCIM := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSCIM()
	scimDone := make(chan struct{})
	go func() {
		defer close(scimDone)
		if err := scimSvc.Run(scimCtx); err != nil {
			g.fail(fmt.Errorf("run SCIM server: %w", err))
		}
	}()

	logger.Info("listening", "listener", "main", "addr", mainLn.Addr().String(), "tls", tlsConfig != nil, "public_url", publicURL)
	logger.Info("listening", "listener", "ops", "addr", opsLn.Addr().String())
	if !cfg.IsLoopbackListen() && tlsConfig == nil {
		logger.Warn("main listener is reachable from other machines without TLS: set tls_cert_file and tls_key_file or put it behind a TLS proxy", "addr", mainLn.Addr().String())
	}
	loop := mainLoop{db: db, clock: opts.Clock, logger: logger, notify: notify,
		reload: &reloader{logger: logger, level: level, running: cfg, load: opts.LoadConfig}}
	if s, ok := scimSvc.(scimSettings); ok {
		loop.reload.scim = s
	}
	status := loop.statusText(runCtx)
	notify.ready(status)
	logger.Info("ready", "startup", time.Since(started).Round(time.Millisecond), "status", status)
	if opts.Ready != nil {
		select {
		case opts.Ready <- Addrs{Main: mainLn.Addr(), Ops: opsLn.Addr(), PublicURL: publicURL}:
		default:
			logger.Warn("ready channel not receiving; addresses not sent")
		}
	}

	loop.run(runCtx, opts.Reload)

	// Shutting down: the main listener drains, the scheduler stops its
	// runs between batches and releases their leases (g), then the
	// buffered events are written and the ops listener closes.
	stopping.Store(true)
	notify.stopping("stopping: draining requests and stopping reconciles")
	stopPings := notify.keepAlive()
	defer stopPings()
	logger.Info("stopping", "timeout", timeout)
	stopBy = time.Now().Add(timeout)
	stop()
	waitGroup(&g, timeout+5*time.Second, logger)
	stopSCIM()
	waitBefore(scimDone, stopBy, "writing the buffered events", logger)
	stopOps()
	<-opsDone
	if err := g.err(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// waitGroup waits for g, at most limit: a reconcile batch that outlives
// the shutdown timeout is abandoned (its transaction rolls back when the
// database closes; its lease expires).
func waitGroup(g *group, limit time.Duration, logger *slog.Logger) {
	done := make(chan struct{})
	go func() {
		g.wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		logger.Warn("shutdown: work still running after the shutdown timeout; exiting without it", "timeout", limit)
	}
}

// boundPublicURL replaces port 0 in the public URL (derived from a listen
// address with port 0) by the port the main listener got.
func boundPublicURL(publicURL string, addr net.Addr) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Port() != "0" {
		return publicURL
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return publicURL
	}
	u.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(tcp.Port))
	return u.String()
}

// serveHTTP serves srv on ln until ctx is cancelled, then shuts it down,
// giving in-flight requests up to timeout to finish.
func serveHTTP(ctx context.Context, name string, srv *http.Server, ln net.Listener, useTLS bool, timeout time.Duration, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s listener: %w", name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown timeout: closing connections with requests still running", "listener", name, "timeout", timeout)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s listener: %w", name, err)
	}
	return nil
}

// group runs functions in goroutines, keeps the first error and cancels
// the others' context when one fails.
type group struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	first  error
	cancel context.CancelFunc
}

func (g *group) run(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first == nil {
		g.first = err
	}
	g.cancel()
}

func (g *group) wait() { g.wg.Wait() }

func (g *group) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first
}

func runMigrate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("migrate", true)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	cfg, err := c.config(f)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, c.stderr, slog.LevelInfo)
	db, err := openDatabase(ctx, cfg, logger, c.clock, openMigrate)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkSchema(ctx, db, false); err != nil {
		return err
	}
	before, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	// The bootstrap belongs to serve's first start: it runs there as long
	// as the database holds no organization.
	if err := db.Migrate(ctx, nil); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	after, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if f.json {
		return writeJSON(c.stdout, map[string]int{"from_version": before, "version": after})
	}
	if before == after {
		fmt.Fprintf(c.stdout, "Database schema is current (version %d).\n", after)
	} else {
		fmt.Fprintf(c.stdout, "Database schema migrated from version %d to %d.\n", before, after)
	}
	return nil
}

package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
)

// Options are what a caller of Serve supplies besides the configuration.
// Every field is optional.
type Options struct {
	// Logger receives the logs; nil builds one from the configuration,
	// writing to Stderr.
	Logger *slog.Logger
	// Stderr is where the default logger writes; nil means os.Stderr.
	Stderr io.Writer
	// Stdout receives the bootstrap credentials when it is a terminal;
	// otherwise they go to <data dir>/bootstrap-credentials.
	Stdout io.Writer
	// Clock is the time source; nil is the system clock in UTC.
	Clock scimbridge.Clock
	// Ready, when set, receives the bound addresses once the database is
	// migrated and both listeners accept connections. Serve does not wait
	// for a receiver: give it a buffer of one.
	Ready chan<- Addrs
}

// Addrs are the addresses serve is bound to; with port 0 in the
// configuration they name the ports the system chose.
type Addrs struct {
	Main      net.Addr // SCIM API
	Ops       net.Addr // /healthz, /readyz
	PublicURL string   // public_url, with the bound port when it was 0
}

// Timings of the retention purge.
const (
	purgeFirstDelay = time.Minute
	purgeInterval   = time.Hour
	purgeBatch      = 1000
)

func serveCommands() []command {
	return []command{
		{name: "serve", summary: "run the daemon: SCIM API and ops endpoints", run: runServe},
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
	err = Serve(ctx, cfg, Options{Stdout: c.stdout, Stderr: c.stderr, Clock: c.clock})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // stopped by a signal while starting
	}
	return err
}

// Serve runs the daemon until ctx is cancelled: it opens and migrates the
// database (bootstrapping an empty one when configured), serves the SCIM
// API on the main listener and /healthz and /readyz on the ops listener,
// and purges expired events. On cancellation it stops accepting, drains
// in-flight requests within cfg.ShutdownTimeout, drains the event writer,
// closes the database and returns nil.
func Serve(ctx context.Context, cfg configs.Config, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return time.Now().UTC() }
	}
	logger := opts.Logger
	if logger == nil {
		logger = newLogger(cfg.Log, opts.Stderr, slog.LevelDebug)
	}

	db, err := openDatabase(ctx, cfg, logger, opts.Clock, openServe)
	if err != nil {
		return err
	}
	defer db.Close()
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

	var bootstrap func(context.Context) error
	if cfg.Bootstrap() {
		b := &bootstrapper{db: db, clock: opts.Clock, logger: logger, stdout: opts.Stdout,
			dataDir: cfg.DataDir, baseURL: publicURL + scimBasePath}
		bootstrap = b.run
	}
	if err := db.Migrate(ctx, bootstrap); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}

	scim := newSCIMService(cfg, publicURL, db, logger, opts.Clock)
	mainMux := http.NewServeMux()
	mainMux.Handle(scimBasePath+"/", scim.Handler())
	mainSrv := &http.Server{
		Handler:           mainMux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	opsSrv := &http.Server{
		Handler:           opsHandler(db, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Every long-lived part runs in g until runCtx ends; the first to fail
	// stops the others.
	var g group
	g.cancel = stop
	timeout := cfg.ShutdownTimeout.Duration()
	g.run(func() error { return serveHTTP(runCtx, "main", mainSrv, mainLn, tlsConfig != nil, timeout, logger) })
	g.run(func() error { return serveHTTP(runCtx, "ops", opsSrv, opsLn, false, timeout, logger) })
	g.run(func() error {
		p := purger{db: db, clock: opts.Clock, logger: logger, events: cfg.Events.Retention.Duration()}
		return p.run(runCtx, purgeFirstDelay, purgeInterval)
	})
	// The SCIM server's writer outlives the listeners: it stops only once
	// no request can produce another event.
	scimCtx, stopSCIM := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSCIM()
	scimDone := make(chan struct{})
	go func() {
		defer close(scimDone)
		if err := scim.Run(scimCtx); err != nil {
			g.fail(fmt.Errorf("run SCIM server: %w", err))
		}
	}()

	logger.Info("listening", "listener", "main", "addr", mainLn.Addr().String(), "tls", tlsConfig != nil, "public_url", publicURL)
	logger.Info("listening", "listener", "ops", "addr", opsLn.Addr().String())
	if !cfg.IsLoopbackListen() && tlsConfig == nil {
		logger.Warn("main listener is reachable from other machines without TLS: set tls_cert_file and tls_key_file or put it behind a TLS proxy", "addr", mainLn.Addr().String())
	}
	if opts.Ready != nil {
		select {
		case opts.Ready <- Addrs{Main: mainLn.Addr(), Ops: opsLn.Addr(), PublicURL: publicURL}:
		default:
			logger.Warn("ready channel not receiving; addresses not sent")
		}
	}

	g.wait()
	stopSCIM()
	<-scimDone
	if err := g.err(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
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

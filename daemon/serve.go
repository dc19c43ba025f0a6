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
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scimserver"
	"github.com/scimbridge/scimbridge/webhook"
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
	// trusted proxies, rate limits) each time it receives (SIGHUP: see
	// HandleSignals).
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
	Admin     net.Addr // admin API and console: Main unless admin_listen is set
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

// Serve runs the daemon until ctx is cancelled: Open, Run, Close.
func Serve(ctx context.Context, cfg configs.Config, opts Options) error {
	s := NewServer(cfg, opts)
	defer s.Close()
	if err := s.Open(ctx); err != nil {
		return err
	}
	return s.Run(ctx)
}

// Server is the daemon that serve runs. Open opens and migrates the
// database (bootstrapping an empty one when configured) and binds the
// listeners; Run serves the SCIM API on the main listener and /healthz,
// /readyz and /metrics on the ops listener, runs the Google bridges on
// their schedules and purges expired events until its context ends, then
// shuts down gracefully; Close releases what Open took.
type Server struct {
	cfg  configs.Config
	opts Options

	started time.Time
	logger  *slog.Logger
	level   *slog.LevelVar // nil when the caller supplied the logger
	notify  *notifier

	db        database
	mainLn    net.Listener
	opsLn     net.Listener
	adminLn   net.Listener // nil: the admin side is on the main listener
	useTLS    bool
	publicURL string

	scim      *scimserver.Server
	admin     *admin.Admin // the admin operations, with the Google settings
	changes   *changesFeed
	scheduler *bridge.Scheduler
	webhooks  *webhook.Worker // nil when the store keeps no changes feed
	purger    purger
	mainSrv   *http.Server
	opsSrv    *http.Server
	adminSrv  *http.Server
	adminSide *adminSide
	// stopping makes /readyz answer 503 while Run shuts down.
	stopping atomic.Bool
	// stopBy is when shutdown must be over, set once Run starts stopping
	// (zero before): Close abandons a database close still waiting then.
	stopBy time.Time
}

// NewServer returns a server for the configuration; opts' unset fields
// take their defaults.
func NewServer(cfg configs.Config, opts Options) *Server {
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
	if load := opts.LoadConfig; load != nil {
		opts.LoadConfig = func() (configs.Config, error) {
			c, err := load()
			if err != nil {
				return c, err
			}
			return withDatabasePassword(c, opts.Getenv)
		}
	}
	return &Server{cfg: cfg, opts: opts}
}

// Open validates the configuration, opens and migrates the database, binds
// both listeners and builds the parts Run runs. After an error, Close
// releases what was opened.
func (s *Server) Open(ctx context.Context) error {
	s.started = time.Now()
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	cfg, err := withDatabasePassword(s.cfg, s.opts.Getenv)
	if err != nil {
		return err
	}
	s.cfg = cfg
	s.logger = s.opts.Logger
	if s.logger == nil {
		s.logger, s.level = newServeLogger(cfg.Log, s.opts.Stderr)
	}
	s.notify = newNotifier(s.logger)
	s.notify.status("starting: opening the database")

	if s.db, err = openDatabase(ctx, cfg, s.logger, s.opts.Clock, openServe); err != nil {
		return err
	}
	if err := checkSchema(ctx, s.db, false); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		s.useTLS = true
	}
	if s.mainLn, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if s.opsLn, err = net.Listen("tcp", cfg.OpsListen); err != nil {
		return fmt.Errorf("listen on %s (ops): %w", cfg.OpsListen, err)
	}
	if cfg.AdminListen != "" {
		if s.adminLn, err = net.Listen("tcp", cfg.AdminListen); err != nil {
			return fmt.Errorf("listen on %s (admin): %w", cfg.AdminListen, err)
		}
	}
	s.publicURL = boundPublicURL(cfg.PublicURL, s.mainLn.Addr())

	s.notify.status("starting: migrating the database")
	var bootstrap func(context.Context) error
	if cfg.Bootstrap() {
		b := &bootstrapper{db: s.db, clock: s.opts.Clock, logger: s.logger, stdout: s.opts.Stdout,
			dataDir: cfg.DataDir, baseURL: s.publicURL + scim.BasePath}
		bootstrap = b.run
	}
	if err := s.db.Migrate(ctx, bootstrap); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}

	keyring, err := openKeyring(ctx, cfg, s.opts.Getenv, s.db, keysServe)
	if err != nil {
		return err
	}
	if s.admin, err = newServeAdmin(cfg, s.opts.Getenv, s.db, keyring, s.logger, s.opts.Clock); err != nil {
		return err
	}
	s.scim = newSCIMService(cfg, s.publicURL, s.db, s.logger, s.opts.Clock)
	m := newMetrics(&metricsSources{store: s.db, clock: s.opts.Clock, logger: s.logger, pools: s.db.Stats, scim: s.scim.Stats})
	s.purger = purger{db: s.db, clock: s.opts.Clock, logger: s.logger, events: cfg.Events.Retention.Duration(),
		changes: cfg.Changes.Retention.Duration()}
	s.scheduler = newBridgeScheduler(keyring, cfg, s.publicURL, s.opts.Getenv, s.db, s.logger, s.opts.Clock, m)
	if s.webhooks, err = newWebhookWorker(keyring, cfg, s.opts.Getenv, s.db, s.logger, s.opts.Clock, m); err != nil {
		return err
	}

	mainMux := http.NewServeMux()
	scimHandler := m.instrumentSCIM(s.scim.Handler(), s.scim.Route)
	mainMux.Handle(scim.BasePath+"/", scimHandler)
	errorLog := slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	s.adminSide = newAdminSide(cfg, s.publicURL, s.admin, s.scheduler.Runner, s.logger)
	// The feed and the console are on the admin side: admin_listen and
	// admin_allowed_cidrs apply to them too.
	s.changes = newChangesFeed(s.db, cfg.Database.URL, s.logger)
	s.changes.mount(s.adminSide.api)
	s.changes.register(m.registry)
	mountConsole(s.adminSide, s.publicURL, s.db, s.scim, s.logger, s.opts.Clock, s.useTLS)
	if s.adminLn == nil {
		s.adminSide.mountOn(mainMux)
	} else {
		s.adminSrv = &http.Server{Handler: s.adminSide.handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig, ErrorLog: errorLog}
	}
	s.mainSrv = &http.Server{Handler: scimserver.Mount(scimHandler, mainMux), ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig, ErrorLog: errorLog}
	s.mainSrv.RegisterOnShutdown(s.changes.stop)
	s.opsSrv = &http.Server{Handler: opsHandler(s.db, s.logger, m.handler(s.logger), &s.stopping),
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}
	return nil
}

// Run serves until ctx is cancelled or a part fails. It tells systemd when
// it is ready, pings its watchdog and keeps its status line current. On
// cancellation it stops accepting, drains in-flight requests and stops a
// running reconcile between batches within the shutdown timeout, writes
// the buffered events, releases its leases and returns nil.
func (s *Server) Run(ctx context.Context) error {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	timeout := s.cfg.ShutdownTimeout.Duration()

	// The ops listener answers until the end, /readyz saying 503 once
	// stopping; the SCIM server's event writer outlives the main
	// listener: it stops only once no request can produce another event.
	// Either failing stops the rest.
	writerCtx, stopWriter := context.WithCancel(context.Background())
	defer stopWriter()
	var last errgroup.Group
	last.Go(func() error {
		return failWith(fail, serveHTTP("ops", s.opsSrv, s.opsLn, false))
	})
	writerDone := make(chan struct{})
	last.Go(func() error {
		defer close(writerDone)
		if err := s.scim.Run(writerCtx); err != nil {
			return failWith(fail, fmt.Errorf("run SCIM server: %w", err))
		}
		return nil
	})

	// The main listener, the bridge scheduler and the purge run until ctx
	// ends; the first to fail stops the others.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP("main", s.mainSrv, s.mainLn, s.useTLS) })
	g.Go(func() error {
		<-gctx.Done()
		shutdownHTTP("main", s.mainSrv, timeout, s.logger)
		return nil
	})
	if s.adminSrv != nil {
		g.Go(func() error { return serveHTTP("admin", s.adminSrv, s.adminLn, s.useTLS) })
		g.Go(func() error {
			<-gctx.Done()
			shutdownHTTP("admin", s.adminSrv, timeout, s.logger)
			return nil
		})
	}
	g.Go(func() error {
		return s.purger.run(gctx, purgeFirstDelay, purgeInterval)
	})
	g.Go(func() error { return s.changes.run(gctx) })
	g.Go(func() error {
		if err := s.scheduler.Run(gctx); err != nil {
			return fmt.Errorf("run bridge scheduler: %w", err)
		}
		return nil
	})
	if s.webhooks != nil {
		g.Go(func() error { return s.webhooks.Run(gctx) })
	}

	loop := mainLoop{db: s.db, clock: s.opts.Clock, logger: s.logger, notify: s.notify,
		reload: &reloader{logger: s.logger, level: s.level, running: s.cfg, load: s.opts.LoadConfig,
			scim: reloadProxies{scimSettings: s.scim, admin: s.adminSide.api}}}
	s.ready(loop.statusText(gctx))
	loop.run(gctx, s.opts.Reload)

	// Shutting down: the main listener drains, the scheduler stops its
	// runs between batches and releases their leases (g), then the
	// buffered events are written and the ops listener closes.
	s.stopping.Store(true)
	s.notify.stopping("stopping: draining requests and stopping reconciles")
	stopPings := s.notify.keepAlive()
	defer stopPings()
	s.logger.Info("stopping", "timeout", timeout)
	// The buffered events and the database's close must end by stopBy
	// even when the database hangs.
	s.stopBy = time.Now().Add(timeout)
	err := waitGroup(g, timeout+5*time.Second, s.logger)
	// The event writer bounds its own drain by the shutdown timeout and
	// logs what it could not write; this wait only abandons a writer stuck
	// past that.
	stopWriter()
	written := waitBefore(writerDone, time.Now().Add(timeout+closeFloor), "writing the buffered events", s.logger)
	shutdownHTTP("ops", s.opsSrv, timeout, s.logger)
	if written {
		if lastErr := last.Wait(); err == nil {
			err = lastErr
		}
	}
	if err != nil {
		return err
	}
	s.logger.Info("stopped")
	return nil
}

// ready logs the listeners, tells systemd and sends the addresses to
// Options.Ready.
func (s *Server) ready(status string) {
	s.logger.Info("listening", "listener", "main", "addr", s.mainLn.Addr().String(), "tls", s.useTLS, "public_url", s.publicURL)
	s.logger.Info("listening", "listener", "ops", "addr", s.opsLn.Addr().String())
	adminAddr := s.mainLn.Addr()
	if s.adminLn != nil {
		adminAddr = s.adminLn.Addr()
		s.logger.Info("listening", "listener", "admin", "addr", adminAddr.String(), "tls", s.useTLS)
	}
	if !s.cfg.IsLoopbackListen() && !s.useTLS {
		s.logger.Warn("main listener is reachable from other machines without TLS: set tls_cert_file and tls_key_file or put it behind a TLS proxy", "addr", s.mainLn.Addr().String())
	}
	s.notify.ready(status)
	s.logger.Info("ready", "startup", time.Since(s.started).Round(time.Millisecond), "status", status)
	if s.opts.Ready != nil {
		select {
		case s.opts.Ready <- Addrs{Main: s.mainLn.Addr(), Ops: s.opsLn.Addr(), Admin: adminAddr, PublicURL: s.publicURL}:
		default:
			s.logger.Warn("ready channel not receiving; addresses not sent")
		}
	}
}

// Close closes the listeners and the database. It is safe after a failed
// Open and after Run.
func (s *Server) Close() error {
	for _, ln := range []net.Listener{s.mainLn, s.opsLn, s.adminLn} {
		if ln != nil {
			ln.Close() // already closed after Run
		}
	}
	if s.db != nil {
		// sql.DB.Close can wait on a connection a hung database no longer
		// answers: it is abandoned at the shutdown deadline.
		closeDatabase(s.db, s.stopBy, s.cfg.ShutdownTimeout.Duration(), s.logger)
		s.db = nil
	}
	return nil
}

// failWith stops the server (fail) when err is not nil, and returns err.
func failWith(fail context.CancelCauseFunc, err error) error {
	if err != nil {
		fail(err)
	}
	return err
}

// waitGroup waits for g, at most limit: a reconcile batch that outlives
// the shutdown timeout is abandoned (its transaction rolls back when the
// database closes; its lease expires).
func waitGroup(g *errgroup.Group, limit time.Duration, logger *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		logger.Warn("shutdown: work still running after the shutdown timeout; exiting without it", "timeout", limit)
		return nil
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

// serveHTTP serves srv on ln until it is shut down.
func serveHTTP(name string, srv *http.Server, ln net.Listener, useTLS bool) error {
	var err error
	if useTLS {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s listener: %w", name, err)
	}
	return nil
}

// shutdownHTTP stops srv accepting and gives in-flight requests up to
// timeout to finish, then closes their connections.
func shutdownHTTP(name string, srv *http.Server, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("shutdown timeout: closing connections with requests still running", "listener", name, "timeout", timeout)
		srv.Close()
	}
}

package daemon

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/adminapi"
	"github.com/scimbridge/scimbridge/feed"
)

// The changes feed in serve: the notifier the store wakes after each
// commit (and, on PostgreSQL, LISTEN/NOTIFY between replicas), the feed
// the admin API serves at GET /api/admin/v1/orgs/{slug}/changes, and the
// feed metrics.

// feedStore is what serve needs of the store for the feed (package
// store's DB).
type feedStore interface {
	feed.Store
	SetChangeNotifier(fn func(orgID string))
	ChangesLag(ctx context.Context) (time.Duration, error)
	Dialect() string
}

// changesFeed is serve's feed.
type changesFeed struct {
	feed     *feed.Feed
	notifier *feed.Notifier
	store    feedStore
	pool     *sql.DB // PostgreSQL: where NOTIFY is sent; nil on SQLite
	dsn      string
	logger   *slog.Logger
	closing  chan struct{}
}

// newChangesFeed wires the feed to db, or returns nil when db cannot serve
// it.
func newChangesFeed(db database, dsn string, logger *slog.Logger) *changesFeed {
	fs, ok := db.(feedStore)
	if !ok {
		return nil
	}
	c := &changesFeed{notifier: feed.NewNotifier(logger), store: fs, dsn: dsn, logger: logger, closing: make(chan struct{})}
	c.feed = &feed.Feed{Store: fs, Notifier: c.notifier, Closing: c.closing}
	if p, ok := db.(interface{ WriteSQLX() *sqlx.DB }); ok && fs.Dialect() == "postgres" {
		c.pool = p.WriteSQLX().DB
	}
	fs.SetChangeNotifier(c.notifier.Notify)
	return c
}

// run connects the notifier to the other replicas (PostgreSQL) until ctx
// ends. A listener that cannot start is logged: waiters then still see
// other replicas' changes within feed's poll interval.
func (c *changesFeed) run(ctx context.Context) error {
	if c == nil || c.pool == nil {
		return nil
	}
	if err := c.notifier.Listen(ctx, c.dsn); err != nil {
		c.logger.Warn("changes feed: cannot listen for other replicas' changes", "err", err)
	}
	c.notifier.Publish(ctx, c.pool)
	return nil
}

// stop ends the long-polls waiting (server shutdown).
func (c *changesFeed) stop() {
	if c != nil {
		close(c.closing)
	}
}

// mount serves the feed as the admin API's changes route, behind its
// authentication and roles.
func (c *changesFeed) mount(api *adminapi.Server) {
	if c != nil {
		api.SetFeed(c.feed)
	}
}

// register adds the feed metrics to reg.
func (c *changesFeed) register(reg *prometheus.Registry) {
	if c == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "changes_feed_lag_seconds",
		Help: "Age of the oldest change record that has committed but cannot be read yet because a transaction that began before it is still in progress (PostgreSQL); 0 when every committed change is readable.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lag, err := c.store.ChangesLag(ctx)
		if err != nil {
			return -1
		}
		return lag.Seconds()
	}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "changes_feed_waiting",
		Help: "Long-polls of the changes feed waiting for a change on this replica.",
	}, func() float64 { return float64(c.notifier.Waiters()) }))
}

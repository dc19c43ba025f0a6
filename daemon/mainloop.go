package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/scimbridge/scimbridge"
)

// mainLoop is serve's loop once it is ready: it pings the systemd
// watchdog, refreshes the status line and applies configuration reloads
// until serve stops.
type mainLoop struct {
	db     scimbridge.Store
	clock  scimbridge.Clock
	logger *slog.Logger
	notify *notifier
	reload *reloader
}

// tick is how often the loop wakes: the watchdog's ping interval, at most
// statusInterval.
func (l *mainLoop) tick() time.Duration {
	if p := l.notify.pingInterval(); p > 0 && p < statusInterval {
		return p
	}
	return statusInterval
}

// run loops until ctx is cancelled. A reload request is applied between
// two ticks; reload may be nil.
func (l *mainLoop) run(ctx context.Context, reload <-chan struct{}) {
	t := time.NewTicker(l.tick())
	defer t.Stop()
	lastStatus := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			l.reload.reload()
		case <-t.C:
			l.notify.ping()
			if time.Since(lastStatus) >= statusInterval-time.Second {
				l.notify.status(l.statusText(ctx))
				lastStatus = time.Now()
			}
		}
	}
}

// statusText is the status line: organizations, bridges and the last
// reconcile. Its database reads are bounded so that a slow database never
// delays the next watchdog ping.
func (l *mainLoop) statusText(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, min(stateTimeout, l.tick()/2))
	defer cancel()
	now := l.clock()
	st, err := readClusterState(ctx, l.db, now)
	if err != nil {
		if ctx.Err() == nil {
			l.logger.Warn("read status", "err", err)
		}
		return "serving; database unreachable: status unknown"
	}
	return st.statusText(now)
}

package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/scimbridge/scimbridge"
)

// purger deletes events, and webhook attempts, older than the events'
// retention. (Reports are purged
// by the bridge scheduler.)
type purger struct {
	db     scimbridge.Store
	clock  scimbridge.Clock
	logger *slog.Logger
	events time.Duration // retention
	// changes is the retention of change records (the changes feed).
	changes time.Duration
}

// run purges after first, then every interval, until ctx is cancelled.
// Failures are logged and retried at the next tick.
func (p purger) run(ctx context.Context, first, interval time.Duration) error {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		p.once(ctx)
		t.Reset(interval)
	}
}

// once runs one purge.
func (p purger) once(ctx context.Context) {
	now := p.clock()
	if n, err := p.db.PurgeEvents(ctx, now.Add(-p.events), purgeBatch); err != nil {
		if ctx.Err() == nil {
			p.logger.Error("purge events", "err", err)
		}
	} else if n > 0 {
		p.logger.Info("purged events", "count", n, "retention", p.events)
	}
	if p.changes > 0 {
		if n, err := p.db.PurgeChanges(ctx, now.Add(-p.changes), purgeBatch); err != nil {
			if ctx.Err() == nil {
				p.logger.Error("purge change records", "err", err)
			}
		} else if n > 0 {
			p.logger.Info("purged change records", "count", n, "retention", p.changes)
		}
	}
	// Webhook attempts are kept as long as events.
	if n, err := p.db.PurgeWebhookAttempts(ctx, now.Add(-p.events), purgeBatch); err != nil {
		if ctx.Err() == nil {
			p.logger.Error("purge webhook attempts", "err", err)
		}
	} else if n > 0 {
		p.logger.Info("purged webhook attempts", "count", n, "retention", p.events)
	}
}

package bridge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
)

// DefaultQueriesPerMinute is Google's default Directory API quota: 2,400
// queries a minute per user per project.
const DefaultQueriesPerMinute = 2400

// limiterWindow is the window a QueryLimiter counts calls in: a minute plus
// a margin, so requests that reach Google later than they left (a slow
// first, a fast last) still fit Google's minute.
const limiterWindow = time.Minute + time.Second

// QueryLimiter keeps Directory API calls within a queries-per-minute budget:
// a call waits until fewer than the budget were made in the window before
// it. A burst up to the budget goes at once; after that calls go as the
// earliest leave the window. One limiter may be shared by several Directory
// clients that count against the same quota. Safe for concurrent use.
type QueryLimiter struct {
	perMinute int
	now       scimbridge.Clock
	sleep     func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	times []time.Time // ring of the last perMinute calls
	next  int
	full  bool
	waits int64
}

// NewQueryLimiter returns a limiter of perMinute calls a minute reading now
// and waiting with sleep (nil: time.Now and a timer).
func NewQueryLimiter(perMinute int, now scimbridge.Clock, sleep func(ctx context.Context, d time.Duration) error) *QueryLimiter {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	if perMinute <= 0 {
		perMinute = DefaultQueriesPerMinute
	}
	return &QueryLimiter{perMinute: perMinute, now: now, sleep: sleep, times: make([]time.Time, perMinute)}
}

// Wait returns when one more call fits the budget, and counts it; or ctx's
// error.
func (l *QueryLimiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for the query budget: %w", err)
		}
		l.mu.Lock()
		now := l.now()
		if !l.full || now.Sub(l.times[l.next]) >= limiterWindow {
			l.times[l.next] = now
			l.next = (l.next + 1) % l.perMinute
			if l.next == 0 {
				l.full = true
			}
			l.mu.Unlock()
			return nil
		}
		wait := l.times[l.next].Add(limiterWindow).Sub(now)
		l.waits++
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait for the query budget: %w", err)
		}
	}
}

// Waits counts how often a call had to wait for the budget.
func (l *QueryLimiter) Waits() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits
}

// WithQueryLimiter makes the Directory's calls wait on l (shared with other
// clients of the same quota); nil turns the limit off. The default is a
// limiter of DefaultQueriesPerMinute per Directory.
func WithQueryLimiter(l *QueryLimiter) Option {
	return func(d *Directory) { d.limiter = l }
}

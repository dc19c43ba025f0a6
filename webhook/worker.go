package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// Defaults of the Worker.
const (
	DefaultLeaseTTL   = 30 * time.Second
	DefaultPoll       = 500 * time.Millisecond
	DefaultTimeout    = 15 * time.Second
	DefaultBackoffMin = 5 * time.Second
	DefaultBackoffMax = time.Hour
	// maxRetryAfter caps how long a receiver's Retry-After defers a
	// delivery.
	maxRetryAfter = 24 * time.Hour
	// fetchSize is how many change records one read brings.
	fetchSize = 500
)

// Store is what the worker reads and writes.
type Store interface {
	scimbridge.WebhookStore
	scimbridge.ChangeStore
	Organization(ctx context.Context, id string) (scimbridge.Organization, error)
}

// Observer counts deliveries; nil counts nothing.
type Observer interface {
	// WebhookAttempt is called after every attempt with its outcome
	// (delivered, failed, rejected) and after a change is set aside
	// ("set_aside") or an endpoint disabled ("disabled").
	WebhookAttempt(outcome string)
}

// Worker delivers every enabled endpoint whose lease it can take, each in
// a goroutine of its own: one delivery in flight per endpoint.
type Worker struct {
	Store   Store
	Keyring *seal.Keyring
	Guard   *Guard
	// Client sends the deliveries; nil means Guard.Client(Timeout).
	Client   *http.Client
	Holder   string
	Clock    scimbridge.Clock
	Logger   *slog.Logger
	Observer Observer
	// LeaseTTL is the endpoint lease's lifetime, renewed every third of
	// it; Poll how often endpoints and, when idle, changes are looked
	// for; Timeout bounds one attempt; BackoffMin and BackoffMax bound
	// the exponential backoff. Zero means the defaults.
	LeaseTTL, Poll, Timeout, BackoffMin, BackoffMax time.Duration
	// Wake, when set, is signalled when changes were written, so that an
	// idle endpoint looks again before its poll.
	Wake <-chan struct{}

	mu      sync.Mutex
	running map[string]context.CancelFunc
	wakers  map[string]chan struct{}
}

func (w *Worker) defaults() {
	if w.LeaseTTL <= 0 {
		w.LeaseTTL = DefaultLeaseTTL
	}
	if w.Poll <= 0 {
		w.Poll = DefaultPoll
	}
	if w.Timeout <= 0 {
		w.Timeout = DefaultTimeout
	}
	if w.BackoffMin <= 0 {
		w.BackoffMin = DefaultBackoffMin
	}
	if w.BackoffMax <= 0 {
		w.BackoffMax = DefaultBackoffMax
	}
	if w.Clock == nil {
		w.Clock = func() time.Time { return time.Now().UTC() }
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Guard == nil {
		w.Guard = &Guard{}
	}
	if w.Client == nil {
		w.Client = w.Guard.Client(w.Timeout)
	}
	w.mu.Lock()
	w.running = map[string]context.CancelFunc{}
	w.wakers = map[string]chan struct{}{}
	w.mu.Unlock()
}

// Delivering returns how many endpoints this worker delivers now.
func (w *Worker) Delivering() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}

// Run delivers until ctx ends, then waits for the deliveries in flight
// and releases its leases.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		w.startEndpoints(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.Wake:
			w.wakeAll()
		}
	}
}

func (w *Worker) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.wakers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// startEndpoints takes the lease of every enabled endpoint not delivered
// here yet whose lease is free, and starts delivering it.
func (w *Worker) startEndpoints(ctx context.Context, wg *sync.WaitGroup) {
	list, err := w.Store.WebhookEndpoints(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Warn("list webhook endpoints", "err", err)
		}
		return
	}
	for _, e := range list {
		w.mu.Lock()
		_, running := w.running[e.ID]
		w.mu.Unlock()
		if running || !e.Enabled {
			continue
		}
		ok, err := w.Store.AcquireWebhookLease(ctx, e.ID, w.Holder, time.Now().Add(w.LeaseTTL))
		if err != nil || !ok {
			continue
		}
		ectx, cancel := context.WithCancel(ctx)
		wake := make(chan struct{}, 1)
		w.mu.Lock()
		w.running[e.ID], w.wakers[e.ID] = cancel, wake
		w.mu.Unlock()
		wg.Add(1)
		go func(id, orgID string) {
			defer wg.Done()
			defer cancel()
			d := &delivery{w: w, id: id, orgID: orgID, wake: wake}
			d.run(ectx)
			// Give the lease up for another replica, unless it was
			// lost already.
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			w.Store.ReleaseWebhookLease(rctx, id, w.Holder)
			rcancel()
			w.mu.Lock()
			delete(w.running, id)
			delete(w.wakers, id)
			w.mu.Unlock()
		}(e.ID, e.OrgID)
	}
}

// errStop ends an endpoint's delivery here: lease lost, endpoint
// disabled or removed.
var errStop = errors.New("stop delivering")

// delivery is one endpoint's delivery loop.
type delivery struct {
	w     *Worker
	id    string
	orgID string
	wake  chan struct{}

	e       scimbridge.WebhookEndpoint
	loaded  time.Time
	checked time.Time // last look for redeliveries
	// purgeChecked is the last look at the feed's purge horizon.
	purgeChecked time.Time
	// bumped is when the idle cursor last followed the head.
	bumped  time.Time
	keys    [][]byte
	pending []scimbridge.ChangeRecord // fetched, above the cursor
}

func (d *delivery) run(ctx context.Context) {
	renewCtx, stopRenew := context.WithCancel(ctx)
	defer stopRenew()
	ctx, lost := context.WithCancel(ctx)
	defer lost()
	go d.renew(renewCtx, lost)
	for ctx.Err() == nil {
		err := d.step(ctx)
		switch {
		case errors.Is(err, errStop), scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
			return
		case err != nil && ctx.Err() == nil:
			d.w.Logger.Warn("webhook delivery", "endpoint", d.id, "err", err)
			d.sleep(ctx, d.w.Poll)
		}
	}
}

// renew extends the lease every third of its lifetime; a lease it cannot
// extend stops the delivery.
func (d *delivery) renew(ctx context.Context, lost context.CancelFunc) {
	t := time.NewTicker(d.w.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok, err := d.w.Store.AcquireWebhookLease(ctx, d.id, d.w.Holder, time.Now().Add(d.w.LeaseTTL))
			if ctx.Err() != nil {
				return
			}
			if err != nil || !ok {
				d.w.Logger.Warn("webhook lease lost", "endpoint", d.id, "err", err)
				lost()
				return
			}
		}
	}
}

func (d *delivery) sleep(ctx context.Context, dur time.Duration) {
	if dur <= 0 {
		return
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-d.wake:
	}
}

// load reads the endpoint's settings and opens its secrets, at most once
// a poll interval.
func (d *delivery) load(ctx context.Context, force bool) error {
	if !force && time.Since(d.loaded) < d.w.Poll && d.keys != nil {
		return nil
	}
	e, err := d.w.Store.WebhookEndpoint(ctx, d.orgID, d.id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return errStop
	} else if err != nil {
		return err
	}
	if !e.Enabled {
		return errStop
	}
	if e.Delivery.Cursor != d.e.Delivery.Cursor || d.keys == nil {
		d.pending = nil // another replica moved it, or first load
	}
	keys, err := d.openKeys(e)
	if err != nil {
		return err
	}
	d.e, d.keys, d.loaded = e, keys, time.Now()
	return nil
}

func (d *delivery) openKeys(e scimbridge.WebhookEndpoint) ([][]byte, error) {
	if d.w.Keyring == nil {
		return nil, errors.New("no encryption key loaded to open the webhook secret")
	}
	secret, err := d.w.Keyring.Open(e.OrgID, e.SealedSecret)
	if err != nil {
		return nil, fmt.Errorf("open webhook secret: %w", err)
	}
	key, err := SecretKey(string(secret))
	if err != nil {
		return nil, err
	}
	keys := [][]byte{key}
	if e.SealedPreviousSecret != nil && e.PreviousExpiresAt != nil && d.w.Clock().Before(*e.PreviousExpiresAt) {
		if prev, err := d.w.Keyring.Open(e.OrgID, e.SealedPreviousSecret); err == nil {
			if k, err := SecretKey(string(prev)); err == nil {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// Backlog is how far behind an enabled endpoint is.
type Backlog struct {
	OrgID, EndpointID string
	// Oldest is the age of the oldest change not yet delivered; 0 when
	// the endpoint is up to date.
	Oldest time.Duration
}

// Backlogs reads, for every enabled endpoint, the age of its oldest
// undelivered change, looking at up to fetchSize changes past its cursor.
func Backlogs(ctx context.Context, st Store, now time.Time) ([]Backlog, error) {
	list, err := st.WebhookEndpoints(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Backlog
	for _, e := range list {
		if !e.Enabled {
			continue
		}
		b := Backlog{OrgID: e.OrgID, EndpointID: e.ID}
		recs, err := st.ChangesAfter(ctx, e.OrgID, e.Delivery.Cursor, fetchSize)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if e.Wants(r.Type) {
				b.Oldest = max(now.Sub(r.Time), 0)
				break
			}
		}
		out = append(out, b)
	}
	return out, nil
}

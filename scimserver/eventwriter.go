package scimserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge"
)

const (
	// flushInterval and flushRows bound how long and how many events wait
	// in the queue while the database is up.
	flushInterval = 200 * time.Millisecond
	flushRows     = 500
	// DefaultEventBuffer and DefaultEventBufferBytes bound the queue kept
	// while the database is unavailable (events.buffer and
	// events.buffer_bytes); events beyond either are dropped and counted.
	DefaultEventBuffer      = 100_000
	DefaultEventBufferBytes = 64 << 20
	// eventOverhead is what an event costs in the queue besides its
	// strings (the struct and the slice header of each string).
	eventOverhead = 512
	// defaultDrainTimeout bounds the drain on shutdown when the
	// configuration gives none.
	defaultDrainTimeout = 30 * time.Second
	// flushTimeout bounds one batch insert; pingTimeout the check that
	// tells a refused batch from an unreachable database.
	flushTimeout = 10 * time.Second
	pingTimeout  = 5 * time.Second
	// minBackoff and maxBackoff bound the wait between two attempts while
	// the database is unavailable.
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
	// dropLogEvery rate-limits the log of dropped events.
	dropLogEvery = 10 * time.Second
	// aggregateAfter 401/429 responses to one IP within aggregateWindow,
	// later ones fold into one event with a Count.
	aggregateAfter  = 10
	aggregateWindow = time.Minute
	// maxAggregateKeys bounds the aggregation state.
	maxAggregateKeys = 10000
)

// eventStore is what the writer needs of the store: Ping tells a database
// that refused some events from one that cannot be reached.
type eventStore interface {
	AppendEvents(ctx context.Context, events []scimbridge.Event) error
	Ping(ctx context.Context) error
}

// eventLimits bound the writer's queue and its drain on shutdown; zero
// fields take the defaults.
type eventLimits struct {
	events int           // most events queued
	bytes  int           // most bytes queued (see eventSize)
	drain  time.Duration // how long the drain on shutdown may retry
}

func (l eventLimits) withDefaults() eventLimits {
	if l.events <= 0 {
		l.events = DefaultEventBuffer
	}
	if l.bytes <= 0 {
		l.bytes = DefaultEventBufferBytes
	}
	if l.drain <= 0 {
		l.drain = defaultDrainTimeout
	}
	return l
}

// eventWriter writes the events that do not commit with a change: it
// queues them and inserts them in batches, and folds repeated 401/429
// responses from one client IP into aggregate events. While the database
// cannot be reached it keeps the queue and retries with backoff, in order;
// only events that do not fit in the bounded queue are dropped.
type eventWriter struct {
	store  eventStore
	logger *slog.Logger
	clock  scimbridge.Clock
	limits eventLimits
	wake   chan struct{}

	mu           sync.Mutex
	pending      []scimbridge.Event
	pendingBytes int
	draining     bool // Run's context is done: no more folding
	stopped      bool // the drain is over: write synchronously
	agg          map[aggKey]*aggWindow
	// dropsUnlogged counts drops since lastDropLog (rate-limited log).
	dropsUnlogged int
	lastDropLog   time.Time

	// flushMu makes one flush at a time take events off the head of the
	// queue; outage, under it, is set while the database is unreachable.
	flushMu sync.Mutex
	outage  bool

	written, rejected, dropped, lost, aggregated atomic.Uint64
}

// aggKey is one client IP and one refusal status.
type aggKey struct {
	ip     string
	status int
}

// aggWindow counts one key's refusals in a window that starts at the
// first; folded is the aggregate event of those past aggregateAfter.
type aggWindow struct {
	start  time.Time
	n      int
	folded *scimbridge.Event
}

func newEventWriter(store eventStore, logger *slog.Logger, clock scimbridge.Clock, limits eventLimits) *eventWriter {
	return &eventWriter{
		store:  store,
		logger: logger,
		clock:  clock,
		limits: limits.withDefaults(),
		wake:   make(chan struct{}, 1),
		agg:    make(map[aggKey]*aggWindow),
	}
}

// record queues one request's event.
func (w *eventWriter) record(ev scimbridge.Event) {
	w.mu.Lock()
	if !w.draining && (ev.Status == http.StatusUnauthorized || ev.Status == http.StatusTooManyRequests) && w.fold(ev) {
		w.mu.Unlock()
		w.aggregated.Add(1)
		return
	}
	if w.stopped {
		w.mu.Unlock()
		w.writeNow(ev)
		return
	}
	w.enqueue(ev)
	n := len(w.pending)
	w.mu.Unlock()
	if n >= flushRows {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// enqueue appends to the queue, or drops ev when the queue is full in
// events or bytes; the caller holds mu.
func (w *eventWriter) enqueue(ev scimbridge.Event) {
	size := eventSize(&ev)
	if len(w.pending) >= w.limits.events || w.pendingBytes+size > w.limits.bytes {
		w.dropped.Add(1)
		w.dropsUnlogged++
		if now := w.clock(); w.lastDropLog.IsZero() || now.Sub(w.lastDropLog) >= dropLogEvery {
			w.logger.Error("scim event queue full: dropping events", "dropped", w.dropsUnlogged,
				"queued", len(w.pending), "queued_bytes", w.pendingBytes)
			w.lastDropLog, w.dropsUnlogged = now, 0
		}
		return
	}
	w.pending = append(w.pending, ev)
	w.pendingBytes += size
}

// eventSize is what ev costs in the queue: its strings, bodies included,
// and a fixed overhead.
func eventSize(ev *scimbridge.Event) int {
	return eventOverhead + len(ev.OrgID) + len(ev.Method) + len(ev.Path) + len(ev.TargetUserName) +
		len(ev.ClientIP) + len(ev.UserAgent) + len(ev.RequestID) + len(ev.RunID) + len(ev.ProfileID) +
		len(ev.Error) + len(ev.RequestBody) + len(ev.ResponseBody)
}

// fold counts a 401/429 event and reports whether it was folded into its
// key's aggregate event instead of being written on its own. The caller
// holds mu.
func (w *eventWriter) fold(ev scimbridge.Event) bool {
	k := aggKey{ev.ClientIP, ev.Status}
	a := w.agg[k]
	if a == nil || ev.Time.Sub(a.start) >= aggregateWindow || ev.Time.Before(a.start) {
		if a != nil && a.folded != nil {
			w.enqueue(*a.folded)
		}
		if a == nil && len(w.agg) >= maxAggregateKeys {
			w.expire(ev.Time)
		}
		a = &aggWindow{start: ev.Time}
		w.agg[k] = a
	}
	a.n++
	if a.n <= aggregateAfter {
		return false
	}
	if a.folded == nil {
		f := ev
		f.Count = 1
		a.folded = &f
	} else {
		a.folded.Count++
		a.folded.Duration += ev.Duration
	}
	return true
}

// expire queues the aggregate events of windows over at now and forgets
// them. The caller holds mu.
func (w *eventWriter) expire(now time.Time) {
	for k, a := range w.agg {
		if now.Sub(a.start) >= aggregateWindow {
			if a.folded != nil {
				w.enqueue(*a.folded)
			}
			delete(w.agg, k)
		}
	}
}

// run writes the queue every flushInterval, or sooner when flushRows
// events wait, until ctx is done; while the database is unavailable it
// retries with backoff instead. Then it drains the queue (see drain) and
// returns nil.
func (w *eventWriter) run(ctx context.Context) error {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	var (
		backoff time.Duration
		retry   *time.Timer
		retryC  <-chan time.Time // non-nil while backing off
	)
	flush := func() {
		if w.flush(context.WithoutCancel(ctx)) {
			backoff = 0
			return
		}
		backoff = nextBackoff(backoff)
		retry = time.NewTimer(backoff)
		retryC = retry.C
	}
	for {
		select {
		case <-ctx.Done():
			if retry != nil {
				retry.Stop()
			}
			w.drain(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
			w.mu.Lock()
			w.expire(w.clock())
			w.mu.Unlock()
			if retryC == nil {
				flush()
			}
		case <-w.wake:
			if retryC == nil {
				flush()
			}
		case <-retryC:
			retryC = nil
			flush()
		}
	}
}

// nextBackoff doubles the wait between attempts, from minBackoff up to
// maxBackoff.
func nextBackoff(d time.Duration) time.Duration {
	return min(max(2*d, minBackoff), maxBackoff)
}

// drain queues every aggregate and writes the queue, retrying with backoff
// while the database is unavailable, for at most the drain timeout; what
// is still queued then is lost, counted and logged. Events recorded
// during the drain join the queue; after it they are written
// synchronously.
func (w *eventWriter) drain(ctx context.Context) {
	w.mu.Lock()
	w.draining = true
	for k, a := range w.agg {
		if a.folded != nil {
			w.enqueue(*a.folded)
		}
		delete(w.agg, k)
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, w.limits.drain)
	defer cancel()
	var backoff time.Duration
	for !w.writeQueue(ctx, true) {
		backoff = nextBackoff(backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			w.flushMu.Lock()
			w.mu.Lock()
			n := len(w.pending)
			clear(w.pending)
			w.pending, w.pendingBytes, w.stopped = nil, 0, true
			w.mu.Unlock()
			w.flushMu.Unlock()
			w.lost.Add(uint64(n))
			w.logger.Error("shutdown: database unavailable, scim events lost", "lost", n, "timeout", w.limits.drain)
			return
		case <-t.C:
		}
	}
}

// flush writes the queue in batches of flushRows, in order. It returns
// false, keeping the unwritten events queued, when the database is
// unavailable.
func (w *eventWriter) flush(ctx context.Context) bool { return w.writeQueue(ctx, false) }

// writeQueue is flush; when final, an empty queue also ends the drain
// (stopped) in the same critical section, so that no event is left behind.
func (w *eventWriter) writeQueue(ctx context.Context, final bool) bool {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	for {
		w.mu.Lock()
		n := min(len(w.pending), flushRows)
		batch := w.pending[:n:n]
		if n == 0 && final {
			w.stopped = true
		}
		w.mu.Unlock()
		if n == 0 {
			if w.outage {
				w.outage = false
				w.logger.Info("database available again: queued scim events written")
			}
			return true
		}
		done, err := w.write(ctx, batch)
		w.remove(batch[:done])
		if err != nil {
			if !w.outage {
				w.outage = true
				w.mu.Lock()
				queued := len(w.pending)
				w.mu.Unlock()
				w.logger.Warn("database unavailable: keeping scim events until it is back", "queued", queued, "err", err)
			}
			return false
		}
	}
}

// remove takes done, the head of the queue, off it.
func (w *eventWriter) remove(done []scimbridge.Event) {
	if len(done) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range done {
		w.pendingBytes -= eventSize(&done[i])
	}
	clear(w.pending[:len(done)]) // let the bodies go before the array does
	w.pending = w.pending[len(done):]
	if len(w.pending) == 0 {
		w.pending = nil
	}
}

// write inserts a batch and returns how many of its first events are done
// with (written, or refused by a database that answers). When the batch
// fails and the database answers, each event is tried alone so one bad
// row cannot cost the others; a refused event is dropped and counted. The
// error is non-nil when the database is unavailable: the events from done
// on are to be kept.
func (w *eventWriter) write(ctx context.Context, batch []scimbridge.Event) (done int, err error) {
	err = w.append(ctx, batch)
	if err == nil {
		return len(batch), nil
	}
	if err := w.unavailable(ctx, err); err != nil {
		return 0, err
	}
	if len(batch) > 1 {
		for i := range batch {
			err := w.append(ctx, batch[i:i+1])
			if err == nil {
				continue
			}
			if err := w.unavailable(ctx, err); err != nil {
				return i, err
			}
			w.reject(&batch[i], err)
		}
		return len(batch), nil
	}
	w.reject(&batch[0], err)
	return 1, nil
}

// append inserts events under flushTimeout and counts them.
func (w *eventWriter) append(ctx context.Context, events []scimbridge.Event) error {
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	if err := w.store.AppendEvents(ctx, events); err != nil {
		return err
	}
	w.written.Add(uint64(len(events)))
	return nil
}

// unavailable returns writeErr when the database cannot be reached (the
// write timed out or a ping fails), nil when it answers and so refused
// the events themselves.
func (w *eventWriter) unavailable(ctx context.Context, writeErr error) error {
	if ctx.Err() != nil || errors.Is(writeErr, context.DeadlineExceeded) {
		return writeErr
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := w.store.Ping(ctx); err != nil {
		return writeErr
	}
	return nil
}

// reject counts and logs an event the database refused.
func (w *eventWriter) reject(ev *scimbridge.Event, err error) {
	w.rejected.Add(1)
	w.logger.Error("write scim event", "request_id", ev.RequestID, "err", err)
}

// writeNow writes one event recorded after the drain, synchronously; it
// is lost when the database is unavailable.
func (w *eventWriter) writeNow(ev scimbridge.Event) {
	if _, err := w.write(context.Background(), []scimbridge.Event{ev}); err != nil {
		w.lost.Add(1)
		w.logger.Error("write scim event after shutdown: database unavailable", "request_id", ev.RequestID, "err", err)
	}
}

func (w *eventWriter) stats() Stats {
	w.mu.Lock()
	queued, queuedBytes := len(w.pending), w.pendingBytes
	w.mu.Unlock()
	dropped, lost := w.dropped.Load(), w.lost.Load()
	return Stats{
		EventsWritten:      w.written.Load(),
		EventWriteFailures: w.rejected.Load() + dropped + lost,
		EventsDropped:      dropped,
		EventsLost:         lost,
		EventsQueued:       uint64(queued),
		EventsQueuedBytes:  uint64(queuedBytes),
		EventsAggregated:   w.aggregated.Load(),
	}
}

package scimserver

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge"
)

const (
	// flushInterval and flushRows bound how long and how many events wait
	// in the buffer.
	flushInterval = 200 * time.Millisecond
	flushRows     = 500
	// maxBuffered bounds the buffer while the database is unreachable;
	// events beyond it are dropped and counted as failures.
	maxBuffered = 100_000
	// flushTimeout bounds one flush (every batch of it).
	flushTimeout = 10 * time.Second
	// aggregateAfter 401/429 responses to one IP within aggregateWindow,
	// later ones fold into one event with a Count.
	aggregateAfter  = 10
	aggregateWindow = time.Minute
	// maxAggregateKeys bounds the aggregation state.
	maxAggregateKeys = 10000
)

// eventWriter writes the events that do not commit with a change: it
// buffers them and inserts them in batches, and folds repeated 401/429
// responses from one client IP into aggregate events.
type eventWriter struct {
	store  scimbridge.EventStore
	logger *slog.Logger
	clock  scimbridge.Clock
	wake   chan struct{}

	mu      sync.Mutex
	pending []scimbridge.Event
	stopped bool // Run has returned: write synchronously
	agg     map[aggKey]*aggWindow

	written, failures, aggregated atomic.Uint64
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

func newEventWriter(store scimbridge.EventStore, logger *slog.Logger, clock scimbridge.Clock) *eventWriter {
	return &eventWriter{
		store:  store,
		logger: logger,
		clock:  clock,
		wake:   make(chan struct{}, 1),
		agg:    make(map[aggKey]*aggWindow),
	}
}

// record queues one request's event.
func (w *eventWriter) record(ev scimbridge.Event) {
	w.mu.Lock()
	if (ev.Status == http.StatusUnauthorized || ev.Status == http.StatusTooManyRequests) && w.fold(ev) {
		w.mu.Unlock()
		w.aggregated.Add(1)
		return
	}
	if w.stopped {
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		w.write(ctx, []scimbridge.Event{ev})
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

// enqueue appends to the buffer; the caller holds mu.
func (w *eventWriter) enqueue(ev scimbridge.Event) {
	if len(w.pending) >= maxBuffered {
		w.failures.Add(1)
		return
	}
	w.pending = append(w.pending, ev)
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

// run flushes the buffer every flushInterval, or sooner when flushRows
// events wait, until ctx is done; then it queues every aggregate, writes
// everything buffered and returns nil.
func (w *eventWriter) run(ctx context.Context) error {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			w.stopped = true
			for k, a := range w.agg {
				if a.folded != nil {
					w.enqueue(*a.folded)
				}
				delete(w.agg, k)
			}
			w.mu.Unlock()
			w.flush(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
			w.mu.Lock()
			w.expire(w.clock())
			w.mu.Unlock()
			w.flush(ctx)
		case <-w.wake:
			w.flush(ctx)
		}
	}
}

// flush writes the buffer in batches of flushRows.
func (w *eventWriter) flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	for {
		w.mu.Lock()
		n := min(len(w.pending), flushRows)
		batch := w.pending[:n:n]
		w.pending = w.pending[n:]
		if len(w.pending) == 0 {
			w.pending = nil
		}
		w.mu.Unlock()
		if n == 0 {
			return
		}
		w.write(ctx, batch)
	}
}

// write inserts a batch. When the batch fails, each event is tried alone
// so one bad row cannot cost the others; what still fails is dropped and
// counted.
func (w *eventWriter) write(ctx context.Context, batch []scimbridge.Event) {
	err := w.store.AppendEvents(ctx, batch)
	if err == nil {
		w.written.Add(uint64(len(batch)))
		return
	}
	if len(batch) > 1 {
		for i := range batch {
			w.write(ctx, batch[i:i+1])
		}
		return
	}
	w.failures.Add(1)
	w.logger.Error("write scim event", "request_id", batch[0].RequestID, "err", err)
}

func (w *eventWriter) stats() Stats {
	return Stats{
		EventsWritten:      w.written.Load(),
		EventWriteFailures: w.failures.Load(),
		EventsAggregated:   w.aggregated.Load(),
	}
}

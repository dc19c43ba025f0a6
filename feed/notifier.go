package feed

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL notification channel of committed change
// records; the payload is the organization id.
const Channel = "scimbridge_changes"

// Notifier wakes the long-polls waiting on an organization's feed. The
// store calls Notify after every commit that wrote records; on PostgreSQL
// Notify also tells the other replicas (NOTIFY, sent after the commit by
// one goroutine, so writers never wait for it) and Listen wakes this
// replica's waiters on theirs.
type Notifier struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{} // by org id; "" is every organization

	// pending are the organizations still to NOTIFY; kick wakes the
	// publisher.
	pending map[string]struct{}
	kick    chan struct{}
	logger  *slog.Logger
}

// NewNotifier returns a notifier that wakes local waiters only, until
// Publish and Listen connect it to PostgreSQL.
func NewNotifier(logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{subs: map[string]map[*Subscription]struct{}{}, logger: logger}
}

// Subscription receives a value (coalesced) on C after each commit of
// records of its organization.
type Subscription struct {
	C     chan struct{}
	n     *Notifier
	orgID string
}

// Subscribe starts waking the returned subscription on changes of orgID
// ("" for every organization). Close it when done.
func (n *Notifier) Subscribe(orgID string) *Subscription {
	s := &Subscription{C: make(chan struct{}, 1), n: n, orgID: orgID}
	n.mu.Lock()
	defer n.mu.Unlock()
	set := n.subs[orgID]
	if set == nil {
		set = map[*Subscription]struct{}{}
		n.subs[orgID] = set
	}
	set[s] = struct{}{}
	return s
}

// Close stops the subscription.
func (s *Subscription) Close() {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	if set := s.n.subs[s.orgID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.n.subs, s.orgID)
		}
	}
}

// Notify says records of orgID committed on this replica: it wakes the
// local waiters and queues a NOTIFY for the other replicas. It never
// blocks.
func (n *Notifier) Notify(orgID string) {
	n.Wake(orgID)
	n.mu.Lock()
	kick := n.kick
	if kick != nil {
		n.pending[orgID] = struct{}{}
	}
	n.mu.Unlock()
	if kick != nil {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// Wake wakes the waiters of orgID and those of every organization; an
// empty orgID wakes every waiter.
func (n *Notifier) Wake(orgID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for key, set := range n.subs {
		if orgID != "" && key != orgID && key != "" {
			continue
		}
		for s := range set {
			select {
			case s.C <- struct{}{}:
			default:
			}
		}
	}
}

// Waiters is how many subscriptions are open.
func (n *Notifier) Waiters() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, set := range n.subs {
		total += len(set)
	}
	return total
}

// Publish sends, until ctx ends, a NOTIFY through db for each organization
// Notify named, coalescing those that arrive while one is sent. Call it
// before the store is given Notify, in its own goroutine.
func (n *Notifier) Publish(ctx context.Context, db *sql.DB) {
	n.mu.Lock()
	n.pending = map[string]struct{}{}
	n.kick = make(chan struct{}, 1)
	kick := n.kick
	n.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		n.mu.Lock()
		orgs := make([]string, 0, len(n.pending))
		for o := range n.pending {
			orgs = append(orgs, o)
		}
		clear(n.pending)
		n.mu.Unlock()
		for _, o := range orgs {
			if _, err := db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, o); err != nil && ctx.Err() == nil {
				n.logger.Warn("notify other replicas of changes", "err", err)
			}
		}
	}
}

// Listen wakes this replica's waiters on the NOTIFY of every replica until
// ctx ends, through a dedicated connection to dsn (lib/pq's Listener,
// which reconnects by itself; after a reconnection every waiter is woken,
// as notifications may have been missed).
func (n *Notifier) Listen(ctx context.Context, dsn string) error {
	connected := make(chan struct{})
	var once sync.Once
	l := pq.NewListener(dsn, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventConnected {
			once.Do(func() { close(connected) })
		}
		if err != nil {
			n.logger.Warn("changes listener", "event", ev, "err", err)
		}
	})
	// LISTEN is acknowledged only on an open connection: wait for the
	// first one, so no notification sent after Listen returns is missed.
	select {
	case <-connected:
	case <-ctx.Done():
		l.Close()
		return ctx.Err()
	case <-time.After(30 * time.Second):
		l.Close()
		return errors.New("changes listener: no connection to PostgreSQL within 30s")
	}
	if err := l.Listen(Channel); err != nil {
		l.Close()
		return err
	}
	go func() {
		defer l.Close()
		ping := time.NewTicker(90 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-l.Notify:
				if m == nil {
					n.Wake("")
				} else {
					n.Wake(m.Extra)
				}
			case <-ping.C:
				go l.Ping()
			}
		}
	}()
	return nil
}

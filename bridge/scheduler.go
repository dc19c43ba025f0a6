package bridge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/scimbridge/scimbridge"
)

// Scheduler defaults.
const (
	DefaultPoll            = 30 * time.Second
	DefaultConcurrency     = 4
	DefaultReportRetention = 180 * 24 * time.Hour
	// BaseBackoff and MaxBackoff bound how much later than its schedule a
	// failing bridge runs: BaseBackoff·2^(failures-1), at most MaxBackoff.
	BaseBackoff = time.Minute
	MaxBackoff  = time.Hour
	// MinInterval is the shortest @every schedule accepted.
	MinInterval = time.Minute
	purgeEvery  = 24 * time.Hour
)

// DefaultSchedule is an organization's schedule when none is set: every
// 15 minutes, at a minute offset derived from the organization id so
// organizations do not all run at once.
func DefaultSchedule(orgID string) string {
	h := fnv.New32a()
	h.Write([]byte(orgID))
	m := int(h.Sum32() % 15)
	return fmt.Sprintf("%d,%d,%d,%d * * * *", m, m+15, m+30, m+45)
}

// ParseSchedule parses a bridge schedule: five cron fields or a descriptor
// (@hourly, @every 30m), in UTC unless prefixed CRON_TZ=Zone (or TZ=Zone).
// An empty spec is DefaultSchedule(orgID).
func ParseSchedule(spec, orgID string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = DefaultSchedule(orgID)
	}
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=UTC " + spec
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "invalid schedule %q: %v", strings.TrimPrefix(spec, "CRON_TZ=UTC "), err)
	}
	if d, ok := s.(cron.ConstantDelaySchedule); ok && d.Delay < MinInterval {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "invalid schedule: runs at most once a minute")
	}
	return s, nil
}

// NextSync is when the bridge runs next after now: its schedule's next
// time, pushed back after consecutive failures (BaseBackoff doubling up to
// MaxBackoff). A failing bridge keeps running: nothing disables it.
func NextSync(b scimbridge.Bridge, now time.Time) (time.Time, error) {
	s, err := ParseSchedule(b.Settings.Schedule, b.OrgID)
	if err != nil {
		return time.Time{}, err
	}
	next := s.Next(now).UTC()
	if n := b.ConsecutiveFailures; n > 0 {
		backoff := MaxBackoff
		if n <= 10 {
			backoff = min(MaxBackoff, BaseBackoff<<(n-1))
		}
		if t := now.Add(backoff); t.After(next) {
			next = t
		}
	}
	return next, nil
}

// Due reports whether the bridge should run at now: it never ran since
// its settings were stored, or its next sync time has come.
func Due(b scimbridge.Bridge, now time.Time) bool {
	return b.NextSyncAt == nil || !b.NextSyncAt.After(now)
}

// Scheduler runs every organization's bridge on its schedule. Each
// organization runs once at a time: in this process by the scheduler, and
// across replicas and processes by the lease. It also purges old reports
// once a day.
type Scheduler struct {
	Runner *Runner
	Store  scimbridge.Store
	Logger *slog.Logger
	Clock  scimbridge.Clock
	// Poll is how often bridges are checked; DefaultPoll when zero.
	Poll time.Duration
	// Concurrency is how many organizations run at once;
	// DefaultConcurrency when zero.
	Concurrency int
	// ReportRetention is how long reports are kept; DefaultReportRetention
	// when zero, no purge when negative.
	ReportRetention time.Duration

	mu        sync.Mutex
	running   map[string]bool
	sem       chan struct{}
	wg        sync.WaitGroup
	lastPurge time.Time
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Scheduler) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock().UTC()
}

// Run checks the bridges every Poll and runs those due until ctx is
// cancelled; it then waits for the runs in progress, which stop between
// batches with status interrupted.
func (s *Scheduler) Run(ctx context.Context) error {
	poll := s.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return nil
		case <-t.C:
		}
		if err := s.dispatch(ctx); err != nil && ctx.Err() == nil {
			s.logger().Warn("bridge scheduler pass failed", "error", err)
		}
		t.Reset(poll)
	}
}

// Tick runs every due organization once and waits for those runs: one
// pass of Run.
func (s *Scheduler) Tick(ctx context.Context) error {
	err := s.dispatch(ctx)
	s.wg.Wait()
	return err
}

// dispatch starts a run for each due bridge not already running here, and
// purges reports when a day has passed since the last purge.
func (s *Scheduler) dispatch(ctx context.Context) error {
	s.purge(ctx)
	bridges, err := s.Store.Bridges(ctx)
	if err != nil {
		return fmt.Errorf("list bridges: %w", err)
	}
	now := s.now()
	for _, b := range bridges {
		if !Due(b, now) || !s.start(b.OrgID) {
			continue
		}
		s.wg.Add(1)
		go func(orgID string) {
			defer s.wg.Done()
			defer s.done(orgID)
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-s.sem }()
			s.runOne(ctx, orgID)
		}(b.OrgID)
	}
	return nil
}

func (s *Scheduler) start(orgID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = map[string]bool{}
		n := s.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		s.sem = make(chan struct{}, n)
	}
	if s.running[orgID] {
		return false
	}
	s.running[orgID] = true
	return true
}

func (s *Scheduler) done(orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, orgID)
}

func (s *Scheduler) runOne(ctx context.Context, orgID string) {
	rep, err := s.Runner.RunOnce(ctx, orgID, scimbridge.TriggerSchedule, false)
	switch {
	case errors.Is(err, ErrNotDue):
		s.logger().Debug("bridge run skipped: another replica ran it", "org_id", orgID)
	case rep.ID == "" && scimbridge.ErrorCode(err) == scimbridge.ECONFLICT:
		s.logger().Debug("bridge run skipped: in progress elsewhere", "org_id", orgID, "reason", err)
	case rep.ID == "" && err != nil:
		s.logger().Warn("bridge run could not start", "org_id", orgID, "error", err)
	case err != nil:
		s.logger().Warn("bridge run failed", "org_id", orgID, "run_id", rep.ID, "status", rep.Status, "error", rep.Error)
	}
}

// purge deletes reports older than the retention, once a day.
func (s *Scheduler) purge(ctx context.Context) {
	if s.ReportRetention < 0 {
		return
	}
	keep := s.ReportRetention
	if keep == 0 {
		keep = DefaultReportRetention
	}
	now := s.now()
	s.mu.Lock()
	if !s.lastPurge.IsZero() && now.Sub(s.lastPurge) < purgeEvery {
		s.mu.Unlock()
		return
	}
	s.lastPurge = now
	s.mu.Unlock()
	n, err := s.Store.PurgeReports(ctx, now.Add(-keep))
	if err != nil {
		s.logger().Warn("purge reports failed", "error", err)
		return
	}
	if n > 0 {
		s.logger().Info("old reports purged", "reports", n, "retention", keep)
	}
}

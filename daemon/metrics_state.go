package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// stateCollector reads, at each scrape, what other components and the
// database know: the event writer's counters, the connection pools, and
// every organization's bridge state. The bridge state is shared by all
// replicas, so every replica reports the same values.
type stateCollector struct {
	src *metricsSources
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", name), help, labels, nil)
}

var (
	descEventsWritten = desc("events_written_total",
		"SCIM events written, by path: buffered (reads, rejections) or committed with their change.", "path")
	descEventFailures   = desc("event_write_failures_total", "SCIM events the buffered writer could not write (dropped), for any reason.")
	descEventsAggregate = desc("events_aggregated_total", "Repeated 401/429 requests folded into an earlier event's count.")
	descDatabaseUp      = desc("database_up", "1 when this scrape could read the database, else 0.")
	descOrganizations   = desc("organizations", "Organizations in the database.")
	descBridges         = desc("bridges", "Organizations with a Google bridge.")
	descLastSuccess     = desc("bridge_last_success_timestamp_seconds",
		"When the organization's bridge last completed a run (Unix time; 0 when never).", "organization")
	descLastSync = desc("bridge_last_sync_timestamp_seconds",
		"When the organization's bridge last ran, successfully or not (Unix time; 0 when never).", "organization")
	descNeedsAttention = desc("bridge_needs_attention",
		"1 when the organization's bridge fails for a reason an admin must fix (credentials, access).", "organization")
	descFailures = desc("bridge_consecutive_failures", "Failed bridge runs in a row.", "organization")
	descHeld     = desc("bridge_held_plan_changes",
		"Changes waiting for approval in the organization's held plan (0 when none or expired).", "organization")
	descHeldPlans = desc("bridge_held_plans", "Organizations with a held plan waiting for approval.")

	descPoolOpen    = desc("db_connections_open", "Open database connections, by pool.", "pool")
	descPoolInUse   = desc("db_connections_in_use", "Database connections in use, by pool.", "pool")
	descPoolIdle    = desc("db_connections_idle", "Idle database connections, by pool.", "pool")
	descPoolMax     = desc("db_connections_max_open", "Most open database connections allowed (0: no limit), by pool.", "pool")
	descPoolWaits   = desc("db_connection_waits_total", "Waits for a free database connection, by pool.", "pool")
	descPoolWaited  = desc("db_connection_wait_seconds_total", "Time spent waiting for a free database connection, by pool.", "pool")
	descPoolClosedI = desc("db_connections_closed_idle_total", "Connections closed by the idle limits, by pool.", "pool")
	descPoolClosedL = desc("db_connections_closed_lifetime_total", "Connections closed by the lifetime limits, by pool.", "pool")
)

// The buffered writer's queue, which holds events while the database is
// unavailable.
var (
	descEventsDropped = desc("events_dropped_total", "SCIM events dropped while the database was unavailable, "+
		"by reason: queue_full (past events.buffer or events.buffer_bytes) or shutdown (still queued when the drain timed out).", "reason")
	descEventsQueued      = desc("events_queued", "SCIM events waiting in the buffered writer's queue.")
	descEventsQueuedBytes = desc("events_queued_bytes", "Bytes of the SCIM events waiting in the queue, counted against events.buffer_bytes.")
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEventsWritten, descEventFailures, descEventsDropped, descEventsQueued,
		descEventsQueuedBytes, descEventsAggregate, descDatabaseUp,
		descOrganizations, descBridges, descLastSuccess, descLastSync, descNeedsAttention, descFailures, descHeld,
		descHeldPlans, descPoolOpen, descPoolInUse, descPoolIdle, descPoolMax, descPoolWaits, descPoolWaited,
		descPoolClosedI, descPoolClosedL} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.scim != nil {
		st := c.src.scim()
		counter(descEventsWritten, float64(st.EventsWritten), "buffered")
		counter(descEventsWritten, float64(st.EventsCommitted), "committed")
		counter(descEventFailures, float64(st.EventWriteFailures))
		counter(descEventsDropped, float64(st.EventsDropped), "queue_full")
		counter(descEventsDropped, float64(st.EventsLost), "shutdown")
		gauge(descEventsQueued, float64(st.EventsQueued))
		gauge(descEventsQueuedBytes, float64(st.EventsQueuedBytes))
		counter(descEventsAggregate, float64(st.EventsAggregated))
	}
	if c.src.pools != nil {
		for name, s := range c.src.pools() {
			gauge(descPoolOpen, float64(s.OpenConnections), name)
			gauge(descPoolInUse, float64(s.InUse), name)
			gauge(descPoolIdle, float64(s.Idle), name)
			gauge(descPoolMax, float64(s.MaxOpenConnections), name)
			counter(descPoolWaits, float64(s.WaitCount), name)
			counter(descPoolWaited, s.WaitDuration.Seconds(), name)
			counter(descPoolClosedI, float64(s.MaxIdleClosed+s.MaxIdleTimeClosed), name)
			counter(descPoolClosedL, float64(s.MaxLifetimeClosed), name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	st, err := readClusterState(ctx, c.src.store, c.src.clock())
	if err != nil {
		c.src.logger.Warn("metrics: read bridge state", "err", err)
		gauge(descDatabaseUp, 0)
		return
	}
	gauge(descDatabaseUp, 1)
	gauge(descOrganizations, float64(st.organizations))
	gauge(descBridges, float64(len(st.bridges)))
	held := 0
	for _, b := range st.bridges {
		gauge(descLastSuccess, unixSeconds(b.LastSuccessAt), b.slug)
		gauge(descLastSync, unixSeconds(b.LastSyncAt), b.slug)
		gauge(descNeedsAttention, boolValue(b.NeedsAttention), b.slug)
		gauge(descFailures, float64(b.ConsecutiveFailures), b.slug)
		gauge(descHeld, float64(b.heldChanges), b.slug)
		if b.heldChanges > 0 {
			held++
		}
	}
	gauge(descHeldPlans, float64(held))
}

func unixSeconds(t *time.Time) float64 {
	if t == nil {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// clusterState is what every replica sees in the shared database.
type clusterState struct {
	organizations int
	bridges       []bridgeState
}

// bridgeState is one organization's bridge.
type bridgeState struct {
	scimbridge.Bridge
	slug string
	// heldChanges counts the changes of a pending (unexpired) held plan.
	heldChanges int
}

// readClusterState reads the organizations and their bridges.
func readClusterState(ctx context.Context, db scimbridge.Store, now time.Time) (clusterState, error) {
	orgs, err := db.Organizations(ctx)
	if err != nil {
		return clusterState{}, fmt.Errorf("list organizations: %w", err)
	}
	slugs := make(map[string]string, len(orgs))
	for _, o := range orgs {
		slugs[o.ID] = o.Slug
	}
	bs, err := db.Bridges(ctx)
	if err != nil {
		return clusterState{}, fmt.Errorf("list bridges: %w", err)
	}
	st := clusterState{organizations: len(orgs)}
	for _, b := range bs {
		s := bridgeState{Bridge: b, slug: slugs[b.OrgID]}
		if s.slug == "" {
			s.slug = b.OrgID
		}
		hp, ok, err := bridge.PendingHeldPlan(ctx, db, b.OrgID, now)
		if err != nil {
			return clusterState{}, err
		}
		if ok && !hp.Expired {
			s.heldChanges = hp.Changes
		}
		st.bridges = append(st.bridges, s)
	}
	return st, nil
}

// maxStatusError is how much of a run's error the status line shows.
const maxStatusError = 100

// lastRun is the most recent bridge run of any organization, for the
// systemd status line: "" when no bridge ran yet.
func (st clusterState) lastRun(now time.Time) string {
	var last *bridgeState
	for i := range st.bridges {
		b := &st.bridges[i]
		if b.LastSyncAt != nil && (last == nil || b.LastSyncAt.After(*last.LastSyncAt)) {
			last = b
		}
	}
	if last == nil {
		return ""
	}
	result := "ok"
	if last.LastSuccessAt == nil || last.LastSuccessAt.Before(*last.LastSyncAt) {
		result = "failed"
		if e := last.LastError; e != "" {
			if len(e) > maxStatusError {
				e = e[:maxStatusError] + "..."
			}
			result = "failed: " + e
		}
	}
	ago := now.Sub(*last.LastSyncAt).Round(time.Second)
	return fmt.Sprintf("%s %s ago (%s)", last.slug, ago, result)
}

// statusText is serve's systemd status line.
func (st clusterState) statusText(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "serving %s", plural(st.organizations, "organization", "organizations"))
	if n := len(st.bridges); n > 0 {
		fmt.Fprintf(&b, ", %s", plural(n, "Google bridge", "Google bridges"))
		if last := st.lastRun(now); last != "" {
			fmt.Fprintf(&b, "; last reconcile: %s", last)
		} else {
			b.WriteString("; no reconcile yet")
		}
	}
	return b.String()
}

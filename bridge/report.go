package bridge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// ItemFail is the report item kind of a change the store refused.
const ItemFail scimbridge.ChangeKind = "fail"

// ReasonChangedSincePlan is the skip reason of a change whose profile
// another writer changed between plan and apply, when deciding again did
// not give a change of the same kind.
const ReasonChangedSincePlan = "changed since plan"

// reportHistory is how many recent reports are read to find the last
// planned one and running ones left by a lost holder.
const reportHistory = 20

// ReportStreamer is implemented by stores that write a report's items as
// a run goes (package store's *DB does): a run of a large directory then
// holds only a batch of items at a time, and the report it returns carries
// its first ReportInline items (the stored report has them all). Without
// it a run keeps every item and writes them at the end.
type ReportStreamer interface {
	// AppendReportItems inserts items at positions start, start+1, ...
	AppendReportItems(ctx context.Context, orgID, reportID string, start int, items []scimbridge.ReportItem) error
	// PutReportFrom writes the report and replaces its items from start
	// on with r.Items.
	PutReportFrom(ctx context.Context, r scimbridge.Report, start int) error
}

// ReportInline is how many items the report a run returns carries when its
// items were written as the run went (see ReportStreamer).
const ReportInline = 1000

// flushItems is how many change items a streaming tally holds before it
// writes them.
const flushItems = scimbridge.MaxBatch

// tally collects a run's counts and items as it goes.
type tally struct {
	counts scimbridge.ReportCounts
	// changes are the applied and failed changes and the skips decided
	// while applying, in order, that are not written yet.
	changes []scimbridge.ReportItem
	held    []scimbridge.ReportItem
	// skipped are the plan's skips and exclusions.
	skipped []scimbridge.ReportItem
	planned bool

	// sink, when set, writes change items at their positions as the run
	// goes; written counts those written, head keeps the first
	// ReportInline of them for the returned report.
	sink    func(ctx context.Context, start int, items []scimbridge.ReportItem) error
	written int
	head    []scimbridge.ReportItem
}

// flush writes the pending change items when there are flushItems of
// them (any number with force). It is not cancelled with the run: the
// changes it reports are committed.
func (t *tally) flush(ctx context.Context, force bool) error {
	if t.sink == nil || len(t.changes) == 0 || (!force && len(t.changes) < flushItems) {
		return nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	if err := t.sink(wctx, t.written, t.changes); err != nil {
		return fmt.Errorf("write report items: %w", err)
	}
	if room := ReportInline - len(t.head); room > 0 {
		t.head = append(t.head, t.changes[:min(room, len(t.changes))]...)
	}
	t.written += len(t.changes)
	clear(t.changes)
	t.changes = t.changes[:0]
	return nil
}

// skipMemo is the set of skips of one report.
type skipMemo struct {
	reportID string
	keys     map[string]bool
}

// count adds one applied change of kind to the counts. An adoption counts
// as a create (a user the bridge now provisions); the temporary release
// that breaks a rename cycle is not counted.
func (t *tally) count(c scimbridge.Change) {
	switch c.Kind {
	case scimbridge.ChangeCreate, scimbridge.ChangeAdopt:
		t.counts.Created++
	case scimbridge.ChangeDeactivate:
		t.counts.Deactivated++
	case scimbridge.ChangeReactivate:
		t.counts.Reactivated++
	case scimbridge.ChangeRelease:
		if c.Reason != reconcile.ReasonCycle {
			t.counts.Updated++
		}
	default:
		t.counts.Updated++
	}
}

func (t *tally) applied(pc reconcile.PlannedChange) {
	t.count(pc.Change)
	t.changes = append(t.changes, pc.ReportItem(false))
}

func (t *tally) failed(pc reconcile.PlannedChange, msg string) {
	t.counts.Failed++
	it := pc.ReportItem(false)
	it.Kind, it.Error = ItemFail, msg
	it.Reason = string(pc.Change.Kind) + ": " + pc.Reason
	t.changes = append(t.changes, it)
}

func (t *tally) stale(pc reconcile.PlannedChange) {
	t.counts.Skipped++
	it := pc.ReportItem(false)
	it.Kind, it.Reason, it.Fields = reconcile.ItemSkip, ReasonChangedSincePlan, nil
	t.changes = append(t.changes, it)
}

// plan records what the plan itself decided: unchanged users, skips and
// exclusions.
func (t *tally) plan(p reconcile.DirectoryPlan) {
	t.planned = true
	t.counts.Unchanged += p.Unchanged
	t.counts.Skipped += len(p.Skipped)
	t.skipped = append(t.skipped, p.Skipped...)
}

func (t *tally) hold(pcs []reconcile.PlannedChange) {
	t.counts.Held += len(pcs)
	for _, pc := range pcs {
		t.held = append(t.held, pc.ReportItem(true))
	}
}

// dryRun records a plan that is not applied: its changes, deferred
// creates (of users, the listing) included, are counted as what a run
// would do.
func (r *Runner) dryRun(ctx context.Context, st *run, p reconcile.DirectoryPlan, users []reconcile.DirectoryUser) error {
	t := &st.tally
	t.plan(p)
	for _, pc := range p.Apply {
		t.applied(pc)
	}
	now := r.now()
	for _, c := range p.Creates {
		pc, err := reconcile.BuildCreate(st.bridge.OrgID, users[c.User], c.Reason, r.newID(), now)
		if err != nil {
			return fmt.Errorf("plan create: %w", err)
		}
		t.applied(pc)
		if err := t.flush(ctx, false); err != nil {
			return err
		}
	}
	t.hold(p.Held)
	return nil
}

// inline returns the first ReportInline items of a streamed report whose
// items from t.written on are rest.
func (t *tally) inline(rest []scimbridge.ReportItem) []scimbridge.ReportItem {
	out := slices.Clone(t.head)
	if len(out) == t.written {
		out = append(out, rest[:min(len(rest), ReportInline-len(out))]...)
	}
	return out
}

func skipKey(it scimbridge.ReportItem) string {
	return string(it.Kind) + "\x00" + it.GoogleID + "\x00" + it.ProfileID + "\x00" + it.UserName + "\x00" + it.Reason
}

// items returns the report's items: changes, held changes, exclusions, and
// the skips that are new or changed since prev (the last planned report's
// skips; nil itemises them all). It also returns every skip's key.
func (t *tally) items(prev map[string]bool) ([]scimbridge.ReportItem, map[string]bool) {
	out := make([]scimbridge.ReportItem, 0, len(t.changes)+len(t.held)+len(t.skipped))
	out = append(out, t.changes...)
	out = append(out, t.held...)
	keys := make(map[string]bool, len(t.skipped))
	for _, it := range t.skipped {
		k := skipKey(it)
		keys[k] = true
		if it.Kind == reconcile.ItemExcluded || !prev[k] {
			out = append(out, it)
		}
	}
	return out, keys
}

// previousSkips returns the skips of the organization's last planned
// report before runID: from memory when this runner wrote it, else from
// its items (which hold only the skips it itemised).
func (r *Runner) previousSkips(ctx context.Context, orgID, runID string) map[string]bool {
	reps, err := r.Store.Reports(ctx, orgID, reportHistory)
	if err != nil {
		r.logger().Warn("list reports failed", "org_id", orgID, "error", err)
		return nil
	}
	for _, rep := range reps {
		if rep.ID == runID {
			continue
		}
		switch rep.Status {
		case scimbridge.ReportApplied, scimbridge.ReportHeld, scimbridge.ReportDryRun:
		default:
			continue
		}
		r.mu.Lock()
		memo, ok := r.skips[orgID]
		r.mu.Unlock()
		if ok && memo.reportID == rep.ID {
			return memo.keys
		}
		// Only the skips are read, a page at a time: a first sync's
		// report holds a million creates.
		keys := map[string]bool{}
		for _, kind := range []scimbridge.ChangeKind{reconcile.ItemSkip, reconcile.ItemExcluded} {
			for after := -1; ; {
				page, err := r.Store.ReportItems(ctx, orgID, rep.ID, kind, after, scimbridge.MaxPageSize)
				if err != nil {
					r.logger().Warn("read report failed", "org_id", orgID, "report_id", rep.ID, "error", err)
					return nil
				}
				for _, it := range page {
					keys[skipKey(it.ReportItem)] = true
				}
				if len(page) < scimbridge.MaxPageSize {
					break
				}
				after = page[len(page)-1].Position
			}
		}
		return keys
	}
	return nil
}

func (r *Runner) rememberSkips(orgID, reportID string, keys map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.skips == nil {
		r.skips = map[string]skipMemo{}
	}
	r.skips[orgID] = skipMemo{reportID: reportID, keys: keys}
}

// finish writes the run's report and the bridge's state, and returns the
// report with an error when the run did not complete. err is what execute
// returned; parent is the caller's context, runCtx the run's.
func (r *Runner) finish(ctx, parent, runCtx context.Context, st *run, err error) (scimbridge.Report, error) {
	rep := &st.report
	var fail *runFailure
	switch {
	case err == nil:
		if rep.Status == scimbridge.ReportRunning {
			rep.Status = scimbridge.ReportApplied
		}
	case errors.Is(err, errHolderLost) || scimbridge.ErrorCode(err) == scimbridge.ELEASELOST ||
		errors.Is(context.Cause(runCtx), errHolderLost):
		rep.Status, rep.Error = scimbridge.ReportFailed, HolderLost
	case parent.Err() != nil || errors.Is(err, errInterrupted):
		rep.Status, rep.Error = scimbridge.ReportInterrupted, "interrupted: stopped between batches"
	case errors.As(err, &fail):
		rep.Status, rep.Error = scimbridge.ReportFailed, fail.msg
		st.attention = fail.attention
	default:
		rep.Status, rep.Error = scimbridge.ReportFailed, err.Error()
	}
	now := r.now()
	rep.FinishedAt = &now
	rep.Counts = st.tally.counts
	rep.Phases = st.clock.report(appliedChanges(rep.Counts))
	var prev map[string]bool
	if len(st.tally.skipped) > 0 {
		prev = r.previousSkips(ctx, rep.OrgID, rep.ID)
	}
	var keys map[string]bool
	rep.Items, keys = st.tally.items(prev)
	var werr error
	if rs, ok := r.Store.(ReportStreamer); ok && st.tally.written > 0 {
		werr = rs.PutReportFrom(ctx, *rep, st.tally.written)
		rep.Items = st.tally.inline(rep.Items)
	} else {
		werr = r.Store.PutReport(ctx, *rep)
	}
	if werr != nil {
		st.logger.Error("write report failed", "error", werr)
	} else if st.tally.planned {
		r.rememberSkips(rep.OrgID, rep.ID, keys)
	}
	r.updateState(ctx, st, now)
	st.logger.Info("bridge run finished", "status", rep.Status, "error", rep.Error,
		"created", rep.Counts.Created, "updated", rep.Counts.Updated, "deactivated", rep.Counts.Deactivated,
		"reactivated", rep.Counts.Reactivated, "unchanged", rep.Counts.Unchanged, "skipped", rep.Counts.Skipped,
		"failed", rep.Counts.Failed, "held", rep.Counts.Held, "duration", now.Sub(rep.StartedAt))
	switch rep.Status {
	case scimbridge.ReportFailed, scimbridge.ReportInterrupted:
		return *rep, fmt.Errorf("bridge run %s %s: %s", rep.ID, rep.Status, rep.Error)
	}
	return *rep, nil
}

// updateState writes the bridge's run state after a run.
func (r *Runner) updateState(ctx context.Context, st *run, now time.Time) {
	b := st.bridge
	b.LastSyncAt = &now
	switch st.report.Status {
	case scimbridge.ReportApplied, scimbridge.ReportHeld, scimbridge.ReportDryRun:
		b.LastSuccessAt = &now
		b.ConsecutiveFailures, b.LastError, b.NeedsAttention = 0, "", false
	case scimbridge.ReportFailed:
		b.ConsecutiveFailures++
		b.LastError, b.NeedsAttention = st.report.Error, st.attention
	}
	st.groups.markState(&b, st.report.Status)
	next := now
	if st.report.Status != scimbridge.ReportInterrupted {
		var err error
		if next, err = NextSync(b, now); err != nil {
			st.logger.Warn("invalid schedule: retrying in an hour", "schedule", b.Settings.Schedule, "error", err)
			next = now.Add(MaxBackoff)
		}
	}
	b.NextSyncAt = &next
	b.UpdatedAt = now
	if err := r.Store.UpdateBridgeState(ctx, b); err != nil {
		st.logger.Error("update bridge state failed", "error", err)
	}
}

// failOrphans marks the organization's reports still running (their run
// lost its holder: this run holds the lease now) failed "holder lost".
func (r *Runner) failOrphans(ctx context.Context, orgID, runID string) {
	reps, err := r.Store.Reports(ctx, orgID, reportHistory)
	if err != nil {
		r.logger().Warn("list reports failed", "org_id", orgID, "error", err)
		return
	}
	for _, rep := range reps {
		if rep.Status != scimbridge.ReportRunning || rep.ID == runID {
			continue
		}
		now := r.now()
		err := r.updateReport(ctx, orgID, rep.ID, func(full *scimbridge.Report) {
			full.Status, full.Error, full.FinishedAt = scimbridge.ReportFailed, HolderLost, &now
		})
		if err != nil {
			r.logger().Warn("mark report failed", "org_id", orgID, "report_id", rep.ID, "error", err)
			continue
		}
		r.logger().Warn("run of a lost holder marked failed", "org_id", orgID, "report_id", rep.ID)
	}
}

// annotate sets a note on an earlier held report (approved, discarded,
// superseded, expired) and clears its HeldUntil: its plan is no longer
// pending.
func (r *Runner) annotate(ctx context.Context, orgID, reportID, note string) {
	err := r.updateReport(ctx, orgID, reportID, func(rep *scimbridge.Report) { rep.Error, rep.HeldUntil = note, nil })
	if err != nil {
		r.logger().Warn("annotate report failed", "org_id", orgID, "report_id", reportID, "error", err)
	}
}

// updateReport changes a stored report's own fields and keeps its items:
// with a ReportStreamer they are neither read nor written again (a first
// sync's report holds a million).
func (r *Runner) updateReport(ctx context.Context, orgID, reportID string, change func(*scimbridge.Report)) error {
	if s, ok := r.Store.(ReportStreamer); ok {
		rep, err := r.Store.ReportSummary(ctx, orgID, reportID)
		if err != nil {
			return err
		}
		change(&rep)
		return s.PutReportFrom(ctx, rep, math.MaxInt32)
	}
	rep, err := r.Store.Report(ctx, orgID, reportID)
	if err != nil {
		return err
	}
	change(&rep)
	return r.Store.PutReport(ctx, rep)
}

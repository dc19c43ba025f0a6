package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/scim"
)

// applyTimeout bounds one apply transaction. Transactions run to the end
// even when the run is cancelled: a run stops between batches.
const applyTimeout = 2 * time.Minute

// bridgeUserAgent marks the events of the bridge.
const bridgeUserAgent = "scimbridge-bridge"

// applyPlan applies a plan: its changes now, the approved held changes on
// an approval, then its deferred creates (of users, the listing), and
// records what stays held.
func (r *Runner) applyPlan(ctx context.Context, st *run, plan reconcile.DirectoryPlan, users []reconcile.DirectoryUser,
	sp *spill) error {
	st.tally.plan(plan)
	changes, held := plan.Apply, plan.Held
	if st.req.approve != nil {
		if err := r.checkApproval(ctx, st); err != nil {
			return err
		}
		approved := reconcile.FilterApproved(plan, st.req.approve.plan.Keys)
		changes = slices.Concat(plan.Apply, approved)
		keys := make(map[string]bool, len(approved))
		for _, pc := range approved {
			keys[pc.Key()] = true
		}
		held = slices.DeleteFunc(slices.Clone(plan.Held), func(pc reconcile.PlannedChange) bool { return keys[pc.Key()] })
	}
	a := &applier{store: r.Store, logger: st.logger, now: r.now, newID: r.newID, orgID: st.bridge.OrgID, org: st.org,
		runID: st.report.ID, baseURL: r.scimBaseURL(),
		lease: &scimbridge.LeaseCheck{OrgID: st.lease.OrgID, RunID: st.lease.RunID, Holder: st.lease.Holder},
		tally: &st.tally, clock: &st.clock}
	if err := a.apply(ctx, changes); err != nil {
		return err
	}
	if err := a.applyCreates(ctx, users, plan.Creates); err != nil {
		return err
	}
	if err := a.applySpilled(ctx, sp); err != nil {
		return err
	}
	return r.settleHeld(ctx, st, plan.Guard, held)
}

// scimBaseURL is the SCIM base URL the resources in events name.
func (r *Runner) scimBaseURL() string {
	return strings.TrimSuffix(r.PublicURL, "/") + scim.BasePath
}

// sortCreates orders deferred creates by userName, so a whole new
// directory is inserted in the order of its unique keys: each batch then
// appends to those indexes instead of touching pages all over them. The
// creates depend on nothing, so any order is correct.
func sortCreates(users []reconcile.DirectoryUser, creates []reconcile.PlannedCreate) {
	slices.SortStableFunc(creates, func(x, y reconcile.PlannedCreate) int {
		return strings.Compare(users[x.User].Desired.UserName(), users[y.User].Desired.UserName())
	})
}

// creator is the store's bulk path for a batch of creates (PostgreSQL's
// COPY): all or nothing, a taken address failing the whole batch.
type creator interface {
	ApplyCreates(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error
}

// applyCreates builds and applies the deferred creates.
func (a *applier) applyCreates(ctx context.Context, users []reconcile.DirectoryUser, creates []reconcile.PlannedCreate) error {
	if len(creates) == 0 {
		return nil
	}
	sortCreates(users, creates)
	return a.createAll(ctx, func(fn func(*reconcile.DirectoryUser, string) bool) error {
		for _, c := range creates {
			if !fn(&users[c.User], c.Reason) {
				break
			}
		}
		return nil
	})
}

// applySpilled builds and applies the creates a listing spilled, read
// back in userName order.
func (a *applier) applySpilled(ctx context.Context, sp *spill) error {
	if sp.pending() == 0 {
		return nil
	}
	return a.createAll(ctx, func(fn func(*reconcile.DirectoryUser, string) bool) error {
		return sp.each(func(u *reconcile.DirectoryUser) bool { return fn(u, reconcile.CreateReason(u)) })
	})
}

// createBatch is a batch of built creates with their events, and the
// creates that could not be built.
type createBatch struct {
	pcs    []reconcile.PlannedChange
	evs    []scimbridge.ChangeEvent
	failed []failedCreate
}

type failedCreate struct {
	pc  reconcile.PlannedChange
	msg string
}

// createAll applies the creates each yields (a user and its reason),
// scimbridge.MaxBatch at a time: a goroutine builds the next batch (the
// profile, its event) while one commits, and only those two batches of
// built profiles exist at once.
func (a *applier) createAll(ctx context.Context, each func(fn func(*reconcile.DirectoryUser, string) bool) error) error {
	batches := make(chan createBatch)
	stop := make(chan struct{})
	var eachErr error
	go func() {
		defer close(batches)
		var cur createBatch
		send := func() bool {
			select {
			case batches <- cur:
				cur = createBatch{}
				return true
			case <-stop:
				return false
			}
		}
		eachErr = each(func(u *reconcile.DirectoryUser, reason string) bool {
			now := a.now()
			pc, err := reconcile.BuildCreate(a.orgID, *u, reason, a.newID(), now)
			if err != nil {
				cur.failed = append(cur.failed, failedCreate{reconcile.PlannedChange{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate},
					Desired: u.Desired, Reason: reason}, failMessage(err)})
			} else {
				cur.pcs = append(cur.pcs, pc)
				cur.evs = append(cur.evs, scimbridge.ChangeEvent{Change: pc.Change, Event: a.event(pc, now)})
			}
			if len(cur.pcs)+len(cur.failed) == scimbridge.MaxBatch {
				return send()
			}
			return true
		})
		if eachErr == nil && len(cur.pcs)+len(cur.failed) > 0 {
			send()
		}
	}()
	defer func() {
		close(stop)
		for range batches {
		}
	}()
	for b := range batches {
		if err := stopped(ctx); err != nil {
			return err
		}
		for _, f := range b.failed {
			a.tally.failed(f.pc, f.msg)
		}
		if err := a.commitCreates(ctx, b); err != nil {
			return err
		}
	}
	return eachErr
}

// commitCreates applies a batch of creates: with the store's bulk path
// when it has one, the batch falling back to apply (change by change if
// need be) when the bulk path refuses it.
func (a *applier) commitCreates(ctx context.Context, b createBatch) error {
	c, ok := a.store.(creator)
	if !ok || len(b.pcs) == 0 {
		return a.apply(ctx, b.pcs)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	start := time.Now()
	err := c.ApplyCreates(cctx, b.evs, a.lease)
	cancel()
	if a.clock != nil {
		a.clock.apply(start)
	}
	switch {
	case err == nil:
		for _, pc := range b.pcs {
			a.tally.applied(pc)
		}
	case scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
		return errHolderLost
	default:
		a.logger.Warn("batch of creates failed: applying it again", "changes", len(b.pcs), "error", err)
		return a.apply(ctx, b.pcs)
	}
	return a.tally.flush(ctx, false)
}

// applier applies planned changes in batches, each change with its event.
type applier struct {
	store  scimbridge.Store
	logger *slog.Logger
	now    func() time.Time
	newID  func() string
	orgID  string
	// org is the organization as the run read it, for deciding again.
	org   scimbridge.Organization
	runID string
	// baseURL is the SCIM base URL of the resources in events.
	baseURL string
	lease   *scimbridge.LeaseCheck
	tally   *tally
	// clock, when set, is told the time spent committing.
	clock *phaseClock
}

// units splits changes into the units that must commit together: a rename
// group (contiguous in a plan) or a single change.
func units(changes []reconcile.PlannedChange) [][]reconcile.PlannedChange {
	var out [][]reconcile.PlannedChange
	for i := 0; i < len(changes); {
		j := i + 1
		if g := changes[i].Group; g != 0 {
			for j < len(changes) && changes[j].Group == g {
				j++
			}
		}
		out = append(out, changes[i:j])
		i = j
	}
	return out
}

// batches packs units into batches of at most max changes, never splitting
// a unit (a unit larger than max is a batch of its own).
func batches(us [][]reconcile.PlannedChange, max int) [][][]reconcile.PlannedChange {
	var out [][][]reconcile.PlannedChange
	var cur [][]reconcile.PlannedChange
	n := 0
	for _, u := range us {
		if n > 0 && n+len(u) > max {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, u)
		n += len(u)
	}
	if n > 0 {
		out = append(out, cur)
	}
	return out
}

// apply applies changes in order. It stops between batches when ctx is
// cancelled (errInterrupted, or errHolderLost when the lease was lost).
func (a *applier) apply(ctx context.Context, changes []reconcile.PlannedChange) error {
	for _, batch := range batches(units(changes), scimbridge.MaxBatch) {
		if err := stopped(ctx); err != nil {
			return err
		}
		flat := slices.Concat(batch...)
		err := a.commit(ctx, flat)
		switch {
		case err == nil:
			for _, pc := range flat {
				a.tally.applied(pc)
			}
		case scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
			return errHolderLost
		default:
			a.logger.Warn("batch failed: applying its changes one at a time", "changes", len(flat), "error", err)
			if err := a.oneByOne(ctx, batch); err != nil {
				return err
			}
		}
		if err := a.tally.flush(ctx, false); err != nil {
			return err
		}
	}
	return nil
}

// stopped says whether the run must stop, and why.
func stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if errors.Is(context.Cause(ctx), errHolderLost) {
		return errHolderLost
	}
	return errInterrupted
}

// oneByOne applies a failed batch unit by unit, so one bad user is
// recorded and the rest apply.
func (a *applier) oneByOne(ctx context.Context, batch [][]reconcile.PlannedChange) error {
	for _, u := range batch {
		if err := stopped(ctx); err != nil {
			return err
		}
		err := a.commit(ctx, u)
		switch code := scimbridge.ErrorCode(err); {
		case err == nil:
			for _, pc := range u {
				a.tally.applied(pc)
			}
		case code == scimbridge.ELEASELOST:
			return errHolderLost
		case code == scimbridge.EPRECONDITION && len(u) == 1:
			if err := a.retryStale(ctx, u[0]); err != nil {
				return err
			}
		case code == scimbridge.EPRECONDITION:
			for _, pc := range u {
				a.tally.stale(pc)
			}
		default:
			msg := failMessage(err)
			a.logger.Warn("change failed", "kind", u[0].Change.Kind, "profile_id", u[0].Change.Profile.ID,
				"username", u[0].Desired.UserName(), "error", err)
			for _, pc := range u {
				a.tally.failed(pc, msg)
			}
		}
	}
	return nil
}

// failMessage is what a report says of a refused change: the error's
// message, never internal detail (that goes to the log).
func failMessage(err error) string {
	if scimbridge.ErrorCode(err) == scimbridge.EINTERNAL {
		return "internal error (see the log)"
	}
	return scimbridge.ErrorMessage(err)
}

// retryStale handles a change whose profile another writer changed since
// the plan: it reads the profile again and decides once more; a change of
// another kind, or a second miss, is a skip "changed since plan".
func (a *applier) retryStale(ctx context.Context, pc reconcile.PlannedChange) error {
	fresh, err := a.store.Profile(context.WithoutCancel(ctx), a.orgID, pc.Change.Profile.ID)
	if err != nil {
		a.tally.stale(pc)
		return nil
	}
	c, write, ok := reconcile.Redecide(a.org, fresh, pc, a.now())
	switch {
	case !ok:
		a.tally.stale(pc)
		return nil
	case !write:
		a.tally.counts.Unchanged++
		return nil
	}
	pc.Change = c
	err = a.commit(ctx, []reconcile.PlannedChange{pc})
	switch {
	case err == nil:
		a.tally.applied(pc)
	case scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
		return errHolderLost
	case scimbridge.ErrorCode(err) == scimbridge.EPRECONDITION:
		a.tally.stale(pc)
	default:
		a.tally.failed(pc, failMessage(err))
	}
	return nil
}

// commit applies changes in one transaction under the lease. It is not
// cancelled with the run: a started batch commits or rolls back whole.
func (a *applier) commit(ctx context.Context, changes []reconcile.PlannedChange) error {
	now := a.now()
	evs := make([]scimbridge.ChangeEvent, len(changes))
	for i := range changes {
		evs[i] = scimbridge.ChangeEvent{Change: changes[i].Change, Event: a.event(changes[i], now)}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	if a.clock != nil {
		defer a.clock.apply(time.Now())
	}
	return a.store.ApplyChanges(cctx, evs, a.lease)
}

// event is the event a change commits with: source google, the run id,
// and the equivalent SCIM call (POST /Users for a create or adoption,
// PATCH /Users/{id} otherwise) with the desired profile as request body
// and the stored resource after the change (the SCIM User the API would
// return, encoded once) as response body.
func (a *applier) event(pc reconcile.PlannedChange, now time.Time) scimbridge.Event {
	p := &pc.Change.Profile
	target := p.UserName
	if target == "" {
		target = p.FormerUserName
	}
	ev := scimbridge.Event{
		OrgID:          a.orgID,
		Time:           now,
		Method:         "PATCH",
		Path:           "/Users/" + p.ID,
		Status:         200,
		TargetUserName: target,
		UserAgent:      bridgeUserAgent,
		Source:         scimbridge.EventGoogle,
		RunID:          a.runID,
		Kind:           pc.Change.Kind,
		ProfileID:      p.ID,
		Count:          1,
	}
	switch pc.Change.Kind {
	case scimbridge.ChangeCreate, scimbridge.ChangeAdopt:
		ev.Method, ev.Path, ev.Status = "POST", "/Users", 201
	}
	if b, err := json.Marshal(pc.Desired); err == nil {
		ev.RequestBody = string(b)
	}
	if b, err := scim.EncodeUser(*p, scim.EncodeOptions{BaseURL: a.baseURL}); err == nil {
		ev.ResponseBody = string(b)
	}
	return ev
}

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/reconcile"
)

// Run timings.
const (
	// DefaultLeaseTTL is how long an organization's lease lasts unless
	// renewed.
	DefaultLeaseTTL = 60 * time.Second
	// DefaultRenewInterval is how often a run renews its lease.
	DefaultRenewInterval = 20 * time.Second
	// HeldPlanTTL is how long a held plan can be approved.
	HeldPlanTTL = 7 * 24 * time.Hour
	// guardWindow is the trailing window of the deactivation guard.
	guardWindow = 24 * time.Hour
	// finishTimeout bounds the writes that close a run (report, state,
	// lease), which happen even after the run's context is cancelled.
	finishTimeout = 30 * time.Second
)

// CannotDecrypt begins the bridge status shown when the stored credentials
// cannot be opened with the loaded keys; the rest names the key needed and
// those loaded (seal.Explain).
const CannotDecrypt = "cannot decrypt credentials"

// HolderLost is the error of a run that lost its organization's lease.
const HolderLost = "holder lost"

// ErrNotDue is returned by RunOnce for a scheduled run whose bridge is no
// longer due: another scheduler ran it in the meantime.
var ErrNotDue = errors.New("bridge run not due")

// errHolderLost cancels a run whose lease was lost; errInterrupted stops a
// run whose context was cancelled.
var (
	errHolderLost  = errors.New(HolderLost)
	errInterrupted = errors.New("interrupted")
)

// Runner runs an organization's Google bridge: it lists the complete
// directory, plans against the stored profiles, applies the plan in
// batches under the organization's lease and writes a report. It is safe
// for concurrent use; each organization runs once at a time across every
// replica and process.
type Runner struct {
	Store      scimbridge.Store
	Keyring    *seal.Keyring
	Endpoints  Endpoints
	HTTPClient *http.Client
	Logger     *slog.Logger
	Clock      scimbridge.Clock
	// Holder names this replica or process in the lease table.
	Holder string
	// PublicURL is the daemon's public_url: the resources in the events of
	// bridge changes are located under PublicURL/api/connect/v1.
	PublicURL string

	// DirectoryOptions are passed to NewDirectory (a retry policy).
	DirectoryOptions []Option
	// LeaseTTL and RenewInterval default to DefaultLeaseTTL and
	// DefaultRenewInterval.
	LeaseTTL      time.Duration
	RenewInterval time.Duration
	// NewID returns new profile ids; nil means time-ordered UUIDs
	// (version 7), so the profiles of one run are inserted in id order.
	NewID func() string
	// Observer, when set, is told about every run that started, once it
	// finished (metrics).
	Observer Observer
	// SpillDir is where a run writes the new users it will create while
	// it lists them (a file removed as soon as it is created: see
	// spill.go); empty means os.TempDir().
	SpillDir string

	mu   sync.Mutex
	busy map[string]bool
	// skips remembers the skips of the last report this runner wrote per
	// organization, so repeated skips are counted, not itemised.
	skips map[string]skipMemo
}

// runRequest is one run to perform.
type runRequest struct {
	orgID   string
	trigger scimbridge.Trigger
	dryRun  bool
	// approve is set for an approval: the held plan's keys.
	approve *approval
}

type approval struct {
	plan heldPlan
}

// run is the state of one run in progress.
type run struct {
	req    runRequest
	org    scimbridge.Organization
	bridge scimbridge.Bridge
	lease  scimbridge.Lease
	report scimbridge.Report
	logger *slog.Logger
	tally  tally
	// attention says the failure needs an admin (credentials, access).
	attention bool
	// google is the run's Directory client, for its counters.
	google *Directory
	// groups is the group half of a run with groups on; nil otherwise.
	groups *groupsRun
	// clock measures the run's phases.
	clock phaseClock
	// index is the compact index of the stored profiles, once listed.
	index *userIndex
}

// runFailure is a failed run's reason; attention says an admin must act.
type runFailure struct {
	msg       string
	attention bool
	err       error
}

func (f *runFailure) Error() string { return f.msg }
func (f *runFailure) Unwrap() error { return f.err }

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Runner) now() time.Time {
	if r.Clock == nil {
		return time.Now().UTC()
	}
	return r.Clock().UTC()
}

func (r *Runner) leaseTTL() time.Duration {
	if r.LeaseTTL > 0 {
		return r.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (r *Runner) renewInterval() time.Duration {
	if r.RenewInterval > 0 {
		return r.RenewInterval
	}
	return DefaultRenewInterval
}

func (r *Runner) newID() string {
	if r.NewID != nil {
		return r.NewID()
	}
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// RunOnce runs the organization's bridge once and returns its report. A
// run that could not start (no bridge, another run in progress) returns an
// error and no report; a run that started and failed or was interrupted
// returns its report and an error saying why. dryRun plans and reports
// without applying anything, as does the dry-run mode.
func (r *Runner) RunOnce(ctx context.Context, orgID string, trigger scimbridge.Trigger, dryRun bool) (scimbridge.Report, error) {
	return r.run(ctx, runRequest{orgID: orgID, trigger: trigger, dryRun: dryRun})
}

// claim marks the organization busy in this process; the lease does the
// same across processes, but two runs of one holder would share it.
func (r *Runner) claim(orgID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy == nil {
		r.busy = map[string]bool{}
	}
	if r.busy[orgID] {
		return false
	}
	r.busy[orgID] = true
	return true
}

func (r *Runner) unclaim(orgID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.busy, orgID)
}

func inProgress(orgID, holder string) error {
	if holder != "" {
		return scimbridge.Errorf(scimbridge.ECONFLICT, "another run of organization %s is in progress (holder %s)", orgID, holder)
	}
	return scimbridge.Errorf(scimbridge.ECONFLICT, "another run of organization %s is in progress", orgID)
}

func (r *Runner) run(ctx context.Context, req runRequest) (scimbridge.Report, error) {
	if !r.claim(req.orgID) {
		return scimbridge.Report{}, inProgress(req.orgID, r.Holder)
	}
	defer r.unclaim(req.orgID)
	org, err := r.Store.Organization(ctx, req.orgID)
	if err != nil {
		return scimbridge.Report{}, fmt.Errorf("run bridge: %w", err)
	}

	runID := uuid.NewString()
	lease := scimbridge.Lease{OrgID: req.orgID, RunID: runID, Holder: r.Holder, ExpiresAt: r.now().Add(r.leaseTTL())}
	ok, err := r.Store.AcquireLease(ctx, lease)
	if err != nil {
		return scimbridge.Report{}, fmt.Errorf("run bridge: %w", err)
	}
	if !ok {
		cur, _ := r.Store.CurrentLease(ctx, req.orgID)
		return scimbridge.Report{}, inProgress(req.orgID, cur.Holder)
	}
	finishCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	}
	defer func() {
		fctx, cancel := finishCtx()
		defer cancel()
		if err := r.Store.ReleaseLease(fctx, req.orgID, runID); err != nil {
			r.logger().Warn("release lease failed", "org_id", req.orgID, "run_id", runID, "error", err)
		}
	}()
	// Read under the lease: a scheduled run another replica finished
	// meanwhile is not due any more.
	b, err := r.Store.Bridge(ctx, req.orgID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Report{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "organization %s has no Google bridge", req.orgID)
	} else if err != nil {
		return scimbridge.Report{}, fmt.Errorf("run bridge: %w", err)
	}
	if req.trigger == scimbridge.TriggerSchedule && b.NextSyncAt != nil && b.NextSyncAt.After(r.now()) {
		return scimbridge.Report{}, ErrNotDue
	}
	r.failOrphans(ctx, req.orgID, runID)

	st := &run{
		req: req, org: org, bridge: b, lease: lease,
		report: scimbridge.Report{ID: runID, OrgID: req.orgID, Trigger: req.trigger,
			Status: scimbridge.ReportRunning, StartedAt: r.now()},
		logger: r.logger().With("org_id", req.orgID, "run_id", runID, "trigger", req.trigger),
	}
	if err := r.Store.PutReport(ctx, st.report); err != nil {
		return scimbridge.Report{}, fmt.Errorf("run bridge: %w", err)
	}
	if rs, ok := r.Store.(ReportStreamer); ok {
		st.tally.sink = func(ctx context.Context, start int, items []scimbridge.ReportItem) error {
			return rs.AppendReportItems(ctx, req.orgID, runID, start, items)
		}
	}
	st.logger.Info("bridge run started")

	runCtx, cancel := context.WithCancelCause(ctx)
	renewDone := r.renew(runCtx, lease, cancel)
	err = r.execute(runCtx, st)
	cancel(nil)
	<-renewDone
	if err == nil && ctx.Err() == nil {
		// A run that applied nothing never checked its lease: make sure
		// nobody took it over before calling the run a success.
		fctx, c := finishCtx()
		err = r.Store.RenewLease(fctx, scimbridge.Lease{OrgID: lease.OrgID, RunID: runID, Holder: r.Holder,
			ExpiresAt: r.now().Add(r.leaseTTL())})
		c()
		if scimbridge.ErrorCode(err) == scimbridge.ELEASELOST {
			err = errHolderLost
		} else if err != nil {
			st.logger.Warn("renew lease failed", "error", err)
			err = nil
		}
	}
	fctx, c := finishCtx()
	defer c()
	rep, err := r.finish(fctx, ctx, runCtx, st, err)
	r.observe(st, rep)
	return rep, err
}

// renew extends the lease every RenewInterval until ctx ends; a lost lease
// cancels the run with errHolderLost.
func (r *Runner) renew(ctx context.Context, l scimbridge.Lease, cancel context.CancelCauseFunc) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.renewInterval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l.ExpiresAt = r.now().Add(r.leaseTTL())
			err := r.Store.RenewLease(ctx, l)
			switch {
			case scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
				r.logger().Warn("lease lost", "org_id", l.OrgID, "run_id", l.RunID)
				cancel(errHolderLost)
				return
			case err != nil && ctx.Err() == nil:
				r.logger().Warn("renew lease failed", "org_id", l.OrgID, "run_id", l.RunID, "error", err)
			}
		}
	}()
	return done
}

// execute lists, plans and applies. Its error says why the run did not
// complete; the caller turns it into the report's status.
func (r *Runner) execute(ctx context.Context, st *run) error {
	creds, err := OpenCredentials(r.Keyring, st.bridge.OrgID, st.bridge.SealedCredentials)
	if err != nil {
		st.logger.Error("cannot decrypt credentials", "error", err)
		return &runFailure{msg: CannotDecrypt + ": " + seal.Explain(r.Keyring, st.bridge.SealedCredentials), attention: true, err: err}
	}
	dir, err := NewDirectory(ctx, creds, r.Endpoints, r.HTTPClient, r.logger().With("org_id", st.bridge.OrgID),
		r.Clock, directoryOptions(st.bridge.Settings, r.DirectoryOptions)...)
	if err != nil {
		return &runFailure{msg: err.Error(), attention: true, err: err}
	}
	st.google = dir
	settings := st.bridge.Settings
	if err := r.startGroups(ctx, st, dir); err != nil {
		return err
	}
	// The compact index of the stored side loads while Google lists; each
	// page is converted and compared with it as it arrives, and only the
	// users the plan needs are kept (with groups on too: the group plan
	// and the group scope read the unchanged users from the index).
	loaded := make(chan indexResult, 1)
	go func() {
		x, err := r.loadIndex(ctx, st.bridge.OrgID)
		loaded <- indexResult{x, err}
	}()
	lb := newListingBuilder(settings, loaded)
	dryRun := st.req.dryRun || !reconcile.PolicyFor(settings.Mode).Applies
	// With users-from-groups, whether a new user is in scope is known only
	// once the groups are listed: such a run keeps its new users.
	usersFromGroups := st.groups != nil && settings.UsersFromGroups
	if !dryRun && !usersFromGroups && st.req.approve == nil && settings.Hold != scimbridge.HoldAll {
		if lb.spill, err = newSpill(r.SpillDir); err != nil {
			return err
		}
		defer lb.spill.close()
	}
	st.clock.listing()
	add, converted := pipeline(lb.add)
	listing, err := dir.EachPage(ctx, settings.Customer, false, add)
	converted()
	st.clock.listed(listing.Pages)
	index, users, ierr := lb.finish()
	if err != nil {
		return listFailure(err)
	}
	if ierr != nil {
		return fmt.Errorf("plan directory: %w", ierr)
	}
	if lb.spill != nil {
		if users, err = lb.spill.settle(users, lb.seqs); err != nil {
			return err
		}
		lb.seqs = nil
	}
	st.index = index
	if users, err = r.groupsListed(ctx, st, users, &lb.unchanged); err != nil {
		return err
	}
	st.logger.Info("directory listed", "users", lb.n, "pages", listing.Pages, "retries", listing.Retries,
		"unchanged", lb.unchanged, "spilled", lb.spill.pending())
	if !dryRun {
		if settings, err = r.pinExclusions(ctx, st, users); err != nil {
			return err
		}
	}
	planStart := time.Now()
	in := reconcile.DirectoryInput{Org: st.org, Settings: settings, Now: r.now(), NewID: r.newID, Users: users,
		DeferCreates: true, Listed: lb.n, Unchanged: lb.unchanged}
	if in.Recent, err = r.recentChanges(ctx, st.bridge.OrgID); err != nil {
		return err
	}
	if err := r.plannerInput(ctx, st.bridge.OrgID, index, users, &in); err != nil {
		return err
	}
	if reconcile.NeedsDeletedCheck(in) {
		if in.Deleted, err = deletedIDs(ctx, dir, settings.Customer); err != nil {
			return listFailure(err)
		}
	}
	plan, err := r.plan(ctx, st.bridge.OrgID, &in)
	st.clock.plan(planStart)
	if err != nil {
		return fmt.Errorf("plan directory: %w", err)
	}
	in.Stored, in.Index = nil, nil
	st.logger.Info("directory planned", "apply", len(plan.Apply)+len(plan.Creates)+lb.spill.pending(), "held", len(plan.Held),
		"skipped", len(plan.Skipped), "unchanged", plan.Unchanged, "guarded", plan.Guard.Guarded)
	if dryRun {
		st.report.Status = scimbridge.ReportDryRun
		if err := r.dryRun(ctx, st, plan, users); err != nil {
			return err
		}
		return r.syncGroups(ctx, st, users, true)
	}
	if err := r.applyPlan(ctx, st, plan, users, lb.spill); err != nil {
		return err
	}
	return r.syncGroups(ctx, st, users, false)
}

// listFailure turns a failed listing into the run's failure: a permanent
// Google error needs attention, with Google's message.
func listFailure(err error) error {
	var pe *PermanentError
	if errors.As(err, &pe) {
		return &runFailure{msg: err.Error(), attention: true, err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &runFailure{msg: "incomplete listing, nothing applied: " + err.Error(), err: err}
}

// SealCredentials seals creds for the organization under the keyring's
// current key.
func SealCredentials(k *seal.Keyring, orgID string, creds Credentials) ([]byte, error) {
	if k == nil {
		return nil, errors.New("seal credentials: no encryption key is loaded")
	}
	plain, err := json.Marshal(creds)
	if err != nil {
		return nil, fmt.Errorf("seal credentials: %w", err)
	}
	defer clear(plain)
	return k.Seal(orgID, plain)
}

// OpenCredentials opens the organization's sealed credentials. Any failure
// wraps seal.ErrCannotDecrypt.
func OpenCredentials(k *seal.Keyring, orgID string, sealed []byte) (Credentials, error) {
	if k == nil {
		return Credentials{}, fmt.Errorf("%w: no encryption key is loaded", seal.ErrCannotDecrypt)
	}
	plain, err := k.Open(orgID, sealed)
	if err != nil {
		return Credentials{}, err
	}
	defer clear(plain)
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil || c.Kind == "" {
		return Credentials{}, fmt.Errorf("%w: not a credentials record", seal.ErrCannotDecrypt)
	}
	return c, nil
}

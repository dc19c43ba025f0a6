package bridge

// Groups in a bridge run. With groups on (BridgeSettings.Groups), a run
// lists the group scope and every group's direct members while it lists
// users; a failed page fails the whole run before anything is applied. A
// missing group scope leaves users syncing and the bridge needing
// attention for groups. Groups are planned once the users are applied, so
// a new user is a member in the run that creates it: the planner takes
// from the user side only which Google users are in the synced set and
// the profile id of each (GoogleProfileIDs).
//
// Members are the direct USER members that are in the synced user set
// (in scope, not excluded, with a profile). External addresses, the whole
// customer and users not synced are left out; a nested group is left out,
// or with flattening its members (at any depth, cycles broken) are
// members. A suspended user is synced as an inactive profile and keeps its
// memberships, as a deactivated SCIM user does: the application reads the
// profile's active state.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// memberWorkers is how many members.list listings run at once: the query
// budget, not the workers, bounds the rate.
const memberWorkers = 4

// memberSet is one listed group's direct members, as Google ids.
type memberSet struct {
	users  []string
	groups []string
}

// groupsRun is the group half of a run with groups on.
type groupsRun struct {
	scope   GroupSelection
	flatten bool

	done chan struct{}
	// Set by the listing once done is closed.
	groups   []GoogleGroup
	members  map[string]*memberSet // by group id: the scope's groups and, flattened, nested ones
	notFound []string              // emails of the scope no group has
	err      error
	took     time.Duration

	// attention is Google's message when the group scope is not granted:
	// groups are left as they are.
	attention string

	// The users' held changes wait for the groups' (one held plan).
	settling  bool
	deferred  bool
	userGuard reconcile.GuardResult
	userHeld  []reconcile.PlannedChange
	held      []reconcile.PlannedGroupChange
	guard     reconcile.GroupsGuard
}

// directoryOptions adds WithGroups when the settings turn groups on: only
// then is the group scope asked for.
func directoryOptions(s scimbridge.BridgeSettings, opts []Option) []Option {
	if gs, err := ParseGroupScope(s.Groups); err == nil && gs.On() {
		return append(slices.Clip(opts), WithGroups())
	}
	return opts
}

// startGroups starts listing the groups when the settings turn them on;
// the listing runs beside the users'.
func (r *Runner) startGroups(ctx context.Context, st *run, dir *Directory) error {
	s := st.bridge.Settings
	gs, err := ParseGroupScope(s.Groups)
	if err != nil {
		return &runFailure{msg: "invalid group settings: " + scimbridge.ErrorMessage(err), attention: true, err: err}
	}
	if !gs.On() {
		return nil
	}
	g := &groupsRun{scope: gs, flatten: s.FlattenGroups, done: make(chan struct{})}
	st.groups = g
	st.tally.counts.Groups = &scimbridge.GroupCounts{}
	go func() {
		defer close(g.done)
		start := time.Now()
		g.err = g.list(ctx, dir, s.Customer)
		g.took = time.Since(start)
	}()
	return nil
}

// list lists the scope's groups, then the members of each (and, when
// flattening, of every nested group), memberWorkers at a time.
func (g *groupsRun) list(ctx context.Context, dir *Directory, customer string) error {
	q := GroupQuery{Customer: customer}
	if g.scope.Kind == GroupsQuery {
		q.Query = g.scope.Query
	}
	want := map[string]bool{}
	for _, e := range g.scope.Emails {
		want[e] = true
	}
	found := map[string]bool{}
	_, err := dir.ListGroups(ctx, q, func(page []GoogleGroup) error {
		for _, gg := range page {
			if g.scope.Kind == GroupsEmails {
				keys := append([]string{gg.Email}, gg.Aliases...)
				hit := false
				for _, k := range keys {
					if k = strings.ToLower(k); want[k] {
						found[k], hit = true, true
					}
				}
				if !hit {
					continue
				}
			}
			gg.Aliases = nil
			g.groups = append(g.groups, gg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range g.scope.Emails {
		if !found[e] {
			g.notFound = append(g.notFound, e)
		}
	}
	g.members = make(map[string]*memberSet, len(g.groups))
	ids := make([]string, 0, len(g.groups))
	for _, gg := range g.groups {
		ids = append(ids, gg.ID)
	}
	for len(ids) > 0 {
		sets, err := listMembersAll(ctx, dir, ids)
		if err != nil {
			return err
		}
		var next []string
		for i, id := range ids {
			g.members[id] = sets[i]
			if !g.flatten {
				continue
			}
			for _, n := range sets[i].groups {
				if _, ok := g.members[n]; !ok && !slices.Contains(next, n) && !slices.Contains(ids, n) {
					next = append(next, n)
				}
			}
		}
		ids = next
	}
	return nil
}

// listMembersAll lists the direct members of every group of ids, in
// parallel; the first failure cancels the others and is returned.
func listMembersAll(ctx context.Context, dir *Directory, ids []string) ([]*memberSet, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]*memberSet, len(ids))
	work := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(memberWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m := &memberSet{}
				_, err := dir.ListMembers(ctx, ids[i], func(page []GoogleMember) error {
					for _, mem := range page {
						switch mem.Type {
						case MemberUser:
							m.users = append(m.users, mem.ID)
						case MemberGroup:
							m.groups = append(m.groups, mem.ID)
						}
					}
					return nil
				})
				if err != nil {
					once.Do(func() { first = err; cancel(err) })
					continue
				}
				out[i] = m
			}
		}()
	}
feed:
	for i := range ids {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// effective returns the Google user ids that are members of group id:
// its direct users, and with flattening those of every group nested in
// it at any depth (each group visited once, so cycles end).
func (g *groupsRun) effective(id string) []string {
	m := g.members[id]
	if m == nil {
		return nil
	}
	if !g.flatten || len(m.groups) == 0 {
		return m.users
	}
	seen := map[string]bool{id: true}
	users := map[string]bool{}
	stack := []string{id}
	for len(stack) > 0 {
		cur := g.members[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if cur == nil {
			continue
		}
		for _, u := range cur.users {
			users[u] = true
		}
		for _, n := range cur.groups {
			if !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	out := make([]string, 0, len(users))
	for u := range users {
		out = append(out, u)
	}
	return out
}

// groupsListed waits for the group listing once users are listed. A
// failed listing fails the run (nothing is applied); a missing group scope
// leaves groups alone and needs attention, unless the group scope is also
// the user scope. With users-from-groups, users outside every group of the
// scope are out of scope: the kept users are marked so, and those the
// listing left out as unchanged are handed to the planner (see
// outOfGroups), which returns users with them and unchanged less them.
func (r *Runner) groupsListed(ctx context.Context, st *run, users []reconcile.DirectoryUser,
	unchanged *int) ([]reconcile.DirectoryUser, error) {
	g := st.groups
	if g == nil {
		return users, nil
	}
	select {
	case <-g.done:
	case <-ctx.Done():
		<-g.done
	}
	if g.err != nil {
		if !errors.Is(g.err, ErrGroupScopeMissing) {
			return nil, listFailure(g.err)
		}
		if st.bridge.Settings.UsersFromGroups {
			return nil, &runFailure{msg: "groups need attention, and they are the user scope: nothing applied: " + g.err.Error(),
				attention: true, err: g.err}
		}
		g.attention = g.err.Error()
		st.logger.Warn("groups need attention: users sync without them", "error", g.err)
		return users, nil
	}
	st.logger.Info("groups listed", "groups", len(g.groups), "member_listings", len(g.members), "took", g.took)
	st.tally.counts.Groups.ListingMillis = g.took.Milliseconds()
	if !st.bridge.Settings.UsersFromGroups {
		return users, nil
	}
	in := map[string]bool{}
	for _, gg := range g.groups {
		for _, u := range g.effective(gg.ID) {
			in[u] = true
		}
	}
	for i := range users {
		if users[i].InScope && !in[users[i].Desired.GoogleID()] {
			users[i].InScope = false
		}
	}
	return outOfGroups(st.index, users, in, unchanged), nil
}

// outOfGroups hands the planner the users the listing left out as
// unchanged that no group of the scope holds: they are out of scope now.
// Each goes into users at its place in the listing (the plan is the one
// the whole listing gives) as an out-of-scope user, its Google id all the
// planner reads of it, and its stored profile is loaded whole.
func outOfGroups(x *userIndex, users []reconcile.DirectoryUser, in map[string]bool,
	unchanged *int) []reconcile.DirectoryUser {
	inKeys := make(map[gidKey]bool, len(in))
	for id := range in {
		if k, ok := parseGID(id); ok {
			inKeys[k] = true
		}
	}
	type placed struct {
		pos uint32
		u   reconcile.DirectoryUser
	}
	var out []placed
	for i := range x.entries {
		e := &x.entries[i]
		if !e.listedUnchanged() || inKeys[e.gid] {
			continue
		}
		e.flags |= entryLoad
		*unchanged--
		out = append(out, placed{pos: e.pos,
			u: reconcile.DirectoryUser{Desired: reconcile.Normalize(scimbridge.DesiredProfile{GoogleID: e.gid.String()})}})
	}
	if len(out) == 0 {
		return users
	}
	slices.SortFunc(out, func(a, b placed) int { return cmp.Compare(a.pos, b.pos) })
	merged := make([]reconcile.DirectoryUser, 0, len(users)+len(out))
	j := 0
	for i := range users {
		if pos, ok := x.place(users[i].Desired.GoogleID()); ok {
			for ; j < len(out) && out[j].pos < pos; j++ {
				merged = append(merged, out[j].u)
			}
		}
		merged = append(merged, users[i])
	}
	for ; j < len(out); j++ {
		merged = append(merged, out[j].u)
	}
	return merged
}

// deferHeld keeps the users' held changes until the groups' are known:
// the run settles one held plan for both.
func (g *groupsRun) deferHeld(guard reconcile.GuardResult, held []reconcile.PlannedChange) bool {
	if g == nil || g.settling || g.attention != "" {
		return false
	}
	g.deferred, g.userGuard, g.userHeld = true, guard, held
	return true
}

// heldKeys are the keys the groups add to the run's held plan.
func (g *groupsRun) heldKeys() []string {
	if g == nil {
		return nil
	}
	return reconcile.GroupHeldKeys(g.held)
}

// heldReason joins the users' guard reason with the groups'.
func (g *groupsRun) heldReason(users string) string {
	if g == nil || !g.guard.Guarded || len(g.held) == 0 {
		return users
	}
	if users == "" {
		return g.guard.Reason
	}
	return users + "; " + g.guard.Reason
}

// markState shows a bridge whose groups need attention.
func (g *groupsRun) markState(b *scimbridge.Bridge, status scimbridge.ReportStatus) {
	if g == nil || g.attention == "" {
		return
	}
	switch status {
	case scimbridge.ReportApplied, scimbridge.ReportHeld, scimbridge.ReportDryRun:
		b.NeedsAttention, b.LastError = true, "groups need attention: "+g.attention
	}
}

// syncGroups plans the groups against the stored ones after the users
// were applied (or planned, in a dry run), applies the plan, and settles
// the run's held plan, users' and groups' together.
func (r *Runner) syncGroups(ctx context.Context, st *run, users []reconcile.DirectoryUser, dryRun bool) error {
	g := st.groups
	if g == nil {
		return nil
	}
	if g.attention != "" {
		st.report.Error = "groups need attention: " + g.attention
		return nil
	}
	orgID := st.bridge.OrgID
	desired, err := r.desiredGroups(ctx, st, users)
	if err != nil {
		return err
	}
	stored, err := r.Store.ManagedGroups(ctx, orgID, scimbridge.SourceGoogle)
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	in := reconcile.GroupsInput{OrgID: orgID, Settings: st.bridge.Settings, Groups: desired, Stored: stored,
		Now: r.now(), NewID: r.newID, Current: map[string][]string{},
		Memberships: func() (int, error) { return r.Store.CountGroupMembers(ctx, orgID, scimbridge.SourceGoogle) }}
	if in.Current, err = r.currentMembers(ctx, orgID, reconcile.GroupsToLoad(in)); err != nil {
		return fmt.Errorf("load group members: %w", err)
	}
	plan, err := reconcile.PlanGroups(in)
	if err != nil {
		return fmt.Errorf("plan groups: %w", err)
	}
	in = reconcile.GroupsInput{}
	counts := st.tally.counts.Groups
	counts.Unchanged += plan.Unchanged
	for _, e := range g.notFound {
		st.tally.counts.Skipped++
		st.tally.skipped = append(st.tally.skipped, scimbridge.ReportItem{Kind: reconcile.ItemSkip, UserName: e,
			Reason: "group not found in Google"})
	}
	apply, held := plan.Apply, plan.Held
	if st.req.approve != nil {
		approved := reconcile.FilterApprovedGroups(plan.Held, st.req.approve.plan.Keys)
		keys := map[string]bool{}
		for _, pc := range approved {
			keys[pc.Key()] = true
		}
		apply = slices.Concat(apply, approved)
		held = slices.DeleteFunc(slices.Clone(held), func(pc reconcile.PlannedGroupChange) bool { return keys[pc.Key()] })
	}
	st.logger.Info("groups planned", "apply", len(apply), "held", len(held), "unchanged", plan.Unchanged,
		"guarded", plan.Guard.Guarded)
	a := &groupApplier{r: r, st: st}
	if dryRun {
		for _, pc := range apply {
			a.applied(pc)
		}
	} else if err := a.apply(ctx, apply); err != nil {
		return err
	}
	g.held, g.guard = held, plan.Guard
	counts.Held += len(held)
	st.tally.counts.Held += len(held)
	for _, pc := range held {
		st.tally.held = append(st.tally.held, pc.ReportItem(true))
	}
	if dryRun {
		return nil
	}
	g.settling = true
	return r.settleHeld(ctx, st, g.userGuard, g.userHeld)
}

// desiredGroups resolves each listed group's members to the profiles of
// the synced user set.
func (r *Runner) desiredGroups(ctx context.Context, st *run, users []reconcile.DirectoryUser) ([]reconcile.DirectoryGroup, error) {
	g := st.groups
	eff := make([][]string, len(g.groups))
	needed := map[string]bool{}
	for i, gg := range g.groups {
		eff[i] = g.effective(gg.ID)
		for _, u := range eff[i] {
			needed[u] = true
		}
	}
	var ids []string
	kept := map[string]bool{} // the members among the users the run kept
	for i := range users {
		u := &users[i]
		id := u.Desired.GoogleID()
		if !needed[id] {
			continue
		}
		kept[id] = true
		if u.InScope && !u.Excluded {
			ids = append(ids, id)
		}
	}
	// The users the listing left out as unchanged are in the synced set
	// too (in scope, not excluded, with a profile), and so are those it
	// spilled, created by now: a Google id no stored profile had that the
	// run did not keep is a spilled one (see spill.go). A spilled user
	// whose create failed has no profile, and resolves to none.
	for id := range needed {
		if kept[id] {
			continue
		}
		if e := st.index.find(id); e != nil {
			if e.listedUnchanged() {
				ids = append(ids, id)
			}
		} else if _, listed := st.index.place(id); listed {
			ids = append(ids, id)
		}
	}
	profiles, err := r.Store.GoogleProfileIDs(ctx, st.bridge.OrgID, ids)
	if err != nil {
		return nil, fmt.Errorf("resolve group members: %w", err)
	}
	out := make([]reconcile.DirectoryGroup, len(g.groups))
	for i, gg := range g.groups {
		members := make([]string, 0, len(eff[i]))
		for _, u := range eff[i] {
			if p, ok := profiles[u]; ok {
				members = append(members, p)
			}
		}
		slices.Sort(members)
		out[i] = reconcile.DirectoryGroup{GoogleID: gg.ID, Name: reconcile.GroupName(gg.Name, gg.Email),
			Members: slices.Compact(members)}
	}
	return out, nil
}

// currentMembers returns the sorted members of each group of ids (none
// for a group without members).
func (r *Runner) currentMembers(ctx context.Context, orgID string, ids []string) (map[string][]string, error) {
	out := make(map[string][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	m, err := r.Store.GroupMemberIDs(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = m[id]
	}
	return out, nil
}

// groupApplier applies planned group changes in batches under the lease.
type groupApplier struct {
	r  *Runner
	st *run
}

func (a *groupApplier) applied(pc reconcile.PlannedGroupChange) {
	c := a.st.tally.counts.Groups
	switch pc.Change.Kind {
	case scimbridge.ChangeGroupCreate:
		c.Created++
	case scimbridge.ChangeGroupDelete:
		c.Deleted++
	default:
		c.Updated++
	}
	c.MembersAdded += len(pc.Change.AddMembers)
	c.MembersRemoved += len(pc.Change.RemoveMembers)
	a.st.tally.changes = append(a.st.tally.changes, pc.ReportItem(false))
}

func (a *groupApplier) failed(pc reconcile.PlannedGroupChange, msg string) {
	a.st.tally.counts.Groups.Failed++
	a.st.tally.counts.Failed++
	it := pc.ReportItem(false)
	it.Kind, it.Error, it.Reason = ItemFail, msg, string(pc.Change.Kind)+": "+pc.Reason
	a.st.tally.changes = append(a.st.tally.changes, it)
}

func (a *groupApplier) stale(pc reconcile.PlannedGroupChange) {
	a.st.tally.counts.Skipped++
	it := pc.ReportItem(false)
	it.Kind, it.Reason, it.Fields = reconcile.ItemSkip, ReasonChangedSincePlan, nil
	a.st.tally.changes = append(a.st.tally.changes, it)
}

// apply applies changes in batches of up to scimbridge.MaxBatch writes
// (a change of more than MaxMemberChanges members is several writes in one
// batch); a failed batch is applied change by change.
func (a *groupApplier) apply(ctx context.Context, changes []reconcile.PlannedGroupChange) error {
	for start := 0; start < len(changes); {
		if err := stopped(ctx); err != nil {
			return err
		}
		end, writes := start, 0
		for end < len(changes) {
			n := writesOf(changes[end])
			if writes > 0 && writes+n > scimbridge.MaxBatch {
				break
			}
			writes += n
			end++
		}
		batch := changes[start:end]
		err := a.commit(ctx, batch)
		switch {
		case err == nil:
			for _, pc := range batch {
				a.applied(pc)
			}
		case scimbridge.ErrorCode(err) == scimbridge.ELEASELOST:
			return errHolderLost
		default:
			a.st.logger.Warn("group batch failed: applying its changes one at a time", "changes", len(batch), "error", err)
			for _, pc := range batch {
				if err := stopped(ctx); err != nil {
					return err
				}
				err := a.commit(ctx, []reconcile.PlannedGroupChange{pc})
				switch code := scimbridge.ErrorCode(err); {
				case err == nil:
					a.applied(pc)
				case code == scimbridge.ELEASELOST:
					return errHolderLost
				case code == scimbridge.EPRECONDITION || code == scimbridge.ENOTFOUND:
					a.stale(pc)
				default:
					a.st.logger.Warn("group change failed", "kind", pc.Change.Kind, "group_id", pc.Change.Group.ID, "error", err)
					a.failed(pc, failMessage(err))
				}
			}
		}
		if err := a.st.tally.flush(ctx, false); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// commit writes changes with their events in one transaction under the
// lease; it is not cancelled with the run.
func (a *groupApplier) commit(ctx context.Context, changes []reconcile.PlannedGroupChange) error {
	now := a.r.now()
	var evs []scimbridge.GroupChangeEvent
	for _, pc := range changes {
		evs = append(evs, a.split(pc, now)...)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	l := a.st.lease
	return a.r.Store.ApplyGroupChanges(cctx, evs, &scimbridge.LeaseCheck{OrgID: l.OrgID, RunID: l.RunID, Holder: l.Holder})
}

// writesOf is how many writes split makes of pc.
func writesOf(pc reconcile.PlannedGroupChange) int {
	n := len(pc.Change.AddMembers) + len(pc.Change.RemoveMembers)
	if n <= scimbridge.MaxMemberChanges || pc.Change.Kind == scimbridge.ChangeGroupDelete {
		return 1
	}
	return (len(pc.Change.AddMembers)+scimbridge.MaxMemberChanges-1)/scimbridge.MaxMemberChanges +
		(len(pc.Change.RemoveMembers)+scimbridge.MaxMemberChanges-1)/scimbridge.MaxMemberChanges
}

// split turns one planned change into writes of at most
// scimbridge.MaxMemberChanges members each, the first carrying the event;
// the group's version goes up by one per write.
func (a *groupApplier) split(pc reconcile.PlannedGroupChange, now time.Time) []scimbridge.GroupChangeEvent {
	c := pc.Change
	c.Group.DesiredHash = pc.Hash
	first := scimbridge.GroupChangeEvent{Change: c, Event: a.event(pc, now)}
	n := len(c.AddMembers) + len(c.RemoveMembers)
	if n <= scimbridge.MaxMemberChanges || c.Kind == scimbridge.ChangeGroupDelete {
		return []scimbridge.GroupChangeEvent{first}
	}
	type op struct {
		ids    []string
		remove bool
	}
	var out []scimbridge.GroupChangeEvent
	rest := []op{{c.AddMembers, false}, {c.RemoveMembers, true}}
	g := c.Group
	version := g.Version
	if c.Kind == scimbridge.ChangeGroupUpdate {
		version = c.ExpectedVersion + 1
	}
	for _, o := range rest {
		for s := 0; s < len(o.ids); s += scimbridge.MaxMemberChanges {
			chunk := o.ids[s:min(s+scimbridge.MaxMemberChanges, len(o.ids))]
			var ce scimbridge.GroupChangeEvent
			if len(out) == 0 {
				ce = first
				ce.Change.AddMembers, ce.Change.RemoveMembers = nil, nil
			} else {
				g.Version = version + int64(len(out))
				ce.Change = scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate, Group: g,
					ExpectedVersion: g.Version - 1, Reason: c.Reason}
			}
			if o.remove {
				ce.Change.RemoveMembers = chunk
			} else {
				ce.Change.AddMembers = chunk
			}
			out = append(out, ce)
		}
	}
	return out
}

// event is the event a group change commits with: source google, the run
// id, and the equivalent SCIM call.
func (a *groupApplier) event(pc reconcile.PlannedGroupChange, now time.Time) scimbridge.Event {
	g := &pc.Change.Group
	ev := scimbridge.Event{OrgID: g.OrgID, Time: now, Method: "PATCH", Path: "/Groups/" + g.ID, Status: 200,
		TargetUserName: g.DisplayName, UserAgent: bridgeUserAgent, Source: scimbridge.EventGoogle,
		RunID: a.st.report.ID, Kind: pc.Change.Kind, Count: 1}
	switch pc.Change.Kind {
	case scimbridge.ChangeGroupCreate:
		ev.Method, ev.Path, ev.Status = "POST", "/Groups", 201
	case scimbridge.ChangeGroupDelete:
		ev.Method, ev.Status = "DELETE", 204
	}
	body := map[string]any{"displayName": g.DisplayName, "googleId": g.GoogleID, "reason": pc.Reason,
		"membersAdded": len(pc.Change.AddMembers), "membersRemoved": len(pc.Change.RemoveMembers)}
	if b, err := json.Marshal(body); err == nil {
		ev.RequestBody = string(b)
	}
	return ev
}

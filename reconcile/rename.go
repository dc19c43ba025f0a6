package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// step is one planned change while a plan is being built.
type step struct {
	seq int
	// pc is the change; nil for a deferred create, which has user (its
	// listed user's index), reason and keys (those it takes) instead.
	pc     *PlannedChange
	user   int
	reason string
	keys   []string
	before *scimbridge.Profile // nil for a create
	ref    *StoredProfile      // the planner's view of before
	// build rebuilds the change on another base (the profile after a
	// cycle-breaking release); nil when the change takes no address.
	build func(base scimbridge.Profile) (scimbridge.Change, error)
	// deps are the steps that release an address this one takes.
	deps       []*step
	dead, held bool
}

// seal sets the hash of the desired state on the change and the reason.
// NewProfile, Apply and Adopt already set the profile's hash from the same
// desired state; other changes get it here.
func (s *step) seal(hashed bool) {
	if s.deferred() {
		return
	}
	if !hashed || s.pc.Change.Profile.DesiredHash == "" {
		s.pc.Change.Profile.DesiredHash = Hash(s.pc.Desired)
	}
	s.pc.Hash = s.pc.Change.Profile.DesiredHash
	s.pc.Change.Reason = s.pc.Reason
}

// deactivates reports whether the step turns an active profile inactive.
func (s *step) deactivates() bool {
	return s.before != nil && s.before.Active() && !s.pc.Change.Profile.Active()
}

// reactivates reports whether the step turns an inactive profile active.
func (s *step) reactivates() bool {
	return s.before != nil && !s.before.Active() && s.pc.Change.Profile.Active()
}

// takes returns the keys the profile holds after the step but not before.
func (s *step) takes() []string {
	var before []string
	if s.before != nil {
		before = profileKeys(s.before)
	}
	return minus(s.afterKeys(), before)
}

// releases returns the keys the profile holds before the step but not
// after.
func (s *step) releases() []string {
	if s.before == nil {
		return nil
	}
	return minus(profileKeys(s.before), s.afterKeys())
}

// holder is a profile that holds a key once the plan is applied.
type holder struct {
	profile *StoredProfile // the stored profile; nil for a create
	step    *step          // its live step; nil when it has none
}

// finalHolders maps each key to the profiles holding it after the plan.
func (p *planner) finalHolders() map[string][]holder {
	h := map[string][]holder{}
	for _, s := range p.stored {
		if st := p.stepOf[s.ID]; st != nil && !st.dead {
			continue
		}
		for _, k := range keysOf(s.UserName, s.Email) {
			h[k] = append(h[k], holder{profile: s})
		}
	}
	for _, st := range p.live() {
		for _, k := range st.afterKeys() {
			h[k] = append(h[k], holder{profile: st.ref, step: st})
		}
	}
	return h
}

// resolveConflicts makes sure no two profiles hold one key after the plan:
// a google profile that keeps an address a listed user now takes, and that
// no listed in-scope user claims, releases it ("address reused"); any other
// holder makes the taking change a skip.
func (p *planner) resolveConflicts() error {
	released := map[string]bool{}
	for {
		skipped := false
		holders := p.finalHolders()
	steps:
		for _, st := range p.live() {
			for _, k := range st.takes() {
				for _, h := range holders[k] {
					if h.step == st || (h.profile != nil && released[h.profile.ID]) {
						continue
					}
					ok, reason, err := p.releaseFor(h, k)
					if err != nil {
						return err
					}
					if ok {
						released[h.profile.ID] = true
						continue
					}
					p.skipStep(st, reason)
					skipped = true
					break steps
				}
			}
		}
		if !skipped {
			return nil
		}
	}
}

// releaseFor releases key k from holder h when the rules allow it, else
// says why the change taking k is skipped.
func (p *planner) releaseFor(h holder, k string) (bool, string, error) {
	s := h.profile
	switch {
	case s == nil || p.role[s.ID] == roleWanted:
		return false, "uniqueness: " + k + " is the address of another Google user", nil
	case p.role[s.ID] == roleExcluded:
		return false, "uniqueness: " + k + " is held by excluded user " + s.UserName, nil
	case !p.manages(s):
		return false, bridgeSkip(p.claim(s), s.Source), nil
	case s.Active() && p.policy.addressRelease(k) != "":
		return false, p.policy.addressRelease(k), nil
	}
	full, ok := p.full(s)
	if !ok {
		// The plan fails with the missing profiles; count it as released
		// meanwhile, so the rest of the plan asks for what it needs.
		return true, "", nil
	}
	c, err := releaseAddress(*full, p.now)
	if err != nil {
		return false, "", fmt.Errorf("release %s: %w", s.UserName, err)
	}
	p.push(&step{pc: &PlannedChange{Change: c, Desired: NormalizeProfile(c.Profile), Reason: ReasonAddressReused},
		before: full, ref: s}, false)
	return true, "", nil
}

// skipStep drops a planned step and records why.
func (p *planner) skipStep(st *step, reason string) {
	st.dead = true
	if st.ref != nil {
		delete(p.stepOf, st.ref.ID)
	}
	p.skipped = append(p.skipped, p.skipItem(st, reason))
}

// releaseAddress builds the change by which a google profile whose address
// Google gave to another user gives it up: it is deactivated (when active)
// and its userName and email move to FormerUserName and FormerEmail, in
// one change.
func releaseAddress(s scimbridge.Profile, now time.Time) (scimbridge.Change, error) {
	if !s.Active() {
		return ReleaseKeys(s, now)
	}
	d := NormalizeProfile(s)
	d.p.Active = false
	dc, err := Apply(s, d, scimbridge.ChangeDeactivate, now)
	if err != nil {
		return scimbridge.Change{}, err
	}
	rc, err := ReleaseKeys(dc.Profile, now)
	if err != nil {
		return scimbridge.Change{}, err
	}
	after := rc.Profile
	after.Version = dc.Profile.Version
	return scimbridge.Change{
		Kind:            scimbridge.ChangeDeactivate,
		Profile:         after,
		ExpectedVersion: s.Version,
		Fields:          append(dc.Fields, rc.Fields...),
	}, nil
}

// orderSteps returns the steps in dependency order: a step releasing an
// address comes before the step taking it. A cycle (a swap of addresses)
// gets one group number and is preceded by a release of one of its
// profiles' addresses, whose own change then comes last of the group with
// its version chained after the release.
func orderSteps(steps []*step, now time.Time) ([]*step, error) {
	releasedBy := map[string]*step{}
	for _, s := range steps {
		for _, k := range s.releases() {
			releasedBy[k] = s
		}
	}
	for _, s := range steps {
		s.deps = nil
		for _, k := range s.takes() {
			if r := releasedBy[k]; r != nil && r != s && !slices.Contains(s.deps, r) {
				s.deps = append(s.deps, r)
			}
		}
	}
	o := &orderer{now: now}
	if err := o.order(steps, 0); err != nil {
		return nil, err
	}
	return o.out, nil
}

type orderer struct {
	now    time.Time
	out    []*step
	groups int
}

// order appends nodes to o.out, prerequisites first, breaking cycles.
func (o *orderer) order(nodes []*step, group int) error {
	for _, c := range components(nodes) {
		if len(c) == 1 {
			c[0].setGroup(group)
			o.out = append(o.out, c[0])
			continue
		}
		g := group
		if g == 0 {
			o.groups++
			g = o.groups
		}
		x := c[0]
		release, err := o.breakCycle(x)
		if err != nil {
			return err
		}
		release.setGroup(g)
		o.out = append(o.out, release)
		// Without x (its address released, its own change last) the rest
		// of the cycle is ordered again; a nested cycle repeats this.
		if err := o.order(c[1:], g); err != nil {
			return err
		}
		x.setGroup(g)
		o.out = append(o.out, x)
	}
	return nil
}

// breakCycle builds the step that clears x's userName and email, and
// rebuilds x's own change on top of it (version chained); the reported
// fields of x's change stay those against the stored profile.
func (o *orderer) breakCycle(x *step) (*step, error) {
	if x.before == nil || x.build == nil || x.deferred() {
		return nil, scimbridge.Errorf(scimbridge.EINTERNAL, "cannot break a rename cycle at step %d", x.seq)
	}
	clear := clearKeys(*x.before, o.now)
	rs := &step{seq: x.seq, before: x.before, ref: x.ref,
		pc: &PlannedChange{Change: clear, Desired: NormalizeProfile(clear.Profile), Reason: ReasonCycle}}
	rs.seal(false)
	c, err := x.build(clear.Profile)
	if err != nil {
		return nil, fmt.Errorf("rebuild %s after its release: %w", x.pc.Desired.p.UserName, err)
	}
	c.Fields = x.pc.Change.Fields
	x.pc.Change = c
	x.seal(true)
	x.deps = append(x.deps, rs)
	return rs, nil
}

// clearKeys builds the temporary change that empties p's userName, email
// and emails (the store writes NULL keys) so another profile of a rename
// cycle can take them; p's own change follows in the same transaction.
func clearKeys(p scimbridge.Profile, now time.Time) scimbridge.Change {
	after := p
	after.UserName, after.Email, after.Emails = "", "", nil
	after.DeactivatedAt = copyTime(p.DeactivatedAt)
	after.DetachedAt = copyTime(p.DetachedAt)
	after.Version = p.Version + 1
	after.UpdatedAt = now.UTC()
	fields := DiffWith(DiffOptions{}, p, NormalizeProfile(after))
	if p.Email != "" {
		fields = append(fields, scimbridge.FieldChange{Field: "email", Before: p.Email})
	}
	return scimbridge.Change{Kind: scimbridge.ChangeRelease, Profile: after, ExpectedVersion: p.Version,
		Reason: ReasonCycle, Fields: fields}
}

// components returns the strongly connected components of the dependency
// graph restricted to nodes (Tarjan), prerequisites first; each component
// is sorted by planning order. Visiting in planning order keeps the result
// deterministic.
func components(nodes []*step) [][]*step {
	in := make(map[*step]bool, len(nodes))
	for _, n := range nodes {
		in[n] = true
	}
	index := map[*step]int{}
	low := map[*step]int{}
	onStack := map[*step]bool{}
	var stack []*step
	var out [][]*step
	var visit func(v *step)
	visit = func(v *step) {
		index[v] = len(index)
		low[v] = index[v]
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range v.deps {
			if !in[w] {
				continue
			}
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var c []*step
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			c = append(c, w)
			if w == v {
				break
			}
		}
		slices.SortFunc(c, func(a, b *step) int { return cmp.Compare(a.seq, b.seq) })
		out = append(out, c)
	}
	for _, n := range nodes {
		if _, seen := index[n]; !seen {
			visit(n)
		}
	}
	return out
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// profileKeys returns the unique keys a profile holds: its userName and
// email keys, each once.
func profileKeys(s *scimbridge.Profile) []string {
	var keys []string
	for _, v := range []string{s.UserName, s.Email} {
		if k := textkey.Key(v); k != "" && (len(keys) == 0 || keys[0] != k) {
			keys = append(keys, k)
		}
	}
	return keys
}

package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// The guard's thresholds: a trailing 24 hours may hold at most
// max(guardFloor, guardPercent% of the active managed profiles)
// deactivations, and never more than guardCap; the same for reactivations.
const (
	guardFloor   = 3
	guardPercent = 5
	guardCap     = 500
)

// GuardInput is what the guard looks at.
type GuardInput struct {
	// Enabled is the bridge's guard setting. The zero-user rule holds even
	// when it is off.
	Enabled bool
	// Active counts the active google-managed profiles.
	Active int
	// Listed counts the users of the listing (in scope or not).
	Listed int
	// Deactivations and Reactivations count this run's changes.
	Deactivations int
	Reactivations int
	// Recent counts those applied in the trailing 24 hours.
	Recent RecentCounts
}

// GuardResult is the guard's verdict on one run.
type GuardResult struct {
	Guarded bool   `json:"guarded"`
	Reason  string `json:"reason,omitempty"`
	// Deactivations and Reactivations are this run's plus the trailing
	// 24 hours', the numbers compared with Limit.
	Deactivations int `json:"deactivations"`
	Reactivations int `json:"reactivations"`
	Active        int `json:"active"`
	Limit         int `json:"limit"`
	// DeactivationsGuarded and ReactivationsGuarded say which kind of
	// change the guard holds.
	DeactivationsGuarded bool `json:"deactivations_guarded,omitempty"`
	ReactivationsGuarded bool `json:"reactivations_guarded,omitempty"`
}

// GuardLimit returns how many deactivations (or reactivations) a trailing
// 24 hours may hold unguarded for active managed profiles: max(3, 5% of
// active), at most 500.
func GuardLimit(active int) int {
	return min(guardCap, max(guardFloor, active*guardPercent/100))
}

// Guard decides whether a run is guarded. A run whose deactivations, plus
// those of the trailing 24 hours, exceed GuardLimit is guarded on
// deactivations; the same test applies separately to reactivations. A
// listing with no user while active managed profiles exist is always
// guarded on deactivations, even with the guard disabled. A run without a
// change of a kind is never guarded on that kind by the threshold.
func Guard(in GuardInput) GuardResult {
	r := GuardResult{
		Deactivations: in.Deactivations + in.Recent.Deactivations,
		Reactivations: in.Reactivations + in.Recent.Reactivations,
		Active:        in.Active,
		Limit:         GuardLimit(in.Active),
	}
	var reasons []string
	if in.Listed == 0 && in.Active > 0 {
		r.DeactivationsGuarded = true
		reasons = append(reasons, fmt.Sprintf("the listing has no users while %d managed profiles are active", in.Active))
	}
	if in.Enabled {
		if in.Deactivations > 0 && r.Deactivations > r.Limit {
			r.DeactivationsGuarded = true
			reasons = append(reasons, surge("deactivations", in.Deactivations, r.Deactivations, r.Limit, in.Active))
		}
		if in.Reactivations > 0 && r.Reactivations > r.Limit {
			r.ReactivationsGuarded = true
			reasons = append(reasons, surge("reactivations", in.Reactivations, r.Reactivations, r.Limit, in.Active))
		}
	}
	r.Guarded = r.DeactivationsGuarded || r.ReactivationsGuarded
	r.Reason = strings.Join(reasons, "; ")
	return r
}

func surge(what string, run, total, limit, active int) string {
	return fmt.Sprintf("%d %s in 24 hours (%d in this run) exceed the limit of %d for %d active managed profiles",
		total, what, run, limit, active)
}

// guard counts the run's deactivations and reactivations, marks them
// Guarded and asks Guard.
func (p *planner) guard(steps []*step) GuardResult {
	in := GuardInput{Enabled: p.in.Settings.Guard, Listed: len(p.in.Users), Recent: p.in.Recent,
		Active: p.in.ActiveOmitted}
	if p.in.Listed > 0 {
		in.Listed = p.in.Listed
	}
	for _, s := range p.stored {
		if bridgeManages(s) && s.Active() {
			in.Active++
		}
	}
	for _, s := range steps {
		switch {
		case s.deactivates():
			in.Deactivations++
			s.pc.Guarded = true
		case s.reactivates():
			in.Reactivations++
			s.pc.Guarded = true
		}
	}
	return Guard(in)
}

// holdSteps marks what a guarded run holds: the guarded kinds (everything
// with HoldAll), plus every step that depends on a held one or shares a
// group with one, so what applies never needs what is held.
func holdSteps(steps []*step, g GuardResult, policy scimbridge.HoldPolicy) {
	if !g.Guarded {
		return
	}
	for _, s := range steps {
		s.held = policy == scimbridge.HoldAll ||
			(g.DeactivationsGuarded && s.deactivates()) ||
			(g.ReactivationsGuarded && s.reactivates())
	}
	for changed := true; changed; {
		changed = false
		heldGroups := map[int]bool{}
		for _, s := range steps {
			if s.held && s.group() != 0 {
				heldGroups[s.group()] = true
			}
		}
		for _, s := range steps {
			if s.held {
				continue
			}
			if heldGroups[s.group()] || slices.ContainsFunc(s.deps, func(d *step) bool { return d.held }) {
				s.held = true
				changed = true
			}
		}
	}
}

// Key is the stable identity of a planned change across runs: its kind and
// profile id, or for a create the Google id (a create's profile id is new
// every run).
func (pc PlannedChange) Key() string {
	if pc.Change.Kind == scimbridge.ChangeCreate {
		return string(scimbridge.ChangeCreate) + ":google:" + pc.Change.Profile.GoogleID
	}
	return string(pc.Change.Kind) + ":" + pc.Change.Profile.ID
}

// HeldKeys returns the keys of held changes, sorted, each once: what a held
// plan is compared and approved by.
func HeldKeys(held []PlannedChange) []string {
	keys := make([]string, 0, len(held))
	for _, pc := range held {
		keys = append(keys, pc.Key())
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// SameOrSubset reports whether every key of a later run's held changes is
// already in the stored held plan: then the run refreshes that plan;
// otherwise its plan supersedes it.
func SameOrSubset(newKeys, heldKeys []string) bool {
	held := stringSet(heldKeys)
	for _, k := range newKeys {
		if !held[k] {
			return false
		}
	}
	return true
}

// FilterApproved returns the changes an approval applies: those of the
// fresh plan's Held whose keys were approved, in the fresh plan's order.
// A change of a rename group goes only with its whole group, and a change
// that takes an address released by a held change that was not approved is
// left out. The runner applies fresh.Apply first, as any run does (Apply
// never depends on Held).
func FilterApproved(fresh DirectoryPlan, held []string) []PlannedChange {
	want := stringSet(held)
	cand := fresh.Held
	sel := make([]bool, len(cand))
	for i := range cand {
		sel[i] = want[cand[i].Key()]
	}
	for changed := true; changed; {
		changed = false
		partial := map[int]bool{}
		released := map[string]bool{}
		for i := range cand {
			if sel[i] {
				continue
			}
			if cand[i].Group != 0 {
				partial[cand[i].Group] = true
			}
			_, rel := keyMoves(cand[i].Change)
			for _, k := range rel {
				released[k] = true
			}
		}
		for i := range cand {
			if !sel[i] {
				continue
			}
			takes, _ := keyMoves(cand[i].Change)
			if (cand[i].Group != 0 && partial[cand[i].Group]) ||
				slices.ContainsFunc(takes, func(k string) bool { return released[k] }) {
				sel[i] = false
				changed = true
			}
		}
	}
	var out []PlannedChange
	for i := range cand {
		if sel[i] {
			out = append(out, cand[i])
		}
	}
	return out
}

// keyMoves reads from a change's fields which userName and email keys it
// takes and which it releases.
func keyMoves(c scimbridge.Change) (takes, releases []string) {
	var before, after []string
	for _, f := range c.Fields {
		if f.Field != "userName" && f.Field != "email" {
			continue
		}
		if k := textkey.Key(f.Before); k != "" {
			before = append(before, k)
		}
		if k := textkey.Key(f.After); k != "" {
			after = append(after, k)
		}
	}
	return minus(after, before), minus(before, after)
}

func stringSet(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

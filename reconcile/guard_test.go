package reconcile

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestGuardLimit(t *testing.T) {
	for _, tt := range []struct{ active, want int }{
		{0, 3}, {1, 3}, {79, 3}, {80, 4}, {100, 5}, {119, 5}, {120, 6}, {10000, 500}, {10019, 500}, {20000, 500},
	} {
		if got := GuardLimit(tt.active); got != tt.want {
			t.Errorf("GuardLimit(%d) = %d, want %d", tt.active, got, tt.want)
		}
	}
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name         string
		in           GuardInput
		wantDeact    bool
		wantReact    bool
		wantReasonIn string
	}{
		{"FloorAtThree", GuardInput{Enabled: true, Active: 20, Listed: 20, Deactivations: 3}, false, false, ""},
		{"FloorJustOver", GuardInput{Enabled: true, Active: 20, Listed: 20, Deactivations: 4}, true, false, "4 deactivations"},
		{"FivePercentAt", GuardInput{Enabled: true, Active: 100, Listed: 100, Deactivations: 5}, false, false, ""},
		{"FivePercentJustOver", GuardInput{Enabled: true, Active: 100, Listed: 100, Deactivations: 6}, true, false, "limit of 5"},
		{"CapAt500", GuardInput{Enabled: true, Active: 20000, Listed: 20000, Deactivations: 500}, false, false, ""},
		{"CapJustOver", GuardInput{Enabled: true, Active: 20000, Listed: 20000, Deactivations: 501}, true, false, "limit of 500"},
		{"TrailingCounted", GuardInput{Enabled: true, Active: 100, Listed: 100, Deactivations: 2,
			Recent: RecentCounts{Deactivations: 4}}, true, false, "6 deactivations in 24 hours (2 in this run)"},
		{"TrailingAtLimit", GuardInput{Enabled: true, Active: 100, Listed: 100, Deactivations: 1,
			Recent: RecentCounts{Deactivations: 4}}, false, false, ""},
		{"TrailingAloneHoldsNothing", GuardInput{Enabled: true, Active: 100, Listed: 100,
			Recent: RecentCounts{Deactivations: 40}}, false, false, ""},
		{"ReactivationSurge", GuardInput{Enabled: true, Active: 20, Listed: 30, Deactivations: 3, Reactivations: 10},
			false, true, "10 reactivations"},
		{"ReactivationTrailing", GuardInput{Enabled: true, Active: 100, Listed: 100, Reactivations: 1,
			Recent: RecentCounts{Reactivations: 5, Deactivations: 50}}, false, true, "reactivations"},
		{"BothSurge", GuardInput{Enabled: true, Active: 100, Listed: 100, Deactivations: 9, Reactivations: 9}, true, true, "; "},
		{"Disabled", GuardInput{Active: 100, Listed: 100, Deactivations: 90, Reactivations: 90}, false, false, ""},
		{"ZeroUsers", GuardInput{Enabled: true, Active: 2, Deactivations: 2}, true, false, "no users"},
		{"ZeroUsersGuardDisabled", GuardInput{Active: 2, Deactivations: 2}, true, false, "no users"},
		{"ZeroUsersNothingActive", GuardInput{Enabled: true}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Guard(tt.in)
			if g.DeactivationsGuarded != tt.wantDeact || g.ReactivationsGuarded != tt.wantReact || g.Guarded != (tt.wantDeact || tt.wantReact) {
				t.Errorf("Guard = %+v, want deactivations %v reactivations %v", g, tt.wantDeact, tt.wantReact)
			}
			if !strings.Contains(g.Reason, tt.wantReasonIn) || (g.Reason == "") != (tt.wantReasonIn == "") {
				t.Errorf("Reason = %q, want it to contain %q", g.Reason, tt.wantReasonIn)
			}
			if g.Active != tt.in.Active || g.Limit != GuardLimit(tt.in.Active) ||
				g.Deactivations != tt.in.Deactivations+tt.in.Recent.Deactivations ||
				g.Reactivations != tt.in.Reactivations+tt.in.Recent.Reactivations {
				t.Errorf("counts = %+v", g)
			}
		})
	}
}

// crowd returns n active listed users and their stored profiles.
func crowd(t *testing.T, n int) ([]DirectoryUser, []scimbridge.Profile) {
	t.Helper()
	var users []DirectoryUser
	var stored []scimbridge.Profile
	for i := range n {
		u := gUser(fmt.Sprintf("g%03d", i), fmt.Sprintf("u%03d@x.com", i))
		users = append(users, u)
		stored = append(stored, storedFor(t, fmt.Sprintf("p%03d", i), u))
	}
	return users, stored
}

func kinds(list []PlannedChange) map[scimbridge.ChangeKind]int {
	m := map[scimbridge.ChangeKind]int{}
	for _, pc := range list {
		m[pc.Change.Kind]++
	}
	return m
}

func TestPlanDirectory_Guard(t *testing.T) {
	type counts = map[scimbridge.ChangeKind]int
	const (
		create, update = scimbridge.ChangeCreate, scimbridge.ChangeUpdate
		deact, react   = scimbridge.ChangeDeactivate, scimbridge.ChangeReactivate
	)
	tests := []struct {
		name      string
		active    int // listed and stored active
		missing   int // of those, left out of the listing
		inactive  int // extra stored inactive profiles, listed active again
		extra     bool
		recent    RecentCounts
		guardOff  bool
		hold      scimbridge.HoldPolicy
		zero      bool // empty listing
		wantApply counts
		wantHeld  counts
	}{
		{name: "AtThreshold", active: 100, missing: 5, extra: true,
			wantApply: counts{deact: 5, create: 1, update: 1}},
		{name: "JustOver", active: 100, missing: 6, extra: true,
			wantApply: counts{create: 1, update: 1}, wantHeld: counts{deact: 6}},
		{name: "FloorOfThree", active: 20, missing: 4,
			wantHeld: counts{deact: 4}},
		{name: "TrailingCounted", active: 100, missing: 2, recent: RecentCounts{Deactivations: 4},
			wantHeld: counts{deact: 2}},
		{name: "GuardOff", active: 100, missing: 30, guardOff: true,
			wantApply: counts{deact: 30}},
		{name: "ZeroUserListingGuardOff", active: 5, zero: true, guardOff: true,
			wantHeld: counts{deact: 5}},
		{name: "ReactivationSurge", active: 20, missing: 1, inactive: 10, extra: true,
			wantApply: counts{deact: 1, create: 1, update: 1}, wantHeld: counts{react: 10}},
		{name: "HoldAll", active: 100, missing: 6, extra: true, hold: scimbridge.HoldAll,
			wantHeld: counts{deact: 6, create: 1, update: 1}},
		{name: "HoldAllUnguardedAppliesAll", active: 100, missing: 2, extra: true, hold: scimbridge.HoldAll,
			wantApply: counts{deact: 2, create: 1, update: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, stored := crowd(t, tt.active)
			users = users[:tt.active-tt.missing]
			for i := range tt.inactive {
				u := gUser(fmt.Sprintf("h%03d", i), fmt.Sprintf("back%03d@x.com", i))
				users = append(users, u)
				stored = append(stored, storedFor(t, fmt.Sprintf("q%03d", i), gUser(u.Desired.p.GoogleID, u.Desired.p.UserName, suspended)))
			}
			if tt.extra {
				users[0].Desired.p.Title = "Changed"
				users = append(users, gUser("new", "new@x.com"))
			}
			if tt.zero {
				users = nil
			}
			in := dirInput(users, stored...)
			in.Recent = tt.recent
			in.Settings.Guard = !tt.guardOff
			if tt.hold != "" {
				in.Settings.Hold = tt.hold
			}
			plan := mustPlan(t, in)
			if got := kinds(plan.Apply); !reflect.DeepEqual(got, tt.wantApply) && len(got)+len(tt.wantApply) > 0 {
				t.Errorf("apply = %v, want %v", got, tt.wantApply)
			}
			if got := kinds(plan.Held); !reflect.DeepEqual(got, tt.wantHeld) && len(got)+len(tt.wantHeld) > 0 {
				t.Errorf("held = %v, want %v", got, tt.wantHeld)
			}
			if plan.Guard.Guarded != (len(tt.wantHeld) > 0) || plan.Guard.Active != tt.active {
				t.Errorf("guard = %+v", plan.Guard)
			}
			for _, pc := range plan.Held {
				if (pc.Change.Kind == deact || pc.Change.Kind == react) != pc.Guarded {
					t.Errorf("held %s %s guarded = %v", pc.Change.Kind, pc.Change.Profile.ID, pc.Guarded)
				}
			}
			simulate(t, in.Stored, append(plan.Apply, plan.Held...))
		})
	}
}

func TestPlanDirectory_GuardHoldsDependents(t *testing.T) {
	// Six deactivations for 100 profiles: guarded. One of them releases an
	// address a new user takes, so that create is held with it.
	users, stored := crowd(t, 100)
	users = append(users[6:], gUser("reuse", "u000@x.com"))
	in := dirInput(users, stored...)
	plan := mustPlan(t, in)
	if len(plan.Apply) != 0 || len(plan.Held) != 7 || !plan.Guard.Guarded {
		t.Fatalf("apply %v held %v guard %+v", summary(DirectoryPlan{Apply: plan.Apply}), summary(DirectoryPlan{Apply: plan.Held}), plan.Guard)
	}
	first, second := plan.Held[0], plan.Held[1]
	if first.Reason != "address reused" || first.Change.Profile.ID != "p000" || !first.Guarded ||
		second.Change.Kind != scimbridge.ChangeCreate || second.Guarded {
		t.Errorf("held = %v", summary(DirectoryPlan{Apply: plan.Held}))
	}
	simulate(t, in.Stored, plan.Held)
}

func TestPlannedChange_ReportItem(t *testing.T) {
	_, stored := crowd(t, 100)
	users, _ := crowd(t, 100)
	users[1].Desired.p.Title = "Boss"
	users = append(users[1:94], gUser("g000", "renamed@x.com"))
	plan := mustPlan(t, dirInput(users, stored...))
	items := planItems(plan)
	if len(items) != 8 || len(plan.Held) != 6 {
		t.Fatalf("items = %+v", items)
	}
	for _, it := range items[:2] {
		if it.Held {
			t.Errorf("applied item %+v marked held", it)
		}
	}
	want := scimbridge.ReportItem{Kind: scimbridge.ChangeUpdate, ProfileID: "p001", GoogleID: "g001", UserName: "u001@x.com",
		Reason: "updated in Google", Fields: []scimbridge.FieldChange{{Field: "title", Before: "", After: "Boss"}}}
	if !reflect.DeepEqual(items[0], want) {
		t.Errorf("item = %+v, want %+v", items[0], want)
	}
	if items[1].UserName != "renamed@x.com" || items[1].Reason != "renamed" {
		t.Errorf("item = %+v", items[1])
	}
	h := items[2]
	if !h.Held || h.Kind != scimbridge.ChangeDeactivate || h.Reason != "missing from listing" || h.UserName != "u094@x.com" ||
		!reflect.DeepEqual(h.Fields, []scimbridge.FieldChange{{Field: "active", Before: "true", After: "false"}}) {
		t.Errorf("held item = %+v", h)
	}
}

func TestHeldKeys(t *testing.T) {
	held := []PlannedChange{
		{Change: scimbridge.Change{Kind: scimbridge.ChangeDeactivate, Profile: scimbridge.Profile{ID: "p2", GoogleID: "g2"}}},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: scimbridge.Profile{ID: "random-1", GoogleID: "g9"}}},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeDeactivate, Profile: scimbridge.Profile{ID: "p1"}}},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeRelease, Profile: scimbridge.Profile{ID: "p3"}}, Group: 1},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeUpdate, Profile: scimbridge.Profile{ID: "p3"}}, Group: 1},
		{Change: scimbridge.Change{Kind: scimbridge.ChangeDeactivate, Profile: scimbridge.Profile{ID: "p1"}}},
	}
	want := []string{"create:google:g9", "deactivate:p1", "deactivate:p2", "release:p3", "update:p3"}
	if got := HeldKeys(held); !reflect.DeepEqual(got, want) {
		t.Errorf("HeldKeys = %v, want %v", got, want)
	}
	// A create's key survives a new profile id.
	held[1].Change.Profile.ID = "random-2"
	if got := HeldKeys(held); !reflect.DeepEqual(got, want) {
		t.Errorf("HeldKeys after a new id = %v, want %v", got, want)
	}
}

func TestSameOrSubset(t *testing.T) {
	held := []string{"deactivate:p1", "deactivate:p2", "reactivate:p3"}
	for _, tt := range []struct {
		name string
		keys []string
		want bool
	}{
		{"Same", held, true},
		{"Smaller", []string{"deactivate:p2"}, true},
		{"Empty", nil, true},
		{"Different", []string{"deactivate:p1", "deactivate:p4"}, false},
		{"Larger", append([]string{"deactivate:p0"}, held...), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameOrSubset(tt.keys, held); got != tt.want {
				t.Errorf("SameOrSubset = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterApproved(t *testing.T) {
	// A fresh plan of a run approving a held plan: p1 and p2 deactivated,
	// p3's address reused by g9's create, and a p4/p5 rename cycle.
	_, stored := crowd(t, 100)
	users, _ := crowd(t, 100)
	users = users[3:95] // p000..p002 and p095..p099 missing: 8 deactivations, guarded
	users[0], users[1] = gUser("g003", "u004@x.com"), gUser("g004", "u003@x.com")
	users = append(users, gUser("g9", "u002@x.com"))
	in := dirInput(users, stored...)
	in.Settings.Hold = scimbridge.HoldAll
	fresh := mustPlan(t, in)
	all := HeldKeys(fresh.Held)
	if len(fresh.Apply) != 0 || len(all) != 12 {
		t.Fatalf("fresh held %v", summary(DirectoryPlan{Apply: fresh.Held}))
	}
	without := func(drop ...string) []string {
		var out []string
		for _, k := range all {
			if !strings.Contains(strings.Join(drop, " "), k) {
				out = append(out, k)
			}
		}
		return out
	}
	tests := []struct {
		name     string
		approved []string
		want     []string // the keys applied
	}{
		{"AllStillPlanned", all, all},
		{"OnlyApprovedOnes", without("deactivate:p000", "deactivate:p001"), without("deactivate:p000", "deactivate:p001")},
		{"ReleaseNotApprovedDropsCreate", without("deactivate:p002"), without("deactivate:p002", "create:google:g9")},
		{"PartialGroupDropped", without("release:p003"), without("release:p003", "update:p003", "update:p004")},
		{"ApprovedButNoLongerPlanned", append(without(), "deactivate:p050"), all},
		{"NothingApproved", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FilterApproved(fresh, tt.approved)
			keys := HeldKeys(got)
			if len(keys) == 0 {
				keys = nil
			}
			if !reflect.DeepEqual(keys, tt.want) {
				t.Errorf("approved keys = %v, want %v", keys, tt.want)
			}
			simulate(t, stored, got)
		})
	}
}

func TestPlanDirectory_Excluded(t *testing.T) {
	alice := gUser("1", "alice@x.com")
	excludedItem := scimbridge.ReportItem{Kind: "excluded", ProfileID: "p1", GoogleID: "1", UserName: "alice@x.com", Reason: "excluded, still active"}
	tests := []struct {
		name   string
		users  []DirectoryUser
		stored []scimbridge.Profile
		pinned []string
		want   []scimbridge.ReportItem
	}{
		{"RenamedStaysExcluded", []DirectoryUser{gUser("1", "alice.new@x.com", excludedU, titled("CEO"))},
			[]scimbridge.Profile{storedFor(t, "p1", alice)}, nil, []scimbridge.ReportItem{excludedItem}},
		{"PinnedRenamed", []DirectoryUser{gUser("1", "alice.new@x.com")},
			[]scimbridge.Profile{storedFor(t, "p1", alice)}, []string{"1"}, []scimbridge.ReportItem{excludedItem}},
		{"PinnedMissing", nil, []scimbridge.Profile{storedFor(t, "p1", alice)}, []string{"1"}, []scimbridge.ReportItem{excludedItem}},
		{"SuspendedNotDeactivated", []DirectoryUser{gUser("1", "alice@x.com", excludedU, suspended)},
			[]scimbridge.Profile{storedFor(t, "p1", alice)}, nil, []scimbridge.ReportItem{excludedItem}},
		{"InactiveNotReported", []DirectoryUser{gUser("1", "alice@x.com", excludedU)},
			[]scimbridge.Profile{storedFor(t, "p1", gUser("1", "alice@x.com", suspended))}, nil, nil},
		{"NeverCreated", []DirectoryUser{gUser("1", "alice@x.com", excludedU)}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := dirInput(append(tt.users, gUser("9", "keep@x.com")), append(tt.stored, storedFor(t, "p9", gUser("9", "keep@x.com")))...)
			in.Settings.ExcludedGoogleID = tt.pinned
			plan := mustPlan(t, in)
			if len(plan.Apply)+len(plan.Held) != 0 {
				t.Errorf("plan = %v", summary(plan))
			}
			if !reflect.DeepEqual(plan.Skipped, tt.want) {
				t.Errorf("skipped = %+v, want %+v", plan.Skipped, tt.want)
			}
			if tt.pinned != nil && NeedsDeletedCheck(in) {
				t.Error("NeedsDeletedCheck counts a pinned exclusion")
			}
		})
	}
}

func TestPlanDirectory_OtherSources(t *testing.T) {
	tests := []struct {
		name       string
		stored     scimbridge.Profile
		adopt      bool
		wantKind   scimbridge.ChangeKind
		wantReason string
	}{
		{"ManualAdopted", localProfile("m1", scimbridge.SourceManual, "Alice@X.com"), true, scimbridge.ChangeAdopt, "adopted"},
		{"SAMLAdopted", localProfile("m1", scimbridge.SourceSAML, "alice@x.com"), true, scimbridge.ChangeAdopt, "adopted"},
		{"ManualAdoptOff", localProfile("m1", scimbridge.SourceManual, "alice@x.com"), false, ItemSkip, "uniqueness: held by a manual profile"},
		{"SCIMSkipped", localProfile("m1", scimbridge.SourceSCIM, "alice@x.com"), true, ItemSkip, "managed by scim"},
		{"SCIMSkippedAdoptOff", localProfile("m1", scimbridge.SourceSCIM, "alice@x.com"), false, ItemSkip, "managed by scim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := dirInput([]DirectoryUser{gUser("1", "alice@x.com")}, tt.stored)
			in.Org.AdoptExisting = tt.adopt
			plan := mustPlan(t, in)
			items := planItems(plan)
			if len(items) != 1 || items[0].Kind != tt.wantKind || items[0].Reason != tt.wantReason || items[0].ProfileID != "m1" {
				t.Fatalf("items = %+v", items)
			}
			if tt.wantKind != scimbridge.ChangeAdopt {
				if len(plan.Apply) != 0 {
					t.Errorf("plan = %v", summary(plan))
				}
				return
			}
			c := plan.Apply[0].Change
			if c.Profile.Source != scimbridge.SourceGoogle || c.Profile.GoogleID != "1" || c.ExpectedVersion != 4 ||
				c.Profile.UserName != "alice@x.com" {
				t.Errorf("adopted = %+v", c)
			}
			applyAndReplan(t, in, plan)
		})
	}
	t.Run("MatchOnlyProfilesWithoutGoogleID", func(t *testing.T) {
		// A released (manual) profile still carrying another user's Google id
		// is not matched by address: the new user is skipped, not adopted.
		m := localProfile("m1", scimbridge.SourceManual, "alice@x.com")
		m.GoogleID = "7"
		plan := mustPlan(t, dirInput([]DirectoryUser{gUser("1", "alice@x.com")}, m))
		if len(plan.Apply) != 0 || len(plan.Skipped) != 1 || plan.Skipped[0].Reason != "uniqueness: held by a manual profile" {
			t.Errorf("plan = %v skipped %+v", summary(plan), plan.Skipped)
		}
	})
}

func TestPlanDirectory_Modes(t *testing.T) {
	alice, bob, carol := gUser("1", "alice@x.com"), gUser("2", "bob@x.com"), gUser("3", "carol@x.com", suspended)
	users := []DirectoryUser{gUser("1", "alice@x.com", suspended), gUser("3", "carol@x.com"), gUser("4", "dan@x.com"),
		gUser("5", "eve@x.com", titled("CTO")), gUser("6", "fay@x.com", outOfScope)}
	stored := []scimbridge.Profile{storedFor(t, "p1", alice), storedFor(t, "p2", bob), storedFor(t, "p3", carol),
		storedFor(t, "p5", gUser("5", "eve@x.com")), storedFor(t, "p6", gUser("6", "fay@x.com"))}
	plans := map[scimbridge.BridgeMode]DirectoryPlan{}
	for _, mode := range []scimbridge.BridgeMode{scimbridge.ModeSync, scimbridge.ModeUpsertOnly, scimbridge.ModeDryRun} {
		in := dirInput(users, stored...)
		in.Settings.Mode = mode
		plans[mode] = mustPlan(t, in)
	}
	t.Run("DryRunPlansLikeSync", func(t *testing.T) {
		if !reflect.DeepEqual(plans[scimbridge.ModeDryRun], plans[scimbridge.ModeSync]) {
			t.Errorf("dry-run %v, sync %v", summary(plans[scimbridge.ModeDryRun]), summary(plans[scimbridge.ModeSync]))
		}
	})
	t.Run("Sync", func(t *testing.T) {
		want := []string{"deactivate p1 suspended in Google g0", "reactivate p3 reactivated in Google g0", "create new-1 new in Google g0",
			"update p5 updated in Google g0", "deactivate p6 out of scope g0", "deactivate p2 missing from listing g0"}
		if got := summary(plans[scimbridge.ModeSync]); !reflect.DeepEqual(got, want) {
			t.Errorf("plan = %v, want %v", got, want)
		}
	})
	t.Run("UpsertOnlyNeverDeactivates", func(t *testing.T) {
		p := plans[scimbridge.ModeUpsertOnly]
		want := []string{"reactivate p3 reactivated in Google g0", "create new-1 new in Google g0", "update p5 updated in Google g0"}
		if got := summary(p); !reflect.DeepEqual(got, want) {
			t.Errorf("plan = %v, want %v", got, want)
		}
		var reasons []string
		for _, it := range p.Skipped {
			reasons = append(reasons, it.ProfileID+": "+it.Reason)
		}
		wantSkips := []string{"p1: upsert-only: not deactivated (suspended in Google)", "p6: upsert-only: not deactivated (out of scope)",
			"p2: upsert-only: not deactivated (missing from listing)"}
		if !reflect.DeepEqual(reasons, wantSkips) {
			t.Errorf("skips = %v, want %v", reasons, wantSkips)
		}
	})
}

func BenchmarkPlanDirectory(b *testing.B) {
	const n = 10000
	users := make([]DirectoryUser, n)
	stored := make([]scimbridge.Profile, n)
	for i := range n {
		users[i] = gUser(fmt.Sprintf("g%05d", i), fmt.Sprintf("u%05d@x.com", i))
		p, err := NewProfile("org-1", scimbridge.SourceGoogle, users[i].Desired, fmt.Sprintf("p%05d", i), dirThen)
		if err != nil {
			b.Fatal(err)
		}
		stored[i] = p
	}
	for _, bc := range []struct {
		name   string
		stored []scimbridge.Profile
	}{{"Unchanged", stored}, {"FirstSync", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := PlanDirectory(dirInput(users, bc.stored...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// planItems renders a plan as the report items a run of it would list:
// applied changes, held changes, then skips.
func planItems(p DirectoryPlan) []scimbridge.ReportItem {
	var items []scimbridge.ReportItem
	for _, pc := range p.Apply {
		items = append(items, pc.ReportItem(false))
	}
	for _, pc := range p.Held {
		items = append(items, pc.ReportItem(true))
	}
	return append(items, p.Skipped...)
}

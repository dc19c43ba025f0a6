package reconcile

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

var (
	dirNow  = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	dirThen = dirNow.Add(-30 * 24 * time.Hour)
	yes     = true
)

type userOpt func(*DirectoryUser)

func suspended(u *DirectoryUser)  { u.Desired.p.Active, u.Suspended = false, true }
func archived(u *DirectoryUser)   { u.Desired.p.Active, u.Archived = false, true }
func outOfScope(u *DirectoryUser) { u.InScope = false }
func excludedU(u *DirectoryUser)  { u.Excluded = true }
func titled(s string) userOpt     { return func(u *DirectoryUser) { u.Desired.p.Title = s } }

// gUser is a mapped, in-scope, active Google user.
func gUser(id, email string, opts ...userOpt) DirectoryUser {
	name, _, _ := strings.Cut(email, "@")
	u := DirectoryUser{InScope: true, Desired: Normalize(scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{UserName: email, GivenName: name, DisplayName: name,
			Emails: []scimbridge.Email{{Value: email, Type: "work", Primary: &yes}}},
		Active: true, GoogleID: id, ExternalID: id,
	})}
	for _, o := range opts {
		o(&u)
	}
	return u
}

// storedFor is the google profile an earlier run created for u (version 1,
// hash set).
func storedFor(t *testing.T, id string, u DirectoryUser) scimbridge.Profile {
	t.Helper()
	p, err := NewProfile("org-1", scimbridge.SourceGoogle, u.Desired, id, dirThen)
	if err != nil {
		t.Fatalf("NewProfile: %v", err)
	}
	return p
}

// localProfile is an active profile of another source holding email.
func localProfile(id string, src scimbridge.Source, email string) scimbridge.Profile {
	return scimbridge.Profile{ID: id, OrgID: "org-1", Source: src, State: scimbridge.StateActive, Role: scimbridge.RoleAdmin,
		Version: 4, Email: email, Attributes: scimbridge.Attributes{UserName: email,
			Emails: []scimbridge.Email{{Value: email}}}, CreatedAt: dirThen, UpdatedAt: dirThen}
}

func dirInput(users []DirectoryUser, stored ...scimbridge.Profile) DirectoryInput {
	n := 0
	return DirectoryInput{
		Org:      scimbridge.Organization{ID: "org-1", AdoptExisting: true},
		Settings: scimbridge.BridgeSettings{Mode: scimbridge.ModeSync, Guard: true, Hold: scimbridge.HoldGuarded},
		Users:    users, Stored: stored, Now: dirNow,
		NewID: func() string { n++; return fmt.Sprintf("new-%d", n) },
	}
}

func mustPlan(t *testing.T, in DirectoryInput) DirectoryPlan {
	t.Helper()
	plan, err := PlanDirectory(in)
	if err != nil {
		t.Fatalf("PlanDirectory: %v", err)
	}
	return plan
}

// simulate applies changes in order the way the store does — insert for a
// create, update WHERE version = ExpectedVersion otherwise — and fails the
// test when a step leaves two live profiles with one userName or email key
// (empty keys are NULL). It returns the resulting profiles.
func simulate(t *testing.T, stored []scimbridge.Profile, changes []PlannedChange) []scimbridge.Profile {
	t.Helper()
	rows := map[string]scimbridge.Profile{}
	var ids []string
	for _, s := range stored {
		rows[s.ID] = s
		ids = append(ids, s.ID)
	}
	checkUnique(t, "before the plan", rows)
	for i, pc := range changes {
		c := pc.Change
		cur, ok := rows[c.Profile.ID]
		switch {
		case c.Kind == scimbridge.ChangeCreate && ok:
			t.Fatalf("change %d creates existing profile %s", i, c.Profile.ID)
		case c.Kind == scimbridge.ChangeCreate:
			ids = append(ids, c.Profile.ID)
		case !ok:
			t.Fatalf("change %d updates missing profile %s", i, c.Profile.ID)
		case cur.Version != c.ExpectedVersion || c.Profile.Version != c.ExpectedVersion+1:
			t.Fatalf("change %d (%s %s): expects version %d -> %d, profile is at %d", i, c.Kind, c.Reason,
				c.ExpectedVersion, c.Profile.Version, cur.Version)
		}
		if c.Profile.DesiredHash != pc.Hash || pc.Hash != Hash(pc.Desired) {
			t.Fatalf("change %d: hash %q, desired hash %q, profile hash %q", i, pc.Hash, Hash(pc.Desired), c.Profile.DesiredHash)
		}
		rows[c.Profile.ID] = c.Profile
		checkUnique(t, fmt.Sprintf("change %d (%s %s %s)", i, c.Kind, c.Profile.ID, c.Reason), rows)
	}
	out := make([]scimbridge.Profile, 0, len(ids))
	for _, id := range ids {
		out = append(out, rows[id])
	}
	return out
}

func checkUnique(t *testing.T, when string, rows map[string]scimbridge.Profile) {
	t.Helper()
	seen := map[string]string{}
	for id, p := range rows {
		if p.Detached() {
			continue
		}
		for _, k := range []string{"u:" + textkey.Key(p.UserName), "e:" + textkey.Key(p.Email)} {
			if len(k) == 2 {
				continue
			}
			if other, dup := seen[k]; dup {
				t.Fatalf("after %s: %s and %s both hold %s", when, other, id, k)
			}
			seen[k] = id
		}
	}
}

// applyAndReplan applies plan.Apply and checks that planning again from
// the result changes nothing more.
func applyAndReplan(t *testing.T, in DirectoryInput, plan DirectoryPlan) []scimbridge.Profile {
	t.Helper()
	after := simulate(t, in.Stored, plan.Apply)
	in.Stored = after
	again := mustPlan(t, in)
	if len(again.Apply)+len(again.Held) != 0 {
		t.Fatalf("second plan not empty: %+v", summary(again))
	}
	return after
}

// summary renders a plan as "kind id reason [group]" lines.
func summary(p DirectoryPlan) []string {
	var out []string
	for _, list := range [][]PlannedChange{p.Apply, p.Held} {
		for _, pc := range list {
			out = append(out, fmt.Sprintf("%s %s %s g%d", pc.Change.Kind, pc.Change.Profile.ID, pc.Reason, pc.Group))
		}
	}
	return out
}

func TestPlanDirectory_EqualInputsEmptyPlan(t *testing.T) {
	alice, bob, carol := gUser("1", "alice@x.com"), gUser("2", "bob@x.com", titled("Eng")), gUser("3", "carol@x.com", suspended)
	users := []DirectoryUser{alice, bob, carol}
	stored := []scimbridge.Profile{storedFor(t, "p1", alice), storedFor(t, "p2", bob), storedFor(t, "p3", carol)}
	tests := []struct {
		name   string
		modify func(p *scimbridge.Profile, d *scimbridge.DesiredProfile)
	}{
		{"HashSet", func(*scimbridge.Profile, *scimbridge.DesiredProfile) {}},
		{"NoHash", func(p *scimbridge.Profile, _ *scimbridge.DesiredProfile) { p.DesiredHash = "" }},
		{"StaleHash", func(p *scimbridge.Profile, _ *scimbridge.DesiredProfile) { p.DesiredHash = "old" }},
		{"EmailCaseAndOrderIgnored", func(p *scimbridge.Profile, d *scimbridge.DesiredProfile) {
			p.Emails = []scimbridge.Email{{Value: "x@alias.com"}, {Value: strings.ToUpper(p.UserName), Type: "work", Primary: &yes}}
			d.Emails = []scimbridge.Email{{Value: d.UserName, Type: "work", Primary: &yes}, {Value: "X@Alias.com"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st []scimbridge.Profile
			var us []DirectoryUser
			for i := range stored {
				p, u := stored[i], users[i]
				d := u.Desired.Profile()
				tt.modify(&p, &d)
				u.Desired = Normalize(d)
				st, us = append(st, p), append(us, u)
			}
			plan := mustPlan(t, dirInput(us, st...))
			if len(plan.Apply)+len(plan.Held)+len(plan.Skipped) != 0 || plan.Guard.Guarded {
				t.Fatalf("plan not empty: %v skipped %v guard %+v", summary(plan), plan.Skipped, plan.Guard)
			}
			if plan.Unchanged != 3 {
				t.Errorf("Unchanged = %d, want 3", plan.Unchanged)
			}
		})
	}
}

func TestPlanDirectory_FirstSync(t *testing.T) {
	users := []DirectoryUser{gUser("1", "alice@x.com"), gUser("2", "bob@x.com", suspended), gUser("3", "carol@x.com", archived)}
	in := dirInput(users)
	plan := mustPlan(t, in)
	if len(plan.Apply) != 3 || len(plan.Held) != 0 || plan.Guard.Guarded {
		t.Fatalf("plan = %v, guard %+v", summary(plan), plan.Guard)
	}
	want := []struct {
		id, reason string
		state      scimbridge.State
	}{
		{"new-1", "new in Google", scimbridge.StateActive},
		{"new-2", "new in Google (suspended)", scimbridge.StateInactive},
		{"new-3", "new in Google (archived)", scimbridge.StateInactive},
	}
	for i, w := range want {
		pc := plan.Apply[i]
		p := pc.Change.Profile
		if pc.Change.Kind != scimbridge.ChangeCreate || p.ID != w.id || pc.Reason != w.reason || p.State != w.state ||
			pc.Change.ExpectedVersion != 0 || p.Version != 1 || p.Source != scimbridge.SourceGoogle ||
			p.GoogleID != users[i].Desired.p.GoogleID || pc.Hash != Hash(users[i].Desired) || pc.Guarded {
			t.Errorf("change %d = %s %s %q %s v%d->%d hash %v guarded %v", i, pc.Change.Kind, p.ID, pc.Reason, p.State,
				pc.Change.ExpectedVersion, p.Version, pc.Hash == Hash(users[i].Desired), pc.Guarded)
		}
		if w.state == scimbridge.StateInactive && !p.AccessRevoked {
			t.Errorf("change %d: inactive profile keeps its access", i)
		}
		if !slices.ContainsFunc(pc.Change.Fields, func(f scimbridge.FieldChange) bool {
			return f.Field == "userName" && f.Before == "" && f.After == users[i].Desired.p.UserName
		}) {
			t.Errorf("change %d fields %v lack userName", i, pc.Change.Fields)
		}
	}
	applyAndReplan(t, in, plan)
}

func TestPlanDirectory_Rename(t *testing.T) {
	old := gUser("1", "alice@x.com")
	t.Run("OneUpdateSameProfile", func(t *testing.T) {
		in := dirInput([]DirectoryUser{gUser("1", "alice.smith@x.com")}, storedFor(t, "p1", old))
		plan := mustPlan(t, in)
		if len(plan.Apply) != 1 {
			t.Fatalf("plan = %v", summary(plan))
		}
		c := plan.Apply[0].Change
		if c.Kind != scimbridge.ChangeUpdate || c.Profile.ID != "p1" || plan.Apply[0].Reason != "renamed" ||
			c.ExpectedVersion != 1 || c.Profile.UserName != "alice.smith@x.com" || c.Profile.Email != "alice.smith@x.com" ||
			plan.Apply[0].Group != 0 {
			t.Errorf("change = %s %s %q v%d %s/%s g%d", c.Kind, c.Profile.ID, plan.Apply[0].Reason, c.ExpectedVersion,
				c.Profile.UserName, c.Profile.Email, plan.Apply[0].Group)
		}
		applyAndReplan(t, in, plan)
	})
	t.Run("OldAddressTakenByNewUser", func(t *testing.T) {
		in := dirInput([]DirectoryUser{gUser("2", "alice@x.com"), gUser("1", "alice.smith@x.com")}, storedFor(t, "p1", old))
		plan := mustPlan(t, in)
		want := []string{"update p1 renamed g0", "create new-1 new in Google g0"}
		if got := summary(plan); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v, want %v", got, want)
		}
		applyAndReplan(t, in, plan)
	})
	t.Run("ProfileWithoutGoogleIDMatchedByAddress", func(t *testing.T) {
		legacy := storedFor(t, "p1", old)
		legacy.GoogleID, legacy.ExternalID, legacy.DesiredHash = "", "", ""
		in := dirInput([]DirectoryUser{gUser("1", "Alice@x.com")}, legacy)
		plan := mustPlan(t, in)
		if len(plan.Apply) != 1 || plan.Apply[0].Change.Profile.ID != "p1" || plan.Apply[0].Change.Profile.GoogleID != "1" {
			t.Fatalf("plan = %v", summary(plan))
		}
		applyAndReplan(t, in, plan)
	})
	t.Run("Chain", func(t *testing.T) {
		// c takes b's address, b takes a's, a takes a new one: a, b, c.
		a, b, c := gUser("1", "a@x.com"), gUser("2", "b@x.com"), gUser("3", "c@x.com")
		in := dirInput([]DirectoryUser{gUser("3", "b@x.com"), gUser("2", "a@x.com"), gUser("1", "z@x.com")},
			storedFor(t, "pc", c), storedFor(t, "pb", b), storedFor(t, "pa", a))
		plan := mustPlan(t, in)
		want := []string{"update pa renamed g0", "update pb renamed g0", "update pc renamed g0"}
		if got := summary(plan); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v, want %v", got, want)
		}
		applyAndReplan(t, in, plan)
	})
}

func TestPlanDirectory_RenameCycle(t *testing.T) {
	a, b, c := gUser("1", "a@x.com"), gUser("2", "b@x.com"), gUser("3", "c@x.com")
	d, e := gUser("4", "d@x.com"), gUser("5", "e@x.com")
	t.Run("Swap", func(t *testing.T) {
		in := dirInput([]DirectoryUser{gUser("1", "b@x.com"), gUser("2", "a@x.com")}, storedFor(t, "pa", a), storedFor(t, "pb", b))
		plan := mustPlan(t, in)
		want := []string{"release pa rename cycle: address released g1", "update pb renamed g1", "update pa renamed g1"}
		if got := summary(plan); !reflect.DeepEqual(got, want) {
			t.Fatalf("plan = %v, want %v", got, want)
		}
		clear, last := plan.Apply[0].Change, plan.Apply[2].Change
		if clear.Profile.UserName != "" || clear.Profile.Email != "" || clear.Profile.Emails != nil ||
			clear.ExpectedVersion != 1 || clear.Profile.Version != 2 || clear.Profile.FormerUserName != "" {
			t.Errorf("release = %+v", clear)
		}
		if last.ExpectedVersion != 2 || last.Profile.Version != 3 || last.Profile.UserName != "b@x.com" {
			t.Errorf("last change v%d->%d %s, want v2->3 b@x.com", last.ExpectedVersion, last.Profile.Version, last.Profile.UserName)
		}
		if !slices.Contains(last.Fields, scimbridge.FieldChange{Field: "userName", Before: "a@x.com", After: "b@x.com"}) {
			t.Errorf("last change fields %v, want userName a -> b", last.Fields)
		}
		if it := planItems(plan)[0]; it.UserName != "a@x.com" || it.Kind != scimbridge.ChangeRelease || it.Reason != "rename cycle: address released" {
			t.Errorf("release item = %+v", it)
		}
		applyAndReplan(t, in, plan)
	})
	t.Run("ThreeWayAndSwapAndChain", func(t *testing.T) {
		in := dirInput([]DirectoryUser{
			gUser("1", "b@x.com"), gUser("2", "c@x.com"), gUser("3", "a@x.com"), // a -> b -> c -> a
			gUser("4", "e@x.com", titled("Lead")), gUser("5", "d@x.com"), // d <-> e, d also updated
			gUser("6", "a@y.com"),
		}, storedFor(t, "pa", a), storedFor(t, "pb", b), storedFor(t, "pc", c), storedFor(t, "pd", d), storedFor(t, "pe", e))
		plan := mustPlan(t, in)
		groups := map[int][]string{}
		for _, pc := range plan.Apply {
			groups[pc.Group] = append(groups[pc.Group], pc.Change.Profile.ID)
		}
		if len(groups[1]) != 4 || len(groups[2]) != 3 || len(groups[0]) != 1 || len(plan.Apply) != 8 {
			t.Fatalf("groups = %v, plan %v", groups, summary(plan))
		}
		applyAndReplan(t, in, plan)
	})
	t.Run("SwapWithReactivation", func(t *testing.T) {
		bi := storedFor(t, "pb", gUser("2", "b@x.com", suspended))
		in := dirInput([]DirectoryUser{gUser("1", "b@x.com"), gUser("2", "a@x.com")}, storedFor(t, "pa", a), bi)
		plan := mustPlan(t, in)
		if len(plan.Apply) != 3 {
			t.Fatalf("plan = %v", summary(plan))
		}
		after := applyAndReplan(t, in, plan)
		if !after[1].Active() || after[1].UserName != "a@x.com" {
			t.Errorf("pb = %s %s, want active a@x.com", after[1].State, after[1].UserName)
		}
	})
}

func TestPlanDirectory_AddressReused(t *testing.T) {
	old := gUser("1", "alice@x.com")
	tests := []struct {
		name      string
		stored    scimbridge.Profile
		mode      scimbridge.BridgeMode
		others    []DirectoryUser // listed besides the new user
		want      []string
		wantState scimbridge.State
		wantSkip  string // for no plan: the new user's skip reason prefix
	}{
		{"ActiveHolder", storedFor(t, "p1", old), scimbridge.ModeSync,
			nil, []string{"deactivate p1 address reused g0", "create new-1 new in Google g0"}, scimbridge.StateInactive, ""},
		{"InactiveHolder", storedFor(t, "p1", gUser("1", "alice@x.com", suspended)), scimbridge.ModeSync,
			nil, []string{"release p1 address reused g0", "create new-1 new in Google g0"}, scimbridge.StateInactive, ""},
		{"InactiveHolderUpsertOnly", storedFor(t, "p1", gUser("1", "alice@x.com", suspended)), scimbridge.ModeUpsertOnly,
			nil, []string{"release p1 address reused g0", "create new-1 new in Google g0"}, scimbridge.StateInactive, ""},
		{"ActiveHolderUpsertOnly", storedFor(t, "p1", old), scimbridge.ModeUpsertOnly, nil, nil, scimbridge.StateActive,
			"address reused: "},
		{"HolderRenamedOutOfScope", storedFor(t, "p1", old), scimbridge.ModeSync,
			[]DirectoryUser{gUser("1", "alice.old@x.com", outOfScope)},
			[]string{"deactivate p1 address reused g0", "create new-1 new in Google g0"}, scimbridge.StateInactive, ""},
		{"HolderExcluded", storedFor(t, "p1", old), scimbridge.ModeSync,
			[]DirectoryUser{gUser("1", "alice.old@x.com", excludedU)}, nil, scimbridge.StateActive,
			"uniqueness: alice@x.com is held by excluded user"},
		{"HolderRenamedInScope", storedFor(t, "p1", old), scimbridge.ModeSync,
			[]DirectoryUser{gUser("1", "alice.old@x.com")},
			[]string{"update p1 renamed g0", "create new-1 new in Google g0"}, scimbridge.StateActive, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := dirInput(append([]DirectoryUser{gUser("2", "alice@x.com")}, tt.others...), tt.stored)
			in.Settings.Mode = tt.mode
			plan := mustPlan(t, in)
			if got := summary(plan); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("plan = %v, want %v", got, tt.want)
			}
			after := simulate(t, in.Stored, plan.Apply)
			if after[0].State != tt.wantState || after[0].Detached() {
				t.Errorf("holder = %s detached %v, want %s", after[0].State, after[0].Detached(), tt.wantState)
			}
			if tt.want == nil {
				if !slices.ContainsFunc(plan.Skipped, func(it scimbridge.ReportItem) bool {
					return it.GoogleID == "2" && strings.HasPrefix(it.Reason, tt.wantSkip)
				}) {
					t.Errorf("skipped = %+v, want the new user skipped for the reused address", plan.Skipped)
				}
				return
			}
			if plan.Apply[0].Change.Kind == scimbridge.ChangeUpdate { // the holder moved away: no release
				applyAndReplan(t, in, plan)
				return
			}
			rel := plan.Apply[0].Change.Profile
			if rel.UserName != "" || rel.Email != "" || rel.Emails != nil || rel.FormerUserName != "alice@x.com" ||
				rel.FormerEmail != "alice@x.com" || rel.GoogleID != "1" {
				t.Errorf("released holder = %+v", rel)
			}
			if plan.Apply[1].Change.Profile.GoogleID != "2" || plan.Apply[1].Change.Profile.UserName != "alice@x.com" {
				t.Errorf("create = %+v", plan.Apply[1].Change.Profile)
			}
			applyAndReplan(t, in, plan)
		})
	}
}

func TestPlanDirectory_Deactivations(t *testing.T) {
	alice := gUser("1", "alice@x.com")
	tests := []struct {
		name    string
		user    []DirectoryUser // the listing besides bob (who keeps it non-empty)
		deleted map[string]bool
		want    string // reason; "" for no change
	}{
		{"Suspended", []DirectoryUser{gUser("1", "alice@x.com", suspended)}, nil, "suspended in Google"},
		{"Archived", []DirectoryUser{gUser("1", "alice@x.com", archived)}, nil, "archived in Google"},
		{"OutOfScope", []DirectoryUser{gUser("1", "alice@x.com", outOfScope)}, nil, "out of scope"},
		{"DeletedInGoogle", nil, map[string]bool{"1": true}, "deleted in Google"},
		{"MissingFromListing", nil, map[string]bool{}, "missing from listing"},
		{"MissingNoDeletedPass", nil, nil, "missing from listing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bob := gUser("2", "bob@x.com")
			in := dirInput(append(tt.user, bob), storedFor(t, "p1", alice), storedFor(t, "p2", bob))
			in.Deleted = tt.deleted
			plan := mustPlan(t, in)
			if len(plan.Apply) != 1 || len(plan.Held) != 0 {
				t.Fatalf("plan = %v", summary(plan))
			}
			pc := plan.Apply[0]
			p := pc.Change.Profile
			if pc.Change.Kind != scimbridge.ChangeDeactivate || pc.Reason != tt.want || !pc.Guarded || p.ID != "p1" ||
				p.State != scimbridge.StateInactive || !p.AccessRevoked || p.Detached() || p.UserName != "alice@x.com" {
				t.Errorf("change = %s %q guarded %v %s %s revoked %v detached %v", pc.Change.Kind, pc.Reason, pc.Guarded,
					p.ID, p.State, p.AccessRevoked, p.Detached())
			}
			after := applyAndReplan(t, in, plan)
			if len(after) != 2 {
				t.Errorf("profiles after = %d, want 2 (nothing deleted)", len(after))
			}
		})
	}
	t.Run("AlreadyInactiveMissingIsNothing", func(t *testing.T) {
		bob := gUser("2", "bob@x.com")
		plan := mustPlan(t, dirInput([]DirectoryUser{bob}, storedFor(t, "p1", gUser("1", "alice@x.com", suspended)), storedFor(t, "p2", bob)))
		if len(plan.Apply)+len(plan.Held)+len(plan.Skipped) != 0 {
			t.Errorf("plan = %v skipped %v", summary(plan), plan.Skipped)
		}
	})
	t.Run("OtherSourcesNeverDeactivated", func(t *testing.T) {
		bob := gUser("2", "bob@x.com")
		plan := mustPlan(t, dirInput([]DirectoryUser{bob}, storedFor(t, "p2", bob),
			localProfile("m1", scimbridge.SourceManual, "m@x.com"), localProfile("s1", scimbridge.SourceSCIM, "s@x.com")))
		if len(plan.Apply)+len(plan.Held) != 0 {
			t.Errorf("plan = %v", summary(plan))
		}
	})
}

func TestPlanDirectory_Reactivation(t *testing.T) {
	stored := storedFor(t, "p1", gUser("1", "alice@x.com", suspended))
	in := dirInput([]DirectoryUser{gUser("1", "alice@x.com")}, stored)
	plan := mustPlan(t, in)
	if len(plan.Apply) != 1 {
		t.Fatalf("plan = %v", summary(plan))
	}
	pc := plan.Apply[0]
	if pc.Change.Kind != scimbridge.ChangeReactivate || pc.Reason != "reactivated in Google" || !pc.Guarded ||
		!pc.Change.Profile.Active() || pc.Change.Profile.AccessRevoked || pc.Change.Profile.Role != scimbridge.RoleMember {
		t.Errorf("change = %s %q guarded %v %+v", pc.Change.Kind, pc.Reason, pc.Guarded, pc.Change.Profile)
	}
	applyAndReplan(t, in, plan)
}

func TestPlanDirectory_HashUnchangedNotDiffed(t *testing.T) {
	u := gUser("1", "alice@x.com", titled("Eng"))
	stored := storedFor(t, "p1", gUser("1", "alice@x.com", titled("Old title")))
	t.Run("HashEqualSkipsDiff", func(t *testing.T) {
		s := stored
		s.DesiredHash = Hash(u.Desired) // the stored row differs, but the hash says it was applied
		plan := mustPlan(t, dirInput([]DirectoryUser{u}, s))
		if len(plan.Apply) != 0 || plan.Unchanged != 1 {
			t.Errorf("plan = %v unchanged %d, want no diff", summary(plan), plan.Unchanged)
		}
	})
	t.Run("HashEqualStateDiffers", func(t *testing.T) {
		s := stored
		s.DesiredHash = Hash(u.Desired)
		s.State = scimbridge.StateInactive
		plan := mustPlan(t, dirInput([]DirectoryUser{u}, s))
		if len(plan.Apply) != 1 || plan.Apply[0].Change.Kind != scimbridge.ChangeReactivate {
			t.Errorf("plan = %v, want a reactivation", summary(plan))
		}
	})
	t.Run("HashDiffersUpdatesAndRefreshes", func(t *testing.T) {
		plan := mustPlan(t, dirInput([]DirectoryUser{u}, stored))
		if len(plan.Apply) != 1 || plan.Apply[0].Change.Profile.Title != "Eng" || plan.Apply[0].Change.Profile.DesiredHash != Hash(u.Desired) {
			t.Errorf("plan = %v", summary(plan))
		}
	})
}

func TestPlanDirectory_Invalid(t *testing.T) {
	t.Run("DuplicateGoogleID", func(t *testing.T) {
		_, err := PlanDirectory(dirInput([]DirectoryUser{gUser("1", "a@x.com"), gUser("1", "b@x.com")}))
		if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("err = %v, want invalid", err)
		}
	})
	t.Run("UnstorableUserSkipped", func(t *testing.T) {
		bad := gUser("1", "")
		plan := mustPlan(t, dirInput([]DirectoryUser{bad, gUser("2", "b@x.com")}))
		if len(plan.Apply) != 1 || len(plan.Skipped) != 1 || !strings.HasPrefix(plan.Skipped[0].Reason, "invalid: ") {
			t.Errorf("plan = %v skipped %+v", summary(plan), plan.Skipped)
		}
	})
	t.Run("AddressListedTwice", func(t *testing.T) {
		plan := mustPlan(t, dirInput([]DirectoryUser{gUser("1", "a@x.com"), gUser("2", "A@x.com")}))
		if len(plan.Apply) != 1 || len(plan.Skipped) != 1 || !strings.HasPrefix(plan.Skipped[0].Reason, "uniqueness: ") {
			t.Errorf("plan = %v skipped %+v", summary(plan), plan.Skipped)
		}
	})
}

func TestNeedsDeletedCheck(t *testing.T) {
	alice, bob := gUser("1", "alice@x.com"), gUser("2", "bob@x.com")
	tests := []struct {
		name    string
		users   []DirectoryUser
		stored  []scimbridge.Profile
		deleted map[string]bool
		want    bool
	}{
		{"AllListed", []DirectoryUser{alice, bob}, []scimbridge.Profile{storedFor(t, "p1", alice)}, nil, false},
		{"OutOfScopeIsListed", []DirectoryUser{gUser("1", "alice@x.com", outOfScope)}, []scimbridge.Profile{storedFor(t, "p1", alice)}, nil, false},
		{"ActiveMissing", []DirectoryUser{bob}, []scimbridge.Profile{storedFor(t, "p1", alice)}, nil, true},
		{"AlreadyChecked", []DirectoryUser{bob}, []scimbridge.Profile{storedFor(t, "p1", alice)}, map[string]bool{}, false},
		{"InactiveMissing", []DirectoryUser{bob}, []scimbridge.Profile{storedFor(t, "p1", gUser("1", "alice@x.com", suspended))}, nil, false},
		{"OtherSourceMissing", []DirectoryUser{bob}, []scimbridge.Profile{localProfile("s1", scimbridge.SourceSCIM, "s@x.com")}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := dirInput(tt.users, tt.stored...)
			in.Deleted = tt.deleted
			if got := NeedsDeletedCheck(in); got != tt.want {
				t.Errorf("NeedsDeletedCheck = %v, want %v", got, tt.want)
			}
		})
	}
}

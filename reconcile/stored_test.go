package reconcile

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// planScenarios are inputs whose plans change, adopt, release, swap and
// create, planned from whole stored profiles.
func planScenarios(t *testing.T) map[string]func() DirectoryInput {
	t.Helper()
	return map[string]func() DirectoryInput{
		"Mixed": func() DirectoryInput {
			same, changed := gUser("1", "same@x.com"), gUser("2", "changed@x.com")
			gone := gUser("5", "gone@x.com")
			users := []DirectoryUser{same, gUser("2", "changed@x.com", titled("CTO")), gUser("3", "new@x.com"),
				gUser("4", "later@x.com", suspended), gUser("6", "local@x.com"), gUser("7", "out@x.com", outOfScope)}
			return dirInput(users, storedFor(t, "p1", same), storedFor(t, "p2", changed), storedFor(t, "p5", gone),
				localProfile("p6", scimbridge.SourceManual, "local@x.com"), storedFor(t, "p7", gUser("7", "out@x.com")))
		},
		"Swap": func() DirectoryInput {
			a, b := gUser("1", "a@x.com"), gUser("2", "b@x.com")
			return dirInput([]DirectoryUser{gUser("1", "b@x.com"), gUser("2", "a@x.com")},
				storedFor(t, "p1", a), storedFor(t, "p2", b))
		},
		"AddressReused": func() DirectoryInput {
			return dirInput([]DirectoryUser{gUser("3", "a@x.com"), gUser("4", "d@x.com")},
				storedFor(t, "p1", gUser("1", "a@x.com")))
		},
	}
}

// lightPlan plans in with its stored profiles given as a light index,
// loading whole the ones the plan asks for, as the bridge does. It returns
// the plan and the ids it had to load.
func lightPlan(t *testing.T, in DirectoryInput) (DirectoryPlan, []string) {
	t.Helper()
	whole := map[string]*scimbridge.Profile{}
	for i := range in.Stored {
		p := in.Stored[i]
		whole[p.ID] = &p
		v := StoredView(&p)
		v.Full = nil
		in.Index = append(in.Index, v)
	}
	in.Stored = nil
	var loaded []string
	for round := 0; round < 4; round++ {
		n := 0 // each plan numbers its creates afresh, as dirInput does
		in.NewID = func() string { n++; return fmt.Sprintf("new-%d", n) }
		plan, err := PlanDirectory(in)
		var missing *MissingProfilesError
		if !errors.As(err, &missing) {
			if err != nil {
				t.Fatalf("PlanDirectory: %v", err)
			}
			return plan, loaded
		}
		for _, id := range missing.IDs {
			loaded = append(loaded, id)
			for i := range in.Index {
				if in.Index[i].ID == id {
					in.Index[i].Full = whole[id]
				}
			}
		}
	}
	t.Fatal("plan keeps asking for profiles")
	return DirectoryPlan{}, nil
}

func TestPlanDirectory_Index(t *testing.T) {
	for name, scenario := range planScenarios(t) {
		t.Run(name+"/SameAsWhole", func(t *testing.T) {
			want := mustPlan(t, scenario())
			got, loaded := lightPlan(t, scenario())
			if !reflect.DeepEqual(got, want) {
				t.Errorf("plan from the index differs:\n got %+v\nwant %+v", got, want)
			}
			changed := 0
			for _, pc := range slices.Concat(want.Apply, want.Held) {
				if pc.Change.Kind != scimbridge.ChangeCreate {
					changed++
				}
			}
			if changed == 0 || len(loaded) == 0 {
				t.Errorf("scenario changes %d stored profiles, loaded %v", changed, loaded)
			}
		})
	}
	t.Run("UnchangedLoadsNothing", func(t *testing.T) {
		users := []DirectoryUser{gUser("1", "a@x.com"), gUser("2", "b@x.com", suspended)}
		plan, loaded := lightPlan(t, dirInput(users, storedFor(t, "p1", users[0]), storedFor(t, "p2", users[1])))
		if len(loaded) != 0 || plan.Unchanged != 2 || len(plan.Apply) != 0 {
			t.Errorf("loaded %v, plan %+v", loaded, plan)
		}
	})
	t.Run("MissingNamesEveryProfile", func(t *testing.T) {
		in := dirInput([]DirectoryUser{gUser("1", "a@x.com", titled("New"))},
			storedFor(t, "p1", gUser("1", "a@x.com")), storedFor(t, "p2", gUser("2", "b@x.com")))
		for _, p := range in.Stored {
			v := StoredView(&p)
			v.Full = nil
			in.Index = append(in.Index, v)
		}
		in.Stored = nil
		_, err := PlanDirectory(in)
		var missing *MissingProfilesError
		if !errors.As(err, &missing) || !slices.Equal(missing.IDs, []string{"p1", "p2"}) {
			t.Errorf("err = %v, want the changed and the absent profile", err)
		}
	})
}

func TestPlanDirectory_DeferCreates(t *testing.T) {
	for name, scenario := range planScenarios(t) {
		t.Run(name, func(t *testing.T) {
			whole := mustPlan(t, scenario())
			in := scenario()
			in.DeferCreates = true
			deferred := mustPlan(t, in)
			// Independent creates move to Creates; the rest of the plan
			// stays as it was (a create that waits for a release stays in
			// Apply, built).
			var kept []PlannedChange
			creates := map[string]PlannedChange{}
			for _, pc := range whole.Apply {
				if pc.Change.Kind == scimbridge.ChangeCreate && !slices.ContainsFunc(deferred.Apply, func(x PlannedChange) bool {
					return x.Change.Kind == scimbridge.ChangeCreate && x.Desired.p.GoogleID == pc.Desired.p.GoogleID
				}) {
					creates[pc.Desired.p.GoogleID] = pc
					continue
				}
				kept = append(kept, pc)
			}
			if len(deferred.Creates) != len(creates) {
				t.Fatalf("%d deferred creates, want %d", len(deferred.Creates), len(creates))
			}
			for _, c := range deferred.Creates {
				u := in.Users[c.User]
				want := creates[u.Desired.p.GoogleID]
				got, err := BuildCreate(in.Org.ID, u, c.Reason, want.Change.Profile.ID, in.Now)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("built create of %s:\n got %+v (%v)\nwant %+v", u.Desired.p.UserName, got, err, want)
				}
			}
			for i := range kept {
				kept[i].Change.Profile.ID = ""
			}
			for i := range deferred.Apply {
				deferred.Apply[i].Change.Profile.ID = ""
			}
			if !reflect.DeepEqual(deferred.Apply, kept) || deferred.Unchanged != whole.Unchanged ||
				!reflect.DeepEqual(deferred.Skipped, whole.Skipped) || deferred.Guard != whole.Guard {
				t.Errorf("the rest of the plan differs:\n got %+v\nwant %+v", deferred.Apply, kept)
			}
		})
	}
	t.Run("CreateAfterReleaseIsBuilt", func(t *testing.T) {
		in := planScenarios(t)["AddressReused"]()
		in.DeferCreates = true
		plan := mustPlan(t, in)
		kinds := []scimbridge.ChangeKind{}
		for _, pc := range plan.Apply {
			kinds = append(kinds, pc.Change.Kind)
		}
		if !slices.Equal(kinds, []scimbridge.ChangeKind{scimbridge.ChangeDeactivate, scimbridge.ChangeCreate}) ||
			len(plan.Creates) != 1 || in.Users[plan.Creates[0].User].Desired.p.UserName != "d@x.com" {
			t.Errorf("apply %v, deferred %+v", kinds, plan.Creates)
		}
	})
	t.Run("ReasonOfInactiveCreate", func(t *testing.T) {
		in := dirInput([]DirectoryUser{gUser("1", "s@x.com", suspended), gUser("2", "a@x.com", archived)})
		in.DeferCreates = true
		plan := mustPlan(t, in)
		if len(plan.Creates) != 2 || plan.Creates[0].Reason != "new in Google (suspended)" ||
			plan.Creates[1].Reason != "new in Google (archived)" {
			t.Errorf("creates %+v", plan.Creates)
		}
	})
}

func TestScalarFields_Order(t *testing.T) {
	d := gUser("1", "a@x.com").Desired
	all := scalarFields(&d.p)
	if want := append(coreFields(&d.p), extraFields(&d.p)...); !reflect.DeepEqual(all[:], want) {
		t.Errorf("scalarFields = %v, want coreFields then extraFields %v", all, want)
	}
}

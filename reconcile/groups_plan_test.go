package reconcile_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// groupsInput is n stored groups g0000... of members each, all listed
// unchanged.
func groupsInput(n, members int) reconcile.GroupsInput {
	in := reconcile.GroupsInput{OrgID: "org", Settings: scimbridge.BridgeSettings{Guard: true, Hold: scimbridge.HoldGuarded},
		Now: time.Unix(0, 0).UTC(), Current: map[string][]string{}}
	seq := 0
	in.NewID = func() string { seq++; return fmt.Sprintf("new-%d", seq) }
	for i := range n {
		gid := fmt.Sprintf("g%04d", i)
		m := ids("p", members)
		name := "Group " + gid
		in.Stored = append(in.Stored, scimbridge.Group{ID: "id-" + gid, OrgID: "org", DisplayName: name, GoogleID: gid,
			ExternalID: gid, Source: scimbridge.SourceGoogle, Version: 3, DesiredHash: reconcile.GroupHash(name, m)})
		in.Groups = append(in.Groups, reconcile.DirectoryGroup{GoogleID: gid, Name: name, Members: m})
	}
	total := n * members
	in.Memberships = func() (int, error) { return total, nil }
	return in
}

func TestPlanGroups_UnchangedIsEmpty(t *testing.T) {
	in := groupsInput(20, 5)
	if got := reconcile.GroupsToLoad(in); len(got) != 0 {
		t.Fatalf("GroupsToLoad = %v for unchanged groups", got)
	}
	p, err := reconcile.PlanGroups(in)
	if err != nil || len(p.Apply)+len(p.Held) != 0 || p.Unchanged != 20 {
		t.Fatalf("plan %+v, %v; want 20 unchanged and nothing else", p, err)
	}
}

func TestPlanGroups_Changes(t *testing.T) {
	in := groupsInput(3, 4)
	in.Groups[0].Name = "Renamed"
	in.Groups[1].Members = []string{"p0000", "p0002", "p0003", "p0009"}
	in.Groups = append(in.Groups[:2], reconcile.DirectoryGroup{GoogleID: "g9999", Name: "New", Members: []string{"p0001"}})
	if _, err := reconcile.PlanGroups(in); err == nil {
		t.Fatal("planned changed groups without their members")
	}
	load := reconcile.GroupsToLoad(in)
	if !reflect.DeepEqual(load, []string{"id-g0000", "id-g0001"}) {
		t.Fatalf("GroupsToLoad = %v", load)
	}
	for _, id := range load {
		in.Current[id] = ids("p", 4)
	}
	p, err := reconcile.PlanGroups(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Held) != 0 || len(p.Apply) != 4 {
		t.Fatalf("plan %+v", p)
	}
	c, u0, u1, d := p.Apply[0].Change, p.Apply[1].Change, p.Apply[2].Change, p.Apply[3].Change
	if c.Kind != scimbridge.ChangeGroupCreate || c.Group.GoogleID != "g9999" || c.Group.Version != 1 ||
		!reflect.DeepEqual(c.AddMembers, []string{"p0001"}) || c.Group.DesiredHash != reconcile.GroupHash("New", []string{"p0001"}) {
		t.Errorf("create %+v", c)
	}
	if u0.Kind != scimbridge.ChangeGroupUpdate || u0.Group.DisplayName != "Renamed" || u0.ExpectedVersion != 3 ||
		u0.Group.Version != 4 || len(u0.AddMembers)+len(u0.RemoveMembers) != 0 || p.Apply[1].Reason != reconcile.ReasonGroupRenamed {
		t.Errorf("rename %+v (%s)", u0, p.Apply[1].Reason)
	}
	if !reflect.DeepEqual(u1.AddMembers, []string{"p0009"}) || !reflect.DeepEqual(u1.RemoveMembers, []string{"p0001"}) ||
		p.Apply[2].Reason != reconcile.ReasonGroupMembers {
		t.Errorf("members %+v (%s)", u1, p.Apply[2].Reason)
	}
	if d.Kind != scimbridge.ChangeGroupDelete || d.Group.GoogleID != "g0002" || d.ExpectedVersion != 3 {
		t.Errorf("delete %+v", d)
	}
}

func TestPlanGroups_Guard(t *testing.T) {
	t.Run("DeletesWithinMinimum", func(t *testing.T) {
		in := groupsInput(10, 1)
		in.Groups = in.Groups[:7] // 3 deletes: max(3, 5% of 10) = 3
		p, _ := reconcile.PlanGroups(in)
		if p.Guard.Guarded || len(p.Apply) != 3 {
			t.Fatalf("guard %+v, %d applied", p.Guard, len(p.Apply))
		}
	})
	t.Run("DeletesOverLimit", func(t *testing.T) {
		in := groupsInput(100, 1)
		in.Groups = append(in.Groups[:94], reconcile.DirectoryGroup{GoogleID: "new", Name: "New"}) // 6 > 5
		p, _ := reconcile.PlanGroups(in)
		if !p.Guard.Guarded || !p.Guard.DeletesGuarded || len(p.Held) != 6 || len(p.Apply) != 1 {
			t.Fatalf("guard %+v, %d held, %d applied", p.Guard, len(p.Held), len(p.Apply))
		}
		in.Settings.Guard = false
		if p, _ := reconcile.PlanGroups(in); p.Guard.Guarded || len(p.Apply) != 7 {
			t.Fatalf("guard off: %+v", p.Guard)
		}
		in.Settings.Guard, in.Settings.Hold = true, scimbridge.HoldAll
		if p, _ := reconcile.PlanGroups(in); len(p.Held) != 7 {
			t.Fatalf("hold all: %d held", len(p.Held))
		}
	})
	t.Run("Removals", func(t *testing.T) {
		in := groupsInput(10, 10) // 100 memberships: limit 5
		for i := range 3 {
			in.Groups[i].Members = in.Groups[i].Members[:8] // 6 removed
			in.Current[in.Stored[i].ID] = ids("p", 10)
		}
		in.Groups[3].Members = append(ids("p", 10), "q") // an addition
		in.Current[in.Stored[3].ID] = ids("p", 10)
		p, err := reconcile.PlanGroups(in)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Guard.RemovalGuarded || p.Guard.Removals != 6 || p.Guard.Memberships != 100 || len(p.Held) != 3 || len(p.Apply) != 1 {
			t.Fatalf("guard %+v, %d held, %d applied", p.Guard, len(p.Held), len(p.Apply))
		}
		keys := reconcile.GroupHeldKeys(p.Held)
		if got := reconcile.FilterApprovedGroups(p.Held, keys[:1]); len(got) != 1 || got[0].Key() != keys[0] {
			t.Fatalf("approved %v", got)
		}
	})
}

func TestGroupHash(t *testing.T) {
	a := reconcile.GroupHash("Eng", []string{"a", "b"})
	for _, other := range []string{reconcile.GroupHash("Eng", []string{"ab"}), reconcile.GroupHash("Eng", []string{"a"}),
		reconcile.GroupHash("eng", []string{"a", "b"}), reconcile.GroupHash("Enga", []string{"b"})} {
		if other == a {
			t.Fatal("different groups hash the same")
		}
	}
	if reconcile.GroupHash("Eng", []string{"a", "b"}) != a {
		t.Fatal("hash not deterministic")
	}
}

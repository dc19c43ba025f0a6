package bridge

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

func planned(groups ...int) []reconcile.PlannedChange {
	out := make([]reconcile.PlannedChange, len(groups))
	for i, g := range groups {
		out[i].Group = g
	}
	return out
}

func sizes(bs [][][]reconcile.PlannedChange) []int {
	var out []int
	for _, b := range bs {
		n := 0
		for _, u := range b {
			n += len(u)
		}
		out = append(out, n)
	}
	return out
}

func TestRunner_Batches(t *testing.T) {
	t.Run("GroupsStayTogether", func(t *testing.T) {
		us := units(planned(0, 1, 1, 1, 0, 2, 2, 0))
		if len(us) != 5 || len(us[1]) != 3 || len(us[3]) != 2 {
			t.Fatalf("units = %v", us)
		}
		// With room for 3, a group of 3 never shares a batch it would
		// overflow, and is never split.
		got := sizes(batches(us, 3))
		want := []int{1, 3, 3, 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("batch sizes = %v, want %v", got, want)
		}
		if got := sizes(batches(us, 4)); fmt.Sprint(got) != "[4 4]" {
			t.Fatalf("batch sizes = %v, want [4 4]", got)
		}
	})
	t.Run("AtMostMaxBatch", func(t *testing.T) {
		got := sizes(batches(units(planned(make([]int, 1201)...)), scimbridge.MaxBatch))
		if len(got) != 3 || got[0] != 500 || got[1] != 500 || got[2] != 201 {
			t.Fatalf("batch sizes = %v", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if got := batches(units(nil), scimbridge.MaxBatch); len(got) != 0 {
			t.Fatalf("batches of nothing = %v", got)
		}
	})
}

func TestRunner_Redecide(t *testing.T) {
	now := time.Now().UTC()
	stored, err := reconcile.NewProfile("org", scimbridge.SourceGoogle, scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{UserName: "ann@example.com"}, Active: true, GoogleID: "1", ExternalID: "1"}, "id-1", now)
	if err != nil {
		t.Fatal(err)
	}
	desired := reconcile.NormalizeProfile(stored)
	desired.Title = "Engineer"
	c, err := reconcile.Apply(stored, desired, scimbridge.ChangeUpdate, now)
	if err != nil {
		t.Fatal(err)
	}
	pc := reconcile.PlannedChange{Change: c, Desired: desired, Reason: reconcile.ReasonUpdated}

	t.Run("SameKindIsRebuilt", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.Department = 2, "Sales"
		got, write, ok := redecide(fresh, pc, now)
		if !ok || !write || got.ExpectedVersion != 2 || got.Profile.Title != "Engineer" || got.Profile.DesiredHash != reconcile.Hash(desired) {
			t.Fatalf("redecide = %+v, %v, %v", got, write, ok)
		}
	})
	t.Run("AlreadyDone", func(t *testing.T) {
		fresh := c.Profile
		if _, write, ok := redecide(fresh, pc, now); !ok || write {
			t.Fatalf("write %v ok %v; want nothing left to do", write, ok)
		}
	})
	t.Run("OtherKindIsSkipped", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.State = 2, scimbridge.StateInactive
		if _, _, ok := redecide(fresh, pc, now); ok {
			t.Fatal("an update that became a reactivation was decided again")
		}
	})
	t.Run("ReleasedToManualIsSkipped", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.Source = 2, scimbridge.SourceManual
		if _, _, ok := redecide(fresh, pc, now); ok {
			t.Fatal("a profile released to manual was changed")
		}
	})
}

package bridge

import (
	"fmt"
	"testing"

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

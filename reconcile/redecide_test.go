package reconcile

import (
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestRedecide(t *testing.T) {
	org := scimbridge.Organization{ID: "org", AdoptExisting: true}
	stored, err := NewProfile("org", scimbridge.SourceGoogle, Normalize(scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{UserName: "ann@example.com"}, Active: true, GoogleID: "1", ExternalID: "1"}), "id-1", now)
	if err != nil {
		t.Fatal(err)
	}
	desired := NormalizeProfile(stored)
	desired.p.Title = "Engineer"
	c, err := Apply(stored, desired, scimbridge.ChangeUpdate, now)
	if err != nil {
		t.Fatal(err)
	}
	pc := PlannedChange{Change: c, Desired: desired, Reason: ReasonUpdated}

	t.Run("SameKindIsRebuilt", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.Department = 2, "Sales"
		got, write, ok := Redecide(org, fresh, pc, now)
		if !ok || !write || got.ExpectedVersion != 2 || got.Profile.Title != "Engineer" || got.Profile.DesiredHash != Hash(desired) {
			t.Fatalf("redecide = %+v, %v, %v", got, write, ok)
		}
	})
	t.Run("AlreadyDone", func(t *testing.T) {
		fresh := c.Profile
		if _, write, ok := Redecide(org, fresh, pc, now); !ok || write {
			t.Fatalf("write %v ok %v; want nothing left to do", write, ok)
		}
	})
	t.Run("OtherKindIsSkipped", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.State = 2, scimbridge.StateInactive
		if _, _, ok := Redecide(org, fresh, pc, now); ok {
			t.Fatal("an update that became a reactivation was decided again")
		}
	})
	t.Run("ReleasedToManualIsSkipped", func(t *testing.T) {
		fresh := stored
		fresh.Version, fresh.Source = 2, scimbridge.SourceManual
		if _, _, ok := Redecide(org, fresh, pc, now); ok {
			t.Fatal("a profile released to manual was changed")
		}
	})
	t.Run("AdoptionRebuiltOnTheFreshProfile", func(t *testing.T) {
		m := prof("m1", scimbridge.SourceManual, "ann", "ann@example.com")
		ad, err := Adopt(m, scimbridge.SourceGoogle, desired, now)
		if err != nil {
			t.Fatal(err)
		}
		apc := PlannedChange{Change: ad, Desired: desired, Reason: ReasonAdopted}
		fresh := m
		fresh.Version, fresh.Source = m.Version+1, scimbridge.SourceSAML
		got, write, ok := Redecide(org, fresh, apc, now)
		if !ok || !write || got.Kind != scimbridge.ChangeAdopt || got.ExpectedVersion != fresh.Version || got.Profile.Source != scimbridge.SourceGoogle {
			t.Fatalf("Redecide = %+v, %v, %v", got, write, ok)
		}
		fresh.Source = scimbridge.SourceSCIM
		if _, _, ok := Redecide(org, fresh, apc, now); ok {
			t.Fatal("a profile SCIM took over meanwhile was adopted")
		}
	})
}

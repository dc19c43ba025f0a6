package reconcile

import (
	"testing"

	"github.com/scimbridge/scimbridge"
)

func withLists() scimbridge.DesiredProfile {
	d := fullDesired()
	d.PhoneNumbers = []scimbridge.PhoneNumber{{Value: "+1 555 0100", Type: "work", Primary: boolPtr(true)}, {Value: "+1 555 0199", Type: "mobile"}}
	d.Addresses = []scimbridge.Address{{StreetAddress: "1 Main St", Locality: "Oslo", Country: "NO", Type: "work"}}
	return d
}

// Phone numbers and addresses are stored as sent: any change of a value,
// its case, the order or primary is an update; spellings of nothing are
// not, so an unchanged user is never written.
func TestLists_DiffAndHash(t *testing.T) {
	same := []struct {
		name   string
		change func(d *scimbridge.DesiredProfile)
	}{
		{"Unchanged", func(d *scimbridge.DesiredProfile) {}},
		{"PhoneWithoutValue", func(d *scimbridge.DesiredProfile) {
			d.PhoneNumbers = append(d.PhoneNumbers, scimbridge.PhoneNumber{Type: "fax"})
		}},
		{"AddressWithOnlyType", func(d *scimbridge.DesiredProfile) {
			d.Addresses = append(d.Addresses, scimbridge.Address{Type: "home", Primary: boolPtr(true)})
		}},
	}
	for _, tt := range same {
		t.Run("Same/"+tt.name, func(t *testing.T) {
			d := withLists()
			tt.change(&d)
			if got := Diff(storedOf(withLists()), Normalize(d)); len(got) != 0 {
				t.Errorf("Diff = %+v", got)
			}
			if Hash(Normalize(d)) != Hash(Normalize(withLists())) {
				t.Error("Hash differs")
			}
		})
	}
	differ := []struct {
		name, field string
		change      func(d *scimbridge.DesiredProfile)
	}{
		{"PhoneValue", "phoneNumbers", func(d *scimbridge.DesiredProfile) { d.PhoneNumbers[1].Value = "+1 555 0200" }},
		{"PhoneOrder", "phoneNumbers", func(d *scimbridge.DesiredProfile) {
			d.PhoneNumbers[0], d.PhoneNumbers[1] = d.PhoneNumbers[1], d.PhoneNumbers[0]
		}},
		{"PhonePrimaryNilVersusFalse", "phoneNumbers", func(d *scimbridge.DesiredProfile) { d.PhoneNumbers[1].Primary = boolPtr(false) }},
		{"PhonesRemoved", "phoneNumbers", func(d *scimbridge.DesiredProfile) { d.PhoneNumbers = nil }},
		{"LocalityCase", "addresses", func(d *scimbridge.DesiredProfile) { d.Addresses[0].Locality = "OSLO" }},
		{"AddressAdded", "addresses", func(d *scimbridge.DesiredProfile) {
			d.Addresses = append(d.Addresses, scimbridge.Address{Country: "SE", Type: "home"})
		}},
	}
	for _, tt := range differ {
		t.Run("Differs/"+tt.name, func(t *testing.T) {
			d := withLists()
			tt.change(&d)
			got := Diff(storedOf(withLists()), Normalize(d))
			if len(got) != 1 || got[0].Field != tt.field || got[0].Before == got[0].After {
				t.Errorf("Diff = %+v, want one change of %s", got, tt.field)
			}
			if Hash(Normalize(d)) == Hash(Normalize(withLists())) {
				t.Error("Hash unchanged")
			}
		})
	}
}

func TestLists_ValidateNUL(t *testing.T) {
	d := withLists()
	d.Addresses[0].Region = "a\x00b"
	if err := Validate(d); scimbridge.ErrorScimType(err) != "invalidValue" {
		t.Errorf("Validate = %v", err)
	}
	d = withLists()
	d.PhoneNumbers[0].Display = "\x00"
	if err := Validate(d); scimbridge.ErrorScimType(err) != "invalidValue" {
		t.Errorf("Validate = %v", err)
	}
}

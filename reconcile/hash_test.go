package reconcile

import (
	"regexp"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestHash_Stable(t *testing.T) {
	// The encoding must not drift between releases: every stored hash would
	// miss once. Update the constant only together with hashVersion.
	const want = "0393168724d81386b0fedd543af082b12b6c03329824afcde786fe0fc7db334a"
	if got := Hash(Normalize(fullDesired())); got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(Hash(Normalize(scimbridge.DesiredProfile{}))) {
		t.Errorf("Hash is not hex SHA-256: %s", Hash(Normalize(scimbridge.DesiredProfile{})))
	}
	for range 20 {
		if Hash(Normalize(fullDesired())) != Hash(Normalize(fullDesired())) {
			t.Fatal("Hash differs between calls")
		}
	}
}

func TestHash_Equal(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *scimbridge.DesiredProfile)
	}{
		{"EmailOrder", func(d *scimbridge.DesiredProfile) { d.Emails[0], d.Emails[1] = d.Emails[1], d.Emails[0] }},
		{"EmptyEmailEntry", func(d *scimbridge.DesiredProfile) { d.Emails = append(d.Emails, scimbridge.Email{Type: "x"}) }},
		{"NoEmailsNilVersusEmpty", func(d *scimbridge.DesiredProfile) { d.Emails = []scimbridge.Email{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, d := fullDesired(), fullDesired()
			if tt.name == "NoEmailsNilVersusEmpty" {
				base.Emails = nil
			}
			tt.change(&d)
			if Hash(Normalize(base)) != Hash(Normalize(d)) {
				t.Errorf("Hash differs")
			}
			if got := DiffWith(DiffOptions{IgnoreEmailOrder: true}, storedOf(base), Normalize(d)); len(got) != 0 {
				t.Errorf("equal hashes but DiffWith = %+v", got)
			}
		})
	}
}

func TestHash_Differs(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *scimbridge.DesiredProfile)
	}{
		{"Active", func(d *scimbridge.DesiredProfile) { d.Active = false }},
		{"EmailCase", func(d *scimbridge.DesiredProfile) { d.Emails[0].Value = "ALICE@example.com" }},
		{"EmailPrimaryNilVersusFalse", func(d *scimbridge.DesiredProfile) { d.Emails[1].Primary = boolPtr(false) }},
		{"EmailType", func(d *scimbridge.DesiredProfile) { d.Emails[1].Type = "other" }},
		{"EmailDisplay", func(d *scimbridge.DesiredProfile) { d.Emails[1].Display = "" }},
		{"EmailRemoved", func(d *scimbridge.DesiredProfile) { d.Emails = d.Emails[:1] }},
		{"EmailDuplicated", func(d *scimbridge.DesiredProfile) { d.Emails = append(d.Emails, d.Emails[1]) }},
		{"FieldBoundary", func(d *scimbridge.DesiredProfile) { d.GivenName, d.MiddleName = "AliceP.", "" }},
		{"ValueMovedBetweenFields", func(d *scimbridge.DesiredProfile) { d.Department, d.Division = d.Division, d.Department }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fullDesired()
			tt.change(&d)
			if Hash(Normalize(d)) == Hash(Normalize(fullDesired())) {
				t.Errorf("Hash unchanged")
			}
		})
	}
	t.Run("EveryField", func(t *testing.T) {
		seen := map[string]string{Hash(Normalize(fullDesired())): "base"}
		setEach(t, func(name string, d scimbridge.DesiredProfile) {
			h := Hash(Normalize(d))
			if other, ok := seen[h]; ok {
				t.Errorf("%s: same hash as %s", name, other)
			}
			seen[h] = name
		})
	})
}

package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

func TestInScope(t *testing.T) {
	user := func(email, ou string, guest bool) bridge.GoogleUser {
		return bridge.GoogleUser{ID: "1", PrimaryEmail: email, OrgUnitPath: ou, IsGuest: guest}
	}
	cases := []struct {
		name   string
		u      bridge.GoogleUser
		s      scimbridge.BridgeSettings
		in     bool
		reason string
	}{
		{"NoScope", user("a@example.com", "/", false), scimbridge.BridgeSettings{}, true, ""},
		{"GuestSkipped", user("g@partner.example", "/", true), scimbridge.BridgeSettings{}, false, "guest user"},
		{"GuestIncluded", user("g@partner.example", "/", true), scimbridge.BridgeSettings{IncludeGuests: true}, true, ""},
		{"DomainMatch", user("a@Example.COM", "/", false), scimbridge.BridgeSettings{Domains: []string{"example.org", "example.com"}}, true, ""},
		{"DomainSettingCase", user("a@example.com", "/", false), scimbridge.BridgeSettings{Domains: []string{" @EXAMPLE.com"}}, true, ""},
		{"DomainOut", user("a@example.org", "/", false), scimbridge.BridgeSettings{Domains: []string{"example.com"}}, false, "domain example.org not in scope"},
		{"SubdomainIsNotDomain", user("a@eu.example.com", "/", false), scimbridge.BridgeSettings{Domains: []string{"example.com"}}, false, "domain eu.example.com not in scope"},
		{"OrgUnitEqual", user("a@example.com", "/Engineering", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Engineering"}}, true, ""},
		{"OrgUnitBelow", user("a@example.com", "/Engineering/Platform", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Engineering/"}}, true, ""},
		{"OrgUnitCase", user("a@example.com", "/engineering/platform", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Engineering"}}, true, ""},
		{"OrgUnitPrefixNotParent", user("a@example.com", "/EngineeringOps", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Engineering"}}, false, "org unit /EngineeringOps not in scope"},
		{"OrgUnitAbove", user("a@example.com", "/", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Engineering"}}, false, "org unit / not in scope"},
		{"OrgUnitRoot", user("a@example.com", "/Sales", false), scimbridge.BridgeSettings{OrgUnits: []string{"/"}}, true, ""},
		{"OrgUnitNoSlash", user("a@example.com", "/Sales/EMEA", false), scimbridge.BridgeSettings{OrgUnits: []string{"Sales"}}, true, ""},
		{"OrgUnitEmptyPath", user("a@example.com", "", false), scimbridge.BridgeSettings{OrgUnits: []string{"/Sales"}}, false, "org unit / not in scope"},
		{"BothMustMatch", user("a@example.com", "/Sales", false), scimbridge.BridgeSettings{Domains: []string{"example.com"}, OrgUnits: []string{"/Engineering"}}, false, "org unit /Sales not in scope"},
		{"GuestCheckedFirst", user("g@example.org", "/Sales", true), scimbridge.BridgeSettings{Domains: []string{"example.com"}}, false, "guest user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, reason := bridge.InScope(tc.u, tc.s)
			if in != tc.in || reason != tc.reason {
				t.Fatalf("InScope = %v, %q; want %v, %q", in, reason, tc.in, tc.reason)
			}
		})
	}
}

func TestExcluded(t *testing.T) {
	u := bridge.GoogleUser{ID: "100000000000000000001", PrimaryEmail: "ada@example.com", Aliases: []string{"countess@example.com"}}
	cases := []struct {
		name string
		s    scimbridge.BridgeSettings
		want bool
	}{
		{"None", scimbridge.BridgeSettings{}, false},
		{"PrimaryEmail", scimbridge.BridgeSettings{ExcludedUsers: []string{"ADA@example.com"}}, true},
		{"Alias", scimbridge.BridgeSettings{ExcludedUsers: []string{"bob@example.com", " Countess@Example.com "}}, true},
		{"OtherUser", scimbridge.BridgeSettings{ExcludedUsers: []string{"bob@example.com", ""}}, false},
		{"PinnedGoogleID", scimbridge.BridgeSettings{ExcludedGoogleID: []string{"100000000000000000001"}}, true},
		{"OtherGoogleID", scimbridge.BridgeSettings{ExcludedGoogleID: []string{"100000000000000000002", ""}}, false},
		{"PartialAddressIsNotAMatch", scimbridge.BridgeSettings{ExcludedUsers: []string{"ada"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := bridge.Excluded(u, tc.s); got != tc.want {
				t.Fatalf("Excluded = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("Renamed", func(t *testing.T) {
		renamed := u
		renamed.PrimaryEmail, renamed.Aliases = "ada.king@example.com", nil
		s := scimbridge.BridgeSettings{ExcludedUsers: []string{"ada@example.com"}, ExcludedGoogleID: []string{u.ID}}
		if !bridge.Excluded(renamed, s) {
			t.Fatal("a renamed user escaped its pinned exclusion")
		}
	})
}

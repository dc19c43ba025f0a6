package bridge_test

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

func TestMapUser(t *testing.T) {
	yes := true
	base := bridge.GoogleUser{
		ID: "123456789012345678901", PrimaryEmail: "ada@example.com",
		GivenName: "Ada", FamilyName: "Lovelace", FullName: "Ada Lovelace",
	}
	baseWant := scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{
			UserName:    "ada@example.com",
			DisplayName: "Ada Lovelace",
			Emails:      []scimbridge.Email{{Value: "ada@example.com", Type: "work", Primary: &yes}},
			GivenName:   "Ada",
			FamilyName:  "Lovelace",
		},
		Active:     true,
		ExternalID: "123456789012345678901",
		GoogleID:   "123456789012345678901",
	}
	with := func(f func(u *bridge.GoogleUser)) bridge.GoogleUser {
		u := base
		f(&u)
		return u
	}
	want := func(f func(p *scimbridge.DesiredProfile)) scimbridge.DesiredProfile {
		p := baseWant
		p.Emails = append([]scimbridge.Email(nil), baseWant.Emails...)
		f(&p)
		return p
	}

	cases := []struct {
		name string
		in   bridge.GoogleUser
		want scimbridge.DesiredProfile
	}{
		{"Basic", base, baseWant},
		{"Suspended", with(func(u *bridge.GoogleUser) { u.Suspended = true }),
			want(func(p *scimbridge.DesiredProfile) { p.Active = false })},
		{"Archived", with(func(u *bridge.GoogleUser) { u.Archived = true }),
			want(func(p *scimbridge.DesiredProfile) { p.Active = false })},
		{"Deleted", with(func(u *bridge.GoogleUser) { u.Deleted = true }),
			want(func(p *scimbridge.DesiredProfile) { p.Active = false })},
		{"NoFullName", with(func(u *bridge.GoogleUser) { u.FullName = "" }), baseWant},
		{"PrimaryOrganization", with(func(u *bridge.GoogleUser) {
			u.Organizations = []bridge.Organization{
				{Title: "Advisor", Name: "Other"},
				{Title: "Engineer", Department: "R&D", CostCenter: "CC-7", Name: "Example Corp", Description: "Contractor", Primary: true},
			}
		}), want(func(p *scimbridge.DesiredProfile) {
			p.Title, p.Department, p.CostCenter, p.Organization, p.UserType = "Engineer", "R&D", "CC-7", "Example Corp", "Contractor"
		})},
		{"FirstOrganization", with(func(u *bridge.GoogleUser) {
			u.Organizations = []bridge.Organization{{Title: "Advisor", Name: "Other"}, {Title: "Second"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.Title, p.Organization = "Advisor", "Other" })},
		{"EmployeeNumber", with(func(u *bridge.GoogleUser) {
			u.ExternalIDs = []bridge.ExternalID{{Type: "custom", CustomType: "badge", Value: "B1"}, {Type: "organization", Value: "E42"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.EmployeeNumber = "E42" })},
		{"NoOrganizationExternalID", with(func(u *bridge.GoogleUser) {
			u.ExternalIDs = []bridge.ExternalID{{Type: "account", Value: "A1"}}
		}), baseWant},
		{"Manager", with(func(u *bridge.GoogleUser) {
			u.Relations = []bridge.Relation{{Type: "assistant", Value: "x@example.com"}, {Type: "manager", Value: "Boss@Example.com"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.Manager = "Boss@Example.com" })},
		{"PreferredLanguage", with(func(u *bridge.GoogleUser) {
			u.Languages = []bridge.Language{{LanguageCode: "en", Preference: "not_preferred"}, {LanguageCode: "fr", Preference: "preferred"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.PreferredLanguage = "fr" })},
		{"FirstLanguage", with(func(u *bridge.GoogleUser) {
			u.Languages = []bridge.Language{{LanguageCode: "de"}, {LanguageCode: "fr"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.PreferredLanguage = "de" })},
		{"CustomLanguage", with(func(u *bridge.GoogleUser) {
			u.Languages = []bridge.Language{{CustomLanguage: "Klingon", Preference: "preferred"}}
		}), want(func(p *scimbridge.DesiredProfile) { p.PreferredLanguage = "Klingon" })},
		{"AliasesAndOrgUnitIgnored", with(func(u *bridge.GoogleUser) {
			u.Aliases = []string{"countess@example.com"}
			u.OrgUnitPath = "/Engineering"
		}), baseWant},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := bridge.MapUser(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("MapUser\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

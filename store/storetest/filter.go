package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

const (
	coreURN       = "urn:ietf:params:scim:schemas:core:2.0:User:"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
)

// filterEpoch is the creation time of the filter fixtures' hour 0; each
// profile is created at an hour of its own plus 500 µs.
var filterEpoch = time.Date(2024, 3, 1, 0, 0, 0, 500000, time.UTC)

// filterFixture is one seeded profile.
type filterFixture struct {
	userName, title, displayName string
	emails                       []scimbridge.Email
	hour                         int
	inactive                     bool
	set                          func(p *scimbridge.Profile)
}

func fltEmail(value, typ string, primary *bool) scimbridge.Email {
	return scimbridge.Email{Value: value, Type: typ, Primary: primary}
}

// filterFixtures returns organization A's profiles, in id order. manager is
// the id heidi's manager refers to.
func filterFixtures(manager string) []filterFixture {
	t, f := true, false
	return []filterFixture{
		{userName: "alice", title: "Engineer", displayName: "Alice Archer", hour: 5,
			emails: []scimbridge.Email{fltEmail("alice@example.com", "work", &t)},
			set: func(p *scimbridge.Profile) {
				p.GivenName, p.FamilyName, p.ExternalID, p.Department, p.EmployeeNumber = "Alice", "Archer", "ext-1", "R&D", "0001"
			}},
		{userName: "Bob", title: "engineer", displayName: "Bob Builder", hour: 3, inactive: true,
			emails: []scimbridge.Email{fltEmail("bob@Example.COM", "work", nil), fltEmail("bob.home@mail.test", "home", nil)},
			set:    func(p *scimbridge.Profile) { p.GivenName, p.ExternalID, p.Department = "Bob", "EXT-2", "Sales" }},
		{userName: "carol", title: "Senior Engineer", hour: 9,
			emails: []scimbridge.Email{fltEmail("carol@example.com", "home", nil)},
			set:    func(p *scimbridge.Profile) { p.FamilyName = "Cole" }},
		{userName: "dave%admin", title: "100% remote", hour: 1,
			emails: []scimbridge.Email{fltEmail("dave@example.com", "", nil)}},
		{userName: "eve_ops", title: "ops_lead", hour: 12, inactive: true},
		{userName: "ÉVE", title: "Directrice", displayName: "Ève", hour: 0,
			set: func(p *scimbridge.Profile) { p.Locale = "fr-FR" }},
		{userName: `frank\backslash`, title: `C:\temp`, hour: 7,
			emails: []scimbridge.Email{fltEmail("frank@example.org", "work", nil)},
			set:    func(p *scimbridge.Profile) { p.CostCenter = "CC-9" }},
		{userName: "grace", hour: 2, emails: []scimbridge.Email{fltEmail("grace@EXAMPLE.org", "work", &f)}},
		{userName: "heidi", displayName: "Heidi", hour: 15,
			set: func(p *scimbridge.Profile) { p.CostCenter, p.Manager, p.EmployeeNumber = "CC-1", manager, "0042" }},
		{userName: "ivan", hour: 4, inactive: true, set: func(p *scimbridge.Profile) {
			p.NickName, p.Locale, p.Timezone = "Vanya", "ru-RU", "Europe/Moscow"
			p.PreferredLanguage, p.ProfileURL = "ru", "https://example.com/ivan"
		}},
		{userName: "judy", hour: 11, set: func(p *scimbridge.Profile) {
			p.UserType, p.HonorificPrefix, p.MiddleName = "Contractor", "Dr.", "J."
		}},
		{userName: "mallory", hour: 6, set: func(p *scimbridge.Profile) { p.Manager = "EXT-2" }},
		{userName: "oscar", hour: 14, set: func(p *scimbridge.Profile) {
			p.Organization, p.Division, p.Department = "Acme", "West", "Sales"
		}},
		{userName: "peggy", hour: 8,
			emails: []scimbridge.Email{fltEmail("peggy@x.test", "work", nil), fltEmail("p@Y.test", "other", &t)}},
		{userName: "trent", hour: 13, set: func(p *scimbridge.Profile) {
			p.Formatted, p.HonorificSuffix, p.GivenName = "Trent T. Smith", "Jr.", "Trent"
		}},
		{userName: "victor", hour: 10},
		{userName: "walter", title: "eng_ineer", hour: 16},
		{userName: "zoe", displayName: "Zoë", hour: 17, inactive: true},
	}
}

// filterCase is one listing and the userNames it must return, in order.
type filterCase struct {
	name   string
	orgB   bool
	filter scimbridge.Filter
	sortBy string
	desc   bool
	offset int
	limit  int // 0 means 100
	count  bool
	want   []string
	total  int // 0 means len(want)
}

// Filter tree builders.

func fltEq(attr string, v any) scimbridge.Filter {
	return scimbridge.CompareFilter{Attr: attr, Op: scimbridge.OpEq, Value: v}
}

func fltOp(attr string, op scimbridge.FilterOp, v any) scimbridge.Filter {
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: v}
}

func fltPr(attr string) scimbridge.Filter             { return fltOp(attr, scimbridge.OpPr, nil) }
func fltAnd(l, r scimbridge.Filter) scimbridge.Filter { return scimbridge.AndFilter{Left: l, Right: r} }
func fltOr(l, r scimbridge.Filter) scimbridge.Filter  { return scimbridge.OrFilter{Left: l, Right: r} }
func fltNot(f scimbridge.Filter) scimbridge.Filter    { return scimbridge.NotFilter{Filter: f} }
func fltVP(attr string, f scimbridge.Filter) scimbridge.Filter {
	return scimbridge.ValuePathFilter{Attr: attr, Filter: f}
}

// fltWithout returns all minus the names given.
func fltWithout(all []string, names ...string) []string {
	var out []string
	for _, n := range all {
		if !slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

// RunFilters checks SCIM filters, sorting and paging through ListProfiles:
// it seeds two organizations into one store from open and asserts the exact
// ordered userNames and total of every listing. Identical expectations on
// every backend prove the backends agree.
func RunFilters(t *testing.T, open func(t *testing.T) scimbridge.Store) {
	ctx := context.Background()
	s := open(t)
	orgA, idsA := seedFilterOrg(t, s, "filters-a", 0x0a, 18, func(ids []string) []filterFixture {
		return filterFixtures(ids[0])
	})
	aliceID := idsA[0]
	orgB, _ := seedFilterOrg(t, s, "filters-b", 0x0b, 3, func([]string) []filterFixture {
		return []filterFixture{{userName: "alice", title: "Engineer", hour: 0}, {userName: "bob", hour: 1}, {userName: "zed", hour: 2}}
	})

	byName := []string{"alice", "Bob", "carol", "dave%admin", "eve_ops", `frank\backslash`, "grace", "heidi",
		"ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "zoe", "ÉVE"}
	byCreated := []string{"ÉVE", "dave%admin", "grace", "Bob", "ivan", "alice", "mallory", `frank\backslash`,
		"peggy", "carol", "victor", "judy", "eve_ops", "trent", "oscar", "heidi", "walter", "zoe"}
	byID := []string{"alice", "Bob", "carol", "dave%admin", "eve_ops", "ÉVE", `frank\backslash`, "grace",
		"heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "zoe"}
	inactive := []string{"Bob", "eve_ops", "ivan", "zoe"}
	titled := []string{"alice", "Bob", "carol", "dave%admin", "eve_ops", `frank\backslash`, "walter", "ÉVE"}
	withEmails := []string{"alice", "Bob", "carol", "dave%admin", `frank\backslash`, "grace", "peggy"}
	workEmail := []string{"alice", "Bob", `frank\backslash`, "grace", "peggy"}

	cases := []filterCase{
		// userName: case-insensitive on the Unicode key.
		{name: "UserNameEq", filter: fltEq("userName", "alice"), want: []string{"alice"}},
		{name: "UserNameEqFoldsCase", filter: fltEq("userName", "BOB"), want: []string{"Bob"}},
		{name: "UserNameEqUnicodeLower", filter: fltEq("userName", "éve"), want: []string{"ÉVE"}},
		{name: "UserNameEqUnicodeNFD", filter: fltEq("userName", "E\u0301VE"), want: []string{"ÉVE"}},
		{name: "UserNameNe", filter: fltOp("userName", scimbridge.OpNe, "alice"), want: byName[1:]},
		{name: "UserNameCo", filter: fltOp("userName", scimbridge.OpCo, "A"),
			want: []string{"alice", "carol", "dave%admin", `frank\backslash`, "grace", "ivan", "mallory", "oscar", "walter"}},
		{name: "UserNameCoPercent", filter: fltOp("userName", scimbridge.OpCo, "%"), want: []string{"dave%admin"}},
		{name: "UserNameCoUnderscore", filter: fltOp("userName", scimbridge.OpCo, "_"), want: []string{"eve_ops"}},
		{name: "UserNameCoBackslash", filter: fltOp("userName", scimbridge.OpCo, `\`), want: []string{`frank\backslash`}},
		{name: "UserNameCoPercentIsLiteral", filter: fltOp("userName", scimbridge.OpCo, "a%n"), want: nil},
		{name: "UserNameSwPercent", filter: fltOp("userName", scimbridge.OpSw, "DAVE%"), want: []string{"dave%admin"}},
		{name: "UserNameSwUnderscoreIsLiteral", filter: fltOp("userName", scimbridge.OpSw, "dave_"), want: nil},
		{name: "UserNameSwBackslash", filter: fltOp("userName", scimbridge.OpSw, `frank\`), want: []string{`frank\backslash`}},
		{name: "UserNameSwASCII", filter: fltOp("userName", scimbridge.OpSw, "e"), want: []string{"eve_ops"}},
		{name: "UserNameSwUnicode", filter: fltOp("userName", scimbridge.OpSw, "É"), want: []string{"ÉVE"}},
		{name: "UserNameEw", filter: fltOp("userName", scimbridge.OpEw, "_OPS"), want: []string{"eve_ops"}},
		{name: "UserNameEwPercent", filter: fltOp("userName", scimbridge.OpEw, "%admin"), want: []string{"dave%admin"}},
		{name: "UserNameEwUnderscoreIsLiteral", filter: fltOp("userName", scimbridge.OpEw, "s_"), want: nil},
		{name: "UserNameGt", filter: fltOp("userName", scimbridge.OpGt, "v"), want: []string{"victor", "walter", "zoe", "ÉVE"}},
		{name: "UserNameGe", filter: fltOp("userName", scimbridge.OpGe, "VICTOR"), want: []string{"victor", "walter", "zoe", "ÉVE"}},
		{name: "UserNameLt", filter: fltOp("userName", scimbridge.OpLt, "b"), want: []string{"alice"}},
		{name: "UserNameLe", filter: fltOp("userName", scimbridge.OpLe, "bob"), want: []string{"alice", "Bob"}},
		{name: "UserNameGtBinary", filter: fltOp("userName", scimbridge.OpGt, "zzz"), want: []string{"ÉVE"}},
		// title: case-exact, binary order.
		{name: "TitleEqCaseExact", filter: fltEq("title", "engineer"), want: []string{"Bob"}},
		{name: "TitleCo", filter: fltOp("title", scimbridge.OpCo, "ngineer"), want: []string{"alice", "Bob", "carol"}},
		{name: "TitleCoCaseExact", filter: fltOp("title", scimbridge.OpCo, "Engineer"), want: []string{"alice", "carol"}},
		{name: "TitleCoPercent", filter: fltOp("title", scimbridge.OpCo, "0% r"), want: []string{"dave%admin"}},
		{name: "TitleCoUnderscore", filter: fltOp("title", scimbridge.OpCo, "_"), want: []string{"eve_ops", "walter"}},
		{name: "TitleCoBackslash", filter: fltOp("title", scimbridge.OpCo, `:\`), want: []string{`frank\backslash`}},
		{name: "TitleSwUnderscoreIsLiteral", filter: fltOp("title", scimbridge.OpSw, "eng_"), want: []string{"walter"}},
		{name: "TitleSwCaseExact", filter: fltOp("title", scimbridge.OpSw, "Eng"), want: []string{"alice"}},
		{name: "TitleEw", filter: fltOp("title", scimbridge.OpEw, "eer"), want: []string{"alice", "Bob", "carol", "walter"}},
		{name: "TitleEwUnderscore", filter: fltOp("title", scimbridge.OpEw, "_ineer"), want: []string{"walter"}},
		{name: "TitleLtBinary", filter: fltOp("title", scimbridge.OpLt, "a"),
			want: []string{"alice", "carol", "dave%admin", `frank\backslash`, "ÉVE"}},
		{name: "TitleGeBinary", filter: fltOp("title", scimbridge.OpGe, "engineer"), want: []string{"Bob", "eve_ops"}},
		{name: "TitleLe", filter: fltOp("title", scimbridge.OpLe, "C:\\temp"), want: []string{"dave%admin", `frank\backslash`}},
		{name: "TitlePr", filter: fltPr("title"), want: titled},
		{name: "TitleNotPr", filter: fltNot(fltPr("title")), want: fltWithout(byName, titled...)},
		{name: "TitleNeMatchesUnassigned", filter: fltOp("title", scimbridge.OpNe, "Engineer"), want: byName[1:]},
		{name: "TitleNotEqMatchesUnassigned", filter: fltNot(fltEq("title", "Engineer")), want: byName[1:]},
		{name: "TitleNotCo", filter: fltNot(fltOp("title", scimbridge.OpCo, "ngineer")), want: fltWithout(byName, "alice", "Bob", "carol")},
		{name: "TitleEqEmptyIsUnassigned", filter: fltEq("title", ""), want: fltWithout(byName, titled...)},
		// displayName is caseExact false (RFC 7643): compared on its key,
		// lower-cased and NFC, like userName.
		{name: "DisplayNameCaseInsensitive", filter: fltEq("displayName", "ZOË"), want: []string{"zoe"}},
		{name: "DisplayNameDecomposed", filter: fltEq("displayName", "zoe\u0308"), want: []string{"zoe"}},
		{name: "DisplayNameCo", filter: fltOp("displayName", scimbridge.OpCo, "OË"), want: []string{"zoe"}},
		{name: "DisplayNameEq", filter: fltEq("displayName", "Zoë"), want: []string{"zoe"}},
		{name: "ExternalIDCaseExact", filter: fltEq("externalId", "ext-2"), want: nil},
		{name: "ExternalIDEq", filter: fltEq("externalId", "EXT-2"), want: []string{"Bob"}},
		{name: "ExternalIDNe", filter: fltOp("externalId", scimbridge.OpNe, "ext-1"), want: byName[1:]},
		// active, meta.
		{name: "ActiveFalse", filter: fltEq("active", false), want: inactive},
		{name: "ActiveTrue", filter: fltEq("active", true), want: fltWithout(byName, inactive...)},
		{name: "ActiveNeTrue", filter: fltOp("active", scimbridge.OpNe, true), want: inactive},
		{name: "NotActive", filter: fltNot(fltEq("active", true)), want: inactive},
		{name: "CreatedEqMicrosecond", filter: fltEq("meta.created", "2024-03-01T03:00:00.0005Z"), want: []string{"Bob"}},
		{name: "CreatedEqOtherInstant", filter: fltEq("meta.created", "2024-03-01T03:00:00Z"), want: nil},
		{name: "CreatedGe", filter: fltOp("meta.created", scimbridge.OpGe, "2024-03-01T15:00:00Z"), want: []string{"heidi", "walter", "zoe"}},
		{name: "CreatedGtOffset", filter: fltOp("meta.created", scimbridge.OpGt, "2024-03-01T18:00:00.0005+02:00"), want: []string{"zoe"}},
		{name: "CreatedLt", filter: fltOp("meta.created", scimbridge.OpLt, "2024-03-01T02:00:00.0005Z"), want: []string{"dave%admin", "ÉVE"}},
		{name: "CreatedLe", filter: fltOp("meta.created", scimbridge.OpLe, "2024-03-01T02:00:00.0005Z"), want: []string{"dave%admin", "grace", "ÉVE"}},
		{name: "CreatedNe", filter: fltOp("meta.created", scimbridge.OpNe, "2024-03-01T00:00:00.0005Z"), want: byName[:17]},
		{name: "LastModifiedLt", filter: fltOp(coreURN+"meta.lastModified", scimbridge.OpLt, "2024-03-02T01:00:00Z"), want: []string{"ÉVE"}},
		// emails.
		{name: "EmailsValueFoldsCase", filter: fltEq("emails.value", "BOB@example.com"), want: []string{"Bob"}},
		{name: "EmailsAnyEntry", filter: fltEq("emails", "bob.home@mail.test"), want: []string{"Bob"}},
		{name: "EmailsCo", filter: fltOp("emails", scimbridge.OpCo, "@EXAMPLE.com"), want: []string{"alice", "Bob", "carol", "dave%admin"}},
		{name: "EmailsEw", filter: fltOp("emails", scimbridge.OpEw, ".test"), want: []string{"Bob", "peggy"}},
		{name: "EmailsSw", filter: fltOp("emails.value", scimbridge.OpSw, "P"), want: []string{"peggy"}},
		{name: "EmailsGt", filter: fltOp("emails.value", scimbridge.OpGt, "g"), want: []string{"grace", "peggy"}},
		{name: "EmailsPr", filter: fltPr("emails"), want: withEmails},
		{name: "EmailsNotPr", filter: fltNot(fltPr("emails")), want: fltWithout(byName, withEmails...)},
		{name: "EmailsTypeCaseExact", filter: fltEq("emails.type", "WORK"), want: nil},
		{name: "EmailsType", filter: fltEq("emails.type", "home"), want: []string{"Bob", "carol"}},
		{name: "EmailsTypeNe", filter: fltOp("emails.type", scimbridge.OpNe, "work"), want: fltWithout(byName, workEmail...)},
		{name: "EmailsTypePr", filter: fltPr("emails.type"), want: fltWithout(withEmails, "dave%admin")},
		{name: "EmailsPrimaryNe", filter: fltOp("emails.primary", scimbridge.OpNe, true), want: fltWithout(byName, "alice", "peggy")},
		{name: "ValuePath", filter: fltVP("emails", fltAnd(fltEq("type", "work"), fltOp("value", scimbridge.OpCo, "example"))),
			want: []string{"alice", "Bob", `frank\backslash`, "grace"}},
		{name: "ValuePathSameEntry", filter: fltVP("emails", fltAnd(fltEq("type", "work"), fltOp("value", scimbridge.OpCo, "home"))), want: nil},
		{name: "ValuePathHome", filter: fltVP("emails", fltAnd(fltEq("type", "home"), fltOp("value", scimbridge.OpCo, "bob"))), want: []string{"Bob"}},
		{name: "ValuePathNot", filter: fltVP("emails", fltNot(fltEq("type", "work"))), want: []string{"Bob", "carol", "dave%admin", "peggy"}},
		{name: "ValuePathNe", filter: fltVP("emails", fltOp("type", scimbridge.OpNe, "work")), want: []string{"Bob", "carol", "dave%admin", "peggy"}},
		{name: "ValuePathPrimaryTrue", filter: fltVP("emails", fltEq("primary", true)), want: []string{"alice", "peggy"}},
		{name: "ValuePathPrimaryFalse", filter: fltVP("emails", fltEq("primary", false)), want: []string{"grace"}},
		{name: "ValuePathOr", filter: fltVP(coreURN+"emails", fltOr(fltOp("value", scimbridge.OpEw, ".TEST"), fltEq("type", "home"))),
			want: []string{"Bob", "carol", "peggy"}},
		// name, other core and enterprise attributes.
		{name: "GivenName", filter: fltEq("name.givenName", "Alice"), want: []string{"alice"}},
		{name: "GivenNamePr", filter: fltPr("name.givenName"), want: []string{"alice", "Bob", "trent"}},
		{name: "NameValuePath", filter: fltVP("name", fltOr(fltEq("givenName", "Bob"), fltEq("familyName", "Archer"))), want: []string{"alice", "Bob"}},
		{name: "FamilyName", filter: fltEq("name.familyName", "Cole"), want: []string{"carol"}},
		{name: "Formatted", filter: fltOp("name.formatted", scimbridge.OpCo, "T. "), want: []string{"trent"}},
		{name: "MiddleName", filter: fltEq("name.middleName", "J."), want: []string{"judy"}},
		{name: "HonorificPrefix", filter: fltEq("name.honorificPrefix", "Dr."), want: []string{"judy"}},
		{name: "HonorificSuffix", filter: fltEq("name.honorificSuffix", "Jr."), want: []string{"trent"}},
		{name: "NickName", filter: fltEq("nickName", "Vanya"), want: []string{"ivan"}},
		{name: "LocaleSw", filter: fltOp("locale", scimbridge.OpSw, "ru"), want: []string{"ivan"}},
		{name: "LocalePr", filter: fltPr("locale"), want: []string{"ivan", "ÉVE"}},
		{name: "Timezone", filter: fltEq("timezone", "Europe/Moscow"), want: []string{"ivan"}},
		{name: "PreferredLanguage", filter: fltEq("preferredLanguage", "ru"), want: []string{"ivan"}},
		{name: "ProfileURL", filter: fltOp("profileUrl", scimbridge.OpCo, "example.com/ivan"), want: []string{"ivan"}},
		{name: "UserType", filter: fltEq("userType", "Contractor"), want: []string{"judy"}},
		{name: "Department", filter: fltEq(enterpriseURN+"department", "Sales"), want: []string{"Bob", "oscar"}},
		{name: "DepartmentNe", filter: fltOp("department", scimbridge.OpNe, "Sales"), want: fltWithout(byName, "Bob", "oscar")},
		{name: "CostCenterSw", filter: fltOp("costCenter", scimbridge.OpSw, "CC-"), want: []string{`frank\backslash`, "heidi"}},
		{name: "EmployeeNumber", filter: fltEq("employeeNumber", "0042"), want: []string{"heidi"}},
		{name: "Organization", filter: fltEq("organization", "Acme"), want: []string{"oscar"}},
		{name: "Division", filter: fltEq("division", "West"), want: []string{"oscar"}},
		{name: "Manager", filter: fltEq("manager", aliceID), want: []string{"heidi"}},
		{name: "ManagerValue", filter: fltEq("manager.value", "EXT-2"), want: []string{"mallory"}},
		{name: "ManagerValuePath", filter: fltVP(enterpriseURN+"manager", fltPr("value")), want: []string{"heidi", "mallory"}},
		{name: "AttributeNamesAnyCase", filter: fltAnd(fltEq("USERNAME", "alice"), fltEq("Name.GivenName", "Alice")), want: []string{"alice"}},
		{name: "URNAnyCase", filter: fltEq(strings.ToUpper(coreURN)+"userName", "alice"), want: []string{"alice"}},
		// id.
		{name: "IDEq", filter: fltEq("id", aliceID), want: []string{"alice"}},
		{name: "IDEqUpperCase", filter: fltEq("id", strings.ToUpper(aliceID)), want: []string{"alice"}},
		{name: "IDMalformed", filter: fltEq("id", "not-a-uuid"), want: nil},
		{name: "IDNeMalformed", filter: fltOp("id", scimbridge.OpNe, "not-a-uuid"), want: byName},
		{name: "IDNot", filter: fltNot(fltEq("id", aliceID)), want: byName[1:]},
		// and, or, not.
		{name: "Or", filter: fltOr(fltEq("userName", "alice"), fltEq("userName", "bob")), want: []string{"alice", "Bob"}},
		{name: "And", filter: fltAnd(fltOp("title", scimbridge.OpCo, "ngineer"), fltEq("active", true)), want: []string{"alice", "carol"}},
		{name: "NotOr", filter: fltNot(fltOr(fltEq("active", true), fltPr("title"))), want: []string{"ivan", "zoe"}},
		{name: "Nested", filter: fltAnd(fltOr(fltEq("department", "Sales"), fltEq("department", "R&D")), fltNot(fltPr("emails"))), want: []string{"oscar"}},
		// Sorting and paging.
		{name: "SortUserName", sortBy: "userName", want: byName},
		{name: "SortUserNameDesc", sortBy: "USERNAME", desc: true, want: fltReversed(byName)},
		{name: "SortCreated", sortBy: "meta.created", want: byCreated},
		{name: "SortCreatedDesc", sortBy: "meta.created", desc: true, want: fltReversed(byCreated)},
		{name: "SortLastModifiedDesc", sortBy: coreURN + "meta.lastModified", desc: true, want: fltReversed(byCreated)},
		{name: "SortID", want: byID},
		{name: "SortTitleUnassignedFirst", sortBy: "title", want: []string{"grace", "heidi", "ivan", "judy", "mallory",
			"oscar", "peggy", "trent", "victor", "zoe", "dave%admin", `frank\backslash`, "ÉVE", "alice", "carol",
			"walter", "Bob", "eve_ops"}},
		{name: "SortDisplayNameBinary", filter: fltPr("displayName"), sortBy: "displayName",
			want: []string{"alice", "Bob", "heidi", "zoe", "ÉVE"}},
		{name: "SortDisplayNameDesc", filter: fltPr("displayName"), sortBy: "displayName", desc: true,
			want: []string{"ÉVE", "zoe", "heidi", "Bob", "alice"}},
		{name: "Page", sortBy: "userName", offset: 2, limit: 3, want: byName[2:5], total: 18},
		{name: "LastPage", sortBy: "userName", offset: 16, limit: 5, want: byName[16:], total: 18},
		{name: "PastTheEnd", sortBy: "userName", offset: 30, limit: 5, want: nil, total: 18},
		{name: "CountOnly", count: true, want: nil, total: 18},
		{name: "FilteredCountOnly", filter: fltEq("active", false), count: true, want: nil, total: 4},
		{name: "FilteredPage", filter: fltOp("emails", scimbridge.OpCo, "example"), sortBy: "meta.created", desc: true,
			offset: 1, limit: 2, want: []string{`frank\backslash`, "alice"}, total: 6},
		// Organizations never see each other's profiles.
		{name: "OtherOrganization", orgB: true, filter: fltEq("userName", "alice"), want: []string{"alice"}},
		{name: "OtherOrganizationAll", orgB: true, sortBy: "userName", want: []string{"alice", "bob", "zed"}},
		{name: "OtherOrganizationTitle", orgB: true, filter: fltEq("title", "Engineer"), want: []string{"alice"}},
		{name: "NotInThisOrganization", filter: fltEq("userName", "zed"), want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := scimbridge.ProfileQuery{OrgID: orgA, Filter: c.filter, SortBy: c.sortBy, Descending: c.desc,
				Offset: c.offset, Limit: c.limit}
			if c.orgB {
				q.OrgID = orgB
			}
			if c.sortBy == "" && c.filter != nil {
				q.SortBy = "userName"
			}
			if q.Limit == 0 && !c.count {
				q.Limit = 100
			}
			page, err := s.ListProfiles(ctx, q)
			if err != nil {
				t.Fatalf("list profiles: %v", err)
			}
			got := make([]string, 0, len(page.Profiles))
			for _, p := range page.Profiles {
				got = append(got, p.UserName)
			}
			if want := c.want; !reflect.DeepEqual(got, append([]string{}, want...)) {
				t.Errorf("userNames\n got %q\nwant %q", got, want)
			}
			total := c.total
			if total == 0 {
				total = len(c.want)
			}
			if page.Total != total {
				t.Errorf("total = %d, want %d", page.Total, total)
			}
		})
	}

	invalid := []struct {
		name   string
		filter scimbridge.Filter
		sortBy string
	}{
		{"UnknownAttribute", fltEq("password", "x"), ""},
		{"BooleanGt", fltOp("active", scimbridge.OpGt, true), ""},
		{"BadDateTime", fltEq("meta.created", "yesterday"), ""},
		{"UnknownSortBy", nil, "nope"},
		{"UnsortableSortBy", nil, "emails.type"},
	}
	for _, c := range invalid {
		t.Run("Invalid/"+c.name, func(t *testing.T) {
			_, err := s.ListProfiles(ctx, scimbridge.ProfileQuery{OrgID: orgA, Filter: c.filter, SortBy: c.sortBy, Limit: 10})
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Errorf("got %v, want an invalid error", err)
			}
		})
	}
}

func fltReversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// filterIDs returns n profile ids that sort in fixture order; the random
// prefix keeps runs apart should open share a database.
func filterIDs(org byte, n int) []string {
	var u uuid.UUID
	rand.Read(u[:8])
	u[8] = org
	out := make([]string, n)
	for i := range out {
		u[15] = byte(i)
		out[i] = u.String()
	}
	return out
}

// seedFilterOrg creates an organization with the fixtures fixtures(ids)
// returns and gives the organization id and the profile ids.
func seedFilterOrg(t *testing.T, s scimbridge.Store, slug string, org byte, n int,
	fixtures func(ids []string) []filterFixture) (string, []string) {
	t.Helper()
	ctx := context.Background()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	o := scimbridge.Organization{ID: uuid.NewString(), Slug: fmt.Sprintf("%s-%x", slug, suffix),
		Name: slug, CreatedAt: filterEpoch, AdoptExisting: true}
	if err := s.CreateOrganization(ctx, o); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	ids := filterIDs(org, n)
	for i, f := range fixtures(ids) {
		p := scimbridge.Profile{ID: ids[i], OrgID: o.ID, Source: scimbridge.SourceSCIM, Version: 1,
			Role: scimbridge.RoleMember, State: scimbridge.StateActive}
		p.UserName, p.Title, p.DisplayName, p.Emails = f.userName, f.title, f.displayName, f.emails
		if f.set != nil {
			f.set(&p)
		}
		if f.inactive {
			p.State, p.AccessRevoked = scimbridge.StateInactive, true
		}
		p.Email = p.PrimaryEmail()
		if p.Email == "" {
			p.Email = strings.ReplaceAll(p.UserName, `\`, "-") + "@profile.example"
		}
		p.CreatedAt = filterEpoch.Add(time.Duration(f.hour) * time.Hour)
		p.UpdatedAt = p.CreatedAt.Add(24 * time.Hour)
		err := s.ApplyChange(ctx, scimbridge.ChangeEvent{
			Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p},
			Event: scimbridge.Event{OrgID: o.ID, Time: p.CreatedAt, Method: "POST", Path: "/api/connect/v1/Users",
				Status: 201, TargetUserName: p.UserName, Source: scimbridge.EventIdP, Kind: scimbridge.ChangeCreate,
				ProfileID: p.ID, Count: 1},
		})
		if err != nil {
			t.Fatalf("create profile %s: %v", p.UserName, err)
		}
	}
	return o.ID, ids
}

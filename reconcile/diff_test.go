package reconcile

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// fullDesired sets every attribute.
func fullDesired() scimbridge.DesiredProfile {
	return scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{
			UserName: "alice@example.com", DisplayName: "Alice Liddell",
			Emails: []scimbridge.Email{
				{Value: "alice@example.com", Type: "work", Primary: boolPtr(true)},
				{Value: "alice@home.example", Type: "home", Display: "Home"},
			},
			Title: "Engineer", UserType: "Employee",
			GivenName: "Alice", FamilyName: "Liddell", Formatted: "Alice P. Liddell", MiddleName: "P.",
			HonorificPrefix: "Ms.", HonorificSuffix: "PhD",
			NickName: "Al", Locale: "en-GB", Timezone: "Europe/London", PreferredLanguage: "en", ProfileURL: "https://x.example/alice",
			EmployeeNumber: "42", Department: "R&D", CostCenter: "CC1", Organization: "Acme", Division: "Labs", Manager: "bob-id",
		},
		Active: true, ExternalID: "ext-1", GoogleID: "1234567890123456789012",
	}
}

// storedOf is the stored profile a desired profile was written as.
func storedOf(d scimbridge.DesiredProfile) scimbridge.Profile {
	p := scimbridge.Profile{ID: "p1", Attributes: d.Attributes, ExternalID: d.ExternalID, GoogleID: d.GoogleID,
		State: scimbridge.StateInactive, Source: scimbridge.SourceSCIM, Version: 3, Role: scimbridge.RoleMember}
	if d.Active {
		p.State = scimbridge.StateActive
	}
	return p
}

// fieldSetters sets one attribute each, by its diff name.
var fieldSetters = []struct {
	field string
	set   func(d *scimbridge.DesiredProfile, v string)
}{
	{"userName", func(d *scimbridge.DesiredProfile, v string) { d.UserName = v }},
	{"name.formatted", func(d *scimbridge.DesiredProfile, v string) { d.Formatted = v }},
	{"name.familyName", func(d *scimbridge.DesiredProfile, v string) { d.FamilyName = v }},
	{"name.givenName", func(d *scimbridge.DesiredProfile, v string) { d.GivenName = v }},
	{"name.middleName", func(d *scimbridge.DesiredProfile, v string) { d.MiddleName = v }},
	{"name.honorificPrefix", func(d *scimbridge.DesiredProfile, v string) { d.HonorificPrefix = v }},
	{"name.honorificSuffix", func(d *scimbridge.DesiredProfile, v string) { d.HonorificSuffix = v }},
	{"displayName", func(d *scimbridge.DesiredProfile, v string) { d.DisplayName = v }},
	{"nickName", func(d *scimbridge.DesiredProfile, v string) { d.NickName = v }},
	{"profileUrl", func(d *scimbridge.DesiredProfile, v string) { d.ProfileURL = v }},
	{"title", func(d *scimbridge.DesiredProfile, v string) { d.Title = v }},
	{"userType", func(d *scimbridge.DesiredProfile, v string) { d.UserType = v }},
	{"preferredLanguage", func(d *scimbridge.DesiredProfile, v string) { d.PreferredLanguage = v }},
	{"locale", func(d *scimbridge.DesiredProfile, v string) { d.Locale = v }},
	{"timezone", func(d *scimbridge.DesiredProfile, v string) { d.Timezone = v }},
	{"employeeNumber", func(d *scimbridge.DesiredProfile, v string) { d.EmployeeNumber = v }},
	{"costCenter", func(d *scimbridge.DesiredProfile, v string) { d.CostCenter = v }},
	{"organization", func(d *scimbridge.DesiredProfile, v string) { d.Organization = v }},
	{"division", func(d *scimbridge.DesiredProfile, v string) { d.Division = v }},
	{"department", func(d *scimbridge.DesiredProfile, v string) { d.Department = v }},
	{"manager", func(d *scimbridge.DesiredProfile, v string) { d.Manager = v }},
	{"externalId", func(d *scimbridge.DesiredProfile, v string) { d.ExternalID = v }},
	{"googleId", func(d *scimbridge.DesiredProfile, v string) { d.GoogleID = v }},
}

func TestDiff_Unchanged(t *testing.T) {
	bridge := DiffOptions{IgnoreEmailOrder: true, FoldEmailCase: true}
	tests := []struct {
		name    string
		stored  func(d *scimbridge.DesiredProfile)
		desired func(d *scimbridge.DesiredProfile)
		opts    DiffOptions
	}{
		{"Identical", nil, nil, DiffOptions{}},
		{"NilVersusEmptyEmails", func(d *scimbridge.DesiredProfile) { d.Emails = nil },
			func(d *scimbridge.DesiredProfile) { d.Emails = []scimbridge.Email{} }, DiffOptions{}},
		{"EmptyVersusNilEmails", func(d *scimbridge.DesiredProfile) { d.Emails = []scimbridge.Email{} },
			func(d *scimbridge.DesiredProfile) { d.Emails = nil }, DiffOptions{}},
		{"EmailWithoutValue", nil, func(d *scimbridge.DesiredProfile) {
			d.Emails = append(d.Emails, scimbridge.Email{Type: "other"})
		}, DiffOptions{}},
		{"OnlyEmptyEmails", func(d *scimbridge.DesiredProfile) { d.Emails = nil },
			func(d *scimbridge.DesiredProfile) { d.Emails = []scimbridge.Email{{}, {Type: "work"}} }, DiffOptions{}},
		{"EmailOrderForBridge", nil, func(d *scimbridge.DesiredProfile) {
			d.Emails[0], d.Emails[1] = d.Emails[1], d.Emails[0]
		}, bridge},
		{"EmailCaseForBridge", nil, func(d *scimbridge.DesiredProfile) {
			d.Emails[0].Value = "ALICE@Example.COM"
		}, bridge},
		{"EmailOrderAndCaseForBridge", nil, func(d *scimbridge.DesiredProfile) {
			d.Emails[0], d.Emails[1] = d.Emails[1], d.Emails[0]
			d.Emails[1].Value = "Alice@EXAMPLE.com"
		}, bridge},
		{"EmptyAttributes", func(d *scimbridge.DesiredProfile) {
			*d = scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a"}}
		},
			func(d *scimbridge.DesiredProfile) {
				*d = scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "a", Emails: []scimbridge.Email{}}}
			}, DiffOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d := fullDesired(), fullDesired()
			if tt.stored != nil {
				tt.stored(&s)
			}
			if tt.desired != nil {
				tt.desired(&d)
			}
			if got := DiffWith(tt.opts, storedOf(s), Normalize(d)); len(got) != 0 {
				t.Errorf("DiffWith = %+v, want no change", got)
			}
		})
	}
}

func TestDiff_EachField(t *testing.T) {
	t.Run("AllFieldsCovered", func(t *testing.T) {
		var names, covered []string
		d := fullDesired()
		for _, v := range scalarFields(&d) {
			names = append(names, v.name)
		}
		for _, f := range fieldSetters {
			covered = append(covered, f.field)
		}
		if !reflect.DeepEqual(names, covered) {
			t.Errorf("fields %v, tested %v", names, covered)
		}
	})
	for _, f := range fieldSetters {
		t.Run(f.field, func(t *testing.T) {
			base := fullDesired()
			stored := storedOf(base)
			var before string
			for _, v := range scalarFields(&base) {
				if v.name == f.field {
					before = v.value
				}
			}
			for _, after := range []string{"changed", ""} {
				d := fullDesired()
				f.set(&d, after)
				want := []scimbridge.FieldChange{{Field: f.field, Before: before, After: after}}
				if got := Diff(stored, Normalize(d)); !reflect.DeepEqual(got, want) {
					t.Errorf("Diff = %+v, want %+v", got, want)
				}
			}
		})
	}
	t.Run("active", func(t *testing.T) {
		d := fullDesired()
		d.Active = false
		want := []scimbridge.FieldChange{{Field: "active", Before: "true", After: "false"}}
		if got := Diff(storedOf(fullDesired()), Normalize(d)); !reflect.DeepEqual(got, want) {
			t.Errorf("Diff = %+v, want %+v", got, want)
		}
	})
	t.Run("CaseOfUserName", func(t *testing.T) {
		d := fullDesired()
		d.UserName = "Alice@Example.com"
		want := []scimbridge.FieldChange{{Field: "userName", Before: "alice@example.com", After: "Alice@Example.com"}}
		if got := DiffWith(DiffOptions{IgnoreEmailOrder: true, FoldEmailCase: true}, storedOf(fullDesired()), Normalize(d)); !reflect.DeepEqual(got, want) {
			t.Errorf("Diff = %+v, want %+v", got, want)
		}
	})
	t.Run("Order", func(t *testing.T) {
		d := fullDesired()
		d.UserName, d.Title, d.Active, d.Manager, d.GoogleID = "u", "t", false, "m", "g"
		d.Emails = nil
		var got []string
		for _, c := range Diff(storedOf(fullDesired()), Normalize(d)) {
			got = append(got, c.Field)
		}
		want := []string{"userName", "title", "active", "emails", "manager", "googleId"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fields = %v, want %v", got, want)
		}
	})
}

func TestDiff_Emails(t *testing.T) {
	exact := DiffOptions{}
	bridge := DiffOptions{IgnoreEmailOrder: true, FoldEmailCase: true}
	tests := []struct {
		name   string
		change func(e []scimbridge.Email) []scimbridge.Email
		opts   DiffOptions
		want   bool // a change is reported
		after  string
	}{
		{"OrderIsAChangeForSCIM", func(e []scimbridge.Email) []scimbridge.Email { return []scimbridge.Email{e[1], e[0]} }, exact, true,
			`alice@home.example (home, display "Home"), alice@example.com (work, primary)`},
		{"OrderIgnored", func(e []scimbridge.Email) []scimbridge.Email { return []scimbridge.Email{e[1], e[0]} },
			DiffOptions{IgnoreEmailOrder: true}, false, ""},
		{"CaseIsAChangeForSCIM", func(e []scimbridge.Email) []scimbridge.Email { e[0].Value = "Alice@example.com"; return e }, exact, true,
			`Alice@example.com (work, primary), alice@home.example (home, display "Home")`},
		{"CaseFolded", func(e []scimbridge.Email) []scimbridge.Email { e[0].Value = "Alice@example.com"; return e },
			DiffOptions{FoldEmailCase: true}, false, ""},
		{"CaseNotFoldedWithOrderOnly", func(e []scimbridge.Email) []scimbridge.Email { e[0].Value = "Alice@example.com"; return e },
			DiffOptions{IgnoreEmailOrder: true}, true, `Alice@example.com (work, primary), alice@home.example (home, display "Home")`},
		{"PrimaryNilVersusFalse", func(e []scimbridge.Email) []scimbridge.Email { e[1].Primary = boolPtr(false); return e }, bridge, true,
			`alice@example.com (work, primary), alice@home.example (home, not primary, display "Home")`},
		{"PrimaryMoved", func(e []scimbridge.Email) []scimbridge.Email {
			e[0].Primary = nil
			e[1].Primary = boolPtr(true)
			return e
		}, bridge, true,
			`alice@example.com (work), alice@home.example (home, primary, display "Home")`},
		{"TypeCase", func(e []scimbridge.Email) []scimbridge.Email { e[0].Type = "Work"; return e }, bridge, true,
			`alice@example.com (Work, primary), alice@home.example (home, display "Home")`},
		{"Display", func(e []scimbridge.Email) []scimbridge.Email { e[1].Display = ""; return e }, bridge, true,
			`alice@example.com (work, primary), alice@home.example (home)`},
		{"Added", func(e []scimbridge.Email) []scimbridge.Email { return append(e, scimbridge.Email{Value: "x@y.z"}) }, bridge, true,
			`alice@example.com (work, primary), alice@home.example (home, display "Home"), x@y.z`},
		{"Removed", func(e []scimbridge.Email) []scimbridge.Email { return e[:1] }, bridge, true, `alice@example.com (work, primary)`},
		{"Duplicated", func(e []scimbridge.Email) []scimbridge.Email { return []scimbridge.Email{e[0], e[0]} }, bridge, true,
			`alice@example.com (work, primary), alice@example.com (work, primary)`},
		{"AllRemoved", func(e []scimbridge.Email) []scimbridge.Email { return nil }, bridge, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fullDesired()
			d.Emails = tt.change(d.Emails)
			got := DiffWith(tt.opts, storedOf(fullDesired()), Normalize(d))
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("DiffWith = %+v, want no change", got)
				}
				return
			}
			want := []scimbridge.FieldChange{{Field: "emails",
				Before: `alice@example.com (work, primary), alice@home.example (home, display "Home")`, After: tt.after}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DiffWith = %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDiff_DoesNotModifyInputs(t *testing.T) {
	d := fullDesired()
	d.Emails = append(d.Emails, scimbridge.Email{Type: "empty"})
	stored := storedOf(fullDesired())
	Diff(stored, Normalize(d))
	DiffWith(DiffOptions{IgnoreEmailOrder: true, FoldEmailCase: true}, stored, Normalize(d))
	if len(d.Emails) != 3 || d.Emails[0].Value != "alice@example.com" || !reflect.DeepEqual(stored.Attributes, fullDesired().Attributes) {
		t.Errorf("inputs modified: %+v / %+v", d.Emails, stored.Emails)
	}
}

// TestDiff_EveryStringAttribute guards against an attribute added to the
// root types but forgotten by Diff and Hash.
func TestDiff_EveryStringAttribute(t *testing.T) {
	base := fullDesired()
	setEach(t, func(name string, d scimbridge.DesiredProfile) {
		if len(Diff(storedOf(base), Normalize(d))) != 1 {
			t.Errorf("%s: Diff = %+v, want one change", name, Diff(storedOf(base), Normalize(d)))
		}
		if Hash(Normalize(d)) == Hash(Normalize(base)) {
			t.Errorf("%s: Hash unchanged", name)
		}
	})
}

// setEach calls f with a copy of fullDesired in which one string field (of
// DesiredProfile or its Attributes) is changed.
func setEach(t *testing.T, f func(name string, d scimbridge.DesiredProfile)) {
	t.Helper()
	n := 0
	for _, path := range [][]int{nil, {0}} {
		typ := reflect.TypeOf(scimbridge.DesiredProfile{})
		if path != nil {
			typ = typ.Field(0).Type
		}
		for i := 0; i < typ.NumField(); i++ {
			if typ.Field(i).Type.Kind() != reflect.String {
				continue
			}
			d := fullDesired()
			v := reflect.ValueOf(&d).Elem()
			if path != nil {
				v = v.Field(0)
			}
			v.Field(i).SetString(v.Field(i).String() + "-changed")
			f(typ.Field(i).Name, d)
			n++
		}
	}
	if n != len(fieldSetters) {
		t.Errorf("%d string fields, %d known to Diff", n, len(fieldSetters))
	}
}

package scim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func cmpf(attr string, op scimbridge.FilterOp, v any) scimbridge.Filter {
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: v}
}

func and(l, r scimbridge.Filter) scimbridge.Filter { return scimbridge.AndFilter{Left: l, Right: r} }

func or(l, r scimbridge.Filter) scimbridge.Filter { return scimbridge.OrFilter{Left: l, Right: r} }

func not(f scimbridge.Filter) scimbridge.Filter { return scimbridge.NotFilter{Filter: f} }

func vpath(attr string, f scimbridge.Filter) scimbridge.Filter {
	return scimbridge.ValuePathFilter{Attr: attr, Filter: f}
}

// TestParseFilter_RFC parses the filter examples of RFC 7644 §3.4.2.2.
func TestParseFilter_RFC(t *testing.T) {
	const lm = "2011-05-13T04:42:34Z"
	cases := []struct {
		in   string
		want scimbridge.Filter
	}{
		{`userName eq "bjensen"`, cmpf("userName", "eq", "bjensen")},
		{`name.familyName co "O'Malley"`, cmpf("name.familyName", "co", "O'Malley")},
		{`userName sw "J"`, cmpf("userName", "sw", "J")},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, cmpf(urnCore+":userName", "sw", "J")},
		{`title pr`, cmpf("title", "pr", nil)},
		{`meta.lastModified gt "` + lm + `"`, cmpf("meta.lastModified", "gt", lm)},
		{`meta.lastModified ge "` + lm + `"`, cmpf("meta.lastModified", "ge", lm)},
		{`meta.lastModified lt "` + lm + `"`, cmpf("meta.lastModified", "lt", lm)},
		{`meta.lastModified le "` + lm + `"`, cmpf("meta.lastModified", "le", lm)},
		{`title pr and userType eq "Employee"`, and(cmpf("title", "pr", nil), cmpf("userType", "eq", "Employee"))},
		{`title pr or userType eq "Intern"`, or(cmpf("title", "pr", nil), cmpf("userType", "eq", "Intern"))},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, cmpf("schemas", "eq", urnEnt)},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			and(cmpf("userType", "eq", "Employee"), or(cmpf("emails", "co", "example.com"), cmpf("emails.value", "co", "example.org")))},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			and(cmpf("userType", "ne", "Employee"), not(or(cmpf("emails", "co", "example.com"), cmpf("emails.value", "co", "example.org"))))},
		{`userType eq "Employee" and (emails.type eq "work")`, and(cmpf("userType", "eq", "Employee"), cmpf("emails.type", "eq", "work"))},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			and(cmpf("userType", "eq", "Employee"), vpath("emails", and(cmpf("type", "eq", "work"), cmpf("value", "co", "@example.com"))))},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			or(vpath("emails", and(cmpf("type", "eq", "work"), cmpf("value", "co", "@example.com"))), vpath("ims", and(cmpf("type", "eq", "xmpp"), cmpf("value", "co", "@foo.com"))))},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseFilter_Forms(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want scimbridge.Filter
	}{
		{"SubAfterBrackets", `emails[type eq "work"].value eq "a@x.org"`,
			vpath("emails", and(cmpf("type", "eq", "work"), cmpf("value", "eq", "a@x.org")))},
		{"SubAfterBracketsPr", `not (emails[type eq "work"].value pr)`,
			not(vpath("emails", and(cmpf("type", "eq", "work"), cmpf("value", "pr", nil))))},
		{"SubAfterBracketsInOr", `userName eq "x" or emails[type eq "work" and primary eq true].value ew "@x.org"`,
			or(cmpf("userName", "eq", "x"), vpath("emails", and(and(cmpf("type", "eq", "work"), cmpf("primary", "eq", true)), cmpf("value", "ew", "@x.org"))))},
		{"ValueFilterAnyFilter", `emails[type eq "work" and (value co "@x" or value co "@y")]`,
			vpath("emails", and(cmpf("type", "eq", "work"), or(cmpf("value", "co", "@x"), cmpf("value", "co", "@y"))))},
		{"ValueFilterThreeTerms", `emails[type eq "work" and value co "@x" and display pr]`,
			vpath("emails", and(and(cmpf("type", "eq", "work"), cmpf("value", "co", "@x")), cmpf("display", "pr", nil)))},
		{"ValueFilterNot", `emails[not (type eq "work")]`, vpath("emails", not(cmpf("type", "eq", "work")))},
		{"SpaceBeforeBracket", `emails [type eq "work"]`, vpath("emails", cmpf("type", "eq", "work"))},
		{"URNValuePath", urnCore + `:emails[type eq "work"]`, vpath(urnCore+":emails", cmpf("type", "eq", "work"))},
		{"EnterpriseManager", urnEnt + `:manager.value eq "m-1"`, cmpf(urnEnt+":manager.value", "eq", "m-1")},
		{"Precedence", `a pr or b pr and c pr`, or(cmpf("a", "pr", nil), and(cmpf("b", "pr", nil), cmpf("c", "pr", nil)))},
		{"AnyCaseKeywords", `userName EQ "x" AND NOT (title PR) Or active eq TRUE`,
			or(and(cmpf("userName", "eq", "x"), not(cmpf("title", "pr", nil))), cmpf("active", "eq", true))},
		{"Values", `a eq true and b eq false and c eq null and d eq 42 and e gt -1.5e3`,
			and(and(and(and(cmpf("a", "eq", true), cmpf("b", "eq", false)), cmpf("c", "eq", nil)), cmpf("d", "eq", 42.0)), cmpf("e", "gt", -1500.0))},
		{"Escapes", `displayName eq "a\"b\\c\u00e9\u00C9"`, cmpf("displayName", "eq", "a\"b\\céÉ")},
		{"Unicode", `displayName co "Zoë 😀"`, cmpf("displayName", "co", "Zoë 😀")},
		{"OuterSpaces", `  userName eq "x"  `, cmpf("userName", "eq", "x")},
		{"Parentheses", `((userName eq "x"))`, cmpf("userName", "eq", "x")},
		{"MarkerLookalike", `zzvp0 pr and emails[type eq "work"]`, and(cmpf("zzvp0", "pr", nil), vpath("emails", cmpf("type", "eq", "work")))},
		{"BracketInString", `displayName eq "a[b]c" and emails[value eq "]["]`,
			and(cmpf("displayName", "eq", "a[b]c"), vpath("emails", cmpf("value", "eq", "][")))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseFilter_Limits(t *testing.T) {
	chain := func(n int) string { // n comparisons
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `a pr`
		}
		return strings.Join(parts, " and ")
	}
	nest := func(n int) string { return strings.Repeat("(", n) + "a pr" + strings.Repeat(")", n) }
	t.Run("Length", func(t *testing.T) {
		prefix := `userName eq "`
		ok := prefix + strings.Repeat("x", 2048-len(prefix)-1) + `"`
		if _, err := ParseFilter(ok); err != nil {
			t.Fatalf("2048 bytes: %v", err)
		}
		_, err := ParseFilter(prefix + strings.Repeat("x", 2048-len(prefix)) + `"`)
		checkInvalid(t, err, scimInvalidFilter)
	})
	t.Run("Comparisons", func(t *testing.T) {
		if _, err := ParseFilter(chain(50)); err != nil {
			t.Fatalf("50: %v", err)
		}
		_, err := ParseFilter(chain(51))
		checkInvalid(t, err, scimInvalidFilter)
		_, err = ParseFilter(chain(26) + ` and emails[` + chain(25) + `]`)
		checkInvalid(t, err, scimInvalidFilter)
		_, err = ParseFilter(chain(49) + ` and emails[type eq "work"].value eq "x"`)
		checkInvalid(t, err, scimInvalidFilter)
	})
	t.Run("Nesting", func(t *testing.T) {
		if _, err := ParseFilter(nest(8)); err != nil {
			t.Fatalf("8: %v", err)
		}
		_, err := ParseFilter(nest(9))
		checkInvalid(t, err, scimInvalidFilter)
		if _, err := ParseFilter(strings.Repeat("(", 7) + `emails[type eq "w"]` + strings.Repeat(")", 7)); err != nil {
			t.Fatalf("7 + brackets: %v", err)
		}
		_, err = ParseFilter(strings.Repeat("(", 7) + `emails[(type eq "w")]` + strings.Repeat(")", 7))
		checkInvalid(t, err, scimInvalidFilter)
	})
}

func TestParseFilter_Errors(t *testing.T) {
	for _, in := range []string{
		``, `   `, `userName`, `userName eq`, `userName eq "x`, `userName xx "x"`, `userName eq x`,
		`eq "x"`, `userName eq "x" and`, `(userName eq "x"`, `userName eq "x")`, `userName eq "x" )`,
		`and`, `not userName eq "x"`, `emails[type eq "work"`, `emails type eq "work"]`, `[type eq "work"]`,
		`emails[]`, `emails[type eq "work"].value`, `emails[type eq "work"].value eq`, `emails[type eq "w"].value xx "a"`,
		`emails[type eq "w"]x`, `emails[type eq "w"][value eq "a"]`, `emails[value[type eq "w"] pr]`,
		`userName co 5`, `userName sw true`, `active gt true`, `userName lt null`, `a eq 1e999`,
		`userName eq "\x"`, `userName eq "a` + "\t" + `b"`, `userName eq "x"` + "\n", "userName eq \"\xff\"",
		`userName eq "x" or or a pr`, `a.b.c eq "x"`, `userName eq 'x'`,
	} {
		t.Run(in, func(t *testing.T) {
			f, err := ParseFilter(in)
			if err == nil {
				t.Fatalf("parsed to %#v", f)
			}
			checkInvalid(t, err, scimInvalidFilter)
		})
	}
	t.Run("NUL", func(t *testing.T) {
		_, err := ParseFilter(`userName eq "a\u0000b"`)
		checkInvalid(t, err, scimInvalidValue)
	})
	t.Run("ClearMessage", func(t *testing.T) {
		_, err := ParseFilter(`userName eq`)
		if msg := scimbridge.ErrorMessage(err); !strings.Contains(msg, `"userName eq"`) || !strings.Contains(msg, "not valid") {
			t.Fatalf("message %q", msg)
		}
	})
}

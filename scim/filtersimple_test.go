package scim

import (
	"reflect"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

// libraryFilter parses s the way ParseFilter does without the simple path.
func libraryFilter(s string) (any, error) {
	c := filterCompiler{marker: "zzvp"}
	return c.parse(s, true, s)
}

func TestParseSimple_MatchesLibrary(t *testing.T) {
	cases := []struct {
		filter string
		simple bool // the simple path takes it
	}{
		{`userName eq "bjensen@example.com"`, true},
		{`userName EQ "bjensen@example.com"`, true},
		{`UserName Eq "Bjensen"`, true},
		{`userName  eq   "spaces"`, true},
		{`name.givenName sw "Bar"`, true},
		{`externalId eq "00ujl29u0le5T6Aj10h7"`, true},
		{`emails.value co "@example.com"`, true},
		{`title ne ""`, true},
		{`userName eq "ünïcödé 名前"`, true},
		{`user_name-2 gt "a(b)[c]"`, true},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
		{`userName eq "with \"quote\""`, false},
		{`userName eq "esc\u0041ped"`, false},
		{`userName eq "tab	inside"`, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, false},
		{`$ref eq "x"`, false},
		{`emails[type eq "work"]`, false},
		{`userName eq "a" and title eq "b"`, false},
		{`userName eq "a" or title pr`, false},
		{`userName pr`, false},
		{`userName eq 1`, false},
		{`userName eq true`, false},
		{`userName eq null`, false},
		{`userName eq"x"`, false},
		{`userNameeq "x"`, false},
		{`userName xx "x"`, false},
		{`userName eq "x`, false},
		{`userName eq "x" "y"`, false},
		{`1userName eq "x"`, false},
		{`name. eq "x"`, false},
		{`name.given.name eq "x"`, false},
		{`(userName eq "x")`, false},
		{`not (userName eq "x")`, false},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			_, simple := parseSimple(c.filter)
			if simple != c.simple {
				t.Errorf("parseSimple took it: %v, want %v", simple, c.simple)
			}
			got, gotErr := ParseFilter(c.filter)
			want, wantErr := libraryFilter(c.filter)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("ParseFilter error %v, library error %v", gotErr, wantErr)
			}
			if gotErr == nil && !reflect.DeepEqual(any(got), want) {
				t.Errorf("ParseFilter = %#v, library = %#v", got, want)
			}
		})
	}
}

func FuzzParseSimple(f *testing.F) {
	for _, s := range []string{`userName eq "a@x"`, `name.givenName sw "B"`, `title ne ""`, `a eq "é"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseSimple(s)
		if !ok {
			return
		}
		want, err := libraryFilter(s)
		if err != nil {
			t.Fatalf("parseSimple took %q, the library refuses it: %v", s, err)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Fatalf("parseSimple(%q) = %#v, library = %#v", s, got, want)
		}
	})
}

func TestSimpleAttrPath_MatchesLibrary(t *testing.T) {
	for _, s := range []string{
		"userName", "name", "name.givenName", "emails", "emails.value", "x-y_z9", "A.B",
		"", ".", "name.", ".name", "a.b.c", "9a", "$ref", "name.$ref", "a b", "a:b",
		"urn:ietf:params:scim:schemas:core:2.0:User:userName", "émails", "emails[type eq \"work\"]",
	} {
		t.Run(s, func(t *testing.T) {
			name, sub, ok := simpleAttrPath(s)
			want, err := filter.ParseAttrPath([]byte(s))
			if !ok {
				return // the library decides
			}
			if err != nil || want.URIPrefix != nil {
				t.Fatalf("simpleAttrPath took %q, the library: %+v, %v", s, want, err)
			}
			if name != want.AttributeName || sub != want.SubAttributeName() {
				t.Errorf("simpleAttrPath = %q, %q; library %q, %q", name, sub, want.AttributeName, want.SubAttributeName())
			}
		})
	}
}

func FuzzSimpleAttrPath(f *testing.F) {
	for _, s := range []string{"userName", "name.givenName", "a-b_c.d9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, sub, ok := simpleAttrPath(s)
		if !ok {
			return
		}
		want, err := filter.ParseAttrPath([]byte(s))
		if err != nil || want.URIPrefix != nil || name != want.AttributeName || sub != want.SubAttributeName() {
			t.Fatalf("simpleAttrPath(%q) = %q, %q; library %+v, %v", s, name, sub, want, err)
		}
	})
}

package scim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// TestApplyPatch_EmailRules pins the rules in which emails differ from
// phoneNumbers and addresses, each beside the same operation on
// phoneNumbers: what makes an added entry one already there, which
// sub-attribute a remove by value compares with case, an added entry
// without a value, where two primaries are refused, and the wording of
// errors. A sub-attribute given twice is refused the same way for both.
func TestApplyPatch_EmailRules(t *testing.T) {
	base := func() D {
		return D{Attributes: scimbridge.Attributes{UserName: "bjensen",
			Emails:       []E{{Value: "bj@example.com", Type: "work", Display: "Babs", Primary: ptr(true)}, {Value: "b@home.example", Type: "home"}},
			PhoneNumbers: []P{{Value: "+1 555 0100", Type: "work", Display: "Desk", Primary: ptr(true)}, {Value: "+1 555 0199", Type: "mobile"}},
		}, Active: true}
	}
	cases := []struct {
		name     string
		ops      string
		want     func(d *D) // applied to base(); nil when an error is expected
		scimType string
		detail   string // part of the error's text
	}{
		// An email is the one already there by value and type; display,
		// when sent, is taken. A phone number is by all its strings.
		{"add/existing-email-takes-display", `{"op":"add","path":"emails","value":{"value":"BJ@example.com","type":"WORK","display":"Barbara"}}`,
			func(d *D) { d.Emails[0].Display = "Barbara" }, "", ""},
		{"add/phone-other-display-appends", `{"op":"add","path":"phoneNumbers","value":{"value":"+1 555 0199","type":"mobile","display":"Cell"}}`,
			func(d *D) {
				d.PhoneNumbers = append(d.PhoneNumbers, P{Value: "+1 555 0199", Type: "mobile", Display: "Cell"})
			}, "", ""},
		// A remove by value compares an email's display with case.
		{"remove/email-display-case", `{"op":"remove","path":"emails","value":[{"display":"babs"}]}`, func(d *D) {}, "", ""},
		{"remove/email-display", `{"op":"remove","path":"emails","value":[{"display":"Babs"}]}`,
			func(d *D) { d.Emails = d.Emails[1:] }, "", ""},
		{"remove/phone-display-any-case", `{"op":"remove","path":"phoneNumbers","value":[{"display":"desk"}]}`,
			func(d *D) { d.PhoneNumbers = d.PhoneNumbers[1:] }, "", ""},
		// An added email without a value is ignored, its primary too.
		{"add/valueless-email-primary", `{"op":"add","path":"emails","value":[{"type":"other","primary":true}]}`, func(d *D) {}, "", ""},
		{"add/valueless-phone-primary", `{"op":"add","path":"phoneNumbers","value":[{"type":"other","primary":true}]}`,
			func(d *D) { d.PhoneNumbers[0].Primary = ptr(false) }, "", ""},
		// Two primary emails are refused on add, and in the result; a
		// replace may pass through them.
		{"replace/two-primary-emails-then-one", `{"op":"replace","path":"emails","value":[{"value":"a@example.com","primary":true},{"value":"b@example.com","primary":true}]},` +
			`{"op":"replace","path":"emails[value eq \"b@example.com\"].primary","value":false}`,
			func(d *D) {
				d.Emails = []E{{Value: "a@example.com", Primary: ptr(true)}, {Value: "b@example.com", Primary: ptr(false)}}
			}, "", ""},
		{"remove/two-primary-emails", `{"op":"remove","path":"emails","value":[{"value":"bj@example.com","primary":true},{"value":"x@example.com","primary":true}]}`,
			func(d *D) { d.Emails = d.Emails[1:] }, "", ""},
		{"replace/two-primary-emails", `{"op":"replace","path":"emails","value":[{"value":"a@example.com","primary":true},{"value":"b@example.com","primary":true}]}`,
			nil, scimInvalidValue, "at most one email may be primary"},
		{"add/two-primary-emails", `{"op":"add","path":"emails","value":[{"value":"a@example.com","primary":true},{"value":"b@example.com","primary":true}]}`,
			nil, scimInvalidValue, "operation 1: at most one email may be primary"},
		{"replace/two-primary-phones", `{"op":"replace","path":"phoneNumbers","value":[{"value":"1","primary":true},{"value":"2","primary":true}]}`,
			nil, scimInvalidValue, "at most one entry of phoneNumbers may be primary"},
		// An email given a sub-attribute twice is refused for that, as an
		// entry of phoneNumbers is, whatever the second value is.
		{"add/email-value-twice", `{"op":"add","path":"emails","value":[{"value":"a@example.com","value":5}]}`,
			nil, scimInvalidValue, "emails.value is given more than once"},
		{"add/phone-value-twice", `{"op":"add","path":"phoneNumbers","value":[{"value":"1","value":5}]}`,
			nil, scimInvalidValue, "phoneNumbers.value is given more than once"},
		// Errors name an email as such.
		{"vpath/email-no-target", `{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"o@example.com"}}`,
			nil, scimNoTarget, `no email matches "emails[type eq \"other\"]"`},
		{"vpath/phone-no-target", `{"op":"replace","path":"phoneNumbers[type eq \"other\"]","value":{"value":"1"}}`,
			nil, scimNoTarget, `no entry of phoneNumbers matches`},
		{"vpath/email-not-object", `{"op":"add","path":"emails[type eq \"work\"]","value":"x"}`,
			nil, scimInvalidValue, "an email must be an object"},
		{"vpath/two-emails-primary", `{"op":"add","path":"emails[value pr].primary","value":true}`,
			nil, scimInvalidValue, "matches 2 emails; only one may be primary"},
		{"vpath/two-phones-primary", `{"op":"add","path":"phoneNumbers[value pr].primary","value":true}`,
			nil, scimInvalidValue, "matches 2 entries; only one may be primary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			current := base()
			got, err := patch(current, tc.ops)
			if tc.want == nil {
				checkInvalid(t, err, tc.scimType)
				if !strings.Contains(err.Error(), tc.detail) {
					t.Fatalf("error %q does not say %q", err, tc.detail)
				}
				return
			}
			want := base()
			tc.want(&want)
			if err != nil || !reflect.DeepEqual(got.Desired, want) || !reflect.DeepEqual(current, base()) {
				t.Fatalf("got %+v, %v\nwant %+v\ncurrent after %+v", dump(got.Desired), err, dump(want), dump(current))
			}
		})
	}
}

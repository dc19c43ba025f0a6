package scim

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge"
)

type P = scimbridge.PhoneNumber
type A = scimbridge.Address

// TestApplyPatch_PhonesAddresses runs PATCH operations on phoneNumbers and
// addresses, as Entra ID's and Okta's default mappings send them, and
// asserts the resulting lists exactly, or the scimType of the error.
func TestApplyPatch_PhonesAddresses(t *testing.T) {
	base := func() D {
		return D{Attributes: scimbridge.Attributes{UserName: "bjensen",
			PhoneNumbers: []P{{Value: "+1 555 0100", Type: "work", Primary: ptr(true)}, {Value: "+1 555 0199", Type: "mobile"}},
			Addresses:    []A{{StreetAddress: "1 Main St", Locality: "Oslo", Country: "NO", Type: "work"}},
		}, Active: true}
	}
	cases := []struct {
		name     string
		op       string
		want     func(d *D) // applied to base(); nil when an error is expected
		scimType string
	}{
		{"vsub/replace/value", `{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0200"}`,
			func(d *D) { d.PhoneNumbers[1].Value = "+1 555 0200" }, ""},
		{"vsub/add/create", `{"op":"Add","path":"phoneNumbers[type eq \"fax\"].value","value":"+1 555 0300"}`,
			func(d *D) { d.PhoneNumbers = append(d.PhoneNumbers, P{Value: "+1 555 0300", Type: "fax"}) }, ""},
		{"vsub/add/type-any-case", `{"op":"Add","path":"phoneNumbers[type eq \"Mobile\"].value","value":"9"}`,
			func(d *D) { d.PhoneNumbers[1].Value = "9" }, ""},
		{"vsub/replace/locality", `{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Bergen"}`,
			func(d *D) { d.Addresses[0].Locality = "Bergen" }, ""},
		{"vsub/add/address-create", `{"op":"add","path":"addresses[type eq \"home\"].postalCode","value":"0150"}`,
			func(d *D) { d.Addresses = append(d.Addresses, A{PostalCode: "0150", Type: "home"}) }, ""},
		{"vsub/replace/null-no-match", `{"op":"replace","path":"addresses[type eq \"home\"].locality","value":null}`, func(d *D) {}, ""},
		{"vsub/remove/value-drops-entry", `{"op":"remove","path":"phoneNumbers[type eq \"mobile\"].value"}`,
			func(d *D) { d.PhoneNumbers = d.PhoneNumbers[:1] }, ""},
		{"vsub/remove/street", `{"op":"remove","path":"addresses[type eq \"work\"].streetAddress"}`,
			func(d *D) { d.Addresses[0].StreetAddress = "" }, ""},
		{"vsub/primary-moves", `{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].primary","value":"True"}`,
			func(d *D) { d.PhoneNumbers[0].Primary, d.PhoneNumbers[1].Primary = ptr(false), ptr(true) }, ""},
		{"vsub/unknown-sub", `{"op":"replace","path":"phoneNumbers[type eq \"work\"].locality","value":"x"}`, nil, scimInvalidPath},
		{"vsub/bad-filter-attr", `{"op":"replace","path":"addresses[city eq \"Oslo\"].locality","value":"x"}`, nil, scimInvalidPath},
		{"vsub/number", `{"op":"replace","path":"addresses[type eq \"work\"].locality","value":7}`, nil, scimInvalidValue},
		{"vpath/remove", `{"op":"remove","path":"phoneNumbers[type eq \"work\"]"}`,
			func(d *D) { d.PhoneNumbers = []P{{Value: "+1 555 0199", Type: "mobile"}} }, ""},
		{"vpath/remove-all-addresses", `{"op":"remove","path":"addresses[country eq \"NO\"]"}`, func(d *D) { d.Addresses = nil }, ""},
		{"vpath/replace/no-target", `{"op":"replace","path":"phoneNumbers[type eq \"home\"]","value":{"value":"1"}}`, nil, scimNoTarget},
		{"vpath/replace/object", `{"op":"replace","path":"addresses[type eq \"work\"]","value":{"locality":"Bergen","region":"Vestland"}}`,
			func(d *D) { d.Addresses[0].Locality, d.Addresses[0].Region = "Bergen", "Vestland" }, ""},
		{"sub/replace/needs-filter", `{"op":"replace","path":"phoneNumbers.value","value":"1"}`, nil, scimInvalidPath},
		{"sub/remove/type", `{"op":"remove","path":"phoneNumbers.type"}`,
			func(d *D) { d.PhoneNumbers[0].Type, d.PhoneNumbers[1].Type = "", "" }, ""},
		{"list/add/appends", `{"op":"add","path":"phoneNumbers","value":[{"value":"+1 555 0400","type":"home","primary":true}]}`,
			func(d *D) {
				d.PhoneNumbers[0].Primary = ptr(false)
				d.PhoneNumbers = append(d.PhoneNumbers, P{Value: "+1 555 0400", Type: "home", Primary: ptr(true)})
			}, ""},
		{"list/add/existing-merges", `{"op":"add","path":"phoneNumbers","value":{"value":"+1 555 0199","type":"MOBILE"}}`, func(d *D) {}, ""},
		{"list/replace", `{"op":"replace","path":"addresses","value":[{"formatted":"x"},{"type":"home"}]}`,
			func(d *D) { d.Addresses = []A{{Formatted: "x"}} }, ""},
		{"list/remove/value", `{"op":"remove","path":"phoneNumbers","value":[{"type":"work"}]}`,
			func(d *D) { d.PhoneNumbers = d.PhoneNumbers[1:] }, ""},
		{"list/remove", `{"op":"remove","path":"addresses"}`, func(d *D) { d.Addresses = nil }, ""},
		{"list/two-primary", `{"op":"add","path":"phoneNumbers","value":[{"value":"1","primary":true},{"value":"2","primary":true}]}`, nil, scimInvalidValue},
		{"none/replace", `{"op":"replace","value":{"phoneNumbers":[{"value":"1"}],"addresses":null}}`,
			func(d *D) { d.PhoneNumbers, d.Addresses = []P{{Value: "1"}}, nil }, ""},
		{"none/unqualified-manager", `{"op":"Add","value":{"manager":[{"$ref":"x","value":"m-9"}]}}`, func(d *D) { d.Manager = "m-9" }, ""},
		{"path/unqualified-manager-array", `{"op":"Add","path":"manager","value":[{"$ref":"x","value":"m-9"}]}`, func(d *D) { d.Manager = "m-9" }, ""},
		{"path/unqualified-manager-two", `{"op":"Add","path":"manager","value":["a","b"]}`, nil, scimInvalidValue},
		{"path/unqualified-department", `{"op":"Replace","path":"department","value":"Sales"}`, func(d *D) { d.Department = "Sales" }, ""},
		{"path/unqualified-remove", `{"op":"Remove","path":"employeeNumber"}`, func(d *D) {}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := base()
			got, err := patch(before, tc.op)
			if !reflect.DeepEqual(before, base()) {
				t.Fatal("PATCH wrote into the current profile's lists")
			}
			if tc.want == nil {
				checkInvalid(t, err, tc.scimType)
				return
			}
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			want := base()
			tc.want(&want)
			if !reflect.DeepEqual(got.Desired, want) {
				t.Fatalf("desired:\n got %+v\nwant %+v", got.Desired, want)
			}
		})
	}
}

package scim

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge"
)

type D = scimbridge.DesiredProfile
type E = scimbridge.Email

// TestApplyPatch_Matrix runs each op against each path form (none, simple,
// sub-attribute, URN-prefixed, value path, value path + sub-attribute) with
// each value form (string, bool-as-string, object, nested, dotted, array,
// one-element array, null) and asserts the resulting desired profile
// exactly, or the scimType of the error.
func TestApplyPatch_Matrix(t *testing.T) {
	work := func(v string) E { return E{Value: v, Type: "work", Primary: ptr(true)} }
	home := E{Value: "babs@jensen.org", Type: "home"}
	cases := []struct {
		name     string
		op       string
		want     func(d *D) // applied to base(); nil when an error is expected
		scimType string
	}{
		// --- no path
		{"none/add/string", `{"op":"add","value":"x"}`, nil, scimInvalidValue},
		{"none/replace/null", `{"op":"replace","value":null}`, nil, scimInvalidValue},
		{"none/replace/object", `{"op":"replace","value":{"displayName":"B. Jensen"}}`,
			func(d *D) { d.DisplayName = "B. Jensen" }, ""},
		{"none/replace/nested", `{"op":"replace","value":{"name":{"givenName":"Barb"}}}`,
			func(d *D) { d.GivenName = "Barb" }, ""},
		{"none/replace/dotted", `{"op":"replace","value":{"name.givenName":"Barb","name.middleName":"Q"}}`,
			func(d *D) { d.GivenName, d.MiddleName = "Barb", "Q" }, ""},
		{"none/replace/urn", `{"op":"replace","value":{"` + urnEnt + `:department":"Sales"}}`,
			func(d *D) { d.Department = "Sales" }, ""},
		{"none/replace/urn-manager", `{"op":"replace","value":{"` + urnEnt + `:manager":"m-2"}}`,
			func(d *D) { d.Manager = "m-2" }, ""},
		{"none/replace/urn-nested", `{"op":"replace","value":{"` + urnEnt + `":{"department":"Sales","manager":{"value":"m-3"}}}}`,
			func(d *D) { d.Department, d.Manager = "Sales", "m-3" }, ""},
		{"none/replace/urn-core", `{"op":"replace","value":{"` + urnCore + `:userName":"barbara"}}`,
			func(d *D) { d.UserName = "barbara" }, ""},
		{"none/replace/bool-string", `{"op":"Replace","value":{"active":"False"}}`,
			func(d *D) { d.Active = false }, ""},
		{"none/replace/bool", `{"op":"replace","value":{"active":false}}`,
			func(d *D) { d.Active = false }, ""},
		{"none/add/array", `{"op":"add","value":{"emails":[{"value":"b@x.org","type":"other"}],"nickname":"B"}}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "b@x.org", Type: "other"}); d.NickName = "B" }, ""},
		{"none/add/lone-email", `{"op":"add","value":{"emails":{"value":"b@x.org"}}}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "b@x.org"}) }, ""},
		{"none/replace/array", `{"op":"replace","value":{"emails":[{"value":"b@x.org","type":"work"}]}}`,
			func(d *D) { d.Emails = []E{{Value: "b@x.org", Type: "work"}} }, ""},
		{"none/replace/null-member", `{"op":"replace","value":{"title":null,"nickName":""}}`,
			func(d *D) { d.Title, d.NickName = "", "" }, ""},
		{"none/add/ignored", `{"op":"add","value":{"id":null,"meta":{"resourceType":"User"},"schemas":["x"],"groups":[{"value":"g"}],"displayName":"X"}}`,
			func(d *D) { d.DisplayName = "X" }, ""},
		{"none/add/id-value", `{"op":"add","value":{"id":"other-id"}}`, func(d *D) {}, ""},
		{"none/replace/password", `{"op":"replace","value":{"password":"s3cret"}}`, func(d *D) {}, ""},
		{"none/replace/unknown", `{"op":"replace","value":{"favouriteColour":"blue"}}`, nil, scimInvalidPath},
		{"none/replace/unsupported", `{"op":"replace","value":{"ims":[{"value":"x"}]}}`, func(d *D) {}, ""},
		{"none/replace/unsupported-empty", `{"op":"replace","value":{"phoneNumbers":[],"roles":null}}`, func(d *D) {}, ""},
		{"none/replace/phones", `{"op":"replace","value":{"phoneNumbers":[{"value":"+1 555"}]}}`,
			func(d *D) { d.PhoneNumbers = []scimbridge.PhoneNumber{{Value: "+1 555"}} }, ""},
		{"none/replace/duplicate", `{"op":"replace","value":{"title":"a","TITLE":"b"}}`, nil, scimInvalidValue},
		{"none/replace/duplicate-dotted", `{"op":"replace","value":{"name":{"givenName":"a"},"name.givenName":"b"}}`, nil, scimInvalidValue},
		{"none/replace/duplicate-urn", `{"op":"replace","value":{"` + urnEnt + `":{"department":"a"},"` + urnEnt + `:department":"b"}}`, nil, scimInvalidValue},
		{"none/replace/unprefixed-enterprise", `{"op":"replace","value":{"department":"x"}}`, func(d *D) { d.Department = "x" }, ""},
		{"none/add/value-path-key", `{"op":"add","value":{"emails[type eq \"other\"].value":"o@x","emails[type eq \"work\"].display":"W"}}`,
			func(d *D) { d.Emails[0].Display = "W"; d.Emails = append(d.Emails, E{Value: "o@x", Type: "other"}) }, ""},
		{"none/add/value-path-key-twice", `{"op":"add","value":{"emails":[],"emails[type eq \"work\"].value":"w@x"}}`, nil, scimInvalidValue},
		{"none/replace/manager-twice", `{"op":"replace","value":{"` + urnEnt + `:manager":"a","` + urnEnt + `:manager.value":"b"}}`, nil, scimInvalidValue},
		{"none/replace/extension-null", `{"op":"replace","value":{"` + urnEnt + `":null}}`,
			func(d *D) { d.EmployeeNumber, d.Department, d.Manager = "", "", "" }, ""},
		{"none/remove", `{"op":"remove"}`, nil, scimNoTarget},

		// --- simple path
		{"simple/add/string", `{"op":"add","path":"title","value":"Lead"}`, func(d *D) { d.Title = "Lead" }, ""},
		{"simple/replace/any-case", `{"op":"REPLACE","path":"TITLE","value":"Lead"}`, func(d *D) { d.Title = "Lead" }, ""},
		{"simple/replace/null", `{"op":"replace","path":"title","value":null}`, func(d *D) { d.Title = "" }, ""},
		{"simple/replace/empty", `{"op":"replace","path":"title","value":""}`, func(d *D) { d.Title = "" }, ""},
		{"simple/remove", `{"op":"remove","path":"title"}`, func(d *D) { d.Title = "" }, ""},
		{"simple/replace/bool", `{"op":"replace","path":"title","value":true}`, nil, scimInvalidValue},
		{"simple/replace/array", `{"op":"replace","path":"title","value":["Lead"]}`, nil, scimInvalidValue},
		{"simple/replace/object", `{"op":"replace","path":"title","value":{"value":"Lead"}}`, nil, scimInvalidValue},
		{"simple/add/no-value", `{"op":"add","path":"title"}`, nil, scimInvalidValue},
		{"simple/replace/active-bool-string", `{"op":"Replace","path":"active","value":"False"}`, func(d *D) { d.Active = false }, ""},
		{"simple/replace/active-true-string", `{"op":"replace","path":"active","value":"TRUE"}`, func(d *D) {}, ""},
		{"simple/replace/active-bad", `{"op":"replace","path":"active","value":"no"}`, nil, scimInvalidValue},
		{"simple/replace/active-null", `{"op":"replace","path":"active","value":null}`, nil, scimInvalidValue},
		{"simple/remove/active", `{"op":"remove","path":"active"}`, nil, scimInvalidValue},
		{"simple/replace/userName", `{"op":"replace","path":"userName","value":"barbara@example.com"}`,
			func(d *D) { d.UserName = "barbara@example.com" }, ""},
		{"simple/remove/userName", `{"op":"remove","path":"userName"}`, nil, scimInvalidValue},
		{"simple/replace/userName-empty", `{"op":"replace","path":"userName","value":""}`, nil, scimInvalidValue},
		{"simple/replace/externalId", `{"op":"replace","path":"externalId","value":"ext-2"}`, func(d *D) { d.ExternalID = "ext-2" }, ""},
		{"simple/replace/name-object", `{"op":"replace","path":"name","value":{"familyName":"Smith","honorificPrefix":"Ms."}}`,
			func(d *D) { d.FamilyName, d.HonorificPrefix = "Smith", "Ms." }, ""},
		{"simple/replace/name-null", `{"op":"replace","path":"name","value":null}`, func(d *D) { d.GivenName, d.FamilyName = "", "" }, ""},
		{"simple/remove/name", `{"op":"remove","path":"name"}`, func(d *D) { d.GivenName, d.FamilyName = "", "" }, ""},
		{"simple/replace/name-string", `{"op":"replace","path":"name","value":"Barbara Jensen"}`, nil, scimInvalidValue},
		{"simple/replace/emails-array", `{"op":"replace","path":"emails","value":[{"value":"b@x.org","type":"work","primary":true}]}`,
			func(d *D) { d.Emails = []E{work("b@x.org")} }, ""},
		{"simple/replace/emails-two-primary", `{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":"true"}]}`, nil, scimInvalidValue},
		{"simple/add/emails-dedupe", `{"op":"add","path":"emails","value":[{"value":"BABS@jensen.org","type":"home"},{"value":"c@x.org"}]}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "c@x.org"}) }, ""},
		{"simple/add/emails-one-element", `{"op":"add","path":"emails","value":[{"value":"c@x.org","type":"other"}]}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "c@x.org", Type: "other"}) }, ""},
		{"simple/add/emails-lone-object", `{"op":"add","path":"emails","value":{"value":"c@x.org"}}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "c@x.org"}) }, ""},
		{"simple/add/emails-primary", `{"op":"add","path":"emails","value":[{"value":"c@x.org","type":"work","primary":true}]}`,
			func(d *D) {
				d.Emails = []E{{Value: "bjensen@example.com", Type: "work", Primary: ptr(false)}, home, work("c@x.org")}
			}, ""},
		{"simple/add/emails-strings", `{"op":"add","path":"emails","value":["c@x.org"]}`, nil, scimInvalidValue},
		{"simple/remove/emails", `{"op":"remove","path":"emails"}`, func(d *D) { d.Emails = nil }, ""},
		{"simple/remove/emails-value", `{"op":"remove","path":"emails","value":[{"value":"babs@jensen.org"}]}`,
			func(d *D) { d.Emails = d.Emails[:1] }, ""},
		{"simple/replace/emails-null", `{"op":"replace","path":"emails","value":null}`, func(d *D) { d.Emails = nil }, ""},
		{"simple/replace/id", `{"op":"replace","path":"id","value":"x"}`, nil, scimMutability},
		{"simple/replace/meta", `{"op":"replace","path":"meta","value":{}}`, nil, scimMutability},
		{"simple/add/groups", `{"op":"add","path":"groups","value":[{"value":"g"}]}`, nil, scimMutability},
		{"simple/replace/password", `{"op":"replace","path":"password","value":"s3cret"}`, func(d *D) {}, ""},
		{"simple/replace/unknown", `{"op":"replace","path":"favouriteColour","value":"blue"}`, nil, scimInvalidPath},
		{"simple/remove/unsupported", `{"op":"remove","path":"phoneNumbers"}`, func(d *D) {}, ""},
		{"simple/replace/malformed", `{"op":"replace","path":"title title","value":"x"}`, nil, scimInvalidPath},

		// --- sub-attribute
		{"sub/replace/string", `{"op":"replace","path":"name.givenName","value":"Barb"}`, func(d *D) { d.GivenName = "Barb" }, ""},
		{"sub/add/any-case", `{"op":"Add","path":"NAME.GIVENNAME","value":"Barb"}`, func(d *D) { d.GivenName = "Barb" }, ""},
		{"sub/replace/null", `{"op":"replace","path":"name.givenName","value":null}`, func(d *D) { d.GivenName = "" }, ""},
		{"sub/remove", `{"op":"remove","path":"name.familyName"}`, func(d *D) { d.FamilyName = "" }, ""},
		{"sub/replace/number", `{"op":"replace","path":"name.givenName","value":7}`, nil, scimInvalidValue},
		{"sub/replace/unknown", `{"op":"replace","path":"name.nickName","value":"x"}`, nil, scimInvalidPath},
		{"sub/replace/simple-has-none", `{"op":"replace","path":"title.value","value":"x"}`, nil, scimInvalidPath},
		{"sub/replace/meta", `{"op":"remove","path":"meta.lastModified"}`, nil, scimMutability},
		{"sub/replace/emails-value", `{"op":"replace","path":"emails.value","value":"x@y"}`, nil, scimInvalidPath},
		{"sub/remove/emails-type", `{"op":"remove","path":"emails.type"}`,
			func(d *D) {
				d.Emails = []E{{Value: "bjensen@example.com", Primary: ptr(true)}, {Value: "babs@jensen.org"}}
			}, ""},

		// --- URN-prefixed
		{"urn/replace/string", `{"op":"replace","path":"` + urnEnt + `:employeeNumber","value":"702"}`, func(d *D) { d.EmployeeNumber = "702" }, ""},
		{"urn/replace/any-case", `{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:COSTCENTER","value":"CC-1"}`,
			func(d *D) { d.CostCenter = "CC-1" }, ""},
		{"urn/remove", `{"op":"remove","path":"` + urnEnt + `:department"}`, func(d *D) { d.Department = "" }, ""},
		{"urn/replace/core", `{"op":"replace","path":"` + urnCore + `:userName","value":"barbara"}`, func(d *D) { d.UserName = "barbara" }, ""},
		{"urn/replace/core-sub", `{"op":"replace","path":"` + urnCore + `:name.givenName","value":"Barb"}`, func(d *D) { d.GivenName = "Barb" }, ""},
		{"urn/add/manager-string", `{"op":"Add","path":"` + urnEnt + `:manager","value":"m-2"}`, func(d *D) { d.Manager = "m-2" }, ""},
		{"urn/add/manager-object", `{"op":"add","path":"` + urnEnt + `:manager","value":{"value":"m-2","displayName":"Boss","$ref":"../Users/m-2"}}`,
			func(d *D) { d.Manager = "m-2" }, ""},
		{"urn/add/manager-one-element", `{"op":"add","path":"` + urnEnt + `:manager","value":[{"value":"m-2"}]}`, func(d *D) { d.Manager = "m-2" }, ""},
		{"urn/add/manager-one-string", `{"op":"add","path":"` + urnEnt + `:manager","value":["m-2"]}`, func(d *D) { d.Manager = "m-2" }, ""},
		{"urn/add/manager-two", `{"op":"add","path":"` + urnEnt + `:manager","value":["m-2","m-3"]}`, nil, scimInvalidValue},
		{"urn/add/manager-bool", `{"op":"add","path":"` + urnEnt + `:manager","value":true}`, nil, scimInvalidValue},
		{"urn/add/manager-unknown-sub", `{"op":"add","path":"` + urnEnt + `:manager","value":{"id":"m-2"}}`, nil, scimInvalidPath},
		{"urn/replace/manager-null", `{"op":"replace","path":"` + urnEnt + `:manager","value":null}`, func(d *D) { d.Manager = "" }, ""},
		{"urn/remove/manager", `{"op":"Remove","path":"` + urnEnt + `:manager"}`, func(d *D) { d.Manager = "" }, ""},
		{"urn/replace/manager-value", `{"op":"replace","path":"` + urnEnt + `:manager.value","value":"m-9"}`, func(d *D) { d.Manager = "m-9" }, ""},
		{"urn/replace/manager-displayName", `{"op":"replace","path":"` + urnEnt + `:manager.displayName","value":"x"}`, nil, scimMutability},
		{"urn/replace/extension-object", `{"op":"replace","path":"` + urnEnt + `","value":{"division":"West","employeeNumber":null}}`,
			func(d *D) { d.Division, d.EmployeeNumber = "West", "" }, ""},
		{"urn/remove/extension", `{"op":"remove","path":"` + urnEnt + `"}`,
			func(d *D) { d.EmployeeNumber, d.Department, d.Manager = "", "", "" }, ""},
		{"urn/replace/core-attr-in-enterprise", `{"op":"replace","path":"` + urnEnt + `:userName","value":"x"}`, nil, scimInvalidPath},
		{"urn/replace/other-extension", `{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:custom:2.0:User:badge","value":"7"}`, func(d *D) {}, ""},
		{"urn/remove/other-extension", `{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:custom:2.0:User:badge"}`, func(d *D) {}, ""},

		// --- value path
		{"vpath/replace/object", `{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"b@example.com"}}`,
			func(d *D) { d.Emails[0] = work("b@example.com") }, ""},
		{"vpath/replace/no-match", `{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"o@x"}}`, nil, scimNoTarget},
		{"vpath/add/create", `{"op":"add","path":"emails[type eq \"other\"]","value":{"value":"o@x"}}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "o@x", Type: "other"}) }, ""},
		{"vpath/replace/string", `{"op":"replace","path":"emails[type eq \"work\"]","value":"b@example.com"}`, nil, scimInvalidValue},
		{"vpath/replace/null", `{"op":"replace","path":"emails[type eq \"work\"]","value":null}`, func(d *D) { d.Emails = []E{home} }, ""},
		{"vpath/remove", `{"op":"remove","path":"emails[type eq \"home\"]"}`, func(d *D) { d.Emails = d.Emails[:1] }, ""},
		{"vpath/remove/case-insensitive", `{"op":"remove","path":"emails[value eq \"BABS@Jensen.org\"]"}`, func(d *D) { d.Emails = d.Emails[:1] }, ""},
		{"vpath/remove/rfc-and", `{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}`, func(d *D) { d.Emails = []E{home} }, ""},
		{"vpath/remove/no-match", `{"op":"remove","path":"emails[type eq \"other\"]"}`, func(d *D) {}, ""},
		{"vpath/remove/primary", `{"op":"remove","path":"emails[primary eq true]"}`, func(d *D) { d.Emails = []E{home} }, ""},
		{"vpath/remove/not-primary", `{"op":"remove","path":"emails[not (primary eq true)]"}`, func(d *D) { d.Emails = d.Emails[:1] }, ""},
		{"vpath/remove/bad-sub", `{"op":"remove","path":"emails[foo eq \"x\"]"}`, nil, scimInvalidPath},
		{"vpath/remove/bad-filter", `{"op":"remove","path":"emails[type eq ]"}`, nil, scimInvalidPath},
		{"vpath/remove/not-multi", `{"op":"remove","path":"title[value eq \"x\"]"}`, nil, scimInvalidPath},

		// --- value path + sub-attribute
		{"vsub/replace/string", `{"op":"Replace","path":"emails[type eq \"work\"].value","value":"b@example.com"}`,
			func(d *D) { d.Emails[0].Value = "b@example.com" }, ""},
		{"vsub/add/create", `{"op":"Add","path":"emails[type eq \"other\"].value","value":"o@x"}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "o@x", Type: "other"}) }, ""},
		{"vsub/replace/create", `{"op":"replace","path":"emails[type eq \"other\" and primary eq false].value","value":"o@x"}`,
			func(d *D) { d.Emails = append(d.Emails, E{Value: "o@x", Type: "other", Primary: ptr(false)}) }, ""},
		{"vsub/replace/bool-string", `{"op":"replace","path":"emails[type eq \"home\"].primary","value":"True"}`,
			func(d *D) {
				d.Emails = []E{{Value: "bjensen@example.com", Type: "work", Primary: ptr(false)}, {Value: "babs@jensen.org", Type: "home", Primary: ptr(true)}}
			}, ""},
		{"vsub/replace/null-value", `{"op":"replace","path":"emails[type eq \"work\"].value","value":null}`, func(d *D) { d.Emails = []E{home} }, ""},
		{"vsub/replace/null-no-match", `{"op":"replace","path":"emails[type eq \"other\"].value","value":null}`, func(d *D) {}, ""},
		{"vsub/remove/value", `{"op":"remove","path":"emails[type eq \"work\"].value"}`, func(d *D) { d.Emails = []E{home} }, ""},
		{"vsub/remove/primary", `{"op":"remove","path":"emails[type eq \"work\"].primary"}`, func(d *D) { d.Emails[0].Primary = nil }, ""},
		{"vsub/replace/type", `{"op":"replace","path":"emails[value eq \"babs@jensen.org\"].type","value":"other"}`, func(d *D) { d.Emails[1].Type = "other" }, ""},
		{"vsub/replace/not-creatable", `{"op":"replace","path":"emails[value co \"nobody\"].value","value":"o@x"}`, nil, scimNoTarget},
		{"vsub/replace/number", `{"op":"replace","path":"emails[type eq \"work\"].value","value":5}`, nil, scimInvalidValue},
		{"vsub/replace/object", `{"op":"replace","path":"emails[type eq \"work\"].value","value":{"value":"x"}}`, nil, scimInvalidValue},
		{"vsub/replace/unknown-sub", `{"op":"replace","path":"emails[type eq \"work\"].foo","value":"x"}`, nil, scimInvalidPath},
		{"vsub/replace/two-primary", `{"op":"replace","path":"emails[value pr].primary","value":true}`, nil, scimInvalidValue},
		{"vsub/replace/urn", `{"op":"replace","path":"` + urnCore + `:emails[type eq \"work\"].value","value":"b@example.com"}`,
			func(d *D) { d.Emails[0].Value = "b@example.com" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := patch(base(), tc.op)
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
				t.Fatalf("desired:\n got %+v\nwant %+v", dump(got.Desired), dump(want))
			}
		})
	}
}

// dump renders emails' primary pointers readably.
func dump(d D) any {
	type email struct {
		Value, Type, Display string
		Primary              any
	}
	var es []email
	for _, e := range d.Emails {
		var p any = "unset"
		if e.Primary != nil {
			p = *e.Primary
		}
		es = append(es, email{e.Value, e.Type, e.Display, p})
	}
	d.Emails = nil
	return struct {
		D
		Emails []email
	}{d, es}
}

package scim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestDecodeUser_Lenient(t *testing.T) {
	cases := []struct {
		name string
		body string
		want D
	}{
		{"AnyCase", `{"USERNAME":"bob","DisplayName":"Bob","NAME":{"GIVENNAME":"Bob"}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", DisplayName: "Bob", GivenName: "Bob"}, Active: true}},
		{"URNPrefixed", `{"` + urnCore + `:userName":"bob","` + urnEnt + `:department":"D","` + urnEnt + `:manager":"m"}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Department: "D", Manager: "m"}, Active: true}},
		{"Dotted", `{"userName":"bob","name.familyName":"Lee"}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", FamilyName: "Lee"}, Active: true}},
		{"BoolStrings", `{"userName":"bob","active":"False","emails":[{"value":"b@x","primary":"TRUE"}]}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Emails: []E{{Value: "b@x", Primary: ptr(true)}}}}},
		{"ManagerObject", `{"userName":"bob","` + urnEnt + `":{"manager":{"value":"m","displayName":"Boss","$ref":"x"}}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Manager: "m"}, Active: true}},
		{"ManagerArray", `{"userName":"bob","` + urnEnt + `":{"manager":[{"value":"m"}]}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Manager: "m"}, Active: true}},
		{"ManagerString", `{"userName":"bob","` + urnEnt + `":{"manager":"m"}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Manager: "m"}, Active: true}},
		{"LoneEmail", `{"userName":"bob","emails":{"value":"b@x","type":"work"}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Emails: []E{{Value: "b@x", Type: "work"}}}, Active: true}},
		{"EmailPrimaryFalseKept", `{"userName":"bob","emails":[{"value":"b@x","primary":false}]}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Emails: []E{{Value: "b@x", Primary: ptr(false)}}}, Active: true}},
		{"EmailWithoutValueDropped", `{"userName":"bob","emails":[{"type":"work","value":null},{"value":"b@x"}]}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Emails: []E{{Value: "b@x"}}}, Active: true}},
		{"NullEmptyAbsent", `{"userName":"bob","displayName":null,"title":"","name":null,"emails":null,"` + urnEnt + `":null,"externalId":""}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"Ignored", `{"userName":"bob","id":"x","meta":{"created":"y"},"groups":[{"value":"g"}],"schemas":"not even a list"}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"UnsupportedEmpty", `{"userName":"bob","roles":[],"phoneNumbers":null,"addresses":[],"urn:example:custom":{}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"UnsupportedDropped", `{"userName":"bob","ims":[{"value":"x"}],"urn:ietf:params:scim:schemas:extension:custom:2.0:User":{"badge":"7"}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"PhonesAndAddressesKept", `{"userName":"bob","phoneNumbers":[{"type":"work","value":"+1 555","primary":"True"},{"value":""}],"addresses":{"locality":"Oslo","COUNTRY":"NO"}}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob",
				PhoneNumbers: []scimbridge.PhoneNumber{{Value: "+1 555", Type: "work", Primary: new(true)}},
				Addresses:    []scimbridge.Address{{Locality: "Oslo", Country: "NO"}}}, Active: true}},
		{"UnprefixedEnterprise", `{"userName":"bob","department":"Sales","manager":{"value":"m-1"},"employeeNumber":"7"}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Department: "Sales", Manager: "m-1", EmployeeNumber: "7"}, Active: true}},
		{"EntraNulls", `{"userName":"bob","department":null,"manager":null,"title":null,"phoneNumbers":null,"addresses":null}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"NullBesideValue", `{"department":null,"userName":"bob","` + urnEnt + `":{"department":"Sales","manager":{"value":"m"}},"manager":null,"title":"T","TITLE":null}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob", Department: "Sales", Manager: "m", Title: "T"}, Active: true}},
		{"ByteOrderMark", "\ufeff" + `{"userName":"bob"}`, D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true}},
		{"ExternalID", `{"userName":"bob","externalId":"E-1"}`,
			D{Attributes: scimbridge.Attributes{UserName: "bob"}, Active: true, ExternalID: "E-1"}},
		{"Unicode", `{"userName":"zoë@exämple.com","displayName":"Zoë \u00c5 \ud83d\ude00"}`,
			D{Attributes: scimbridge.Attributes{UserName: "zoë@exämple.com", DisplayName: "Zoë Å 😀"}, Active: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeUser([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Desired, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", dump(got.Desired), dump(tc.want))
			}
		})
	}
}

func TestDecodeUser_ActiveAndPassword(t *testing.T) {
	for _, tc := range []struct {
		body                     string
		active, activeSet, passw bool
	}{
		{`{"userName":"b"}`, true, false, false},
		{`{"userName":"b","active":null}`, true, false, false},
		{`{"userName":"b","active":false}`, false, true, false},
		{`{"userName":"b","active":"true"}`, true, true, false},
		{`{"userName":"b","password":"pw"}`, true, false, true},
		{`{"userName":"b","password":null}`, true, false, false},
	} {
		t.Run(tc.body, func(t *testing.T) {
			got, err := DecodeUser([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got.Desired.Active != tc.active || got.ActiveSet != tc.activeSet || got.Password != tc.passw {
				t.Fatalf("got active %v set %v password %v", got.Desired.Active, got.ActiveSet, got.Password)
			}
		})
	}
}

func TestDecodeUser_Errors(t *testing.T) {
	deep := func(n int) string { // a body nested n levels deep
		return `{"userName":"b","name":` + strings.Repeat(`[`, n-1) + strings.Repeat(`]`, n-1) + `}`
	}
	for name, tc := range map[string]struct{ body, scimType string }{
		"Empty":             {``, scimInvalidSyntax},
		"Whitespace":        {"  \n", scimInvalidSyntax},
		"BadJSON":           {`{"userName":"b",}`, scimInvalidSyntax},
		"Truncated":         {`{"userName":"b"`, scimInvalidSyntax},
		"Trailing":          {`{"userName":"b"}x`, scimInvalidSyntax},
		"Array":             {`[{"userName":"b"}]`, scimInvalidSyntax},
		"String":            {`"b"`, scimInvalidSyntax},
		"TooDeep":           {deep(33), scimInvalidSyntax},
		"NUL":               {`{"userName":"b\u0000"}`, scimInvalidValue},
		"NULDeep":           {`{"userName":"b","emails":[{"value":"a@x","display":"\u0000"}]}`, scimInvalidValue},
		"NULName":           {`{"userName":"b","x\u0000":1}`, scimInvalidValue},
		"UserNameMissing":   {`{"displayName":"b"}`, scimInvalidValue},
		"UserNameNull":      {`{"userName":null}`, scimInvalidValue},
		"UserNameEmpty":     {`{"userName":""}`, scimInvalidValue},
		"UserNameBlank":     {`{"userName":"  "}`, scimInvalidValue},
		"UserNameNumber":    {`{"userName":42}`, scimInvalidValue},
		"ActiveNumber":      {`{"userName":"b","active":1}`, scimInvalidValue},
		"ActiveWord":        {`{"userName":"b","active":"yes"}`, scimInvalidValue},
		"NameString":        {`{"userName":"b","name":"Bob Lee"}`, scimInvalidValue},
		"EmailsString":      {`{"userName":"b","emails":"b@x"}`, scimInvalidValue},
		"EmailNotObject":    {`{"userName":"b","emails":["b@x"]}`, scimInvalidValue},
		"EmailUnknownSub":   {`{"userName":"b","emails":[{"value":"b@x","kind":"work"}]}`, scimInvalidSyntax},
		"TwoPrimary":        {`{"userName":"b","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`, scimInvalidValue},
		"PrimaryWord":       {`{"userName":"b","emails":[{"value":"a@x","primary":"yes"}]}`, scimInvalidValue},
		"ManagerTwo":        {`{"userName":"b","` + urnEnt + `":{"manager":["a","b"]}}`, scimInvalidValue},
		"EnterpriseString":  {`{"userName":"b","` + urnEnt + `":"x"}`, scimInvalidValue},
		"Unknown":           {`{"userName":"b","favouriteColour":"blue"}`, scimInvalidSyntax},
		"UnknownNull":       {`{"userName":"b","favouriteColour":null}`, scimInvalidSyntax},
		"EnterpriseTwoWays": {`{"userName":"b","department":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"y"}}`, scimInvalidValue},
		"PhoneUnknownSub":   {`{"userName":"b","phoneNumbers":[{"value":"1","locality":"x"}]}`, scimInvalidSyntax},
		"TwoPrimaryPhones":  {`{"userName":"b","phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":true}]}`, scimInvalidValue},
		"AddressNumber":     {`{"userName":"b","addresses":[{"locality":7}]}`, scimInvalidValue},
		"Duplicate":         {`{"userName":"b","username":"c"}`, scimInvalidValue},
		"DuplicateExact":    {`{"userName":"b","title":"x","title":"y"}`, scimInvalidValue},
		"DuplicateNested":   {`{"userName":"b","name":{"givenName":"x","GivenName":"y"}}`, scimInvalidValue},
		"PasswordNumber":    {`{"userName":"b","password":7}`, scimInvalidValue},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeUser([]byte(tc.body))
			checkInvalid(t, err, tc.scimType)
		})
	}
	t.Run("DepthLimit", func(t *testing.T) {
		// "name" holding 31 levels of arrays is 32 levels with the body;
		// it is within the limit and then refused as a wrong type.
		_, err := DecodeUser([]byte(deep(32)))
		checkInvalid(t, err, scimInvalidValue)
	})
}

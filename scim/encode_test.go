package scim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// fullProfile assigns every attribute of PRODUCT.md's table.
func fullProfile() scimbridge.Profile {
	return scimbridge.Profile{
		ID: "2819c223-7f76-453a-919d-413861904646",
		Attributes: scimbridge.Attributes{
			UserName:    "bjensen@example.com",
			DisplayName: "Babs Jensen",
			Emails: []scimbridge.Email{
				{Value: "bjensen@example.com", Type: "work", Primary: ptr(true), Display: "Work"},
				{Value: "babs@jensen.org", Type: "home"},
				{Value: "b@other.org", Primary: ptr(false)},
			},
			Title: "Tour Guide", UserType: "Employee",
			GivenName: "Barbara", FamilyName: "Jensen", Formatted: "Ms. Barbara J Jensen, III",
			MiddleName: "Jane", HonorificPrefix: "Ms.", HonorificSuffix: "III",
			NickName: "Babs", Locale: "en-US", Timezone: "America/Los_Angeles",
			PreferredLanguage: "en-US", ProfileURL: "https://login.example.com/bjensen",
			EmployeeNumber: "701984", Department: "Tour Operations", CostCenter: "4130",
			Organization: "Universal Studios", Division: "Theme Park",
			Manager: "26118915-6090-4610-87e4-49d8ca9f808d",
		},
		State:      scimbridge.StateActive,
		ExternalID: "701984-ext",
		Version:    7,
		CreatedAt:  time.Date(2010, 1, 23, 4, 56, 22, 0, time.UTC),
		UpdatedAt:  time.Date(2011, 5, 13, 4, 42, 34, 123456789, time.FixedZone("x", 3600)),
	}
}

func TestEncodeUser_RoundTrip(t *testing.T) {
	for name, mod := range map[string]func(p *scimbridge.Profile){
		"Full":     func(p *scimbridge.Profile) {},
		"Inactive": func(p *scimbridge.Profile) { p.State = scimbridge.StateInactive },
		"NoPrimary": func(p *scimbridge.Profile) {
			p.Emails = []scimbridge.Email{{Value: "a@x"}, {Value: "b@x", Type: "work"}}
		},
		"NoEmails":        func(p *scimbridge.Profile) { p.Emails = nil },
		"NoEnterprise":    func(p *scimbridge.Profile) { p.Attributes = scimbridge.Attributes{UserName: "u", Manager: ""} },
		"OnlyManager":     func(p *scimbridge.Profile) { p.Attributes = scimbridge.Attributes{UserName: "u", Manager: "m"} },
		"SpecialStrings":  func(p *scimbridge.Profile) { p.DisplayName = "<b>\"Q\" & \\ \t\n\u2028 é 😀" },
		"NoExternalID":    func(p *scimbridge.Profile) { p.ExternalID = "" },
		"ControlChars":    func(p *scimbridge.Profile) { p.Title = "a\x01b\x1fc" },
		"LeadingSpaces":   func(p *scimbridge.Profile) { p.Title = "  padded  " },
		"ManagerResolved": func(p *scimbridge.Profile) {},
	} {
		t.Run(name, func(t *testing.T) {
			p := fullProfile()
			mod(&p)
			opts := EncodeOptions{BaseURL: "https://scim.example.com/api/connect/v1"}
			if name == "ManagerResolved" {
				opts.Manager = &Manager{ID: "26118915-6090-4610-87e4-49d8ca9f808d", DisplayName: "John Smith"}
			}
			out, err := EncodeUser(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON: %s", out)
			}
			req, err := DecodeUser(out)
			if err != nil {
				t.Fatalf("DecodeUser(EncodeUser()): %v\n%s", err, out)
			}
			want := scimbridge.DesiredProfile{Attributes: p.Attributes, Active: p.Active(), ExternalID: p.ExternalID}
			if !reflect.DeepEqual(req.Desired, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", dump(req.Desired), dump(want), out)
			}
			if !req.ActiveSet || req.Password {
				t.Fatalf("ActiveSet %v Password %v", req.ActiveSet, req.Password)
			}
			again, _ := EncodeUser(p, opts)
			if string(again) != string(out) {
				t.Fatal("encoding is not deterministic")
			}
		})
	}
}

func TestEncodeUser_Exact(t *testing.T) {
	t.Run("Full", func(t *testing.T) {
		out, err := EncodeUser(fullProfile(), EncodeOptions{
			BaseURL: "https://scim.example.com/api/connect/v1/",
			Manager: &Manager{ID: "26118915-6090-4610-87e4-49d8ca9f808d", DisplayName: "John Smith"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],` +
			`"id":"2819c223-7f76-453a-919d-413861904646","externalId":"701984-ext","userName":"bjensen@example.com",` +
			`"name":{"formatted":"Ms. Barbara J Jensen, III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},` +
			`"displayName":"Babs Jensen","nickName":"Babs","profileUrl":"https://login.example.com/bjensen","title":"Tour Guide","userType":"Employee",` +
			`"preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,` +
			`"emails":[{"value":"bjensen@example.com","display":"Work","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"},{"value":"b@other.org","primary":false}],` +
			`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations",` +
			`"manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d","$ref":"https://scim.example.com/api/connect/v1/Users/26118915-6090-4610-87e4-49d8ca9f808d","displayName":"John Smith"}},` +
			`"meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T03:42:34.123456Z",` +
			`"location":"https://scim.example.com/api/connect/v1/Users/2819c223-7f76-453a-919d-413861904646","version":"W/\"7\""}}`
		if string(out) != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("Minimal", func(t *testing.T) {
		p := scimbridge.Profile{ID: "id-1", Attributes: scimbridge.Attributes{UserName: "u"}, State: scimbridge.StateInactive}
		out, err := EncodeUser(p, EncodeOptions{BaseURL: "https://h/v1"})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"id-1","userName":"u","active":false,` +
			`"meta":{"resourceType":"User","location":"https://h/v1/Users/id-1","version":"W/\"0\""}}`
		if string(out) != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("ManagerUnresolved", func(t *testing.T) {
		p := scimbridge.Profile{ID: "id-1", Attributes: scimbridge.Attributes{UserName: "u", Manager: "ext-9"}}
		out, _ := EncodeUser(p, EncodeOptions{})
		if !strings.Contains(string(out), `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"ext-9"}}`) ||
			strings.Contains(string(out), "$ref") {
			t.Fatalf("got %s", out)
		}
		if !strings.Contains(string(out), `"schemas":["`+SchemaUser+`","`+SchemaEnterprise+`"]`) {
			t.Fatalf("extension schema not listed: %s", out)
		}
	})
	t.Run("NoHTMLEscaping", func(t *testing.T) {
		p := scimbridge.Profile{ID: "i", Attributes: scimbridge.Attributes{UserName: "a<b>&c", Title: "x\u2028y\x00"}}
		out, _ := EncodeUser(p, EncodeOptions{})
		if !strings.Contains(string(out), `"userName":"a<b>&c"`) || !strings.Contains(string(out), `"title":"x\u2028y\u0000"`) {
			t.Fatalf("got %s", out)
		}
	})
	t.Run("NoID", func(t *testing.T) {
		_, err := EncodeUser(scimbridge.Profile{}, EncodeOptions{})
		if scimbridge.ErrorCode(err) != scimbridge.EINTERNAL {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEncodeUser_Attributes(t *testing.T) {
	ent := `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	cases := []struct {
		name              string
		include, exclude  string
		want              []string // top-level keys, in order
		contains, missing []string
	}{
		{name: "Default", want: []string{"schemas", "id", "externalId", "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active", "emails", SchemaEnterprise, "meta"}},
		{name: "UserName", include: "userName", want: []string{"schemas", "id", "userName"},
			missing: []string{ent}},
		{name: "AnyCase", include: "USERNAME,Active", want: []string{"schemas", "id", "userName", "active"}},
		{name: "URNCore", include: urnCore + ":userName", want: []string{"schemas", "id", "userName"}},
		{name: "SubAttribute", include: "name.givenName,emails.value", want: []string{"schemas", "id", "name", "emails"},
			contains: []string{`"name":{"givenName":"Barbara"}`, `"emails":[{"value":"bjensen@example.com"},{"value":"babs@jensen.org"},{"value":"b@other.org"}]`}},
		{name: "Extension", include: urnEnt, want: []string{"schemas", "id", SchemaEnterprise},
			contains: []string{`"schemas":["` + SchemaUser + `","` + SchemaEnterprise + `"]`}},
		{name: "ExtensionAttribute", include: urnEnt + ":department," + urnEnt + ":manager.value", want: []string{"schemas", "id", SchemaEnterprise},
			contains: []string{ent + `:{"department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}`}},
		{name: "Meta", include: "meta.version,meta.location", want: []string{"schemas", "id", "meta"},
			contains: []string{`"meta":{"location":`}, missing: []string{"created"}},
		{name: "Unknown", include: "nothing", want: []string{"schemas", "id"}},
		{name: "ExcludeEmailsMeta", exclude: "emails,meta", want: []string{"schemas", "id", "externalId", "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active", SchemaEnterprise}},
		{name: "ExcludeIDIgnored", include: "userName", exclude: "id,schemas", want: []string{"schemas", "id", "userName"}},
		{name: "ExcludeExtension", include: "userName," + urnEnt, exclude: urnEnt,
			want: []string{"schemas", "id", "userName"}, contains: []string{`"schemas":["` + SchemaUser + `"]`}},
		{name: "ExcludeSub", include: "name,emails", exclude: "name.givenName,emails.type,emails.display,emails.primary",
			want:     []string{"schemas", "id", "name", "emails"},
			contains: []string{`"name":{"formatted":"Ms. Barbara J Jensen, III","familyName":"Jensen","middleName"`, `"emails":[{"value":"bjensen@example.com"},`}},
		{name: "ExcludeAllSubs", include: "name", exclude: "name.formatted,name.familyName,name.givenName,name.middleName,name.honorificPrefix,name.honorificSuffix",
			want: []string{"schemas", "id"}},
		{name: "ExcludeExtensionAttrs", include: urnEnt, exclude: urnEnt + ":manager," + urnEnt + ":department",
			want: []string{"schemas", "id", SchemaEnterprise}, missing: []string{"manager", "Tour Operations"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := EncodeUser(fullProfile(), EncodeOptions{
				BaseURL:            "https://h/v1",
				Attributes:         ParseAttributeList(tc.include),
				ExcludedAttributes: ParseAttributeList(tc.exclude),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := topKeys(t, out); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("keys = %q\nwant   %q\n%s", got, tc.want, out)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(out), s) {
					t.Errorf("missing %s in\n%s", s, out)
				}
			}
			for _, s := range tc.missing {
				if strings.Contains(string(out), s) {
					t.Errorf("unexpected %s in\n%s", s, out)
				}
			}
		})
	}
}

// topKeys returns the top-level keys of a JSON object in order.
func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	v, err := parseJSON(b)
	if err != nil || v.kind != jObject {
		t.Fatalf("parse %s: %v", b, err)
	}
	var keys []string
	for _, m := range v.obj {
		keys = append(keys, m.key)
	}
	return keys
}

func TestParseAttributeList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                 nil,
		" , ,":                             nil,
		"userName":                         {"userName"},
		"userName, name.givenName ,emails": {"userName", "name.givenName", "emails"},
		urnEnt + ":manager,meta":           {urnEnt + ":manager", "meta"},
	} {
		if got := ParseAttributeList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseAttributeList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestETag(t *testing.T) {
	if got := ETag(42); got != `W/"42"` {
		t.Fatalf("ETag(42) = %s", got)
	}
	if got := ETag(0); got != `W/"0"` {
		t.Fatalf("ETag(0) = %s", got)
	}
}

package scim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// checkFuzzError fails unless err is nil or an *scimbridge.Error with code
// EINVALID.
func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *scimbridge.Error
	if !errors.As(err, &e) || e.Code != scimbridge.EINVALID || e.ScimType == "" || e.Message == "" {
		t.Fatalf("error %v (%T) is not an EINVALID *scimbridge.Error with a scimType", err, err)
	}
}

// idpRequests returns the request bodies of testdata/idp.
func idpRequests(f *testing.F, method ...string) [][]byte {
	files, _ := filepath.Glob("testdata/idp/*/*.json")
	var out [][]byte
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var c idpCase
		if err := json.Unmarshal(raw, &c); err != nil {
			f.Fatal(err)
		}
		for _, m := range method {
			if c.Method == m {
				out = append(out, c.Request)
			}
		}
	}
	return out
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`,
		`name.familyName co "O'Malley"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`,
		`title pr or userType eq "Intern"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`emails[type eq "work"].value eq "a@x"`,
		`a eq 1e3 and b eq null and c eq true and d eq "\u00e9\"]["`,
		`((((((((a pr))))))))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFilter(s)
		checkFuzzError(t, err)
		if err == nil && got == nil {
			t.Fatal("nil filter without an error")
		}
	})
}

func FuzzDecodePatchApply(f *testing.F) {
	for _, b := range idpRequests(f, "PATCH") {
		f.Add(b)
	}
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"b@x","primary":true}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"b@x"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickname":"Babs"}}]}`,
		`{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"value":"m"}]}]}`,
		`{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := DecodePatch(body)
		checkFuzzError(t, err)
		if err != nil {
			return
		}
		res, err := ApplyPatch(base(), ops)
		checkFuzzError(t, err)
		if err == nil && res.Desired.UserName == "" {
			t.Fatal("patch left userName empty")
		}
	})
}

func FuzzDecodeUser(f *testing.F) {
	for _, b := range idpRequests(f, "POST", "PUT") {
		f.Add(b)
	}
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen","externalId":"bjensen","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"}}`,
		`{"userName":"b","active":"False","emails":{"value":"b@x","primary":"true"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":["m"]}}`,
		`{"userName":"b","name.givenName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"d"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeUser(body)
		checkFuzzError(t, err)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same thing.
		p := scimbridge.Profile{ID: "id", Attributes: req.Desired.Attributes, ExternalID: req.Desired.ExternalID, State: scimbridge.StateInactive}
		if req.Desired.Active {
			p.State = scimbridge.StateActive
		}
		out, err := EncodeUser(p, EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeUser(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		if !equalDesired(again.Desired, req.Desired) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", dump(req.Desired), dump(again.Desired))
		}
	})
}

func equalDesired(a, b scimbridge.DesiredProfile) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

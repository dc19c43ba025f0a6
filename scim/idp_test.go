package scim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// idpCase is one file of testdata/idp (see its README.md).
type idpCase struct {
	Source        string                     `json:"source"`
	Method        string                     `json:"method"`
	Current       *scimbridge.DesiredProfile `json:"current"`
	Request       json.RawMessage            `json:"request"`
	Want          *scimbridge.DesiredProfile `json:"want"`
	WantPassword  bool                       `json:"wantPassword"`
	WantActiveSet *bool                      `json:"wantActiveSet"`
	WantError     string                     `json:"wantError"`
}

// TestIdPPayloads replays request bodies as Okta, Entra ID, JumpCloud and
// OneLogin send them.
func TestIdPPayloads(t *testing.T) {
	files, err := filepath.Glob("testdata/idp/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("found %d payload files", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(file), "testdata/idp/"), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var tc idpCase
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&tc); err != nil {
				t.Fatalf("read case: %v", err)
			}
			if (tc.Want == nil) == (tc.WantError == "") {
				t.Fatal("a case needs exactly one of want and wantError")
			}
			var got scimbridge.DesiredProfile
			var password bool
			switch tc.Method {
			case "POST", "PUT":
				req, err := DecodeUser(tc.Request)
				if tc.WantError != "" {
					checkInvalid(t, err, tc.WantError)
					return
				}
				if err != nil {
					t.Fatalf("DecodeUser: %v", err)
				}
				if tc.WantActiveSet != nil && req.ActiveSet != *tc.WantActiveSet {
					t.Errorf("ActiveSet = %v, want %v", req.ActiveSet, *tc.WantActiveSet)
				}
				got, password = req.Desired, req.Password
			case "PATCH":
				if tc.Current == nil {
					t.Fatal("a PATCH case needs current")
				}
				ops, err := DecodePatch(tc.Request)
				if err == nil {
					var res PatchResult
					res, err = ApplyPatch(*tc.Current, ops)
					got, password = res.Desired, res.Password
				}
				if tc.WantError != "" {
					checkInvalid(t, err, tc.WantError)
					return
				}
				if err != nil {
					t.Fatalf("patch: %v", err)
				}
			default:
				t.Fatalf("method %q", tc.Method)
			}
			if !reflect.DeepEqual(got, *tc.Want) {
				t.Errorf("desired:\n got %+v\nwant %+v", dump(got), dump(*tc.Want))
			}
			if password != tc.WantPassword {
				t.Errorf("Password = %v, want %v", password, tc.WantPassword)
			}
		})
	}
}

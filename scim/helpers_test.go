package scim

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

const (
	urnEnt  = SchemaEnterprise
	urnCore = SchemaUser
)

func ptr[T any](v T) *T { return &v }

// base is the stored state PATCH cases start from.
func base() scimbridge.DesiredProfile {
	return scimbridge.DesiredProfile{
		Attributes: scimbridge.Attributes{
			UserName:       "bjensen",
			DisplayName:    "Babs Jensen",
			Title:          "Tour Guide",
			GivenName:      "Barbara",
			FamilyName:     "Jensen",
			NickName:       "Babs",
			EmployeeNumber: "701984",
			Department:     "Tour Operations",
			Manager:        "m-1",
			Emails: []scimbridge.Email{
				{Value: "bjensen@example.com", Type: "work", Primary: ptr(true)},
				{Value: "babs@jensen.org", Type: "home"},
			},
		},
		Active:     true,
		ExternalID: "ext-1",
	}
}

// checkInvalid asserts err is an *scimbridge.Error with code EINVALID and
// the given scimType (any scimType when scimType is "").
func checkInvalid(t *testing.T, err error, scimType string) {
	t.Helper()
	var e *scimbridge.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *scimbridge.Error", err, err)
	}
	if e.Code != scimbridge.EINVALID {
		t.Fatalf("code = %q, want %q (%v)", e.Code, scimbridge.EINVALID, err)
	}
	if scimType != "" && e.ScimType != scimType {
		t.Fatalf("scimType = %q, want %q (%v)", e.ScimType, scimType, err)
	}
	if e.Message == "" {
		t.Fatalf("empty message")
	}
	for _, leak := range []string{"parse conflict", "func", "internal error", "secret"} {
		if strings.Contains(e.Message, leak) {
			t.Fatalf("message %q leaks %q", e.Message, leak)
		}
	}
}

// patchBody wraps operations (JSON text) in a PatchOp message.
func patchBody(ops ...string) []byte {
	return []byte(`{"schemas":["` + SchemaPatchOp + `"],"Operations":[` + strings.Join(ops, ",") + `]}`)
}

// patch decodes and applies ops to current.
func patch(current scimbridge.DesiredProfile, ops ...string) (PatchResult, error) {
	decoded, err := DecodePatch(patchBody(ops...))
	if err != nil {
		return PatchResult{}, err
	}
	return ApplyPatch(current, decoded)
}

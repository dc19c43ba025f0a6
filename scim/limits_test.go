package scim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
)

// TestValueLimits checks that neither a body nor a series of PATCH
// operations builds a profile over the value limits.
func TestValueLimits(t *testing.T) {
	wantInvalid := func(t *testing.T, err error, attr string) {
		t.Helper()
		if scimbridge.ErrorScimType(err) != scimInvalidValue || !strings.Contains(scimbridge.ErrorMessage(err), attr) {
			t.Fatalf("error %v, want invalidValue naming %s", err, attr)
		}
	}
	t.Run("DecodeUser", func(t *testing.T) {
		_, err := DecodeUser([]byte(fmt.Sprintf(`{"userName":"u","externalId":%q}`, strings.Repeat("L", 40000))))
		wantInvalid(t, err, "externalId")
		_, err = DecodeUser([]byte(fmt.Sprintf(`{"userName":"u","name":{"givenName":%q}}`, strings.Repeat("g", 4097))))
		wantInvalid(t, err, "name.givenName")
		if _, err := DecodeUser([]byte(fmt.Sprintf(`{"userName":%q}`, strings.Repeat("u", 1024)))); err != nil {
			t.Fatalf("userName at the limit: %v", err)
		}
	})
	t.Run("PatchAddsEmailsOneByOne", func(t *testing.T) {
		var ops []PatchOp
		for i := range 21 {
			ops = append(ops, PatchOp{Op: "add", Path: "emails", Value: []byte(fmt.Sprintf(`[{"value":"e%d@example.com"}]`, i))})
		}
		cur := scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "u"}}
		if _, err := ApplyPatch(cur, ops[:20]); err != nil {
			t.Fatalf("20 emails: %v", err)
		}
		_, err := ApplyPatch(cur, ops)
		wantInvalid(t, err, "emails has 21 entries")
	})
	t.Run("PatchGrowsDisplayName", func(t *testing.T) {
		cur := scimbridge.DesiredProfile{Attributes: scimbridge.Attributes{UserName: "u"}}
		_, err := ApplyPatch(cur, []PatchOp{{Op: "replace", Value: []byte(fmt.Sprintf(`{"displayName":%q}`, strings.Repeat("d", 4097)))}})
		wantInvalid(t, err, "displayName")
		_, err = ApplyPatch(cur, []PatchOp{{Op: "add", Path: `emails[type eq "work"].value`, Value: []byte(fmt.Sprintf("%q", strings.Repeat("x", 1025)))}})
		wantInvalid(t, err, "emails[0].value")
	})
}

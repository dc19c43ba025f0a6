package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

func TestParseGroupScope(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", ""},
		{"none", ""},
		{"NONE", ""},
		{"all", "all"},
		{" All ", "all"},
		{"query:email:sales*", "query:email:sales*"},
		{"query: name='Sales Team' ", "query:name='Sales Team'"},
		{"emails:B@example.com, a@example.com,b@example.com,", "emails:b@example.com,a@example.com"},
	} {
		gs, err := bridge.ParseGroupScope(tc.in)
		if err != nil || gs.String() != tc.want {
			t.Errorf("ParseGroupScope(%q) = %q, %v; want %q", tc.in, gs.String(), err, tc.want)
		}
	}
	for _, in := range []string{"some", "all:x", "none:x", "query:", "query:a\nb", "emails:", "emails:,", "emails:nobody",
		"emails:Ann <ann@example.com>", "query:" + strings.Repeat("x", 2000)} {
		_, err := bridge.ParseGroupScope(in)
		if scimbridge.ErrorCode(err) != scimbridge.EINVALID || !strings.Contains(err.Error(), "use all, query:QUERY") {
			t.Errorf("ParseGroupScope(%q) = %v, want EINVALID saying what is accepted", in, err)
		}
	}
}

func TestCheckGroupSettings(t *testing.T) {
	for _, s := range []scimbridge.BridgeSettings{{UsersFromGroups: true}, {FlattenGroups: true}, {Groups: "bogus"}} {
		if err := bridge.CheckGroupSettings(s); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("CheckGroupSettings(%+v) = %v, want EINVALID", s, err)
		}
	}
	if err := bridge.CheckGroupSettings(scimbridge.BridgeSettings{Groups: "all", FlattenGroups: true, UsersFromGroups: true}); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}

// FuzzParseGroupScope checks that any --groups value is either refused as
// EINVALID or parses to a scope whose stored form parses to itself.
func FuzzParseGroupScope(f *testing.F) {
	for _, s := range []string{"", "none", "all", "query:email:sales*", "query:name='Sales Team'", "emails:a@example.com,b@example.com",
		"emails:", "query:", "all:", "emails:a@b,,c@d", "QUERY:x", "emails:\"a b\"@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		gs, err := bridge.ParseGroupScope(in)
		if err != nil {
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Fatalf("ParseGroupScope(%q) = %v, not EINVALID", in, err)
			}
			return
		}
		again, err := bridge.ParseGroupScope(gs.String())
		if err != nil || again.String() != gs.String() {
			t.Fatalf("stored form %q of %q parses to %q, %v", gs.String(), in, again.String(), err)
		}
	})
}

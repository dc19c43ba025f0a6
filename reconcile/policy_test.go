package reconcile

import (
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestPolicyFor(t *testing.T) {
	for _, tt := range []struct {
		mode                 scimbridge.BridgeMode
		deactivates, applies bool
	}{
		{scimbridge.ModeSync, true, true},
		{scimbridge.ModeUpsertOnly, false, true},
		{scimbridge.ModeDryRun, true, false},
		{"", true, true},
	} {
		pol := PolicyFor(tt.mode)
		if pol.Deactivates != tt.deactivates || pol.Applies != tt.applies {
			t.Errorf("PolicyFor(%q) = %+v", tt.mode, pol)
		}
		if skip := pol.deactivation(ReasonMissing); (skip == "") != tt.deactivates {
			t.Errorf("%q: deactivation skip %q", tt.mode, skip)
		}
	}
	if got := PolicyFor(scimbridge.ModeUpsertOnly).deactivation(ReasonSuspended); got != "upsert-only: not deactivated (suspended in Google)" {
		t.Errorf("upsert-only skip = %q", got)
	}
}

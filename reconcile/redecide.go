package reconcile

import (
	"time"

	"github.com/scimbridge/scimbridge"
)

// bridgeDiff is how the bridge compares emails: Google's order and case of
// addresses are not changes worth a write.
var bridgeDiff = DiffOptions{IgnoreEmailOrder: true, FoldEmailCase: true}

// absence reports whether reason deactivates a profile no listed user
// wants.
func absence(reason string) bool {
	return reason == ReasonOutOfScope || reason == ReasonDeleted || reason == ReasonMissing
}

// Redecide rebuilds a planned change on fresh, its profile as another
// writer left it after the plan (the store refused the planned version),
// with the same rules the plan used. ok is false when the same kind of
// change no longer fits (the caller skips it as "changed since plan");
// write is false when nothing is left to do.
func Redecide(org scimbridge.Organization, fresh scimbridge.Profile, pc PlannedChange, now time.Time) (c scimbridge.Change, write, ok bool) {
	d := pc.Desired
	claim := ClaimOf(org, scimbridge.SourceGoogle, fresh)
	switch pc.Change.Kind {
	case scimbridge.ChangeUpdate, scimbridge.ChangeDeactivate, scimbridge.ChangeReactivate:
		if claim != ClaimManaged {
			return c, false, false
		}
		if absence(pc.Reason) {
			d = NormalizeProfile(fresh)
			d.p.Active = false
		}
		if len(DiffWith(bridgeDiff, fresh, d)) == 0 {
			return c, false, true
		}
		kind := UpdateKind(fresh, d)
		if kind != pc.Change.Kind {
			return c, false, false
		}
		var err error
		if c, err = Apply(fresh, d, kind, now); err != nil {
			return c, false, false
		}
	case scimbridge.ChangeAdopt:
		if claim != ClaimAdopt {
			return c, false, false
		}
		var err error
		if c, err = Adopt(fresh, scimbridge.SourceGoogle, d, now); err != nil {
			return c, false, false
		}
	default:
		return c, false, false
	}
	c.Reason = pc.Reason
	c.Profile.DesiredHash = Hash(d)
	return c, true, true
}

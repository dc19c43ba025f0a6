package bridge

import (
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// FirstSyncRows returns what a first sync writes for one listed page: the
// create of every in-scope, not excluded user with its event, built by the
// same mapping and event encoding a run uses, without planning anything.
// It is the per-page work of the first sync's floor (bench/bridgecopyfloor).
func FirstSyncRows(org scimbridge.Organization, settings scimbridge.BridgeSettings, runID, publicURL string,
	page []GoogleUser, newID func() string, now time.Time) ([]scimbridge.ChangeEvent, error) {
	a := &applier{orgID: org.ID, org: org, runID: runID, baseURL: (&Runner{PublicURL: publicURL}).scimBaseURL()}
	out := make([]scimbridge.ChangeEvent, 0, len(page))
	for i := range page {
		u := &page[i]
		if in, _ := InScope(*u, settings); !in || Excluded(*u, settings) {
			continue
		}
		du := reconcile.DirectoryUser{Desired: reconcile.Normalize(MapUser(*u)), Suspended: u.Suspended, Archived: u.Archived}
		pc, err := reconcile.BuildCreate(org.ID, du, reconcile.ReasonNew, newID(), now)
		if err != nil {
			return nil, err
		}
		out = append(out, scimbridge.ChangeEvent{Change: pc.Change, Event: a.event(pc, now)})
	}
	return out, nil
}

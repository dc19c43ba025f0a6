package bridge

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge"
)

// profileIDOf returns the id of the live profile whose Google id is gid,
// for what a run plans beyond users (group members): the run's compact
// index answers for the profiles stored before it listed, the store for
// those it created since. ok is false when no profile has that Google id.
func (r *Runner) profileIDOf(ctx context.Context, st *run, gid string) (id string, ok bool, err error) {
	if gid == "" {
		return "", false, nil
	}
	if st.index != nil {
		if e := st.index.find(gid); e != nil {
			return e.id.String(), true, nil
		}
	}
	found, err := r.Store.LookupProfiles(ctx, st.bridge.OrgID, scimbridge.ProfileLookup{GoogleID: gid})
	if err != nil {
		return "", false, fmt.Errorf("look up google id: %w", err)
	}
	for _, p := range found {
		if p.GoogleID == gid && !p.Detached() {
			return p.ID, true, nil
		}
	}
	return "", false, nil
}

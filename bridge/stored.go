package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/reconcile"
)

// maxLoadRounds bounds how often one plan asks for more whole profiles (a
// change it plans can make another profile's change necessary).
const maxLoadRounds = 4

// recentChanges reads the guard's trailing counts.
func (r *Runner) recentChanges(ctx context.Context, orgID string) (reconcile.RecentCounts, error) {
	var c reconcile.RecentCounts
	var err error
	c.Deactivations, c.Reactivations, err = r.Store.RecentBridgeChanges(ctx, orgID, r.now().Add(-guardWindow))
	if err != nil {
		return c, fmt.Errorf("count recent changes: %w", err)
	}
	return c, nil
}

// plan plans the directory, loading whole the stored profiles the plan
// changes and planning again, until it needs none it does not have.
func (r *Runner) plan(ctx context.Context, orgID string, in *reconcile.DirectoryInput) (reconcile.DirectoryPlan, error) {
	var pos map[string]int
	for round := 1; ; round++ {
		plan, err := reconcile.PlanDirectory(*in)
		var missing *reconcile.MissingProfilesError
		if !errors.As(err, &missing) {
			return plan, err
		}
		if round == maxLoadRounds {
			return plan, fmt.Errorf("plan directory: %w", err)
		}
		full, err := r.Store.ProfilesByID(ctx, orgID, missing.IDs)
		if err != nil {
			return plan, fmt.Errorf("load changed profiles: %w", err)
		}
		if pos == nil {
			pos = make(map[string]int, len(in.Index))
			for i := range in.Index {
				pos[in.Index[i].ID] = i
			}
		}
		for i := range full {
			if j, ok := pos[full[i].ID]; ok {
				in.Index[j] = reconcile.StoredView(&full[i])
			}
		}
	}
}

// deletedIDs lists the recently deleted users (the showDeleted pass) and
// returns their Google ids.
func deletedIDs(ctx context.Context, dir *Directory, customer string) (map[string]bool, error) {
	ids := map[string]bool{}
	_, err := dir.EachPage(ctx, customer, true, func(page []GoogleUser) error {
		for i := range page {
			ids[page[i].ID] = true
		}
		return nil
	})
	return ids, err
}

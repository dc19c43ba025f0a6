package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// ProfileIndexer is implemented by stores that give the planner a light
// view of the stored profiles (package store's *DB does): a run then loads
// every profile's few planning columns and whole rows only for the
// profiles its plan changes. Without it a run loads every profile whole.
type ProfileIndexer interface {
	// ProfileIndex returns every non-detached profile of the
	// organization, without Full.
	ProfileIndex(ctx context.Context, orgID string) ([]reconcile.StoredProfile, error)
	// ProfilesByID returns the whole profiles with these ids.
	ProfilesByID(ctx context.Context, orgID string, ids []string) ([]scimbridge.Profile, error)
	// RecentBridgeChanges counts the bridge's deactivations and
	// reactivations since a time, as two CountRecentChanges would.
	RecentBridgeChanges(ctx context.Context, orgID string, since time.Time) (deactivations, reactivations int, err error)
}

// maxLoadRounds bounds how often one plan asks for more whole profiles (a
// change it plans can make another profile's change necessary).
const maxLoadRounds = 4

// storedSide is the stored half of a plan's input.
type storedSide struct {
	// index is set when the store is a ProfileIndexer, else full.
	index  []reconcile.StoredProfile
	full   []scimbridge.Profile
	loader ProfileIndexer
	recent reconcile.RecentCounts
}

// loadStored reads the organization's stored profiles (light when the
// store allows) and the guard's trailing counts.
func (r *Runner) loadStored(ctx context.Context, orgID string) (storedSide, error) {
	var s storedSide
	var err error
	if ix, ok := r.Store.(ProfileIndexer); ok {
		s.loader = ix
		if s.index, err = ix.ProfileIndex(ctx, orgID); err != nil {
			return s, fmt.Errorf("load stored profiles: %w", err)
		}
	} else if s.full, err = r.storedProfiles(ctx, orgID); err != nil {
		return s, err
	}
	if s.loader != nil {
		s.recent.Deactivations, s.recent.Reactivations, err = s.loader.RecentBridgeChanges(ctx, orgID, r.now().Add(-guardWindow))
	} else {
		s.recent, err = r.recentCounts(ctx, orgID, r.now())
	}
	return s, err
}

// storedProfiles returns every non-detached profile of the organization,
// one query per source.
func (r *Runner) storedProfiles(ctx context.Context, orgID string) ([]scimbridge.Profile, error) {
	var all []scimbridge.Profile
	for _, src := range []scimbridge.Source{scimbridge.SourceGoogle, scimbridge.SourceSCIM,
		scimbridge.SourceManual, scimbridge.SourceSAML} {
		ps, err := r.Store.ManagedProfiles(ctx, orgID, src)
		if err != nil {
			return nil, fmt.Errorf("load stored profiles: %w", err)
		}
		all = append(all, ps...)
	}
	return all, nil
}

// plan plans the directory, loading whole the stored profiles the plan
// changes and planning again, until it needs none it does not have.
func (r *Runner) plan(ctx context.Context, orgID string, in *reconcile.DirectoryInput, s storedSide) (reconcile.DirectoryPlan, error) {
	var pos map[string]int
	for round := 1; ; round++ {
		plan, err := reconcile.PlanDirectory(*in)
		var missing *reconcile.MissingProfilesError
		if !errors.As(err, &missing) {
			return plan, err
		}
		if s.loader == nil || round == maxLoadRounds {
			return plan, fmt.Errorf("plan directory: %w", err)
		}
		full, err := s.loader.ProfilesByID(ctx, orgID, missing.IDs)
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

// listingHint guesses how many users the listing holds: as many as the
// last planned run saw (0 when there is none).
func (r *Runner) listingHint(ctx context.Context, orgID, runID string) int {
	reps, err := r.Store.Reports(ctx, orgID, reportHistory)
	if err != nil {
		return 0
	}
	for _, rep := range reps {
		if rep.ID == runID {
			continue
		}
		switch rep.Status {
		case scimbridge.ReportApplied, scimbridge.ReportHeld, scimbridge.ReportDryRun:
			c := rep.Counts
			return c.Created + c.Updated + c.Deactivated + c.Reactivated + c.Unchanged + c.Skipped + c.Failed + c.Held
		}
	}
	return 0
}

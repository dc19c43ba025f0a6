package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// maxHeldReports caps how many refreshing reports a held plan remembers.
const maxHeldReports = 50

// heldPlan is an organization's one held plan, stored as JSON: the keys of
// the held changes (what an approval applies, if still planned) and the
// reports that hold it, the first one being the plan's own report.
type heldPlan struct {
	ReportIDs []string `json:"report_ids"`
	Keys      []string `json:"keys"`
	Reason    string   `json:"reason,omitempty"`
}

// HeldPlan is the organization's pending held plan, for status displays.
type HeldPlan struct {
	ReportID string    `json:"report_id"`
	Changes  int       `json:"changes"`
	Reason   string    `json:"reason,omitempty"`
	Expires  time.Time `json:"expires_at"`
	Expired  bool      `json:"expired"`
	// Reports are the runs that held the same (or a smaller) set since.
	Reports []string `json:"reports,omitempty"`
}

// PendingHeldPlan returns the organization's held plan; ok is false when
// there is none.
func PendingHeldPlan(ctx context.Context, s scimbridge.Store, orgID string, now time.Time) (HeldPlan, bool, error) {
	id, hp, exp, err := loadHeld(ctx, s, orgID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return HeldPlan{}, false, nil
	} else if err != nil {
		return HeldPlan{}, false, err
	}
	return HeldPlan{ReportID: id, Changes: len(hp.Keys), Reason: hp.Reason, Expires: exp,
		Expired: !exp.After(now), Reports: hp.ReportIDs}, true, nil
}

func loadHeld(ctx context.Context, s scimbridge.Store, orgID string) (string, heldPlan, time.Time, error) {
	id, raw, exp, err := s.HeldPlan(ctx, orgID)
	if err != nil {
		if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
			return "", heldPlan{}, exp, err
		}
		return "", heldPlan{}, exp, fmt.Errorf("read held plan: %w", err)
	}
	var hp heldPlan
	if err := json.Unmarshal(raw, &hp); err != nil {
		return "", heldPlan{}, exp, fmt.Errorf("decode held plan: %w", err)
	}
	if len(hp.ReportIDs) == 0 || hp.ReportIDs[0] != id {
		hp.ReportIDs = append([]string{id}, hp.ReportIDs...)
	}
	return id, hp, exp, nil
}

func (r *Runner) putHeld(ctx context.Context, orgID string, hp heldPlan, exp time.Time) error {
	raw, err := json.Marshal(hp)
	if err != nil {
		return fmt.Errorf("encode held plan: %w", err)
	}
	if err := r.Store.PutHeldPlan(ctx, orgID, hp.ReportIDs[0], raw, exp); err != nil {
		return fmt.Errorf("store held plan: %w", err)
	}
	return nil
}

// settleHeld records the changes a run holds. At most one held plan per
// organization: a run holding the same or a smaller set refreshes it, a
// different set supersedes it, and a run holding nothing makes it moot.
// An approval consumes the plan it approved.
func (r *Runner) settleHeld(ctx context.Context, st *run, guard reconcile.GuardResult, held []reconcile.PlannedChange) error {
	if st.groups.deferHeld(guard, held) {
		return nil // settled with the groups' held changes
	}
	groupKeys := st.groups.heldKeys()
	orgID, runID, now := st.bridge.OrgID, st.report.ID, r.now()
	oldID, old, oldExp, err := loadHeld(ctx, r.Store, orgID)
	exists := err == nil
	if err != nil && scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		return err
	}
	if exists && (st.req.approve != nil || len(held)+len(groupKeys) == 0 || !oldExp.After(now)) {
		if err := r.Store.DeleteHeldPlan(ctx, orgID); err != nil {
			return fmt.Errorf("delete held plan: %w", err)
		}
		note := "no longer pending: report " + runID + " held nothing"
		switch {
		case st.req.approve != nil:
			note = "approved: applied by report " + runID
		case !oldExp.After(now):
			note = "expired without approval"
		}
		r.annotateAll(ctx, orgID, old.ReportIDs, note)
		exists = false
	}
	if len(held)+len(groupKeys) == 0 {
		return nil
	}
	st.tally.hold(held)
	st.report.Status = scimbridge.ReportHeld
	keys := append(reconcile.HeldKeys(held), groupKeys...)
	guard.Reason = st.groups.heldReason(guard.Reason)
	if exists && reconcile.SameOrSubset(keys, old.Keys) {
		old.Keys, old.Reason = keys, guard.Reason
		old.ReportIDs = append(old.ReportIDs, runID)
		if len(old.ReportIDs) > maxHeldReports {
			old.ReportIDs = slices.Delete(old.ReportIDs, 1, len(old.ReportIDs)-maxHeldReports+1)
		}
		if err := r.putHeld(ctx, orgID, old, oldExp); err != nil {
			return err
		}
		st.report.HeldUntil = &oldExp
		st.logger.Info("held plan refreshed", "held_report_id", oldID, "changes", len(keys))
		return nil
	}
	exp := now.Add(HeldPlanTTL)
	if err := r.putHeld(ctx, orgID, heldPlan{ReportIDs: []string{runID}, Keys: keys, Reason: guard.Reason}, exp); err != nil {
		return err
	}
	st.report.HeldUntil = &exp
	if exists {
		r.annotateAll(ctx, orgID, old.ReportIDs, "superseded by report "+runID)
		st.logger.Info("held plan superseded", "superseded_report_id", oldID, "changes", len(keys))
	} else {
		st.logger.Info("changes held for approval", "changes", len(keys), "reason", guard.Reason)
	}
	return nil
}

func (r *Runner) annotateAll(ctx context.Context, orgID string, ids []string, note string) {
	for _, id := range ids {
		r.annotate(ctx, orgID, id, note)
	}
}

// checkApproval makes sure, under the lease, that the plan being approved
// is still the organization's held plan.
func (r *Runner) checkApproval(ctx context.Context, st *run) error {
	id, _, _, err := loadHeld(ctx, r.Store, st.bridge.OrgID)
	if err != nil || id != st.req.approve.plan.ReportIDs[0] {
		return &runFailure{msg: "the held plan changed before the approval ran: review the latest report"}
	}
	return nil
}

// pendingHeld returns the organization's held plan when reportID is one of
// its reports and it has not expired.
func (r *Runner) pendingHeld(ctx context.Context, orgID, reportID string) (heldPlan, error) {
	id, hp, exp, err := loadHeld(ctx, r.Store, orgID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return hp, scimbridge.Errorf(scimbridge.ENOTFOUND, "no held plan is pending")
	} else if err != nil {
		return hp, err
	}
	if !slices.Contains(hp.ReportIDs, reportID) {
		return hp, scimbridge.Errorf(scimbridge.ENOTFOUND, "report %s holds no pending plan (the pending plan is report %s)", reportID, id)
	}
	if !exp.After(r.now()) {
		return hp, scimbridge.Errorf(scimbridge.EINVALID, "the held plan of report %s expired at %s: the next run holds its changes again",
			id, exp.UTC().Format(time.RFC3339))
	}
	return hp, nil
}

// Approve approves the held plan of reportID: it lists Google again,
// plans afresh and applies, besides what any run applies, only the held
// changes still in the new plan. The approval is a run (trigger approval)
// whose report is returned. Expired plans cannot be approved. The admin
// event of an approval is package admin's.
func (r *Runner) Approve(ctx context.Context, orgID, reportID string) (scimbridge.Report, error) {
	hp, err := r.pendingHeld(ctx, orgID, reportID)
	if err != nil {
		return scimbridge.Report{}, err
	}
	return r.run(ctx, runRequest{orgID: orgID, trigger: scimbridge.TriggerApproval, approve: &approval{plan: hp}})
}

// Discard drops the held plan of reportID; nothing it held is applied.
// The admin event of a discard is package admin's.
func (r *Runner) Discard(ctx context.Context, orgID, reportID string) error {
	id, hp, _, err := loadHeld(ctx, r.Store, orgID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no held plan is pending")
	} else if err != nil {
		return err
	}
	if !slices.Contains(hp.ReportIDs, reportID) {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "report %s holds no pending plan (the pending plan is report %s)", reportID, id)
	}
	if err := r.Store.DeleteHeldPlan(ctx, orgID); err != nil {
		return fmt.Errorf("discard held plan: %w", err)
	}
	r.annotateAll(ctx, orgID, hp.ReportIDs, "discarded")
	return nil
}

// pinExclusions pins each excluded user (matched by primary email or
// alias as the listing was read: DirectoryUser.Excluded) to its Google id,
// so the exclusion survives a rename. It stores the settings when a new id
// was pinned, with an admin event.
func (r *Runner) pinExclusions(ctx context.Context, st *run, users []reconcile.DirectoryUser) (scimbridge.BridgeSettings, error) {
	s := st.bridge.Settings
	if len(s.ExcludedUsers) == 0 {
		return s, nil
	}
	var added []string
	for i := range users {
		id := users[i].Desired.GoogleID()
		if id != "" && users[i].Excluded && !slices.Contains(s.ExcludedGoogleID, id) {
			added = append(added, id)
		}
	}
	if len(added) == 0 {
		return s, nil
	}
	b, err := r.Store.Bridge(ctx, st.bridge.OrgID)
	if err != nil {
		return s, fmt.Errorf("pin exclusions: %w", err)
	}
	if !slices.Equal(b.Settings.ExcludedUsers, s.ExcludedUsers) {
		return s, nil // the settings changed during the run: the next run pins
	}
	b.Settings.ExcludedGoogleID = append(slices.Clone(b.Settings.ExcludedGoogleID), added...)
	b.UpdatedAt = r.now()
	ev := scimbridge.Event{OrgID: b.OrgID, Time: r.now(), Method: "PATCH",
		Path: scimbridge.AdminPath(st.org.Slug, "/bridge/google"), Status: 200, UserAgent: bridgeUserAgent,
		RequestID: uuid.NewString(), Source: scimbridge.EventAdmin, RunID: st.report.ID, Count: 1}
	if body, err := json.Marshal(map[string]any{"excluded_google_ids": b.Settings.ExcludedGoogleID}); err == nil {
		ev.RequestBody = string(body)
	}
	if err := r.Store.PutBridge(ctx, b, ev); err != nil {
		return s, fmt.Errorf("pin exclusions: %w", err)
	}
	st.bridge.Settings = b.Settings
	st.logger.Info("exclusions pinned to google ids", "pinned", len(added))
	return b.Settings, nil
}

package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// StoredProfile is the planner's light view of a stored profile; it lives
// in the root package so the store can return it without importing
// reconcile.
type StoredProfile = scimbridge.StoredProfile

// StoredView returns the planner's view of p, with Full set to p.
func StoredView(p *scimbridge.Profile) StoredProfile {
	return StoredProfile{ID: p.ID, UserName: p.UserName, Email: p.Email, GoogleID: p.GoogleID,
		DesiredHash: p.DesiredHash, Version: p.Version, State: p.State, Source: p.Source, Full: p}
}

// MissingProfilesError says a plan must change stored profiles that were
// given without Full: load them whole, set Full and plan again.
type MissingProfilesError struct {
	IDs []string
}

func (e *MissingProfilesError) Error() string {
	return fmt.Sprintf("plan directory: %d stored profiles must be loaded whole", len(e.IDs))
}

// PlannedCreate is a create the plan defers (DirectoryInput.DeferCreates):
// the listed user it creates, built into a change only when it is applied
// (BuildCreate), so a plan of a whole new directory stays small.
type PlannedCreate struct {
	// User is the index of the listed user in DirectoryInput.Users.
	User   int    `json:"user"`
	Reason string `json:"reason"`
}

// Reasons of creates of users suspended or archived when first seen.
const (
	reasonNewSuspended = ReasonNew + " (suspended)"
	reasonNewArchived  = ReasonNew + " (archived)"
)

// BuildCreate builds the change of a deferred create: the profile id is
// id, its times now. It is what PlanDirectory builds for a create it does
// not defer.
func BuildCreate(orgID string, u DirectoryUser, reason, id string, now time.Time) (PlannedChange, error) {
	d := u.Desired
	prof, err := NewProfile(orgID, scimbridge.SourceGoogle, d, id, now)
	if err != nil {
		return PlannedChange{}, fmt.Errorf("create %s: %w", d.p.UserName, err)
	}
	fields := DiffWith(DiffOptions{}, scimbridge.Profile{}, d)
	fields = append(fields, scimbridge.FieldChange{Field: "email", After: prof.Email})
	c := scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: prof, Reason: reason, Fields: fields}
	return PlannedChange{Change: c, Desired: d, Reason: reason, Hash: prof.DesiredHash}, nil
}

// storedRefs returns the planner's view of every non-detached stored
// profile: in.Stored (whole) then in.Index.
func storedRefs(in *DirectoryInput) []*StoredProfile {
	out := make([]*StoredProfile, 0, len(in.Stored)+len(in.Index))
	for i := range in.Stored {
		if s := &in.Stored[i]; !s.Detached() {
			v := StoredView(s)
			out = append(out, &v)
		}
	}
	for i := range in.Index {
		if s := &in.Index[i]; s.Full == nil || !s.Full.Detached() {
			out = append(out, s)
		}
	}
	return out
}

// full returns the whole stored profile of s, or records that it must be
// loaded.
func (p *planner) full(s *StoredProfile) (*scimbridge.Profile, bool) {
	if s.Full != nil {
		return s.Full, true
	}
	p.missing = append(p.missing, s.ID)
	return nil, false
}

// missingError is the error of a plan that needs profiles it was not given
// whole; nil when it needs none.
func (p *planner) missingError() error {
	if len(p.missing) == 0 {
		return nil
	}
	ids := slices.Clone(p.missing)
	slices.Sort(ids)
	return &MissingProfilesError{IDs: slices.Compact(ids)}
}

// deferCreate records a create the plan defers: a step that only knows the
// keys it takes.
func (p *planner) deferCreate(d Desired, u *DirectoryUser, index int) error {
	email, err := d.Check()
	if err != nil {
		return fmt.Errorf("create %s: %w", d.p.UserName, err)
	}
	p.push(&step{user: index, reason: CreateReason(u), keys: keysOf(d.p.UserName, email)}, true)
	return nil
}

// CreateReason is the reason of the create of a listed user no stored
// profile matches: new, or new and suspended or archived.
func CreateReason(u *DirectoryUser) string {
	switch {
	case u.Desired.p.Active:
		return ReasonNew
	case u.Archived:
		return reasonNewArchived
	default:
		return reasonNewSuspended
	}
}

// keysOf returns the unique keys of a userName and an email, each once.
func keysOf(userName, email string) []string {
	var keys []string
	for _, v := range []string{userName, email} {
		if k := textkey.Key(v); k != "" && (len(keys) == 0 || keys[0] != k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// deferred reports whether the step is a deferred create.
func (s *step) deferred() bool { return s.pc == nil }

// afterKeys returns the keys the profile holds after the step.
func (s *step) afterKeys() []string {
	if s.deferred() {
		return s.keys
	}
	return profileKeys(&s.pc.Change.Profile)
}

func (s *step) group() int {
	if s.deferred() {
		return 0
	}
	return s.pc.Group
}

func (s *step) setGroup(g int) {
	if !s.deferred() {
		s.pc.Group = g
	}
}

// skipItem is the report item of a step the plan drops for reason.
func (p *planner) skipItem(st *step, reason string) scimbridge.ReportItem {
	var d *scimbridge.DesiredProfile
	if st.deferred() {
		d = &p.in.Users[st.user].Desired.p
	} else {
		d = &st.pc.Desired.p
	}
	item := scimbridge.ReportItem{Kind: ItemSkip, GoogleID: d.GoogleID, UserName: d.UserName, Reason: reason}
	if st.ref != nil {
		item.ProfileID = st.ref.ID
	}
	return item
}

// materialize builds a deferred create that cannot stay deferred (it
// waits for a release, or is held).
func (p *planner) materialize(st *step) (PlannedChange, error) {
	if p.in.NewID == nil {
		return PlannedChange{}, scimbridge.Errorf(scimbridge.EINVALID, "no profile id generator")
	}
	pc, err := BuildCreate(p.in.Org.ID, p.in.Users[st.user], st.reason, p.in.NewID(), p.now)
	if err != nil {
		return pc, err
	}
	pc.Group = st.group()
	return pc, nil
}

// assemble builds the plan from its ordered steps: the held ones, the
// deferred creates that depend on nothing, and the rest to apply.
func (p *planner) assemble(ordered []*step, g GuardResult) (DirectoryPlan, error) {
	plan := DirectoryPlan{Skipped: p.skipped, Unchanged: p.unchanged + p.in.Unchanged, Guard: g}
	held, deferred := 0, 0
	for _, s := range ordered {
		switch {
		case s.held:
			held++
		case s.deferred() && len(s.deps) == 0:
			deferred++
		}
	}
	if held > 0 {
		plan.Held = make([]PlannedChange, 0, held)
	}
	if n := len(ordered) - held - deferred; n > 0 {
		plan.Apply = make([]PlannedChange, 0, n)
	}
	if deferred > 0 {
		plan.Creates = make([]PlannedCreate, 0, deferred)
	}
	for _, s := range ordered {
		if s.deferred() && !s.held && len(s.deps) == 0 {
			plan.Creates = append(plan.Creates, PlannedCreate{User: s.user, Reason: s.reason})
			continue
		}
		pc, err := p.planned(s)
		if err != nil {
			return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
		}
		if s.held {
			plan.Held = append(plan.Held, pc)
		} else {
			plan.Apply = append(plan.Apply, pc)
		}
	}
	return plan, nil
}

// planned returns the planned change of a step, building a deferred
// create.
func (p *planner) planned(s *step) (PlannedChange, error) {
	if s.deferred() {
		pc, err := p.materialize(s)
		pc.Guarded = false
		return pc, err
	}
	return *s.pc, nil
}

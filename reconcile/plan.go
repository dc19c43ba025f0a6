package reconcile

import (
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// DirectoryUser is one user of a complete Google listing, already mapped.
type DirectoryUser struct {
	// Desired has GoogleID and ExternalID set; UserName is the primary
	// email. The caller normalised it once, when it mapped the user.
	Desired Desired
	Aliases []string
	// InScope says the user is inside the domain, org-unit and guest scope
	// (applied locally by the caller).
	InScope bool
	// Excluded says the user matches an excluded username or a pinned
	// Google id.
	Excluded bool
	// Suspended and Archived say why Desired.Active is false, for reasons.
	Suspended bool
	Archived  bool
}

// RecentCounts are the deactivations and reactivations the bridge applied
// in the trailing 24 hours.
type RecentCounts struct {
	Deactivations int
	Reactivations int
}

// DirectoryInput is everything PlanDirectory needs: the desired set (the
// complete listing) and the current set (the stored profiles).
type DirectoryInput struct {
	Org      scimbridge.Organization
	Settings scimbridge.BridgeSettings
	// Users is the complete listing.
	Users []DirectoryUser
	// Stored is every non-detached profile of the organization, all sources.
	Stored []scimbridge.Profile
	// Index holds stored profiles in the planner's light view, beside
	// Stored (a caller gives each profile in one of them). A profile whose
	// Full is nil is planned on its view alone: when the plan must change
	// it, PlanDirectory fails with a *MissingProfilesError naming every
	// such profile.
	Index []StoredProfile
	// DeferCreates makes the plan keep creates that depend on no other
	// change as PlannedCreate (DirectoryPlan.Creates) instead of building
	// them.
	DeferCreates bool
	// Deleted holds the Google ids the showDeleted pass confirmed deleted;
	// nil when the pass did not run.
	Deleted map[string]bool
	// Listed is the size of the whole listing when Users holds only part
	// of it: a caller that compared the listing with the stored state as
	// it arrived leaves out the users it found unchanged (counted in
	// Unchanged) or created. 0 means len(Users).
	Listed int
	// Unchanged counts the listed users left out of Users because their
	// stored profile (left out of Stored and Index) needs no write.
	Unchanged int
	// ActiveOmitted counts the active profiles the bridge manages that
	// are left out of Stored and Index, for the guard.
	ActiveOmitted int
	// Present holds the Google ids of profiles given in Stored or Index
	// whose listed user was left out of Users as unchanged: they are
	// listed (never absent) and need no write.
	Present map[string]bool
	Recent  RecentCounts
	Now     time.Time
	// NewID returns the profile id of each create.
	NewID func() string
}

// PlannedChange is one write of a plan.
type PlannedChange struct {
	// Change is the whole after-profile; ExpectedVersion is the stored
	// version (0 for creates).
	Change  scimbridge.Change `json:"change"`
	Desired Desired           `json:"desired"`
	// Hash is Hash(Desired), stored as the profile's DesiredHash with the
	// change. Change.Profile.DesiredHash holds the same value, but it does
	// not survive JSON (a held plan): write Hash.
	Hash   string `json:"hash"`
	Reason string `json:"reason"`
	// Guarded marks a deactivation or reactivation counted by the guard.
	Guarded bool `json:"guarded,omitempty"`
	// Group is shared by the changes that must be applied in one
	// transaction (a rename cycle); 0 means independent.
	Group int `json:"group,omitempty"`
}

// DirectoryPlan is what a bridge run does. It is a pure value: the same
// input always gives the same plan.
type DirectoryPlan struct {
	// Apply is what the run applies now, in dependency order.
	Apply []PlannedChange `json:"apply,omitempty"`
	// Creates are the deferred creates (DirectoryInput.DeferCreates), in
	// planning order. None depends on another change and none is held:
	// they apply after Apply, built by BuildCreate.
	Creates []PlannedCreate `json:"creates,omitempty"`
	// Held is what the guard holds for approval (empty unless guarded), in
	// dependency order.
	Held []PlannedChange `json:"held,omitempty"`
	// Skipped are the users and profiles left alone, with their reason.
	Skipped   []scimbridge.ReportItem `json:"skipped,omitempty"`
	Unchanged int                     `json:"unchanged"`
	Guard     GuardResult             `json:"guard"`
}

// Report item kinds that are not change kinds.
const (
	ItemSkip     scimbridge.ChangeKind = "skip"
	ItemExcluded scimbridge.ChangeKind = "excluded"
)

// Reasons of planned changes and skips.
const (
	ReasonNew            = "new in Google"
	ReasonRenamed        = "renamed"
	ReasonUpdated        = "updated in Google"
	ReasonSuspended      = "suspended in Google"
	ReasonArchived       = "archived in Google"
	ReasonReactivated    = "reactivated in Google"
	ReasonOutOfScope     = "out of scope"
	ReasonDeleted        = "deleted in Google"
	ReasonMissing        = "missing from listing"
	ReasonAddressReused  = "address reused"
	ReasonAdopted        = "adopted"
	ReasonCycle          = "rename cycle: address released"
	ReasonExcludedActive = "excluded, still active"
)

// NeedsDeletedCheck reports whether some active managed profile with a
// Google id is missing from the listing, so the caller runs one
// showDeleted=true pass and plans again with Deleted set. It is false once
// Deleted is set.
func NeedsDeletedCheck(in DirectoryInput) bool {
	if in.Deleted != nil {
		return false
	}
	listed := make(map[string]bool, len(in.Users)+len(in.Present))
	for i := range in.Users {
		listed[in.Users[i].Desired.p.GoogleID] = true
	}
	for id := range in.Present {
		listed[id] = true
	}
	pinned := stringSet(in.Settings.ExcludedGoogleID)
	for _, s := range storedRefs(&in) {
		if bridgeManages(s) && s.Active() &&
			s.GoogleID != "" && !listed[s.GoogleID] && !pinned[s.GoogleID] {
			return true
		}
	}
	return false
}

// PlanDirectory computes the whole-directory plan of one bridge run: what
// to create, update, deactivate and reactivate so the stored google
// profiles match the listing, in an order the store's uniqueness rules
// accept, with the guard applied. Only google profiles are changed (manual
// and SAML ones may be adopted); nothing is ever deleted.
func PlanDirectory(in DirectoryInput) (DirectoryPlan, error) {
	p, err := newPlanner(in)
	if err != nil {
		return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
	}
	for i := range in.Users {
		if err := p.planUser(&in.Users[i], i); err != nil {
			return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
		}
	}
	if err := p.planAbsent(); err != nil {
		return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
	}
	if err := p.resolveConflicts(); err != nil {
		return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
	}
	if err := p.missingError(); err != nil {
		return DirectoryPlan{}, err
	}
	ordered, err := orderSteps(p.live(), p.now)
	if err != nil {
		return DirectoryPlan{}, fmt.Errorf("plan directory: %w", err)
	}
	g := p.guard(ordered)
	holdSteps(ordered, g, in.Settings.Hold)
	return p.assemble(ordered, g)
}

// listRole is what the listing says about a stored profile.
type listRole int

const (
	roleNone       listRole = iota // not matched by any listed user
	roleWanted                     // matched by an in-scope listed user
	roleOutOfScope                 // matched by a listed user outside the scope
	roleExcluded                   // matched by an excluded user, or pinned
	roleForeign                    // another source's profile a listed user matched
)

// planner holds the state of one PlanDirectory call.
type planner struct {
	in      DirectoryInput
	now     time.Time
	policy  Policy
	stored  []*StoredProfile
	byGID   map[string]*StoredProfile
	byKey   map[string][]*StoredProfile // profiles without a Google id
	pinned  map[string]bool
	role    map[string]listRole
	stepOf  map[string]*step // stored profile id -> its step
	steps   []*step
	skipped []scimbridge.ReportItem
	// unchanged counts listed users whose profile needs no write.
	unchanged int
	// missing are the stored profiles the plan must change but was not
	// given whole.
	missing []string
}

func newPlanner(in DirectoryInput) (*planner, error) {
	p := &planner{
		in:     in,
		now:    in.Now.UTC(),
		policy: PolicyFor(in.Settings.Mode),
		byGID:  make(map[string]*StoredProfile, len(in.Stored)+len(in.Index)),
		byKey:  map[string][]*StoredProfile{},
		pinned: stringSet(in.Settings.ExcludedGoogleID),
		role:   map[string]listRole{},
		stepOf: map[string]*step{},
	}
	seen := map[string]bool{}
	for i := range in.Users {
		gid := in.Users[i].Desired.p.GoogleID
		if gid == "" {
			return nil, scimbridge.Errorf(scimbridge.EINVALID, "listed user %q has no google id", in.Users[i].Desired.p.UserName)
		}
		if seen[gid] {
			return nil, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", gid)
		}
		seen[gid] = true
	}
	p.stored = storedRefs(&in)
	for _, s := range p.stored {
		if s.GoogleID != "" && in.Present[s.GoogleID] {
			if seen[s.GoogleID] {
				return nil, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", s.GoogleID)
			}
			p.role[s.ID] = roleWanted
		}
		if s.GoogleID != "" {
			if _, dup := p.byGID[s.GoogleID]; !dup {
				p.byGID[s.GoogleID] = s
			}
			continue
		}
		for _, k := range keysOf(s.UserName, s.Email) {
			p.byKey[k] = append(p.byKey[k], s)
		}
	}
	return p, nil
}

// match finds the stored profile of a listed user: by Google id; failing
// that, among profiles without a Google id, by userName or email equal to
// the primary email. ambiguous is set when two profiles match by address.
func (p *planner) match(d Desired) (target *StoredProfile, ambiguous bool) {
	if s := p.byGID[d.p.GoogleID]; s != nil {
		return s, false
	}
	for _, s := range p.byKey[textkey.Key(d.p.UserName)] {
		if target != nil && target != s {
			return target, true
		}
		target = s
	}
	return target, false
}

// planUser plans one listed user, the index-th of the listing.
func (p *planner) planUser(u *DirectoryUser, index int) error {
	d := u.Desired
	target, ambiguous := p.match(d)
	if target != nil && p.role[target.ID] != roleNone {
		// Two listed users matched the same profile: only by address, so
		// the listing holds the address twice.
		if u.InScope && !u.Excluded && !p.pinned[d.p.GoogleID] {
			p.skipUser(d, target.ID, "uniqueness: "+d.p.UserName+" is listed for two Google users")
		}
		return nil
	}
	switch {
	case u.Excluded || p.pinned[d.p.GoogleID]:
		if target != nil {
			p.role[target.ID] = roleExcluded
			if p.manages(target) && target.Active() {
				p.skipped = append(p.skipped, excludedItem(target))
			}
		}
		return nil
	case !u.InScope:
		if target != nil && p.manages(target) {
			p.role[target.ID] = roleOutOfScope
			if target.Active() {
				return p.deactivate(target, ReasonOutOfScope)
			}
		}
		return nil
	case ambiguous:
		p.skipUser(d, "", "uniqueness: "+d.p.UserName+" matches two existing profiles")
		return nil
	}
	if target != nil && p.manages(target) {
		p.role[target.ID] = roleWanted
		return p.update(target, d, u)
	}
	if !p.valid(d, target) {
		return nil
	}
	if target == nil {
		if p.in.DeferCreates {
			return p.deferCreate(d, u, index)
		}
		return p.create(d, u)
	}
	p.role[target.ID] = roleForeign
	if c := p.claim(target); c != ClaimAdopt {
		p.skipUser(d, target.ID, bridgeSkip(c, target.Source))
		return nil
	}
	return p.addStep(target, d, ReasonAdopted, func(base scimbridge.Profile) (scimbridge.Change, error) {
		return Adopt(base, scimbridge.SourceGoogle, d, p.now)
	})
}

// create plans a new profile; a suspended or archived user is created
// inactive so the directory and the report show it.
func (p *planner) create(d Desired, u *DirectoryUser) error {
	if p.in.NewID == nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "no profile id generator")
	}
	prof, err := NewProfile(p.in.Org.ID, scimbridge.SourceGoogle, d, p.in.NewID(), p.now)
	if err != nil {
		return fmt.Errorf("create %s: %w", d.p.UserName, err)
	}
	reason := ReasonNew
	if !d.p.Active {
		reason += " (" + inactiveWord(u) + ")"
	}
	fields := DiffWith(DiffOptions{}, scimbridge.Profile{}, d)
	fields = append(fields, scimbridge.FieldChange{Field: "email", After: prof.Email})
	c := scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: prof, Reason: reason, Fields: fields}
	p.push(&step{pc: &PlannedChange{Change: c, Desired: d, Reason: reason}}, true)
	return nil
}

// update plans the change of a matched google profile, if any: an
// unchanged hash (and state) skips the diff altogether.
func (p *planner) update(s *StoredProfile, d Desired, u *DirectoryUser) error {
	if s.DesiredHash != "" && s.DesiredHash == Hash(d) && s.Active() == d.p.Active {
		p.unchanged++
		return nil
	}
	if !p.valid(d, s) {
		return nil
	}
	if s.Active() && !d.p.Active {
		if skip := p.policy.deactivation(suspension(u)); skip != "" {
			d.p.Active = true
			p.skipped = append(p.skipped, scimbridge.ReportItem{Kind: ItemSkip, ProfileID: s.ID, GoogleID: d.p.GoogleID,
				UserName: d.p.UserName, Reason: skip})
		}
	}
	full, ok := p.full(s)
	if !ok {
		return nil
	}
	if len(DiffWith(bridgeDiff, *full, d)) == 0 {
		p.unchanged++
		return nil
	}
	kind := UpdateKind(*full, d)
	reason := ReasonUpdated
	switch {
	case kind == scimbridge.ChangeDeactivate:
		reason = suspension(u)
	case kind == scimbridge.ChangeReactivate:
		reason = ReasonReactivated
	case s.UserName != d.p.UserName:
		reason = ReasonRenamed
	}
	return p.addStep(s, d, reason, func(base scimbridge.Profile) (scimbridge.Change, error) {
		return Apply(base, d, kind, p.now)
	})
}

// deactivate plans the deactivation of an active google profile for reason
// (absence), or the skip the policy puts in its place.
func (p *planner) deactivate(s *StoredProfile, reason string) error {
	if skip := p.policy.deactivation(reason); skip != "" {
		p.skipped = append(p.skipped, scimbridge.ReportItem{Kind: ItemSkip, ProfileID: s.ID, GoogleID: s.GoogleID,
			UserName: s.UserName, Reason: skip})
		return nil
	}
	full, ok := p.full(s)
	if !ok {
		return nil
	}
	d := NormalizeProfile(*full)
	d.p.Active = false
	return p.addStep(s, d, reason, func(base scimbridge.Profile) (scimbridge.Change, error) {
		return Apply(base, d, scimbridge.ChangeDeactivate, p.now)
	})
}

// planAbsent deactivates the active google profiles no listed user
// matched: deleted in Google, or missing from the listing. Pinned
// exclusions are never deactivated.
func (p *planner) planAbsent() error {
	for _, s := range p.stored {
		if !p.manages(s) || p.role[s.ID] != roleNone {
			continue
		}
		if p.pinned[s.GoogleID] && s.GoogleID != "" {
			p.role[s.ID] = roleExcluded
			if s.Active() {
				p.skipped = append(p.skipped, excludedItem(s))
			}
			continue
		}
		if !s.Active() {
			continue
		}
		reason := ReasonMissing
		if s.GoogleID != "" && p.in.Deleted[s.GoogleID] {
			reason = ReasonDeleted
		}
		if err := p.deactivate(s, reason); err != nil {
			return err
		}
	}
	return nil
}

// addStep builds the change of stored profile s and records it.
func (p *planner) addStep(s *StoredProfile, d Desired, reason string, build func(scimbridge.Profile) (scimbridge.Change, error)) error {
	full, ok := p.full(s)
	if !ok {
		return nil
	}
	c, err := build(*full)
	if err != nil {
		return fmt.Errorf("plan %s: %w", s.UserName, err)
	}
	c.Reason = reason
	st := &step{pc: &PlannedChange{Change: c, Desired: d, Reason: reason}, before: full, ref: s, build: build}
	p.push(st, true)
	return nil
}

// push records a step (replacing the profile's earlier step, if any) and
// seals it; hashed says its builder already hashed its desired state.
func (p *planner) push(st *step, hashed bool) {
	st.seal(hashed)
	if st.ref != nil {
		if old := p.stepOf[st.ref.ID]; old != nil {
			old.dead = true
		}
		p.stepOf[st.ref.ID] = st
	}
	st.seq = len(p.steps)
	p.steps = append(p.steps, st)
}

// live returns the steps still planned, in planning order.
func (p *planner) live() []*step {
	out := make([]*step, 0, len(p.steps))
	for _, s := range p.steps {
		if !s.dead {
			out = append(out, s)
		}
	}
	return out
}

// valid reports whether d can be stored (a userName, an email, no NUL);
// otherwise it records the user as skipped.
func (p *planner) valid(d Desired, target *StoredProfile) bool {
	_, err := d.Check()
	if err == nil {
		return true
	}
	id := ""
	if target != nil {
		id = target.ID
	}
	p.skipUser(d, id, "invalid: "+scimbridge.ErrorMessage(err))
	return false
}

func (p *planner) skipUser(d Desired, profileID, reason string) {
	p.skipped = append(p.skipped, scimbridge.ReportItem{Kind: ItemSkip, ProfileID: profileID,
		GoogleID: d.p.GoogleID, UserName: d.p.UserName, Reason: reason})
}

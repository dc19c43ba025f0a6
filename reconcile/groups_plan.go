package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// groupHashVersion changes when the group hash's encoding does.
const groupHashVersion = "g1"

// Reasons of planned group changes.
const (
	ReasonGroupNew       = "new in Google"
	ReasonGroupRenamed   = "renamed in Google"
	ReasonGroupMembers   = "members changed in Google"
	ReasonGroupUpdated   = "updated in Google"
	ReasonGroupNotListed = "no longer listed (deleted in Google or outside the group scope)"
)

// GroupKeyPrefix begins the held-plan key of every group change, so one
// held plan holds user and group changes apart.
const GroupKeyPrefix = "group:"

// DirectoryGroup is one Google group of the group scope, its members
// already resolved to the profiles of the synced user set.
type DirectoryGroup struct {
	GoogleID string
	Name     string
	// Members are profile ids, sorted, each once.
	Members []string
}

// GroupsInput is what PlanGroups needs: the desired groups (the complete
// listing of the group scope) and the organization's bridge groups.
type GroupsInput struct {
	OrgID    string
	Settings scimbridge.BridgeSettings
	Groups   []DirectoryGroup
	// Stored are the organization's groups of source google.
	Stored []scimbridge.Group
	// Current holds the members (profile ids) of every stored group
	// GroupsToLoad named.
	Current map[string][]string
	// Memberships counts the memberships of the stored groups, the base of
	// the removal guard; read only when the plan removes members.
	Memberships func() (int, error)
	Now         time.Time
	NewID       func() string
}

// PlannedGroupChange is one planned write of one group: the whole change,
// with as many members as it adds and removes (the applier splits it into
// changes of at most scimbridge.MaxMemberChanges members).
type PlannedGroupChange struct {
	Change  scimbridge.GroupChange `json:"change"`
	Hash    string                 `json:"hash"`
	Reason  string                 `json:"reason"`
	Before  int                    `json:"before"` // members before
	Guarded bool                   `json:"guarded,omitempty"`
}

// Key identifies the change across runs, for held plans: its kind and the
// group's Google id.
func (pc PlannedGroupChange) Key() string {
	return GroupKeyPrefix + string(pc.Change.Kind) + ":" + pc.Change.Group.GoogleID
}

// ReportItem is the change's report item: the group's id, Google id and
// name, the reason, and what changed (displayName, members added and
// removed).
func (pc PlannedGroupChange) ReportItem(held bool) scimbridge.ReportItem {
	c := &pc.Change
	it := scimbridge.ReportItem{Kind: c.Kind, ProfileID: c.Group.ID, GoogleID: c.Group.GoogleID,
		UserName: c.Group.DisplayName, Reason: pc.Reason, Fields: c.Fields, Held: held}
	if n := len(c.AddMembers); n > 0 {
		it.Fields = append(slices.Clip(it.Fields), scimbridge.FieldChange{Field: "members added", After: strconv.Itoa(n)})
	}
	if n := len(c.RemoveMembers); n > 0 {
		it.Fields = append(slices.Clip(it.Fields), scimbridge.FieldChange{Field: "members removed", After: strconv.Itoa(n)})
	}
	return it
}

// GroupsGuard says whether the group guard tripped, and for what.
type GroupsGuard struct {
	Guarded        bool   `json:"guarded"`
	Reason         string `json:"reason,omitempty"`
	Deletes        int    `json:"deletes"`
	Groups         int    `json:"groups"`
	Removals       int    `json:"removals"`
	Memberships    int    `json:"memberships"`
	DeletesGuarded bool   `json:"deletes_guarded,omitempty"`
	RemovalGuarded bool   `json:"removals_guarded,omitempty"`
}

// GroupsPlan is what a run does to groups.
type GroupsPlan struct {
	Apply     []PlannedGroupChange
	Held      []PlannedGroupChange
	Unchanged int
	Guard     GroupsGuard
}

// MissingMembersError names the stored groups whose members PlanGroups
// needs and Current lacks.
type MissingMembersError struct{ IDs []string }

func (e *MissingMembersError) Error() string {
	return fmt.Sprintf("plan groups: the members of %d groups are not loaded", len(e.IDs))
}

// GroupHash is the hash of a group's desired state: its name and member
// set (sorted profile ids).
func GroupHash(name string, members []string) string {
	h := sha256.New()
	put := func(s string) {
		h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	put(groupHashVersion)
	put(name)
	for _, m := range members {
		put(m)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// GroupName is the displayName a Google group gets: its name, else its
// email.
func GroupName(name, email string) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	return email
}

// GroupsToLoad returns the ids of the stored groups the plan changes, in
// order: those whose hash differs from the desired one. Only their
// members are loaded; an unchanged group is not read.
func GroupsToLoad(in GroupsInput) []string {
	desired := make(map[string]*DirectoryGroup, len(in.Groups))
	for i := range in.Groups {
		desired[in.Groups[i].GoogleID] = &in.Groups[i]
	}
	var out []string
	for _, g := range in.Stored {
		if d, ok := desired[g.GoogleID]; ok && g.DesiredHash != GroupHash(d.Name, d.Members) {
			out = append(out, g.ID)
		}
	}
	return out
}

// PlanGroups plans the groups: creates for groups new in the listing,
// updates (rename, members added and removed) for changed ones, deletes for
// stored groups no longer listed; unchanged groups (same hash) are not
// written. The guard holds deletes beyond max(3, 5%) of the bridge groups
// and member removals beyond max(3, 5%) of their memberships.
func PlanGroups(in GroupsInput) (GroupsPlan, error) {
	var p GroupsPlan
	stored := make(map[string]*scimbridge.Group, len(in.Stored))
	for i := range in.Stored {
		stored[in.Stored[i].GoogleID] = &in.Stored[i]
	}
	var missing []string
	var creates, updates, deletes []PlannedGroupChange
	seen := make(map[string]bool, len(in.Groups))
	for i := range in.Groups {
		d := &in.Groups[i]
		if d.GoogleID == "" || seen[d.GoogleID] {
			continue
		}
		seen[d.GoogleID] = true
		hash := GroupHash(d.Name, d.Members)
		s, ok := stored[d.GoogleID]
		if !ok {
			g := scimbridge.Group{ID: in.NewID(), OrgID: in.OrgID, DisplayName: d.Name, ExternalID: d.GoogleID,
				Source: scimbridge.SourceGoogle, GoogleID: d.GoogleID, Version: 1, DesiredHash: hash,
				CreatedAt: in.Now, UpdatedAt: in.Now}
			creates = append(creates, PlannedGroupChange{Hash: hash, Reason: ReasonGroupNew,
				Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g,
					AddMembers: slices.Clone(d.Members), Reason: ReasonGroupNew}})
			continue
		}
		if s.DesiredHash == hash {
			p.Unchanged++
			continue
		}
		cur, ok := in.Current[s.ID]
		if !ok {
			missing = append(missing, s.ID)
			continue
		}
		add, remove := diffMembers(cur, d.Members)
		g := *s
		g.Version, g.UpdatedAt, g.DesiredHash = s.Version+1, in.Now, hash
		var fields []scimbridge.FieldChange
		if g.DisplayName != d.Name {
			fields = append(fields, scimbridge.FieldChange{Field: "displayName", Before: g.DisplayName, After: d.Name})
			g.DisplayName = d.Name
		}
		if g.ExternalID != d.GoogleID {
			g.ExternalID = d.GoogleID
		}
		reason := ReasonGroupUpdated
		switch renamed, members := len(fields) > 0, len(add)+len(remove) > 0; {
		case renamed && members:
			reason = ReasonGroupRenamed + "; " + ReasonGroupMembers
		case renamed:
			reason = ReasonGroupRenamed
		case members:
			reason = ReasonGroupMembers
		}
		updates = append(updates, PlannedGroupChange{Hash: hash, Reason: reason, Before: len(cur),
			Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupUpdate, Group: g, ExpectedVersion: s.Version,
				AddMembers: add, RemoveMembers: remove, Reason: reason, Fields: fields}})
	}
	if len(missing) > 0 {
		return p, &MissingMembersError{IDs: missing}
	}
	for i := range in.Stored {
		s := &in.Stored[i]
		if seen[s.GoogleID] {
			continue
		}
		g := *s
		deletes = append(deletes, PlannedGroupChange{Reason: ReasonGroupNotListed,
			Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupDelete, Group: g, ExpectedVersion: s.Version,
				Reason: ReasonGroupNotListed}})
	}
	byGoogleID := func(x, y PlannedGroupChange) int {
		return strings.Compare(x.Change.Group.GoogleID, y.Change.Group.GoogleID)
	}
	for _, l := range [][]PlannedGroupChange{creates, updates, deletes} {
		slices.SortFunc(l, byGoogleID)
	}
	var err error
	if p.Guard, err = guardGroups(in, updates, deletes); err != nil {
		return p, err
	}
	holdAll := p.Guard.Guarded && in.Settings.Hold == scimbridge.HoldAll
	for _, l := range [][]PlannedGroupChange{creates, updates, deletes} {
		for _, pc := range l {
			guarded := (pc.Change.Kind == scimbridge.ChangeGroupDelete && p.Guard.DeletesGuarded) ||
				(len(pc.Change.RemoveMembers) > 0 && p.Guard.RemovalGuarded)
			pc.Guarded = guarded
			if guarded || holdAll {
				p.Held = append(p.Held, pc)
			} else {
				p.Apply = append(p.Apply, pc)
			}
		}
	}
	return p, nil
}

// guardLimit is max(3, 5% of n).
func guardLimit(n int) int { return max(3, n*5/100) }

// guardGroups applies the group guard (when the bridge's guard is on).
func guardGroups(in GroupsInput, updates, deletes []PlannedGroupChange) (GroupsGuard, error) {
	g := GroupsGuard{Deletes: len(deletes), Groups: len(in.Stored)}
	for _, pc := range updates {
		g.Removals += len(pc.Change.RemoveMembers)
	}
	if !in.Settings.Guard {
		return g, nil
	}
	var reasons []string
	if g.Deletes > guardLimit(g.Groups) {
		g.DeletesGuarded = true
		reasons = append(reasons, fmt.Sprintf("%d of %d bridge groups would be deleted (limit %d)",
			g.Deletes, g.Groups, guardLimit(g.Groups)))
	}
	if g.Removals > 3 && in.Memberships != nil {
		n, err := in.Memberships()
		if err != nil {
			return g, err
		}
		g.Memberships = n
		if g.Removals > guardLimit(n) {
			g.RemovalGuarded = true
			reasons = append(reasons, fmt.Sprintf("%d of %d group memberships would be removed (limit %d)",
				g.Removals, n, guardLimit(n)))
		}
	}
	g.Guarded = len(reasons) > 0
	g.Reason = strings.Join(reasons, "; ")
	return g, nil
}

// diffMembers returns the members of want not in cur and of cur not in
// want; both are sorted.
func diffMembers(cur, want []string) (add, remove []string) {
	i, j := 0, 0
	for i < len(cur) || j < len(want) {
		switch {
		case j == len(want) || (i < len(cur) && cur[i] < want[j]):
			remove = append(remove, cur[i])
			i++
		case i == len(cur) || want[j] < cur[i]:
			add = append(add, want[j])
			j++
		default:
			i++
			j++
		}
	}
	return add, remove
}

// FilterApprovedGroups returns the held group changes of a fresh plan an
// approval applies: those whose keys were approved.
func FilterApprovedGroups(held []PlannedGroupChange, keys []string) []PlannedGroupChange {
	want := stringSet(keys)
	var out []PlannedGroupChange
	for _, pc := range held {
		if want[pc.Key()] {
			out = append(out, pc)
		}
	}
	return out
}

// GroupHeldKeys returns the keys of held group changes, sorted.
func GroupHeldKeys(held []PlannedGroupChange) []string {
	keys := make([]string, 0, len(held))
	for _, pc := range held {
		keys = append(keys, pc.Key())
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

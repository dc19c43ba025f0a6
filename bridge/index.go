package bridge

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/maphash"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
	"github.com/scimbridge/scimbridge/reconcile"
)

// A run keeps, per stored profile with a Google id, only an indexEntry
// (and the hashes of its addresses); per listed user only what the listing
// changes. Everything else streams: stored rows one at a time, Google pages
// as they arrive.

// Flags of an indexEntry.
const (
	entryActive  uint8 = 1 << iota // the profile is active
	entryManaged                   // the bridge manages it (source google)
	entryHashed                    // it has a desired-state hash
	entrySeen                      // the listing holds its Google id
	entryLoad                      // the plan needs it whole
)

// hashPrefix is how much of the desired-state hash an entry keeps: 128
// bits tell a changed user from an unchanged one as surely as 256.
const hashPrefix = 16

// indexEntry is the compact stored state of one profile with a Google id.
type indexEntry struct {
	id      uuid.UUID
	version int64
	hash    [hashPrefix]byte
	flags   uint8
}

// userIndex is the compact index of an organization's stored profiles:
// Google id -> profile id, version, desired-state hash and state; the set
// of Google ids the listing holds; and the hashes of every stored address,
// so a listed user that takes an address someone holds is planned with
// its holder.
type userIndex struct {
	byGID map[string]indexEntry
	// extras are the profiles kept in their light view: those without a
	// Google id (matched by address) or whose id is not a UUID.
	extras []scimbridge.StoredProfile
	// keys holds the hash of each stored userName and email key.
	keys map[uint64]struct{}
	seed maphash.Seed
	// fresh holds the listed Google ids no stored profile has.
	fresh map[string]struct{}
	// activeManaged counts the active managed entries of byGID.
	activeManaged int
}

// indexStreamer is the store method that reads the profile index one row
// at a time; without it the whole index is read at once.
type indexStreamer interface {
	EachProfileIndex(ctx context.Context, orgID string, fn func(scimbridge.StoredProfile) error) error
}

// loadIndex reads the organization's compact index.
func (r *Runner) loadIndex(ctx context.Context, orgID string) (*userIndex, error) {
	x := &userIndex{byGID: map[string]indexEntry{}, keys: map[uint64]struct{}{}, seed: maphash.MakeSeed(),
		fresh: map[string]struct{}{}}
	var err error
	if s, ok := r.Store.(indexStreamer); ok {
		err = s.EachProfileIndex(ctx, orgID, func(p scimbridge.StoredProfile) error {
			x.add(p)
			return nil
		})
	} else {
		var all []scimbridge.StoredProfile
		if all, err = r.Store.ProfileIndex(ctx, orgID); err == nil {
			for i := range all {
				x.add(all[i])
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load stored profiles: %w", err)
	}
	return x, nil
}

// add indexes one stored profile.
func (x *userIndex) add(p scimbridge.StoredProfile) {
	for _, k := range []string{p.UserName, p.Email} {
		if k := textkey.Key(k); k != "" {
			x.keys[maphash.String(x.seed, k)] = struct{}{}
		}
	}
	id, err := uuid.Parse(p.ID)
	if p.GoogleID == "" || err != nil || id.String() != p.ID {
		x.extras = append(x.extras, p)
		return
	}
	if _, dup := x.byGID[p.GoogleID]; dup {
		// The store keeps Google ids unique; plan a duplicate on its view.
		x.extras = append(x.extras, p)
		return
	}
	e := indexEntry{id: id, version: p.Version}
	if p.Active() {
		e.flags |= entryActive
	}
	if p.Source == scimbridge.SourceGoogle {
		e.flags |= entryManaged
		if p.Active() {
			x.activeManaged++
		}
	}
	if h, ok := hashBytes(p.DesiredHash); ok {
		e.hash, e.flags = h, e.flags|entryHashed
	}
	x.byGID[p.GoogleID] = e
}

// hashBytes returns the first bytes of a hex desired-state hash.
func hashBytes(h string) (out [hashPrefix]byte, ok bool) {
	if len(h) < 2*hashPrefix {
		return out, false
	}
	_, err := hex.Decode(out[:], []byte(h[:2*hashPrefix]))
	return out, err == nil
}

// heldKey reports whether some stored profile holds the address key k.
func (x *userIndex) heldKey(k string) bool {
	if k == "" {
		return false
	}
	_, ok := x.keys[maphash.String(x.seed, k)]
	return ok
}

// listed records one listed user and says what the plan needs of it:
// keep when the plan must see it; unchanged when its stored profile is
// managed by the bridge, in scope, not excluded, and its desired-state
// hash and state are unchanged (the planner would count it unchanged
// without loading anything); neither for a user out of scope that no
// stored profile matches (the planner would do nothing with it). A Google
// id listed twice is an error, as the planner reports it.
func (x *userIndex) listed(u *reconcile.DirectoryUser, pinned map[string]bool) (keep, unchanged bool, err error) {
	gid := u.Desired.GoogleID()
	if gid == "" {
		return true, false, nil
	}
	e, ok := x.byGID[gid]
	if !ok {
		if _, dup := x.fresh[gid]; dup {
			return false, false, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", gid)
		}
		x.fresh[gid] = struct{}{}
		if !u.InScope && !u.Excluded && !x.heldKey(textkey.Key(u.Desired.UserName())) {
			return false, false, nil
		}
		return true, false, nil
	}
	if e.flags&entrySeen != 0 {
		return false, false, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", gid)
	}
	e.flags |= entrySeen
	keep = true
	if u.InScope && !u.Excluded && !pinned[gid] && e.flags&(entryManaged|entryHashed) == entryManaged|entryHashed &&
		(e.flags&entryActive != 0) == u.Desired.Active() {
		h, _ := hashBytes(reconcile.Hash(u.Desired))
		keep = h != e.hash
	}
	if keep {
		e.flags |= entryLoad
	}
	x.byGID[gid] = e
	return keep, !keep, nil
}

// plannerInput fills in the stored side of the planner's input from the
// index once the listing is complete: the whole profiles of the listed
// users it kept, of the managed active profiles the listing lacks (absent:
// to deactivate), and of those holding an address a kept user takes (with
// the Google ids of those listed unchanged in Present), plus the extras in
// their light view. The rest is counted, not given.
func (r *Runner) plannerInput(ctx context.Context, orgID string, x *userIndex, users []reconcile.DirectoryUser,
	in *reconcile.DirectoryInput) error {
	var ids []string
	given := map[uuid.UUID]bool{}
	for _, e := range x.byGID {
		// Absent: managed, active and not listed (planned absent, or an
		// excluded pinned one).
		absent := e.flags&entrySeen == 0 && e.flags&(entryManaged|entryActive) == entryManaged|entryActive
		if e.flags&entryLoad != 0 || absent {
			ids = append(ids, e.id.String())
			given[e.id] = true
		}
	}
	full, err := r.Store.ProfilesByID(ctx, orgID, ids)
	if err != nil {
		return fmt.Errorf("load changed profiles: %w", err)
	}
	// Addresses the given profiles and the extras hold.
	held := map[string]bool{}
	for i := range full {
		for _, k := range []string{full[i].UserName, full[i].Email} {
			held[textkey.Key(k)] = true
		}
	}
	for i := range x.extras {
		for _, k := range []string{x.extras[i].UserName, x.extras[i].Email} {
			held[textkey.Key(k)] = true
		}
	}
	// A kept user taking an address held by a profile not given: load
	// that holder too.
	var lookups []string
	for i := range users {
		d := users[i].Desired
		email, _ := d.Check()
		for _, k := range []string{textkey.Key(d.UserName()), textkey.Key(email)} {
			if k != "" && !held[k] && x.heldKey(k) {
				held[k] = true
				lookups = append(lookups, k)
			}
		}
	}
	for _, k := range lookups {
		found, err := r.Store.LookupProfiles(ctx, orgID, scimbridge.ProfileLookup{UserName: k, Email: k})
		if err != nil {
			return fmt.Errorf("look up address holders: %w", err)
		}
		for _, p := range found {
			id, err := uuid.Parse(p.ID)
			if p.Detached() || err != nil || given[id] || p.GoogleID == "" {
				continue
			}
			e, ok := x.byGID[p.GoogleID]
			if !ok || e.id != id {
				continue
			}
			given[id] = true
			full = append(full, p)
			if e.flags&entrySeen != 0 {
				if in.Present == nil {
					in.Present = map[string]bool{}
				}
				in.Present[p.GoogleID] = true
			}
		}
	}
	in.Stored = full
	in.Index = x.extras
	in.ActiveOmitted = x.activeManaged
	for i := range full {
		if full[i].Source == scimbridge.SourceGoogle && full[i].Active() && !full[i].Detached() {
			in.ActiveOmitted--
		}
	}
	return nil
}

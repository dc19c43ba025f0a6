package bridge

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"

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

// gidKey is a Google id (a decimal number of up to 38 digits, 21 in
// practice) as a 128-bit number.
type gidKey struct{ hi, lo uint64 }

// parseGID returns the key of a Google id in canonical decimal form.
func parseGID(s string) (gidKey, bool) {
	if s == "" || len(s) > 38 || (s[0] == '0' && len(s) > 1) {
		return gidKey{}, false
	}
	var k gidKey
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return gidKey{}, false
		}
		hi, lo := bits.Mul64(k.lo, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		k = gidKey{hi: k.hi*10 + hi + carry, lo: lo}
	}
	return k, true
}

// String returns the Google id in canonical decimal form.
func (k gidKey) String() string {
	var buf [40]byte
	i := len(buf)
	for {
		hi, r := k.hi/10, k.hi%10
		lo, d := bits.Div64(r, k.lo, 10)
		k = gidKey{hi: hi, lo: lo}
		i--
		buf[i] = byte('0' + d)
		if k == (gidKey{}) {
			return string(buf[i:])
		}
	}
}

func (a gidKey) compare(b gidKey) int {
	switch {
	case a.hi != b.hi:
		return cmp.Compare(a.hi, b.hi)
	default:
		return cmp.Compare(a.lo, b.lo)
	}
}

// indexEntry is the compact stored state of one profile with a Google
// id: 64 bytes.
type indexEntry struct {
	gid     gidKey
	id      uuid.UUID
	version int64
	hash    [hashPrefix]byte
	flags   uint8
	// pos is the listed user's place in the listing (entrySeen).
	pos uint32
}

// userIndex is the compact index of an organization's stored profiles:
// Google id -> profile id, version, desired-state hash and state, sorted by
// Google id; the set of Google ids the listing holds (a flag of each entry,
// and fresh for ids no profile has); and the hashes of every stored
// address, so a listed user that takes an address someone holds is
// planned with its holder. Slices, not maps: an entry costs its 64 bytes
// and an address 8, whatever the size of the directory.
type userIndex struct {
	entries []indexEntry
	// extras are the profiles kept in their light view: those without a
	// Google id (matched by address), or whose Google id or profile id is
	// not in the usual form.
	extras []scimbridge.StoredProfile
	// keys holds the sorted hashes of each stored userName and email key.
	keys []uint64
	seed maphash.Seed
	// fresh holds the listed Google ids no stored profile has (as
	// numbers; freshOdd those not in the usual form), with their place in
	// the listing.
	fresh    map[gidKey]uint32
	freshOdd map[string]uint32
	// listedN counts the users listed so far: the place of the next.
	listedN uint32
	// activeManaged counts the active managed entries.
	activeManaged int
}

// indexStreamer is the store method that reads the profile index one row
// at a time; without it the whole index is read at once.
type indexStreamer interface {
	EachProfileIndex(ctx context.Context, orgID string, size func(n int), fn func(scimbridge.StoredProfile) error) error
}

// loadIndex reads the organization's compact index.
func (r *Runner) loadIndex(ctx context.Context, orgID string) (*userIndex, error) {
	x := &userIndex{seed: maphash.MakeSeed(), fresh: map[gidKey]uint32{}, freshOdd: map[string]uint32{}}
	size := func(n int) {
		// A few rows more, for profiles written while the index is read.
		n += n/100 + 16
		x.entries = make([]indexEntry, 0, n)
		x.keys = make([]uint64, 0, n+n/8)
	}
	var err error
	if s, ok := r.Store.(indexStreamer); ok {
		err = s.EachProfileIndex(ctx, orgID, size, func(p scimbridge.StoredProfile) error {
			x.add(p)
			return nil
		})
	} else {
		var all []scimbridge.StoredProfile
		if all, err = r.Store.ProfileIndex(ctx, orgID); err == nil {
			size(len(all))
			for i := range all {
				x.add(all[i])
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load stored profiles: %w", err)
	}
	slices.SortFunc(x.entries, func(a, b indexEntry) int { return a.gid.compare(b.gid) })
	slices.Sort(x.keys)
	x.keys = slices.Compact(x.keys)
	return x, nil
}

// add indexes one stored profile.
func (x *userIndex) add(p scimbridge.StoredProfile) {
	uk, ek := textkey.Key(p.UserName), textkey.Key(p.Email)
	if uk != "" {
		x.keys = append(x.keys, maphash.String(x.seed, uk))
	}
	if ek != "" && ek != uk {
		x.keys = append(x.keys, maphash.String(x.seed, ek))
	}
	id, err := uuid.Parse(p.ID)
	gid, ok := parseGID(p.GoogleID)
	if !ok || err != nil || id.String() != p.ID {
		x.extras = append(x.extras, p)
		return
	}
	e := indexEntry{gid: gid, id: id, version: p.Version}
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
	x.entries = append(x.entries, e)
}

// find returns the entry of a Google id, or nil.
func (x *userIndex) find(gid string) *indexEntry {
	k, ok := parseGID(gid)
	if !ok {
		return nil
	}
	i, found := slices.BinarySearchFunc(x.entries, k, func(e indexEntry, k gidKey) int { return e.gid.compare(k) })
	if !found {
		return nil
	}
	return &x.entries[i]
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
	_, ok := slices.BinarySearch(x.keys, maphash.String(x.seed, k))
	return ok
}

// listed records one listed user and says what the plan needs of it:
// keep when the plan must see it; unchanged when its stored profile is
// managed by the bridge, in scope, not excluded, and its desired-state
// hash and state are unchanged (the planner would count it unchanged
// without loading anything); neither for a user out of scope that no
// stored profile matches (the planner would do nothing with it). A Google
// id listed twice is an error, as the planner reports it. Users must be
// recorded in listing order: each one's place is kept.
func (x *userIndex) listed(u *reconcile.DirectoryUser, pinned map[string]bool) (keep, unchanged bool, err error) {
	pos := x.listedN
	x.listedN++
	gid := u.Desired.GoogleID()
	if gid == "" {
		return true, false, nil
	}
	e := x.find(gid)
	if e == nil {
		if x.seenFresh(gid, pos) {
			return false, false, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", gid)
		}
		if !u.InScope && !u.Excluded && !x.heldKey(textkey.Key(u.Desired.UserName())) {
			return false, false, nil
		}
		return true, false, nil
	}
	if e.flags&entrySeen != 0 {
		return false, false, scimbridge.Errorf(scimbridge.EINVALID, "google id %s is listed twice", gid)
	}
	e.flags |= entrySeen
	e.pos = pos
	keep = true
	if u.InScope && !u.Excluded && !pinned[gid] && e.flags&(entryManaged|entryHashed) == entryManaged|entryHashed &&
		(e.flags&entryActive != 0) == u.Desired.Active() {
		h, _ := hashBytes(reconcile.Hash(u.Desired))
		keep = h != e.hash
	}
	if keep {
		e.flags |= entryLoad
	}
	return keep, !keep, nil
}

// seenFresh records a listed Google id no stored profile has, at its
// place in the listing, and reports whether it was listed before.
func (x *userIndex) seenFresh(gid string, pos uint32) bool {
	if k, ok := parseGID(gid); ok {
		if _, dup := x.fresh[k]; dup {
			return true
		}
		x.fresh[k] = pos
		return false
	}
	if _, dup := x.freshOdd[gid]; dup {
		return true
	}
	x.freshOdd[gid] = pos
	return false
}

// listedUnchanged reports whether e's listed user was left out of the
// planner's input as unchanged: in scope, not excluded, nothing to write.
func (e *indexEntry) listedUnchanged() bool {
	return e.flags&(entrySeen|entryLoad) == entrySeen
}

// place returns the place in the listing of the listed user with Google
// id gid, and false for one not listed (or without a Google id).
func (x *userIndex) place(gid string) (uint32, bool) {
	if e := x.find(gid); e != nil {
		return e.pos, e.flags&entrySeen != 0
	}
	if k, ok := parseGID(gid); ok {
		pos, ok := x.fresh[k]
		return pos, ok
	}
	pos, ok := x.freshOdd[gid]
	return pos, ok
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
	for i := range x.entries {
		e := &x.entries[i]
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
			e := x.find(p.GoogleID)
			if e == nil || e.id != id {
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

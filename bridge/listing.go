package bridge

import (
	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// maxInterned bounds how many distinct strings one listing shares.
const maxInterned = 50_000

// maxPending bounds the listed users that wait for the compact index to
// load (8 pages).
const maxPending = 8 * PageSize

// indexResult is the compact index as it finished loading.
type indexResult struct {
	index *userIndex
	err   error
}

// listingBuilder turns a listing, page by page, into the planner's input:
// each Google user is mapped, scoped and checked against the exclusions as
// soon as its page arrives, then compared with the compact index of the
// stored profiles (userIndex.listed); only the users the plan needs are
// kept, the unchanged ones are counted. Pages that arrive before the index
// finished loading wait for it. Strings many kept users repeat (names,
// titles, departments, managers, ...) are shared.
type listingBuilder struct {
	settings scimbridge.BridgeSettings
	pinned   map[string]bool
	loaded   <-chan indexResult
	index    *userIndex
	// pending are the converted users waiting for the index.
	pending []reconcile.DirectoryUser
	// out are the users the plan needs, in listing order.
	out []reconcile.DirectoryUser
	// n counts every listed user; unchanged those left out as unchanged.
	n, unchanged int
	interned     map[string]string
	// spill, when set, takes the users the plan will certainly create
	// (see spill.go); seqs are the listing positions of out's users then,
	// and seq counts the users compared.
	spill *spill
	seqs  []int
	seq   int
	// err is the first error of the comparison (a Google id listed twice,
	// or the index failing to load): the listing goes on, the plan fails.
	err error
}

// newListingBuilder returns a builder comparing the listing with the
// index loaded is to deliver.
func newListingBuilder(s scimbridge.BridgeSettings, loaded <-chan indexResult) *listingBuilder {
	b := &listingBuilder{settings: s, loaded: loaded, interned: map[string]string{}, pinned: map[string]bool{}}
	for _, id := range s.ExcludedGoogleID {
		b.pinned[id] = true
	}
	return b
}

// add converts one page (see Directory.EachPage).
func (b *listingBuilder) add(page []GoogleUser) error {
	out := make([]reconcile.DirectoryUser, len(page))
	for i := range page {
		u := &page[i]
		inScope, _ := InScope(*u, b.settings)
		d := MapUser(*u)
		b.share(&d.Attributes)
		// Aliases are left out: the exclusions, the only thing that reads
		// them, are decided here.
		out[i] = reconcile.DirectoryUser{Desired: reconcile.Normalize(d), InScope: inScope, Excluded: Excluded(*u, b.settings),
			Suspended: u.Suspended, Archived: u.Archived}
	}
	b.n += len(out)
	if b.index == nil && b.err == nil {
		if len(b.pending) < maxPending {
			select {
			case res := <-b.loaded:
				b.index, b.err = res.index, res.err
			default:
			}
		} else {
			// Enough pages wait: the listing waits for the index too,
			// so what waits stays small whatever the directory's size.
			res := <-b.loaded
			b.index, b.err = res.index, res.err
		}
	}
	if b.index == nil {
		b.pending = append(b.pending, out...)
		return nil
	}
	b.drain()
	b.compare(out)
	return nil
}

// drain compares the users that waited for the index.
func (b *listingBuilder) drain() {
	if len(b.pending) > 0 {
		b.compare(b.pending)
		b.pending = nil
	}
}

// compare keeps the users of list the plan needs.
func (b *listingBuilder) compare(list []reconcile.DirectoryUser) {
	for i := range list {
		u := &list[i]
		keep, unchanged, err := b.index.listed(u, b.pinned)
		if err != nil {
			if b.err == nil {
				b.err = err
			}
			continue
		}
		if unchanged {
			b.unchanged++
		}
		seq := b.seq
		b.seq++
		if !keep {
			continue
		}
		if b.spill != nil {
			if b.spill.take(b.index, b.pinned, u, seq) {
				continue
			}
			b.seqs = append(b.seqs, seq)
		}
		b.out = append(b.out, *u)
	}
}

// finish waits for the index, compares what waited for it and returns the
// index and the users the plan needs; the builder is done.
func (b *listingBuilder) finish() (*userIndex, []reconcile.DirectoryUser, error) {
	if b.index == nil && b.err == nil {
		res := <-b.loaded
		b.index, b.err = res.index, res.err
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	b.drain()
	out := b.out
	b.out, b.interned = nil, nil
	return b.index, out, b.err
}

// share replaces the repeated strings of a by shared copies.
func (b *listingBuilder) share(a *scimbridge.Attributes) {
	for _, p := range []*string{&a.GivenName, &a.FamilyName, &a.DisplayName, &a.Title, &a.UserType,
		&a.Department, &a.CostCenter, &a.Organization, &a.Manager, &a.PreferredLanguage} {
		*p = b.intern(*p)
	}
}

func (b *listingBuilder) intern(s string) string {
	if s == "" {
		return s
	}
	if v, ok := b.interned[s]; ok {
		return v
	}
	if len(b.interned) < maxInterned {
		b.interned[s] = s
	}
	return s
}

// pipeline returns a page callback that hands each page (copied: the
// client reuses its buffer) to fn in a goroutine of its own, so the next
// page is fetched and decoded while this one is mapped and compared, and
// a wait that returns once fn has seen every page handed over. fn must not
// fail.
func pipeline(fn func([]GoogleUser) error) (add func([]GoogleUser) error, wait func()) {
	pages := make(chan []GoogleUser, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range pages {
			fn(p)
		}
	}()
	add = func(page []GoogleUser) error {
		pages <- append([]GoogleUser(nil), page...)
		return nil
	}
	wait = func() {
		close(pages)
		<-done
	}
	return add, wait
}

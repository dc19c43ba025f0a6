package bridge

import (
	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
)

// maxInterned bounds how many distinct strings one listing shares.
const maxInterned = 50_000

// listingBuilder turns a listing, page by page, into the planner's input:
// each Google user is mapped, scoped and checked against the exclusions as
// soon as its page arrives, and only the resulting DirectoryUser is kept.
// Strings many users repeat (names, titles, departments, managers, ...)
// are shared, so a large directory costs little more than its distinct
// values.
type listingBuilder struct {
	settings scimbridge.BridgeSettings
	// out collects the listing when its size was guessed; pages otherwise,
	// joined once at the end.
	out      []reconcile.DirectoryUser
	pages    [][]reconcile.DirectoryUser
	n        int
	interned map[string]string
}

// newListingBuilder returns a builder for a listing of about hint users
// (0 when unknown): with a hint the users go straight into one slice of
// that size, so the listing is never held twice.
func newListingBuilder(s scimbridge.BridgeSettings, hint int) *listingBuilder {
	b := &listingBuilder{settings: s, interned: map[string]string{}}
	if hint > 0 {
		b.out = make([]reconcile.DirectoryUser, 0, hint+hint/20+PageSize)
	}
	return b
}

// add converts one page (see Directory.EachPage).
func (b *listingBuilder) add(page []GoogleUser) error {
	var out []reconcile.DirectoryUser
	if b.out != nil {
		n := len(b.out)
		b.out = append(b.out, make([]reconcile.DirectoryUser, len(page))...)
		out = b.out[n:]
	} else {
		out = make([]reconcile.DirectoryUser, len(page))
	}
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
	if b.out == nil {
		b.pages = append(b.pages, out)
	}
	b.n += len(out)
	return nil
}

// users returns the whole listing in order, in one slice of the exact
// size, and drops the pages.
func (b *listingBuilder) users() []reconcile.DirectoryUser {
	if b.out != nil {
		b.interned = nil
		return b.out
	}
	out := make([]reconcile.DirectoryUser, 0, b.n)
	for i, p := range b.pages {
		out = append(out, p...)
		b.pages[i] = nil
	}
	b.pages, b.interned = nil, nil
	return out
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

package admin

// Read-only listings for the admin API and the console: the directory
// (users and groups of every source), the events log and a report's items,
// each paged with an opaque cursor.

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// DirectoryQuery filters and pages a directory listing.
type DirectoryQuery struct {
	// Search keeps users whose userName, email or displayName, or groups
	// whose displayName, starts with it, case-insensitively.
	Search string
	// Source keeps one source (scim, google, manual, saml); empty keeps
	// all.
	Source scimbridge.Source
	// Active keeps active (true) or inactive (false) users; nil keeps
	// both. Groups ignore it.
	Active *bool
	// IncludeDetached also lists users a SCIM DELETE detached or an
	// erasure turned into a tombstone. Groups ignore it.
	IncludeDetached bool
	// After is the Next of the previous page; empty for the first.
	After string
	// Limit is the page size: 0 for DefaultPageSize, at most MaxPageSize.
	Limit int
}

// UserPage is one page of users; Next continues it ("" at the end).
type UserPage struct {
	Users []scimbridge.Profile `json:"users"`
	Next  string               `json:"next,omitempty"`
}

// GroupPage is one page of groups; Next continues it ("" at the end).
type GroupPage struct {
	Groups []scimbridge.Group `json:"groups"`
	Next   string             `json:"next,omitempty"`
}

// ErrBadCursor is returned for an after cursor this listing did not give.
var ErrBadCursor = scimbridge.Errorf(scimbridge.EINVALID, "invalid cursor: pass the next value of the previous page")

// cursor kinds: a cursor of one listing is refused by another.
const (
	cursorUsers  = "u"
	cursorGroups = "g"
	cursorEvents = "e"
	cursorItems  = "i"
)

// encodeCursor makes an opaque cursor of a listing's position.
func encodeCursor(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

// decodeCursor reads a cursor of the listing kind; "" is the start.
func decodeCursor(kind, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", ErrBadCursor
	}
	k, pos, ok := strings.Cut(string(b), ":")
	if !ok || k != kind || pos == "" {
		return "", ErrBadCursor
	}
	return pos, nil
}

// pageLimit checks a requested page size; 0 is the default.
func pageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return scimbridge.DefaultPageSize, nil
	case limit < 0 || limit > scimbridge.MaxPageSize:
		return 0, scimbridge.Errorf(scimbridge.EINVALID, "invalid limit %d: use 1 to %d", limit, scimbridge.MaxPageSize)
	}
	return limit, nil
}

// storeQuery checks q and turns it into the store's query of org, asking
// for one entry more than the page so the page knows whether more remain.
func (q DirectoryQuery) storeQuery(org scimbridge.Organization, kind string) (scimbridge.DirectoryQuery, int, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return scimbridge.DirectoryQuery{}, 0, err
	}
	if len(q.Search) > scimbridge.MaxKeyBytes || strings.ContainsRune(q.Search, 0) {
		return scimbridge.DirectoryQuery{}, 0, scimbridge.Errorf(scimbridge.EINVALID,
			"invalid search: at most %d bytes, without NUL", scimbridge.MaxKeyBytes)
	}
	switch q.Source {
	case "", scimbridge.SourceSCIM, scimbridge.SourceGoogle, scimbridge.SourceManual, scimbridge.SourceSAML:
	default:
		return scimbridge.DirectoryQuery{}, 0, scimbridge.Errorf(scimbridge.EINVALID,
			"invalid source %q: use scim, google, manual or saml", q.Source)
	}
	after, err := decodeCursor(kind, q.After)
	if err != nil {
		return scimbridge.DirectoryQuery{}, 0, err
	}
	return scimbridge.DirectoryQuery{
		OrgID:           org.ID,
		Search:          q.Search,
		Source:          q.Source,
		Active:          q.Active,
		IncludeDetached: q.IncludeDetached,
		After:           after,
		Limit:           limit + 1,
	}, limit, nil
}

// Users lists the organization's users of every source, ordered by id.
func (a *Admin) Users(ctx context.Context, slug string, q DirectoryQuery) (UserPage, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return UserPage{}, err
	}
	sq, limit, err := q.storeQuery(org, cursorUsers)
	if err != nil {
		return UserPage{}, err
	}
	ps, err := a.Store.DirectoryUsers(ctx, sq)
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	page := UserPage{Users: ps}
	if len(ps) > limit {
		page.Users = ps[:limit]
		page.Next = encodeCursor(cursorUsers, ps[limit-1].ID)
	}
	return page, nil
}

// Groups lists the organization's groups of every source, ordered by id,
// without their members.
func (a *Admin) Groups(ctx context.Context, slug string, q DirectoryQuery) (GroupPage, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return GroupPage{}, err
	}
	sq, limit, err := q.storeQuery(org, cursorGroups)
	if err != nil {
		return GroupPage{}, err
	}
	gs, err := a.Store.DirectoryGroups(ctx, sq)
	if err != nil {
		return GroupPage{}, fmt.Errorf("list groups: %w", err)
	}
	page := GroupPage{Groups: gs}
	if len(gs) > limit {
		page.Groups = gs[:limit]
		page.Next = encodeCursor(cursorGroups, gs[limit-1].ID)
	}
	return page, nil
}

// ReportItemPage is one page of a report's items; Next continues it.
type ReportItemPage struct {
	Items []scimbridge.ReportItemAt `json:"items"`
	Next  string                    `json:"next,omitempty"`
}

// ReportItems lists the items of one of the organization's reports, of
// kind (create, update, deactivate, reactivate, skip, fail, excluded, ...;
// "" for every kind), in report order. ENOTFOUND for a report of another
// organization.
func (a *Admin) ReportItems(ctx context.Context, slug, reportID string, kind scimbridge.ChangeKind, after string, limit int) (ReportItemPage, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return ReportItemPage{}, err
	}
	if len(kind) > 32 || strings.Trim(string(kind), "abcdefghijklmnopqrstuvwxyz_") != "" {
		return ReportItemPage{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid kind %q", kind)
	}
	pos := -1
	if s, err := decodeCursor(cursorItems, after); err != nil {
		return ReportItemPage{}, err
	} else if s != "" {
		if pos, err = strconv.Atoi(s); err != nil || pos < 0 {
			return ReportItemPage{}, ErrBadCursor
		}
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return ReportItemPage{}, err
	}
	items, err := a.Store.ReportItems(ctx, org.ID, reportID, kind, pos, limit+1)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return ReportItemPage{}, scimbridge.Errorf(scimbridge.ENOTFOUND, "no report %q in organization %q", reportID, org.Slug)
	} else if err != nil {
		return ReportItemPage{}, fmt.Errorf("list report items: %w", err)
	}
	page := ReportItemPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = encodeCursor(cursorItems, strconv.Itoa(items[limit-1].Position))
	}
	return page, nil
}

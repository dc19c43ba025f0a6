package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// The directory of the admin API and the console: users and groups of
// every source, read-only, ordered by id and paged after the last id of the
// previous page (keyset paging: a page costs the same wherever it is).
//
// Search is a case-insensitive prefix match on the key columns the unique
// indexes already carry (user_name_key, email_key) and on display_name_key
// (profiles_org_display_name_key_live; groups_org_display_name_key for
// groups): each is one range scan of an index (key >= prefix AND key <
// prefixEnd(prefix)), and the matches are then ordered by id. Substring
// search would need a trigram index neither database has by default, so it
// is not offered.

// keyRange is the range of key values that start with the key of search.
func keyRange(search string) (lo, hi string) {
	lo = textkey.Key(search)
	hi, ok := prefixEnd(lo)
	if !ok {
		hi = lo + "\U0010FFFF"
	}
	return lo, hi
}

// directoryLimit checks a directory page size.
func directoryLimit(limit int) error {
	if limit < 1 || limit > scimbridge.MaxPageSize+1 {
		return scimbridge.Errorf(scimbridge.EINVALID, "limit must be 1 to %d", scimbridge.MaxPageSize)
	}
	return nil
}

// sourceLiteral is s as an SQL literal; EINVALID for an unknown source.
func sourceLiteral(s scimbridge.Source) (string, error) {
	switch s {
	case scimbridge.SourceSCIM, scimbridge.SourceGoogle, scimbridge.SourceManual, scimbridge.SourceSAML:
		return "'" + string(s) + "'", nil
	}
	return "", scimbridge.Errorf(scimbridge.EINVALID, "unknown source %q: use scim, google, manual or saml", s)
}

// DirectoryUsers returns one page of the organization's profiles.
func (db *DB) DirectoryUsers(ctx context.Context, q scimbridge.DirectoryQuery) ([]scimbridge.Profile, error) {
	if err := directoryLimit(q.Limit); err != nil {
		return nil, err
	}
	if q.Source != "" {
		if _, err := sourceLiteral(q.Source); err != nil {
			return nil, err
		}
	}
	// The search or the (source, state) ranges give the page's candidate
	// ids when they can; the other conditions are then written as
	// expressions no index serves (column || ''), so the candidates are
	// read by primary key rather than through another index that matches
	// the organization and filters them.
	var idCond string
	var idArgs []any
	var err error
	switch {
	case q.Search != "":
		idCond, idArgs, err = db.searchCondition(ctx, q)
	case !q.IncludeDetached && (q.Source != "" || q.Active != nil):
		idCond, idArgs, err = db.filterCondition(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("list directory users: %w", err)
	}
	col := func(name string) string {
		if strings.HasPrefix(idCond, "p.id IN") {
			return "p." + name + " || ''"
		}
		return "p." + name
	}
	where := []string{"p.org_id = ?"}
	args := []any{q.OrgID}
	if !q.IncludeDetached {
		where = append(where, "p.detached_at IS NULL")
	}
	if q.Source != "" {
		where, args = append(where, col("source")+" = ?"), append(args, string(q.Source))
	}
	if q.Active != nil {
		state := scimbridge.StateInactive
		if *q.Active {
			state = scimbridge.StateActive
		}
		where, args = append(where, col("state")+" = ?"), append(args, string(state))
	}
	if q.After != "" {
		where, args = append(where, col("id")+" > ?"), append(args, q.After)
	}
	if idCond != "" {
		where, args = append(where, idCond), append(args, idArgs...)
	}
	args = append(args, q.Limit)
	query := `SELECT p.*` + emailJoinColumns + ` FROM (` + profileSelect + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY p.id LIMIT ?) p LEFT JOIN profile_emails e ON e.profile_id = p.id ORDER BY p.id, e.position`
	ps, err := db.queryProfiles(ctx, nil, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list directory users: %w", err)
	}
	if ps == nil {
		ps = []scimbridge.Profile{}
	}
	return ps, nil
}

// DirectoryGroups returns one page of the organization's groups.
func (db *DB) DirectoryGroups(ctx context.Context, q scimbridge.DirectoryQuery) ([]scimbridge.Group, error) {
	if err := directoryLimit(q.Limit); err != nil {
		return nil, err
	}
	where := []string{"g.org_id = ?"}
	args := []any{q.OrgID}
	if q.Source != "" {
		lit, err := sourceLiteral(q.Source)
		if err != nil {
			return nil, err
		}
		where = append(where, "g.source = "+lit)
	}
	if q.Search != "" {
		lo, hi := keyRange(q.Search)
		where = append(where, "g.display_name_key >= ? AND g.display_name_key < ?")
		args = append(args, lo, hi)
	}
	if q.After != "" {
		where, args = append(where, "g.id > ?"), append(args, q.After)
	}
	args = append(args, q.Limit)
	gs, err := db.queryGroups(ctx, groupSelect+` WHERE `+strings.Join(where, " AND ")+` ORDER BY g.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list directory groups: %w", err)
	}
	if gs == nil {
		gs = []scimbridge.Group{}
	}
	return gs, nil
}

// Event returns one event of the organization.
func (db *DB) Event(ctx context.Context, orgID string, id int64) (scimbridge.Event, error) {
	row, err := db.queryRow(ctx, eventSelect+` WHERE id = ? AND org_id = ?`, id, orgID)
	if err != nil {
		return scimbridge.Event{}, fmt.Errorf("read event: %w", err)
	}
	e, err := scanEvent(row)
	if err != nil {
		return e, rowError(err, "event")
	}
	return e, nil
}

// displayNamePrefix is the expression of profiles_org_display_name_key_live:
// the first displayNameIndexed characters of the displayName key.
const (
	displayNameIndexed = 200
	displayNamePrefix  = "substr(display_name_key, 1, 200)"
)

// searchSparse is how many matches a search may have for its page to be
// read through the key indexes and sorted; a search with more walks the
// organization in id order instead, testing each profile, and finds a page
// of matches within a few thousand profiles.
const searchSparse = 5000

// searchCondition is the condition of a users search on p. It first reads
// the ids of the matches through the key indexes (one branch per index:
// the live key indexes, and for detached profiles the partial indexes of
// their userName and email keys), up to searchSparse. Fewer: the condition
// is "id in those ids" (after the cursor), read by primary key. More:
// the condition tests each profile's keys as expressions no index serves
// (the key concatenated with an empty string), so both planners walk the organization in id order and
// stop at a full page, statistics or not.
func (db *DB) searchCondition(ctx context.Context, q scimbridge.DirectoryQuery) (string, []any, error) {
	lo, hi := keyRange(q.Search)
	var branches []string
	var args []any
	branch := func(cond, column string) {
		branches = append(branches, "SELECT id FROM profiles WHERE org_id = ? AND "+cond+" AND "+
			column+" >= ? AND "+column+" < ?")
		args = append(args, q.OrgID, lo, hi)
	}
	branch("detached_at IS NULL", "user_name_key")
	branch("detached_at IS NULL", "email_key")
	// profiles_org_display_name_key_live holds the key's first
	// displayNameIndexed characters.
	dlo, dhi := lo, hi
	if r := []rune(lo); len(r) > displayNameIndexed {
		dlo, dhi = keyRange(string(r[:displayNameIndexed]))
	}
	branches = append(branches, "SELECT id FROM profiles WHERE org_id = ? AND detached_at IS NULL AND "+
		displayNamePrefix+" >= ? AND "+displayNamePrefix+" < ? AND display_name_key >= ? AND display_name_key < ?")
	args = append(args, q.OrgID, dlo, dhi, lo, hi)
	if q.IncludeDetached {
		branch("detached_at IS NOT NULL", "user_name_key")
		branch("detached_at IS NOT NULL", "email_key")
	}
	union := strings.Join(branches, " UNION ALL ")
	rows, err := db.query(ctx, `SELECT id FROM (`+union+` LIMIT ?) m`, append(args, searchSparse)...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var ids []any
	n := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", nil, err
		}
		if n++; id > q.After {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	if n < searchSparse {
		if len(ids) == 0 {
			return "1 = 0", nil, nil
		}
		// The ids themselves, so the page is read by primary key
		// whatever the planner makes of the branches.
		return "p.id IN (" + placeholders(len(ids)) + ")", ids, nil
	}
	test := func(column string) string {
		return "(p." + column + " || '' >= ? AND p." + column + " || '' < ?)"
	}
	return "(" + test("user_name_key") + " OR " + test("email_key") + " OR (p.detached_at IS NULL AND " +
		test("display_name_key") + "))", []any{lo, hi, lo, hi, lo, hi}, nil
}

// filterCondition is the condition of a page of live users filtered by
// source or state without a search. Each (source, state) pair the filter
// keeps is one range of profiles_org_source_state_live in id order, read
// up to the page size; the first page-size ids of them all, merged, are
// the page. A rare source or state is then as fast as a common one, where
// walking the organization in id order would read all of it to find none.
func (db *DB) filterCondition(ctx context.Context, q scimbridge.DirectoryQuery) (string, []any, error) {
	sources := []scimbridge.Source{scimbridge.SourceSCIM, scimbridge.SourceGoogle, scimbridge.SourceManual, scimbridge.SourceSAML}
	if q.Source != "" {
		sources = []scimbridge.Source{q.Source}
	}
	states := []scimbridge.State{scimbridge.StateActive, scimbridge.StateInactive}
	if q.Active != nil && *q.Active {
		states = states[:1]
	} else if q.Active != nil {
		states = states[1:]
	}
	var branches []string
	var args []any
	for _, src := range sources {
		lit, err := sourceLiteral(src)
		if err != nil {
			return "", nil, err
		}
		for _, st := range states {
			branches = append(branches, `SELECT id FROM (SELECT id FROM profiles WHERE org_id = ? AND source = `+lit+
				` AND state = '`+string(st)+`' AND detached_at IS NULL AND id > ? ORDER BY id LIMIT ?) b`)
			args = append(args, q.OrgID, q.After, q.Limit)
		}
	}
	rows, err := db.query(ctx, strings.Join(branches, " UNION ALL "), args...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	if len(ids) == 0 {
		return "1 = 0", nil, nil
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), q.Limit)]
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return "p.id IN (" + placeholders(len(out)) + ")", out, nil
}

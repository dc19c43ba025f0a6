package store

import (
	"context"
	"fmt"
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
// (profiles_org_display_name_key_live, on its first 200 characters;
// groups_org_display_name_key for
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

// displayNameIndexed is how many characters of display_name_key the
// directory's index holds (profiles_org_display_name_key_live).
const displayNameIndexed = 200

// truncateRunes is s cut to at most n characters.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
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
	where := []string{"p.org_id = ?"}
	args := []any{q.OrgID}
	if !q.IncludeDetached {
		where = append(where, "p.detached_at IS NULL")
	}
	if q.Source != "" {
		lit, err := sourceLiteral(q.Source)
		if err != nil {
			return nil, err
		}
		where = append(where, "p.source = "+lit)
	}
	if q.Active != nil {
		state := scimbridge.StateInactive
		if *q.Active {
			state = scimbridge.StateActive
		}
		where, args = append(where, "p.state = ?"), append(args, string(state))
	}
	if q.After != "" {
		where, args = append(where, "p.id > ?"), append(args, q.After)
	}
	if q.Search != "" {
		// One branch per index: the live key indexes, and for detached
		// profiles the partial indexes of their userName and email keys.
		lo, hi := keyRange(q.Search)
		var branches []string
		branch := func(cond, column string) {
			branches = append(branches, "SELECT id FROM profiles WHERE org_id = ? AND "+cond+" AND "+
				column+" >= ? AND "+column+" < ?")
			args = append(args, q.OrgID, lo, hi)
		}
		for _, column := range []string{"user_name_key", "email_key"} {
			branch("detached_at IS NULL", column)
		}
		// displayName's index holds its first displayNameIndexed
		// characters: the range on them finds the candidates, the range
		// on the whole key keeps the matches.
		lo200 := truncateRunes(lo, displayNameIndexed)
		hi200, ok := prefixEnd(lo200)
		if !ok {
			hi200 = lo200 + "\U0010FFFF"
		}
		branches = append(branches, "SELECT id FROM profiles WHERE org_id = ? AND detached_at IS NULL AND "+
			"substr(display_name_key, 1, 200) >= ? AND substr(display_name_key, 1, 200) < ? AND "+
			"display_name_key >= ? AND display_name_key < ?")
		args = append(args, q.OrgID, lo200, hi200, lo, hi)
		if q.IncludeDetached {
			branch("detached_at IS NOT NULL", "user_name_key")
			branch("detached_at IS NOT NULL", "email_key")
		}
		where = append(where, "p.id IN ("+strings.Join(branches, " UNION ALL ")+")")
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

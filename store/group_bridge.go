package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge"
)

// googleIDChunk is how many Google ids one lookup query names; a lookup of
// more reads the organization's Google profiles once instead.
const googleIDChunk = 500

// GoogleProfileIDs returns, for the given Google user ids, the id of the
// organization's non-detached Google profile holding each: a group sync
// resolves its members without loading the whole profile index. Ids that
// name no such profile are left out. A few ids are looked up by the index;
// many are matched in one pass over the organization's Google profiles
// (two columns each), which costs less than hundreds of IN lists.
func (db *DB) GoogleProfileIDs(ctx context.Context, orgID string, googleIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(googleIDs))
	base := `SELECT google_id, id FROM profiles
		WHERE org_id = ? AND source = ? AND detached_at IS NULL AND google_id IS NOT NULL`
	var want map[string]bool
	if len(googleIDs) > googleIDChunk {
		want = make(map[string]bool, len(googleIDs))
		for _, id := range googleIDs {
			want[id] = true
		}
		if err := db.scanGoogleIDs(ctx, base, []any{orgID, string(scimbridge.SourceGoogle)}, want, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	for start := 0; start < len(googleIDs); start += googleIDChunk {
		chunk := googleIDs[start:min(start+googleIDChunk, len(googleIDs))]
		args := make([]any, 0, len(chunk)+2)
		args = append(args, orgID, string(scimbridge.SourceGoogle))
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := db.scanGoogleIDs(ctx, base+` AND google_id IN (`+placeholders(len(chunk))+`)`, args, nil, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanGoogleIDs adds the rows of query (google_id, id) to out, those whose
// Google id is in want when want is set.
func (db *DB) scanGoogleIDs(ctx context.Context, query string, args []any, want map[string]bool, out map[string]string) error {
	rows, err := db.read.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("look up google profiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gid, id string
		if err := rows.Scan(&gid, &id); err != nil {
			return fmt.Errorf("look up google profiles: %w", err)
		}
		if want == nil || want[gid] {
			out[gid] = id
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up google profiles: %w", err)
	}
	return nil
}

// GroupMemberIDs returns the member profile ids of each of the groups (of
// the organization), sorted, reading the memberships of many groups per
// query: a sync loads the members of every group it changes at once.
func (db *DB) GroupMemberIDs(ctx context.Context, orgID string, groupIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(groupIDs))
	for start := 0; start < len(groupIDs); start += googleIDChunk {
		chunk := groupIDs[start:min(start+googleIDChunk, len(groupIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, orgID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT group_id, profile_id FROM group_members
			WHERE org_id = ? AND group_id IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
		for rows.Next() {
			var g, p string
			if err := rows.Scan(&g, &p); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list group members: %w", err)
			}
			out[g] = append(out[g], p)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out, nil
}

// CountGroupMembers counts the memberships of the organization's groups
// of source: the base of the bridge's membership-removal guard.
func (db *DB) CountGroupMembers(ctx context.Context, orgID string, source scimbridge.Source) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE g.org_id = ? AND g.source = ?`), orgID, string(source)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count group members: %w", err)
	}
	return n, nil
}

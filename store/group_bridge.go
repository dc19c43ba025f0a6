package store

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge"
)

// googleIDChunk is how many Google ids one lookup query names.
const googleIDChunk = 500

// GoogleProfileIDs returns, for the given Google user ids, the id of the
// organization's non-detached Google profile holding each: a group sync
// resolves its members without loading the whole profile index. Ids that
// name no such profile are left out.
func (db *DB) GoogleProfileIDs(ctx context.Context, orgID string, googleIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(googleIDs))
	for start := 0; start < len(googleIDs); start += googleIDChunk {
		chunk := googleIDs[start:min(start+googleIDChunk, len(googleIDs))]
		args := make([]any, 0, len(chunk)+2)
		args = append(args, orgID, string(scimbridge.SourceGoogle))
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT google_id, id FROM profiles
			WHERE org_id = ? AND source = ? AND detached_at IS NULL AND google_id IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("look up google profiles: %w", err)
		}
		for rows.Next() {
			var gid, id string
			if err := rows.Scan(&gid, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up google profiles: %w", err)
			}
			out[gid] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up google profiles: %w", err)
		}
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

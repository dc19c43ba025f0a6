package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// groupColumns are the groups columns in the order of groupArgs and
// scanGroup.
var groupColumns = []string{
	"id", "org_id", "display_name", "display_name_key", "external_id", "source",
	"google_id", "desired_hash", "version", "created_at", "updated_at",
}

var (
	groupSelect = "SELECT g." + strings.Join(groupColumns, ", g.") + " FROM groups g"
	groupInsert = "INSERT INTO groups (" + strings.Join(groupColumns, ", ") +
		") VALUES (" + placeholders(len(groupColumns)) + ")"
	// groupUpdate sets every column but id, org_id and created_at, then
	// matches org_id, id and the expected version.
	groupUpdate = `UPDATE groups SET display_name = ?, display_name_key = ?, external_id = ?, source = ?,
	google_id = ?, desired_hash = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ? AND version = ?`
	groupByID = groupSelect + " WHERE g.org_id = ? AND g.id = ?"
)

// groupArgs returns g's values in groupColumns order.
func (db *DB) groupArgs(g *scimbridge.Group) []any {
	return []any{g.ID, g.OrgID, g.DisplayName, textkey.Key(g.DisplayName), ns(g.ExternalID), string(g.Source),
		ns(g.GoogleID), ns(g.DesiredHash), g.Version, db.tm(g.CreatedAt), db.tm(g.UpdatedAt)}
}

// groupDests are the scan destinations of groupColumns into g; source
// takes the source column.
func groupDests(g *scimbridge.Group, source *string) []any {
	return []any{&g.ID, &g.OrgID, &g.DisplayName, discard{}, strDest{&g.ExternalID}, source,
		strDest{&g.GoogleID}, strDest{&g.DesiredHash}, &g.Version, timeDest{&g.CreatedAt}, timeDest{&g.UpdatedAt}}
}

func scanGroup(s interface{ Scan(...any) error }) (scimbridge.Group, error) {
	var g scimbridge.Group
	var source string
	err := s.Scan(groupDests(&g, &source)...)
	g.Source = scimbridge.Source(source)
	return g, err
}

// queryGroups runs a query of groupSelect rows on the read pool, through
// a prepared statement.
func (db *DB) queryGroups(ctx context.Context, query string, args ...any) ([]scimbridge.Group, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanGroups(rows)
}

func scanGroups(rows *sql.Rows) ([]scimbridge.Group, error) {
	defer rows.Close()
	var out []scimbridge.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Group returns one group of the organization.
func (db *DB) Group(ctx context.Context, orgID, id string) (scimbridge.Group, error) {
	if !validUUID(id) {
		return scimbridge.Group{}, notFound("group")
	}
	row, err := db.queryRow(ctx, groupByID, orgID, id)
	if err != nil {
		return scimbridge.Group{}, fmt.Errorf("read group: %w", err)
	}
	g, err := scanGroup(row)
	if err != nil {
		return scimbridge.Group{}, rowError(err, "group")
	}
	return g, nil
}

// ListGroups pages through the organization's groups, filtered and sorted
// through the Group attribute catalogue.
func (db *DB) ListGroups(ctx context.Context, q scimbridge.GroupQuery) (scimbridge.GroupPage, error) {
	if q.Offset < 0 || q.Limit < 0 {
		return scimbridge.GroupPage{}, scimbridge.Errorf(scimbridge.EINVALID, "offset and limit must not be negative")
	}
	where := []string{"g.org_id = ?"}
	args := []any{q.OrgID}
	if len(q.Sources) > 0 {
		where = append(where, "g.source IN ("+placeholders(len(q.Sources))+")")
		for _, s := range q.Sources {
			args = append(args, string(s))
		}
	}
	if q.DisplayName != "" {
		where, args = append(where, "g.display_name_key = ?"), append(args, textkey.Key(q.DisplayName))
	}
	if q.ExternalID != "" {
		where, args = append(where, "g.external_id = ?"), append(args, q.ExternalID)
	}
	if q.GoogleID != "" {
		where, args = append(where, "g.google_id = ?"), append(args, q.GoogleID)
	}
	if q.MemberID != "" {
		where = append(where, "g.id IN (SELECT m.group_id FROM group_members m WHERE m.profile_id = ? AND m.org_id = ?)")
		args = append(args, q.MemberID, q.OrgID)
	}
	if q.Filter != nil {
		fcond, fargs, err := compileFilterFor(db.dialect, groupCatalog, q.AnyType, q.Filter)
		if err != nil {
			return scimbridge.GroupPage{}, invalidFilter(err)
		}
		if fcond != "" {
			where, args = append(where, "("+fcond+")"), append(args, fargs...)
		}
	}
	order, err := sortExprFor(db.dialect, groupCatalog, q.AnyType, q.SortBy)
	if err != nil {
		return scimbridge.GroupPage{}, invalidFilter(err)
	}
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	orderBy := order + dir
	if order != "g.id" {
		orderBy += ", g.id" + dir
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	tx, err := db.readTx(ctx)
	if err != nil {
		return scimbridge.GroupPage{}, fmt.Errorf("list groups: %w", err)
	}
	defer tx.Rollback()
	var page scimbridge.GroupPage
	if err := tx.QueryRowContext(ctx, db.rebind("SELECT COUNT(*) FROM groups g"+cond), args...).Scan(&page.Total); err != nil {
		return scimbridge.GroupPage{}, fmt.Errorf("count groups: %w", err)
	}
	if q.Limit == 0 || q.Offset >= page.Total {
		return page, nil
	}
	rows, err := tx.QueryContext(ctx, db.rebind(groupSelect+cond+" ORDER BY "+orderBy+" LIMIT ? OFFSET ?"),
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return scimbridge.GroupPage{}, fmt.Errorf("list groups: %w", err)
	}
	if page.Groups, err = scanGroups(rows); err != nil {
		return scimbridge.GroupPage{}, fmt.Errorf("list groups: %w", err)
	}
	return page, nil
}

// ManagedGroups returns every group of the organization with source.
func (db *DB) ManagedGroups(ctx context.Context, orgID string, source scimbridge.Source) ([]scimbridge.Group, error) {
	gs, err := db.queryGroups(ctx, groupSelect+" WHERE g.org_id = ? AND g.source = ? ORDER BY g.id", orgID, string(source))
	if err != nil {
		return nil, fmt.Errorf("list managed groups: %w", err)
	}
	return gs, nil
}

// groupMembersSelect reads a page of members through the primary key
// (group_id, profile_id), joining each to its profile by id.
const groupMembersSelect = `SELECT m.profile_id, p.user_name, p.display_name FROM group_members m
	JOIN profiles p ON p.id = m.profile_id
	WHERE m.group_id = ? AND m.org_id = ? AND m.profile_id > ? ORDER BY m.profile_id LIMIT ?`

// GroupMembers returns a page of a group's members in profile id order.
func (db *DB) GroupMembers(ctx context.Context, orgID, groupID, after string, limit int) ([]scimbridge.GroupMember, error) {
	if limit < 1 || limit > scimbridge.MaxMemberPage {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "a member page holds 1 to %d members, not %d", scimbridge.MaxMemberPage, limit)
	}
	if !validUUID(groupID) {
		return nil, notFound("group")
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, db.rebind("SELECT 1 FROM groups WHERE org_id = ? AND id = ?"), orgID, groupID).Scan(&one)
	if err != nil {
		return nil, rowError(err, "group")
	}
	rows, err := tx.QueryContext(ctx, db.rebind(groupMembersSelect), groupID, orgID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	defer rows.Close()
	out := make([]scimbridge.GroupMember, 0, min(limit, 1024))
	for rows.Next() {
		var m scimbridge.GroupMember
		if err := rows.Scan(&m.ProfileID, strDest{&m.UserName}, strDest{&m.DisplayName}); err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	return out, nil
}

// ProfileGroups returns the groups profileID is a direct member of, through
// the membership index by profile.
func (db *DB) ProfileGroups(ctx context.Context, orgID, profileID string) ([]scimbridge.Group, error) {
	gs, err := db.queryGroups(ctx, groupSelect+
		" JOIN group_members m ON m.group_id = g.id WHERE m.profile_id = ? AND m.org_id = ? AND g.org_id = ? ORDER BY g.id",
		profileID, orgID, orgID)
	if err != nil {
		return nil, fmt.Errorf("list profile groups: %w", err)
	}
	return gs, nil
}

// ProfilesGroups returns the groups of each of profileIDs that has any,
// memberChunk at a time through the membership index by profile.
func (db *DB) ProfilesGroups(ctx context.Context, orgID string, profileIDs []string) (map[string][]scimbridge.Group, error) {
	out := make(map[string][]scimbridge.Group)
	ids := dedupe(profileIDs)
	for start := 0; start < len(ids); start += memberChunk {
		chunk := ids[start:min(start+memberChunk, len(ids))]
		// The list is padded to a power of two with its last id, so that
		// a few statement shapes serve every page size and stay prepared
		// (every SCIM listing of users runs one).
		n := 1
		for n < len(chunk) {
			n *= 2
		}
		args := make([]any, 0, n+2)
		for i := range n {
			args = append(args, chunk[min(i, len(chunk)-1)])
		}
		args = append(args, orgID, orgID)
		rows, err := db.query(ctx, "SELECT m.profile_id, g."+strings.Join(groupColumns, ", g.")+
			" FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.profile_id IN ("+placeholders(n)+
			") AND m.org_id = ? AND g.org_id = ? ORDER BY m.profile_id, g.id", args...)
		if err != nil {
			return nil, fmt.Errorf("list profiles' groups: %w", err)
		}
		if err := scanMemberGroups(rows, out); err != nil {
			return nil, fmt.Errorf("list profiles' groups: %w", err)
		}
	}
	return out, nil
}

// scanMemberGroups reads (profile id, group columns) rows into out.
func scanMemberGroups(rows *sql.Rows, out map[string][]scimbridge.Group) error {
	defer rows.Close()
	for rows.Next() {
		var profileID string
		var g scimbridge.Group
		var source string
		if err := rows.Scan(append([]any{&profileID}, groupDests(&g, &source)...)...); err != nil {
			return err
		}
		g.Source = scimbridge.Source(source)
		out[profileID] = append(out[profileID], g)
	}
	return rows.Err()
}

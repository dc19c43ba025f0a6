package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// profileColumns are the profiles columns in the order of profileArgs and
// scanProfile.
var profileColumns = []string{
	"id", "org_id", "user_name", "user_name_key", "email", "email_key",
	"display_name", "title", "user_type", "given_name", "family_name",
	"formatted", "middle_name", "honorific_prefix", "honorific_suffix",
	"nick_name", "locale", "timezone", "preferred_language", "profile_url",
	"employee_number", "department", "cost_center", "organization",
	"division", "manager", "external_id", "google_id", "state", "source",
	"version", "role", "access_revoked", "former_user_name", "former_email",
	"desired_hash", "created_at", "updated_at", "deactivated_at", "detached_at",
}

var (
	// profileSelect selects every column through alias p.
	profileSelect = "SELECT p." + strings.Join(profileColumns, ", p.") + " FROM profiles p"
	profileInsert = "INSERT INTO profiles (" + strings.Join(profileColumns, ", ") +
		") VALUES (" + placeholders(len(profileColumns)) + ")"
	// profileUpdate sets every column but id and org_id, then matches
	// org_id, id and the expected version.
	profileUpdate = "UPDATE profiles SET " + strings.Join(profileColumns[2:], " = ?, ") +
		" = ? WHERE org_id = ? AND id = ? AND version = ?"
)

const emailInsert = `INSERT INTO profile_emails (profile_id, org_id, position, value, value_key, type, display, is_primary)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// profileArgs returns p's values in profileColumns order.
func (db *DB) profileArgs(p *scimbridge.Profile) []any {
	a := &p.Attributes
	return []any{
		p.ID, p.OrgID, ns(a.UserName), ns(textkey.Key(a.UserName)), ns(p.Email), ns(textkey.Key(p.Email)),
		ns(a.DisplayName), ns(a.Title), ns(a.UserType), ns(a.GivenName), ns(a.FamilyName),
		ns(a.Formatted), ns(a.MiddleName), ns(a.HonorificPrefix), ns(a.HonorificSuffix),
		ns(a.NickName), ns(a.Locale), ns(a.Timezone), ns(a.PreferredLanguage), ns(a.ProfileURL),
		ns(a.EmployeeNumber), ns(a.Department), ns(a.CostCenter), ns(a.Organization),
		ns(a.Division), ns(a.Manager), ns(p.ExternalID), ns(p.GoogleID), string(p.State), string(p.Source),
		p.Version, ns(string(p.Role)), p.AccessRevoked, ns(p.FormerUserName), ns(p.FormerEmail),
		ns(p.DesiredHash), db.tm(p.CreatedAt), db.tm(p.UpdatedAt), db.ntm(p.DeactivatedAt), db.ntm(p.DetachedAt),
	}
}

// scanProfile reads one row of profileSelect.
func scanProfile(s interface{ Scan(...any) error }) (scimbridge.Profile, error) {
	var p scimbridge.Profile
	a := &p.Attributes
	var state, source, role string
	err := s.Scan(
		&p.ID, &p.OrgID, strDest{&a.UserName}, new(sql.NullString), strDest{&p.Email}, new(sql.NullString),
		strDest{&a.DisplayName}, strDest{&a.Title}, strDest{&a.UserType}, strDest{&a.GivenName}, strDest{&a.FamilyName},
		strDest{&a.Formatted}, strDest{&a.MiddleName}, strDest{&a.HonorificPrefix}, strDest{&a.HonorificSuffix},
		strDest{&a.NickName}, strDest{&a.Locale}, strDest{&a.Timezone}, strDest{&a.PreferredLanguage}, strDest{&a.ProfileURL},
		strDest{&a.EmployeeNumber}, strDest{&a.Department}, strDest{&a.CostCenter}, strDest{&a.Organization},
		strDest{&a.Division}, strDest{&a.Manager}, strDest{&p.ExternalID}, strDest{&p.GoogleID}, &state, &source,
		&p.Version, strDest{&role}, &p.AccessRevoked, strDest{&p.FormerUserName}, strDest{&p.FormerEmail},
		strDest{&p.DesiredHash}, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt},
		nullTimeDest{&p.DeactivatedAt}, nullTimeDest{&p.DetachedAt},
	)
	p.State, p.Source, p.Role = scimbridge.State(state), scimbridge.Source(source), scimbridge.Role(role)
	return p, err
}

// queryProfiles runs a profileSelect query and loads the emails of the rows
// it returns with one more query.
func (db *DB) queryProfiles(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]scimbridge.Profile, error) {
	rows, err := q.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("query profiles: %w", err)
	}
	defer rows.Close()
	var out []scimbridge.Profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("scan profile: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query profiles: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	err = db.loadEmails(ctx, q, out,
		`SELECT profile_id, value, type, display, is_primary FROM profile_emails
		WHERE profile_id IN (`+placeholders(len(ids))+`) ORDER BY profile_id, position`, ids...)
	return out, err
}

// loadEmails runs an emails query (profile_id, value, type, display,
// is_primary ordered by profile_id, position) and attaches the rows to
// profiles.
func (db *DB) loadEmails(ctx context.Context, q sqlx.QueryerContext, profiles []scimbridge.Profile, query string, args ...any) error {
	index := make(map[string]int, len(profiles))
	for i := range profiles {
		index[profiles[i].ID] = i
	}
	rows, err := q.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("query emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e scimbridge.Email
		var primary sql.NullBool
		if err := rows.Scan(&id, &e.Value, strDest{&e.Type}, strDest{&e.Display}, &primary); err != nil {
			return fmt.Errorf("scan email: %w", err)
		}
		if primary.Valid {
			e.Primary = &primary.Bool
		}
		if i, ok := index[id]; ok {
			profiles[i].Emails = append(profiles[i].Emails, e)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query emails: %w", err)
	}
	return nil
}

// Profile returns one profile of the organization, detached included.
func (db *DB) Profile(ctx context.Context, orgID, id string) (scimbridge.Profile, error) {
	if !validUUID(id) {
		return scimbridge.Profile{}, notFound("profile")
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return scimbridge.Profile{}, err
	}
	defer tx.Rollback()
	ps, err := db.queryProfiles(ctx, tx, profileSelect+` WHERE p.org_id = ? AND p.id = ?`, orgID, id)
	if err != nil {
		return scimbridge.Profile{}, fmt.Errorf("read profile: %w", err)
	}
	if len(ps) == 0 {
		return scimbridge.Profile{}, notFound("profile")
	}
	return ps[0], nil
}

// LookupProfiles returns the profiles (detached included, any source)
// matching any non-empty key of l, each once.
func (db *DB) LookupProfiles(ctx context.Context, orgID string, l scimbridge.ProfileLookup) ([]scimbridge.Profile, error) {
	var conds []string
	args := []any{orgID}
	if l.UserName != "" {
		conds, args = append(conds, "p.user_name_key = ?"), append(args, textkey.Key(l.UserName))
	}
	if l.Email != "" {
		conds, args = append(conds, "p.email_key = ?"), append(args, textkey.Key(l.Email))
	}
	if l.ExternalID != "" {
		conds, args = append(conds, "p.external_id = ?"), append(args, l.ExternalID)
	}
	if l.GoogleID != "" {
		conds, args = append(conds, "p.google_id = ?"), append(args, l.GoogleID)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ps, err := db.queryProfiles(ctx, tx, profileSelect+` WHERE p.org_id = ? AND (`+
		strings.Join(conds, " OR ")+`) ORDER BY p.created_at, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("look up profiles: %w", err)
	}
	return ps, nil
}

// ListProfiles returns one page of a filtered, sorted listing and the
// total number of matches.
func (db *DB) ListProfiles(ctx context.Context, q scimbridge.ProfileQuery) (scimbridge.ProfilePage, error) {
	var page scimbridge.ProfilePage
	if q.Offset < 0 || q.Limit < 0 {
		return page, scimbridge.Errorf(scimbridge.EINVALID, "offset and limit must not be negative")
	}
	where := []string{"p.org_id = ?"}
	args := []any{q.OrgID}
	if len(q.Sources) > 0 {
		where = append(where, "p.source IN ("+placeholders(len(q.Sources))+")")
		for _, s := range q.Sources {
			args = append(args, string(s))
		}
	}
	if !q.IncludeDetached {
		where = append(where, "p.detached_at IS NULL")
	}
	if q.Filter != nil {
		cond, fargs, err := compileFilter(db.dialect, q.Filter)
		if err != nil {
			return page, invalidFilter(err)
		}
		if cond != "" {
			where = append(where, "("+cond+")")
			args = append(args, fargs...)
		}
	}
	order, err := sortExpr(db.dialect, q.SortBy)
	if err != nil {
		return page, invalidFilter(err)
	}
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	orderBy := order + dir
	if order != "p.id" {
		orderBy += ", p.id" + dir
	}
	cond := strings.Join(where, " AND ")

	tx, err := db.readTx(ctx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM profiles p WHERE `+cond), args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count profiles: %w", err)
	}
	if q.Limit == 0 || q.Offset >= page.Total {
		page.Profiles = []scimbridge.Profile{}
		return page, nil
	}
	ps, err := db.queryProfiles(ctx, tx, profileSelect+` WHERE `+cond+` ORDER BY `+orderBy+` LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return page, fmt.Errorf("list profiles: %w", err)
	}
	page.Profiles = ps
	return page, nil
}

// invalidFilter gives a filter or sort error the EINVALID code when the
// compiler did not give it one.
func invalidFilter(err error) error {
	var e *scimbridge.Error
	if errors.As(err, &e) {
		return err
	}
	return &scimbridge.Error{Code: scimbridge.EINVALID, ScimType: "invalidFilter", Message: "invalid filter", Err: err}
}

// ManagedProfiles returns every non-detached profile of source with its
// emails: one query for the rows and one for the emails.
func (db *DB) ManagedProfiles(ctx context.Context, orgID string, source scimbridge.Source) ([]scimbridge.Profile, error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, db.rebind(profileSelect+
		` WHERE p.org_id = ? AND p.source = ? AND p.detached_at IS NULL ORDER BY p.id`), orgID, string(source))
	if err != nil {
		return nil, fmt.Errorf("list managed profiles: %w", err)
	}
	defer rows.Close()
	var out []scimbridge.Profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("scan profile: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list managed profiles: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	err = db.loadEmails(ctx, tx, out, `SELECT e.profile_id, e.value, e.type, e.display, e.is_primary
		FROM profile_emails e JOIN profiles p ON p.id = e.profile_id
		WHERE p.org_id = ? AND p.source = ? AND p.detached_at IS NULL
		ORDER BY e.profile_id, e.position`, orgID, string(source))
	if err != nil {
		return nil, fmt.Errorf("list managed profiles: %w", err)
	}
	return out, nil
}

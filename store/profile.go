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
	"display_name_key", "phone_numbers", "addresses",
}

var (
	// profileSelect selects every column through alias p.
	profileSelect = "SELECT p." + strings.Join(profileColumns, ", p.") + " FROM profiles p"
	// profileInsert inserts one profile.
	profileInsert = "INSERT INTO profiles (" + strings.Join(profileColumns, ", ") +
		") VALUES (" + placeholders(len(profileColumns)) + ")"
	// profileUpdate sets every column but id and org_id, then matches
	// org_id, id and the expected version.
	profileUpdate = "UPDATE profiles SET " + strings.Join(profileColumns[2:], " = ?, ") +
		" = ? WHERE org_id = ? AND id = ? AND version = ?"
)

const (
	// emailInsert inserts one email; more rows append emailRow.
	emailInsert = `INSERT INTO profile_emails (profile_id, org_id, position, value, value_key, type, display, is_primary)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	emailRow    = ", (?, ?, ?, ?, ?, ?, ?, ?)"
	emailDelete = `DELETE FROM profile_emails WHERE profile_id = ?`
)

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
		ns(textkey.Key(a.DisplayName)), jsonList(a.PhoneNumbers), jsonList(a.Addresses),
	}
}

// profileDests are the scan destinations of profileColumns for p; state,
// source and role are converted by the caller.
func profileDests(p *scimbridge.Profile, state, source, role *string) []any {
	a := &p.Attributes
	return []any{
		&p.ID, &p.OrgID, strDest{&a.UserName}, discard{}, strDest{&p.Email}, discard{},
		strDest{&a.DisplayName}, strDest{&a.Title}, strDest{&a.UserType}, strDest{&a.GivenName}, strDest{&a.FamilyName},
		strDest{&a.Formatted}, strDest{&a.MiddleName}, strDest{&a.HonorificPrefix}, strDest{&a.HonorificSuffix},
		strDest{&a.NickName}, strDest{&a.Locale}, strDest{&a.Timezone}, strDest{&a.PreferredLanguage}, strDest{&a.ProfileURL},
		strDest{&a.EmployeeNumber}, strDest{&a.Department}, strDest{&a.CostCenter}, strDest{&a.Organization},
		strDest{&a.Division}, strDest{&a.Manager}, strDest{&p.ExternalID}, strDest{&p.GoogleID}, state, source,
		&p.Version, strDest{role}, &p.AccessRevoked, strDest{&p.FormerUserName}, strDest{&p.FormerEmail},
		strDest{&p.DesiredHash}, timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt},
		nullTimeDest{&p.DeactivatedAt}, nullTimeDest{&p.DetachedAt},
		discard{}, jsonDest[scimbridge.PhoneNumber]{&a.PhoneNumbers}, jsonDest[scimbridge.Address]{&a.Addresses},
	}
}

// scanProfile reads one row of profileSelect.
func scanProfile(s interface{ Scan(...any) error }) (scimbridge.Profile, error) {
	var p scimbridge.Profile
	var state, source, role string
	err := s.Scan(profileDests(&p, &state, &source, &role)...)
	p.State, p.Source, p.Role = scimbridge.State(state), scimbridge.Source(source), scimbridge.Role(role)
	return p, err
}

// emailJoinColumns are the email columns profileEmailsSelect adds to each
// profile row; a profile has one row per email (ordered by position), or
// one with NULL emails columns when it has none.
const emailJoinColumns = ", e.position, e.value, e.type, e.display, e.is_primary"

// profileEmailsSelect selects every profile column and its emails: one
// statement reads whole profiles (the rows of a profile are adjacent when
// the query orders by the profile, then e.position).
var profileEmailsSelect = "SELECT p." + strings.Join(profileColumns, ", p.") + emailJoinColumns +
	" FROM profiles p LEFT JOIN profile_emails e ON e.profile_id = p.id"

// groupedColumn marks a profile that is a member of a group (one probe of
// the membership index by profile): a listing runs the query for the
// members' groups only when its page has one.
const groupedColumn = ", EXISTS (SELECT 1 FROM group_members m WHERE m.profile_id = p.id)"

// queryProfiles runs a query returning profileColumns, then
// emailJoinColumns, and with total set a count stored there, through a
// prepared statement on the read pool (one statement, so one snapshot). A
// profile's rows must be adjacent, its emails in position order.
func (db *DB) queryProfiles(ctx context.Context, total *int, query string, args ...any) ([]scimbridge.Profile, error) {
	ps, _, err := db.queryProfilesUpTo(ctx, total, 0, nil, query, args...)
	return ps, err
}

// queryProfilesUpTo is queryProfiles that stops reading once the profiles
// read hold maxBytes of attribute values (see scimbridge.ValueBytes; 0: no
// bound); cut says it stopped before the last row. With grouped set, the
// query has a groupedColumn before the count, and grouped takes the ids
// of the profiles it marks.
func (db *DB) queryProfilesUpTo(ctx context.Context, total *int, maxBytes int, grouped map[string]bool,
	query string, args ...any) (ps []scimbridge.Profile, cut bool, err error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("query profiles: %w", err)
	}
	return scanProfilesUpTo(rows, total, maxBytes, grouped)
}

// scanProfiles reads and closes the rows of a queryProfiles query.
func scanProfiles(rows *sql.Rows, total *int) ([]scimbridge.Profile, error) {
	ps, _, err := scanProfilesUpTo(rows, total, 0, nil)
	return ps, err
}

// scanProfilesUpTo is scanProfiles with a byte budget: before starting a
// profile it stops when those already read hold maxBytes (when positive)
// of attribute values, and says so with cut. At least one profile is read.
// grouped, when set, takes the ids of the profiles the rows' groupedColumn
// marks.
func scanProfilesUpTo(rows *sql.Rows, total *int, maxBytes int, grouped map[string]bool) (out []scimbridge.Profile, cut bool, err error) {
	defer rows.Close()
	size := 0
	var state, source, role string
	var position sql.NullInt64
	var e scimbridge.Email
	var primary sql.NullBool
	var member bool
	for rows.Next() {
		var p scimbridge.Profile
		dest := append(profileDests(&p, &state, &source, &role),
			&position, strDest{&e.Value}, strDest{&e.Type}, strDest{&e.Display}, &primary)
		if grouped != nil {
			dest = append(dest, &member)
		}
		if total != nil {
			dest = append(dest, total)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, false, fmt.Errorf("scan profile: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != p.ID {
			if maxBytes > 0 && n > 0 {
				last := &out[n-1]
				size += scimbridge.ValueBytes(scimbridge.DesiredProfile{
					Attributes: last.Attributes, ExternalID: last.ExternalID, GoogleID: last.GoogleID})
				if size >= maxBytes {
					return out, true, nil
				}
			}
			p.State, p.Source, p.Role = scimbridge.State(state), scimbridge.Source(source), scimbridge.Role(role)
			out = append(out, p)
			if member {
				grouped[p.ID] = true
			}
		}
		if position.Valid {
			e.Primary = nil
			if primary.Valid {
				e.Primary = new(primary.Bool)
			}
			last := &out[len(out)-1]
			last.Emails = append(last.Emails, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("query profiles: %w", err)
	}
	return out, false, nil
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

// profileByID reads one profile with its emails.
var profileByID = profileEmailsSelect + ` WHERE p.org_id = ? AND p.id = ? ORDER BY e.position`

// Profile returns one profile of the organization, detached included.
func (db *DB) Profile(ctx context.Context, orgID, id string) (scimbridge.Profile, error) {
	if !validUUID(id) {
		return scimbridge.Profile{}, notFound("profile")
	}
	ps, err := db.queryProfiles(ctx, nil, profileByID, orgID, id)
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
	query, args := lookupStatement(orgID, l)
	if query == "" {
		return nil, nil
	}
	ps, err := db.queryProfiles(ctx, nil, query, args...)
	if err != nil {
		return nil, fmt.Errorf("look up profiles: %w", err)
	}
	return ps, nil
}

// lookupStatement is LookupProfiles' statement; "" when l has no key. Each
// key is looked up twice, once per index holding it: the partial unique
// index of live profiles, and the partial index of the rows that one skips
// (detached profiles; for externalId, also profiles other than SCIM ones).
// Each branch states its index's predicate, so the planner uses that index
// whatever its statistics say, even on a new, un-analysed organization.
func lookupStatement(orgID string, l scimbridge.ProfileLookup) (string, []any) {
	var branches []string
	var args []any
	add := func(cond, value string) {
		branches = append(branches, "SELECT id FROM profiles WHERE org_id = ? AND "+cond)
		args = append(args, orgID, value)
	}
	key := func(column, value string) {
		add("detached_at IS NULL AND "+column+" = ?", value)
		add("detached_at IS NOT NULL AND "+column+" = ?", value)
	}
	if l.UserName != "" {
		key("user_name_key", textkey.Key(l.UserName))
	}
	if l.Email != "" {
		key("email_key", textkey.Key(l.Email))
	}
	if l.ExternalID != "" {
		add("source = 'scim' AND detached_at IS NULL AND external_id = ?", l.ExternalID)
		add("external_id = ? AND (source <> 'scim' OR detached_at IS NOT NULL)", l.ExternalID)
	}
	if l.GoogleID != "" {
		key("google_id", l.GoogleID)
	}
	if len(branches) == 0 {
		return "", nil
	}
	return profileEmailsSelect + ` WHERE p.id IN (` + strings.Join(branches, " UNION ALL ") +
		`) ORDER BY p.created_at, p.id, e.position`, args
}

// ListProfiles returns one page of a filtered, sorted listing and the
// total number of matches. The page and its emails come from one
// statement; so does the total, either as a count subquery of that
// statement (which PostgreSQL and SQLite run once) or, for a filtered
// first page shorter than the limit (an identity provider's lookup by
// userName), as the page's length without counting.
func (db *DB) ListProfiles(ctx context.Context, q scimbridge.ProfileQuery) (scimbridge.ProfilePage, error) {
	page := scimbridge.ProfilePage{Profiles: []scimbridge.Profile{}}
	if q.MarkGrouped {
		page.Grouped = map[string]bool{}
	}
	st, err := db.listStatements(q)
	if err != nil {
		return page, err
	}
	if q.Limit > 0 {
		if q.Filter != nil && q.Offset == 0 {
			ps, cut, err := db.queryProfilesUpTo(ctx, nil, q.MaxBytes, page.Grouped, st.page, append(st.args, q.Limit, q.Offset)...)
			if err != nil {
				return page, fmt.Errorf("list profiles: %w", err)
			}
			if len(ps) < q.Limit && !cut {
				// Short: every match is on the page.
				if ps != nil {
					page.Profiles = ps
				}
				page.Total = len(ps)
				return page, nil
			}
		}
		all := make([]any, 0, 2*len(st.args)+2)
		all = append(append(append(all, st.args...), st.args...), q.Limit, q.Offset)
		ps, _, err := db.queryProfilesUpTo(ctx, &page.Total, q.MaxBytes, page.Grouped, st.pageCount, all...)
		if err != nil {
			return page, fmt.Errorf("list profiles: %w", err)
		}
		if len(ps) > 0 || q.Offset == 0 {
			// No row at offset 0 means no match at all.
			if ps != nil {
				page.Profiles = ps
			}
			return page, nil
		}
	}
	row, err := db.queryRow(ctx, st.count, st.args...)
	if err == nil {
		err = row.Scan(&page.Total)
	}
	if err != nil {
		return page, fmt.Errorf("count profiles: %w", err)
	}
	return page, nil
}

// listStatements are the statements ListProfiles runs for one query.
type listStatements struct {
	// page is one page of profiles with their emails; it takes args, then
	// the limit and the offset.
	page string
	// pageCount is page with the count of every match as a last column;
	// it takes args twice, then the limit and the offset.
	pageCount string
	// count counts every match; it takes args.
	count string
	args  []any
}

// listStatements builds the statements of q. The page is a subquery named
// p like the table, so the same ORDER BY sorts its rows with their emails.
func (db *DB) listStatements(q scimbridge.ProfileQuery) (listStatements, error) {
	var st listStatements
	if q.Offset < 0 || q.Limit < 0 {
		return st, scimbridge.Errorf(scimbridge.EINVALID, "offset and limit must not be negative")
	}
	where := []string{"p.org_id = ?"}
	st.args = []any{q.OrgID}
	if len(q.Sources) > 0 {
		// The sources are literals (a closed set of names), so the planner
		// sees source = 'scim' and can use the partial index of SCIM
		// externalIds, in PostgreSQL's generic plans and on SQLite.
		lits := make([]string, len(q.Sources))
		for i, s := range q.Sources {
			switch s {
			case scimbridge.SourceSCIM, scimbridge.SourceGoogle, scimbridge.SourceManual, scimbridge.SourceSAML:
				lits[i] = "'" + string(s) + "'"
			default:
				return st, scimbridge.Errorf(scimbridge.EINVALID, "unknown source %q", s)
			}
		}
		if len(lits) == 1 {
			where = append(where, "p.source = "+lits[0]) // SQLite proves the predicate from = only
		} else {
			where = append(where, "p.source IN ("+strings.Join(lits, ", ")+")")
		}
	}
	if !q.IncludeDetached {
		where = append(where, "p.detached_at IS NULL")
	}
	if q.Filter != nil {
		cond, fargs, err := compileFilterFor(db.dialect, userCatalog, q.AnyType, q.Filter)
		if err != nil {
			return st, invalidFilter(err)
		}
		if cond != "" {
			where = append(where, "("+cond+")")
			st.args = append(st.args, fargs...)
		}
	}
	order, err := sortExprFor(db.dialect, userCatalog, q.AnyType, q.SortBy)
	if err != nil {
		return st, invalidFilter(err)
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
	st.count = `SELECT COUNT(*) FROM profiles p WHERE ` + cond
	from := ` FROM (` + profileSelect + ` WHERE ` + cond + ` ORDER BY ` + orderBy +
		` LIMIT ? OFFSET ?) p LEFT JOIN profile_emails e ON e.profile_id = p.id ORDER BY ` + orderBy + `, e.position`
	cols := `SELECT p.*` + emailJoinColumns
	if q.MarkGrouped {
		cols += groupedColumn
	}
	st.page = cols + from
	st.pageCount = cols + `, (` + st.count + `)` + from
	return st, nil
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

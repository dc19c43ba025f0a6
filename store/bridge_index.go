package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge"
)

// ProfileIndex returns the planner's light view of every non-detached
// profile of the organization (all sources): id, userName, email, Google
// id, desired-state hash, version, state and source, without the other
// attributes or emails, so a bridge run plans a large unchanged directory
// without loading it. Full is nil in every entry: ProfilesByID loads the
// whole rows a plan changes.
func (db *DB) ProfileIndex(ctx context.Context, orgID string) ([]scimbridge.StoredProfile, error) {
	var out []scimbridge.StoredProfile
	err := db.eachProfileIndex(ctx, orgID, func(n int) { out = make([]scimbridge.StoredProfile, 0, n) },
		func(s scimbridge.StoredProfile) error {
			out = append(out, s)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachProfileIndex calls fn with the light view of each non-detached
// profile of the organization (as ProfileIndex returns them), one row at a
// time, so a caller keeps only what it needs of a large directory; size,
// when set, is first told how many rows there are about to be. An error
// from fn stops the scan and is returned.
func (db *DB) EachProfileIndex(ctx context.Context, orgID string, size func(n int), fn func(scimbridge.StoredProfile) error) error {
	return db.eachProfileIndex(ctx, orgID, size, fn)
}

func (db *DB) eachProfileIndex(ctx context.Context, orgID string, size func(int), fn func(scimbridge.StoredProfile) error) error {
	err := db.scan(ctx, func(conn *sql.Conn) error {
		if size != nil {
			var n int
			if err := conn.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM profiles WHERE org_id = ? AND detached_at IS NULL`),
				orgID).Scan(&n); err != nil {
				return err
			}
			size(n)
		}
		rows, err := conn.QueryContext(ctx, db.rebind(`SELECT id, user_name, email, google_id, desired_hash, version,
			state, source FROM profiles WHERE org_id = ? AND detached_at IS NULL`), orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s scimbridge.StoredProfile
			var state, source string
			if err := rows.Scan(&s.ID, strDest{&s.UserName}, strDest{&s.Email}, strDest{&s.GoogleID},
				strDest{&s.DesiredHash}, &s.Version, &state, &source); err != nil {
				return err
			}
			s.State, s.Source = stateOf(state), sourceOf(source)
			if s.Email == s.UserName {
				s.Email = s.UserName // one string for both, as Google profiles have
			}
			if err := fn(s); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("read profile index: %w", err)
	}
	return nil
}

// RecentBridgeChanges counts the deactivations and reactivations the
// Google bridge applied to the organization since since (the guard's
// trailing window), in one pass over the window's events.
func (db *DB) RecentBridgeChanges(ctx context.Context, orgID string, since time.Time) (deactivations, reactivations int, err error) {
	err = db.scan(ctx, func(conn *sql.Conn) error {
		// The kinds are spelled out, not parameters, so both databases
		// read the partial index events_org_guard_time (migration 0012)
		// instead of every event of the window (a first sync writes one
		// per user).
		rows, err := conn.QueryContext(ctx, db.rebind(`SELECT kind, COUNT(*) FROM events
			WHERE org_id = ? AND time >= ? AND source = ? AND kind IN ('`+string(scimbridge.ChangeDeactivate)+`', '`+
			string(scimbridge.ChangeReactivate)+`') AND status < 400 GROUP BY kind`),
			orgID, db.tm(since), string(scimbridge.EventGoogle))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var n int
			if err := rows.Scan(&kind, &n); err != nil {
				return err
			}
			if scimbridge.ChangeKind(kind) == scimbridge.ChangeDeactivate {
				deactivations = n
			} else {
				reactivations = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count recent bridge changes: %w", err)
	}
	return deactivations, reactivations, nil
}

// scan runs fn on a read connection for a whole-organization scan. On
// SQLite the connection reads through SQLite's own small page cache
// instead of the read pool's memory map while fn runs: a scan of every
// profile or of a day of events would otherwise map all of those pages
// into the process, growing its resident memory by the size of the tables
// read.
func (db *DB) scan(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.dialect != DialectSQLite {
		return fn(conn)
	}
	var mmap int64
	if err := conn.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mmap); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 0"); err != nil {
		return err
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA mmap_size = %d", mmap)); err != nil {
			// A connection left without its map is only slower: drop it.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(conn)
}

// ProfilesByID returns the whole profiles of the organization (detached
// included) with the given ids, in no particular order; ids that match
// nothing are left out. It reads scimbridge.MaxBatch ids per query, each chunk in one
// read transaction.
func (db *DB) ProfilesByID(ctx context.Context, orgID string, ids []string) ([]scimbridge.Profile, error) {
	var out []scimbridge.Profile
	for start := 0; start < len(ids); start += scimbridge.MaxBatch {
		args := []any{orgID}
		for _, id := range ids[start:min(start+scimbridge.MaxBatch, len(ids))] {
			if validUUID(id) {
				args = append(args, id)
			}
		}
		if len(args) == 1 {
			continue
		}
		ps, err := db.profilesIn(ctx, args)
		if err != nil {
			return nil, fmt.Errorf("read profiles by id: %w", err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

// byIDColumns are the columns profilesIn reads, in byIDDests order.
const byIDColumns = `id, org_id, user_name, email, display_name, title, user_type, given_name, family_name,
	formatted, middle_name, honorific_prefix, honorific_suffix, nick_name, locale, timezone, preferred_language,
	profile_url, employee_number, department, cost_center, organization, division, manager, external_id,
	google_id, state, source, version, role, access_revoked, former_user_name, former_email, desired_hash,
	created_at, updated_at, deactivated_at, detached_at, phone_numbers, addresses`

func byIDDests(p *scimbridge.Profile, state, source, role *string) []any {
	a := &p.Attributes
	return []any{&p.ID, &p.OrgID, strDest{&a.UserName}, strDest{&p.Email}, strDest{&a.DisplayName},
		strDest{&a.Title}, strDest{&a.UserType}, strDest{&a.GivenName}, strDest{&a.FamilyName},
		strDest{&a.Formatted}, strDest{&a.MiddleName}, strDest{&a.HonorificPrefix}, strDest{&a.HonorificSuffix},
		strDest{&a.NickName}, strDest{&a.Locale}, strDest{&a.Timezone}, strDest{&a.PreferredLanguage},
		strDest{&a.ProfileURL}, strDest{&a.EmployeeNumber}, strDest{&a.Department}, strDest{&a.CostCenter},
		strDest{&a.Organization}, strDest{&a.Division}, strDest{&a.Manager}, strDest{&p.ExternalID},
		strDest{&p.GoogleID}, state, source, &p.Version, strDest{role}, &p.AccessRevoked,
		strDest{&p.FormerUserName}, strDest{&p.FormerEmail}, strDest{&p.DesiredHash},
		timeDest{&p.CreatedAt}, timeDest{&p.UpdatedAt}, nullTimeDest{&p.DeactivatedAt}, nullTimeDest{&p.DetachedAt},
		jsonDest[scimbridge.PhoneNumber]{&a.PhoneNumbers}, jsonDest[scimbridge.Address]{&a.Addresses}}
}

// profilesIn reads the profiles of args[0] (the organization) whose ids are
// args[1:], with their emails, in one read transaction (without the memory
// map, see scan: the rows of a large change are all over the table).
func (db *DB) profilesIn(ctx context.Context, args []any) (out []scimbridge.Profile, err error) {
	err = db.scan(ctx, func(conn *sql.Conn) error {
		opts := &sql.TxOptions{ReadOnly: true}
		if db.dialect == DialectPostgres {
			opts.Isolation = sql.LevelRepeatableRead
		}
		tx, err := conn.BeginTx(ctx, opts)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		out, err = db.profilesInTx(ctx, tx, args)
		return err
	})
	return out, err
}

func (db *DB) profilesInTx(ctx context.Context, tx *sql.Tx, args []any) ([]scimbridge.Profile, error) {
	in := placeholders(len(args) - 1)
	// By primary key only, the organization checked on each row: with
	// org_id in the WHERE clause PostgreSQL (org_id has no statistics) and
	// an analysed SQLite may walk the whole organization's index instead.
	orgID, _ := args[0].(string)
	rows, err := tx.QueryContext(ctx, db.rebind(`SELECT `+byIDColumns+` FROM profiles WHERE id IN (`+in+`)`), args[1:]...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scimbridge.Profile
	index := map[string]int{}
	for rows.Next() {
		var p scimbridge.Profile
		var state, source, role string
		if err := rows.Scan(byIDDests(&p, &state, &source, &role)...); err != nil {
			return nil, err
		}
		if p.OrgID != orgID {
			continue // another organization's profile is not there
		}
		p.State, p.Source, p.Role = scimbridge.State(state), scimbridge.Source(source), scimbridge.Role(role)
		index[p.ID] = len(out)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	erows, err := tx.QueryContext(ctx, db.rebind(`SELECT profile_id, value, type, display, is_primary FROM profile_emails
		WHERE profile_id IN (`+in+`) ORDER BY profile_id, position`), args[1:]...)
	if err != nil {
		return nil, err
	}
	defer erows.Close()
	for erows.Next() {
		var id string
		var e scimbridge.Email
		var primary sql.NullBool
		if err := erows.Scan(&id, &e.Value, strDest{&e.Type}, strDest{&e.Display}, &primary); err != nil {
			return nil, err
		}
		if primary.Valid {
			e.Primary = &primary.Bool
		}
		if i, ok := index[id]; ok {
			out[i].Emails = append(out[i].Emails, e)
		}
	}
	return out, erows.Err()
}

// stateOf and sourceOf return the constants for stored values, so a scan of
// many rows keeps no copies of them.
func stateOf(v string) scimbridge.State {
	for _, c := range []scimbridge.State{scimbridge.StateActive, scimbridge.StateInactive} {
		if v == string(c) {
			return c
		}
	}
	return scimbridge.State(v)
}

func sourceOf(v string) scimbridge.Source {
	for _, c := range []scimbridge.Source{scimbridge.SourceGoogle, scimbridge.SourceSCIM, scimbridge.SourceManual, scimbridge.SourceSAML} {
		if v == string(c) {
			return c
		}
	}
	return scimbridge.Source(v)
}

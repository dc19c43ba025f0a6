package store

// Setup links and console sessions of the web console, and the hourly
// event counts of its overview.

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

const setupLinkColumns = `id, org_id, role, token_hash, created_by, created_at, expires_at, used_at, revoked_at`

func scanSetupLink(s interface{ Scan(...any) error }) (scimbridge.SetupLink, error) {
	var l scimbridge.SetupLink
	var role string
	err := s.Scan(&l.ID, &l.OrgID, &role, &l.TokenHash, &l.CreatedBy, timeDest{&l.CreatedAt},
		timeDest{&l.ExpiresAt}, nullTimeDest{&l.UsedAt}, nullTimeDest{&l.RevokedAt})
	l.Role = scimbridge.AdminRole(role)
	return l, err
}

// CreateSetupLink inserts a setup link (its hash) with its event.
func (db *DB) CreateSetupLink(ctx context.Context, l scimbridge.SetupLink, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO setup_links (`+setupLinkColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			l.ID, l.OrgID, string(l.Role), l.TokenHash, l.CreatedBy, db.tm(l.CreatedAt), db.tm(l.ExpiresAt),
			db.ntm(l.UsedAt), db.ntm(l.RevokedAt))
		if err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, l.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("create setup link: %w", err)
	}
	return nil
}

// SetupLinks lists the organization's setup links, newest first.
func (db *DB) SetupLinks(ctx context.Context, orgID string) ([]scimbridge.SetupLink, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+setupLinkColumns+`
		FROM setup_links WHERE org_id = ? ORDER BY created_at DESC, id`), orgID)
	if err != nil {
		return nil, fmt.Errorf("list setup links: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.SetupLink{}
	for rows.Next() {
		l, err := scanSetupLink(rows)
		if err != nil {
			return nil, fmt.Errorf("scan setup link: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list setup links: %w", err)
	}
	return out, nil
}

// SetupLinkByHash returns the setup link with the token hash.
func (db *DB) SetupLinkByHash(ctx context.Context, hash []byte) (scimbridge.SetupLink, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+setupLinkColumns+` FROM setup_links WHERE token_hash = ?`), hash)
	l, err := scanSetupLink(row)
	return l, rowError(err, "setup link")
}

// UseSetupLink marks the link used and creates its session with ev, in
// one transaction; ECONFLICT when it was already used or revoked.
func (db *DB) UseSetupLink(ctx context.Context, linkID string, at time.Time, s scimbridge.ConsoleSession, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE setup_links SET used_at = ?
			WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`), db.tm(at), linkID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return scimbridge.Errorf(scimbridge.ECONFLICT, "setup link already used or revoked")
		}
		if err := insertSession(ctx, db, tx, s); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, s.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("use setup link: %w", err)
	}
	return nil
}

// RevokeSetupLink revokes the link and ends its sessions, with ev.
func (db *DB) RevokeSetupLink(ctx context.Context, orgID, id string, at time.Time, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE setup_links SET revoked_at = ?
			WHERE org_id = ? AND id = ? AND revoked_at IS NULL`), db.tm(at), orgID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var exists int
			row := tx.QueryRowContext(ctx, db.rebind(`SELECT 1 FROM setup_links WHERE org_id = ? AND id = ?`), orgID, id)
			return scanOne(row, "setup link", &exists)
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE console_sessions SET ended_at = ?
			WHERE setup_link_id = ? AND ended_at IS NULL`), db.tm(at), id); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, orgID)})
	})
	if err != nil {
		return fmt.Errorf("revoke setup link: %w", err)
	}
	return nil
}

const sessionColumns = `id, org_id, role, token_hash, admin_token_id, setup_link_id, created_at, last_seen_at, ended_at`

func insertSession(ctx context.Context, db *DB, tx *sqlx.Tx, s scimbridge.ConsoleSession) error {
	_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO console_sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		s.ID, s.OrgID, string(s.Role), s.TokenHash, ns(s.AdminTokenID), ns(s.SetupLinkID),
		db.tm(s.CreatedAt), db.tm(s.LastSeenAt), db.ntm(s.EndedAt))
	return err
}

// CreateConsoleSession inserts a session signed in with an admin token.
func (db *DB) CreateConsoleSession(ctx context.Context, s scimbridge.ConsoleSession) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error { return insertSession(ctx, db, tx, s) })
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSessionByHash returns the session with the token hash and whether
// what it stands on was revoked.
func (db *DB) ConsoleSessionByHash(ctx context.Context, hash []byte) (scimbridge.ConsoleSession, error) {
	var s scimbridge.ConsoleSession
	var role string
	var tokenRevoked, linkRevoked *time.Time
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT s.id, s.org_id, s.role, s.token_hash, s.admin_token_id,
			s.setup_link_id, s.created_at, s.last_seen_at, s.ended_at, t.revoked_at, t.expires_at, l.revoked_at
		FROM console_sessions s
		LEFT JOIN admin_tokens t ON t.id = s.admin_token_id
		LEFT JOIN setup_links l ON l.id = s.setup_link_id
		WHERE s.token_hash = ?`), hash)
	err := row.Scan(&s.ID, &s.OrgID, &role, &s.TokenHash, strDest{&s.AdminTokenID}, strDest{&s.SetupLinkID},
		timeDest{&s.CreatedAt}, timeDest{&s.LastSeenAt}, nullTimeDest{&s.EndedAt},
		nullTimeDest{&tokenRevoked}, nullTimeDest{&s.BackingExpiresAt}, nullTimeDest{&linkRevoked})
	if err := rowError(err, "console session"); err != nil {
		return s, err
	}
	s.Role = scimbridge.AdminRole(role)
	s.Revoked = tokenRevoked != nil || linkRevoked != nil
	return s, nil
}

// TouchConsoleSession sets the session's last_seen_at.
func (db *DB) TouchConsoleSession(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE id = ?`, db.tm(at), id); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// EndConsoleSession ends the session unless it has ended.
func (db *DB) EndConsoleSession(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE console_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, db.tm(at), id); err != nil {
		return fmt.Errorf("end console session: %w", err)
	}
	return nil
}

// EventCountsByHour counts the organization's events by hour and status
// class, oldest hour first: one range of the covering index
// events_org_time per hour, summed without a sort.
func (db *DB) EventCountsByHour(ctx context.Context, orgID string, since time.Time, hours int) ([]scimbridge.HourCount, error) {
	since = since.UTC().Truncate(time.Hour)
	var out []scimbridge.HourCount
	for h := range hours {
		from := since.Add(time.Duration(h) * time.Hour)
		var err error
		if out, err = db.countEventsByClass(ctx, out, orgID, from, from.Add(time.Hour)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EventCountsBetween counts the organization's events of part of an hour
// by status class: one range of the covering index events_org_time.
func (db *DB) EventCountsBetween(ctx context.Context, orgID string, from, to time.Time) ([]scimbridge.HourCount, error) {
	out, err := db.countEventsByClass(ctx, nil, orgID, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countEventsByClass appends the counts by status class of the organization's
// events from from until to, under from's hour.
func (db *DB) countEventsByClass(ctx context.Context, out []scimbridge.HourCount, orgID string, from, to time.Time) ([]scimbridge.HourCount, error) {
	q := db.rebind(`SELECT COALESCE(SUM(CASE WHEN status >= 200 AND status < 300 THEN count END), 0),
		COALESCE(SUM(CASE WHEN status >= 300 AND status < 400 THEN count END), 0),
		COALESCE(SUM(CASE WHEN status >= 400 AND status < 500 THEN count END), 0),
		COALESCE(SUM(CASE WHEN status >= 500 AND status < 600 THEN count END), 0),
		COALESCE(SUM(count), 0)
		FROM events WHERE org_id = ? AND time >= ? AND time < ?`)
	var c2, c3, c4, c5, all int64
	err := db.read.QueryRowContext(ctx, q, orgID, db.tm(from), db.tm(to)).Scan(&c2, &c3, &c4, &c5, &all)
	if err != nil {
		return nil, fmt.Errorf("count events by hour: %w", err)
	}
	hour := from.Truncate(time.Hour)
	for _, c := range []struct {
		class int
		n     int64
	}{{0, all - c2 - c3 - c4 - c5}, {2, c2}, {3, c3}, {4, c4}, {5, c5}} {
		if c.n > 0 {
			out = append(out, scimbridge.HourCount{Hour: hour, StatusClass: c.class, Count: int(c.n)})
		}
	}
	return out, nil
}

// ReportSummary returns one report of the organization without its items.
func (db *DB) ReportSummary(ctx context.Context, orgID, id string) (scimbridge.Report, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+reportColumns+` FROM reports WHERE org_id = ? AND id = ?`), orgID, id)
	r, err := scanReport(row)
	return r, rowError(err, "report")
}

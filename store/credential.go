package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// touchInterval is how stale last_used_at must be before TouchSCIMConfig
// writes it again.
const touchInterval = time.Minute

// PutSCIMConfig creates or replaces the organization's SCIM configuration,
// with its admin event, in one transaction.
func (db *DB) PutSCIMConfig(ctx context.Context, c scimbridge.SCIMConfig, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO scim_configs (org_id, token_hash, created_at, rotated_at, last_used_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at,
				rotated_at = excluded.rotated_at, last_used_at = excluded.last_used_at`),
			c.OrgID, c.TokenHash, db.tm(c.CreatedAt), db.ntm(c.RotatedAt), db.ntm(c.LastUsedAt))
		if err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, c.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("put scim config: %w", err)
	}
	return nil
}

// orgEvent names orgID on ev when the caller did not.
func orgEvent(ev scimbridge.Event, orgID string) scimbridge.Event {
	if ev.OrgID == "" {
		ev.OrgID = orgID
	}
	return ev
}

// SCIMConfig returns the organization's SCIM configuration.
func (db *DB) SCIMConfig(ctx context.Context, orgID string) (scimbridge.SCIMConfig, error) {
	var c scimbridge.SCIMConfig
	row, err := db.queryRow(ctx, `SELECT org_id, token_hash, created_at, rotated_at, last_used_at
		FROM scim_configs WHERE org_id = ?`, orgID)
	if err != nil {
		return c, fmt.Errorf("read scim configuration: %w", err)
	}
	err = scanOne(row, "scim configuration", &c.OrgID, &c.TokenHash, timeDest{&c.CreatedAt},
		nullTimeDest{&c.RotatedAt}, nullTimeDest{&c.LastUsedAt})
	return c, err
}

// OrganizationSCIMConfig returns the organization with slug and its SCIM
// configuration in one query: what the SCIM server reads to authenticate
// every request. ENOTFOUND when no organization has the slug; the
// configuration's OrgID is empty when SCIM is not enabled.
func (db *DB) OrganizationSCIMConfig(ctx context.Context, slug string) (scimbridge.Organization, scimbridge.SCIMConfig, error) {
	var o scimbridge.Organization
	var c scimbridge.SCIMConfig
	row, err := db.queryRow(ctx, `SELECT o.id, o.slug, o.name, o.adopt_existing, o.created_at,
		c.org_id, c.token_hash, c.created_at, c.rotated_at, c.last_used_at
		FROM organizations o LEFT JOIN scim_configs c ON c.org_id = o.id WHERE o.slug = ?`, slug)
	if err != nil {
		return o, c, fmt.Errorf("read organization: %w", err)
	}
	err = scanOne(row, "organization", &o.ID, &o.Slug, &o.Name, &o.AdoptExisting, timeDest{&o.CreatedAt},
		strDest{&c.OrgID}, &c.TokenHash, timeDest{&c.CreatedAt}, nullTimeDest{&c.RotatedAt}, nullTimeDest{&c.LastUsedAt})
	return o, c, err
}

// DeleteSCIMConfig deletes the organization's SCIM configuration and records
// ev; ENOTFOUND when there was none.
func (db *DB) DeleteSCIMConfig(ctx context.Context, orgID string, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM scim_configs WHERE org_id = ?`), orgID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "scim configuration"); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, orgID)})
	})
	if err != nil {
		return fmt.Errorf("delete scim config: %w", err)
	}
	return nil
}

// TouchSCIMConfig sets last_used_at to at unless it was set less than a
// minute earlier.
func (db *DB) TouchSCIMConfig(ctx context.Context, orgID string, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE scim_configs SET last_used_at = ?
		WHERE org_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		db.tm(at), orgID, db.tm(at.Add(-touchInterval)))
	if err != nil {
		return fmt.Errorf("touch scim config: %w", err)
	}
	return nil
}

const adminTokenColumns = `id, org_id, role, token_hash, prefix, created_at, expires_at, revoked_at, last_used_at, name`

func scanAdminToken(s interface{ Scan(...any) error }) (scimbridge.AdminToken, error) {
	var t scimbridge.AdminToken
	var role string
	err := s.Scan(&t.ID, &t.OrgID, &role, &t.TokenHash, strDest{&t.Prefix}, timeDest{&t.CreatedAt},
		nullTimeDest{&t.ExpiresAt}, nullTimeDest{&t.RevokedAt}, nullTimeDest{&t.LastUsedAt}, strDest{&t.Name})
	t.Role = scimbridge.AdminRole(role)
	return t, err
}

// CreateAdminToken inserts an admin token (its hash) with its event.
func (db *DB) CreateAdminToken(ctx context.Context, t scimbridge.AdminToken, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO admin_tokens (`+adminTokenColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.OrgID, string(t.Role), t.TokenHash, ns(t.Prefix), db.tm(t.CreatedAt),
			db.ntm(t.ExpiresAt), db.ntm(t.RevokedAt), db.ntm(t.LastUsedAt), ns(t.Name))
		if err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, t.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("create admin token: %w", err)
	}
	return nil
}

// AdminTokens lists the organization's admin tokens, oldest first.
func (db *DB) AdminTokens(ctx context.Context, orgID string) ([]scimbridge.AdminToken, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+adminTokenColumns+`
		FROM admin_tokens WHERE org_id = ? ORDER BY created_at, id`), orgID)
	if err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.AdminToken{}
	for rows.Next() {
		t, err := scanAdminToken(rows)
		if err != nil {
			return nil, fmt.Errorf("scan admin token: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	return out, nil
}

// AdminTokenByHash returns the admin token with hash, whatever its
// organization (authentication finds the organization this way).
func (db *DB) AdminTokenByHash(ctx context.Context, hash []byte) (scimbridge.AdminToken, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+adminTokenColumns+` FROM admin_tokens WHERE token_hash = ?`), hash)
	t, err := scanAdminToken(row)
	return t, rowError(err, "admin token")
}

// RevokeAdminToken sets the token's revoked_at and records ev; ENOTFOUND
// when the organization has no such token. Revoking a revoked token changes
// nothing and records nothing.
func (db *DB) RevokeAdminToken(ctx context.Context, orgID, id string, at time.Time, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE admin_tokens SET revoked_at = ?
			WHERE org_id = ? AND id = ? AND revoked_at IS NULL`), db.tm(at), orgID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var exists int
			row := tx.QueryRowContext(ctx, db.rebind(`SELECT 1 FROM admin_tokens WHERE org_id = ? AND id = ?`), orgID, id)
			return scanOne(row, "admin token", &exists)
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, orgID)})
	})
	if err != nil {
		return fmt.Errorf("revoke admin token: %w", err)
	}
	return nil
}

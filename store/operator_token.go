package store

// Operator tokens, the last use of admin and operator tokens, and removing
// a bridge: what the admin API adds to the credentials.

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

const operatorTokenColumns = `id, name, token_hash, prefix, created_at, expires_at, revoked_at, last_used_at`

func scanOperatorToken(s interface{ Scan(...any) error }) (scimbridge.AdminToken, error) {
	t := scimbridge.AdminToken{Operator: true}
	err := s.Scan(&t.ID, strDest{&t.Name}, &t.TokenHash, strDest{&t.Prefix}, timeDest{&t.CreatedAt},
		nullTimeDest{&t.ExpiresAt}, nullTimeDest{&t.RevokedAt}, nullTimeDest{&t.LastUsedAt})
	return t, err
}

// CreateOperatorToken inserts an operator token (its hash) with its event,
// which names no organization.
func (db *DB) CreateOperatorToken(ctx context.Context, t scimbridge.AdminToken, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO operator_tokens (`+operatorTokenColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, ns(t.Name), t.TokenHash, ns(t.Prefix), db.tm(t.CreatedAt),
			db.ntm(t.ExpiresAt), db.ntm(t.RevokedAt), db.ntm(t.LastUsedAt))
		if err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{ev})
	})
	if err != nil {
		return fmt.Errorf("create operator token: %w", err)
	}
	return nil
}

// OperatorTokens lists the operator tokens, oldest first.
func (db *DB) OperatorTokens(ctx context.Context) ([]scimbridge.AdminToken, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+operatorTokenColumns+` FROM operator_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list operator tokens: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.AdminToken{}
	for rows.Next() {
		t, err := scanOperatorToken(rows)
		if err != nil {
			return nil, fmt.Errorf("scan operator token: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list operator tokens: %w", err)
	}
	return out, nil
}

// OperatorTokenByHash returns the operator token with hash.
func (db *DB) OperatorTokenByHash(ctx context.Context, hash []byte) (scimbridge.AdminToken, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+operatorTokenColumns+` FROM operator_tokens WHERE token_hash = ?`), hash)
	t, err := scanOperatorToken(row)
	return t, rowError(err, "operator token")
}

// RevokeOperatorToken sets the operator token's revoked_at and records ev;
// ENOTFOUND for an unknown id. Revoking it again records nothing.
func (db *DB) RevokeOperatorToken(ctx context.Context, id string, at time.Time, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE operator_tokens SET revoked_at = ?
			WHERE id = ? AND revoked_at IS NULL`), db.tm(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var exists int
			row := tx.QueryRowContext(ctx, db.rebind(`SELECT 1 FROM operator_tokens WHERE id = ?`), id)
			return scanOne(row, "operator token", &exists)
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{ev})
	})
	if err != nil {
		return fmt.Errorf("revoke operator token: %w", err)
	}
	return nil
}

// TouchAdminToken sets the last_used_at of the admin or operator token id
// to at unless it was set less than a minute earlier: authentication calls
// it on every request, and this keeps it to one write a minute.
func (db *DB) TouchAdminToken(ctx context.Context, id string, at time.Time) error {
	for _, table := range []string{"admin_tokens", "operator_tokens"} {
		_, err := db.exec(ctx, `UPDATE `+table+` SET last_used_at = ?
			WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			db.tm(at), id, db.tm(at.Add(-touchInterval)))
		if err != nil {
			return fmt.Errorf("touch admin token: %w", err)
		}
	}
	return nil
}

// DeleteBridge removes the organization's bridge and its held plan, with
// ev, and forgets the keys only its credentials used; ENOTFOUND when there
// is no bridge. Its profiles and reports stay.
func (db *DB) DeleteBridge(ctx context.Context, orgID string, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM held_plans WHERE org_id = ?`), orgID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM bridges WHERE org_id = ?`), orgID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "bridge"); err != nil {
			return err
		}
		if err := db.recordSealingKeys(ctx, tx); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, orgID)})
	})
	if err != nil {
		return fmt.Errorf("delete bridge: %w", err)
	}
	return nil
}

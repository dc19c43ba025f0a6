package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// AcquireLease takes the organization's lease when it is free, expired or
// already this holder's, in one statement; false means another holder has it.
func (db *DB) AcquireLease(ctx context.Context, l scimbridge.Lease) (bool, error) {
	res, err := db.exec(ctx, `INSERT INTO leases (org_id, run_id, holder, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder,
			expires_at = excluded.expires_at
		WHERE leases.expires_at < ? OR leases.holder = excluded.holder`,
		l.OrgID, l.RunID, l.Holder, db.tm(l.ExpiresAt), db.tm(db.now()))
	if err != nil {
		return false, fmt.Errorf("acquire lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lease: %w", err)
	}
	return n > 0, nil
}

// RenewLease extends a lease the run still holds (not expired);
// ELEASELOST otherwise.
func (db *DB) RenewLease(ctx context.Context, l scimbridge.Lease) error {
	res, err := db.exec(ctx, `UPDATE leases SET expires_at = ?
		WHERE org_id = ? AND run_id = ? AND holder = ? AND expires_at > ?`,
		db.tm(l.ExpiresAt), l.OrgID, l.RunID, l.Holder, db.tm(db.now()))
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	if n == 0 {
		return leaseLost(l.OrgID)
	}
	return nil
}

// ReleaseLease gives the lease up if runID still holds it.
func (db *DB) ReleaseLease(ctx context.Context, orgID, runID string) error {
	if _, err := db.exec(ctx, `DELETE FROM leases WHERE org_id = ? AND run_id = ?`, orgID, runID); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// CurrentLease returns the organization's lease row, expired or not;
// ENOTFOUND when there is none.
func (db *DB) CurrentLease(ctx context.Context, orgID string) (scimbridge.Lease, error) {
	var l scimbridge.Lease
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT org_id, run_id, holder, expires_at FROM leases WHERE org_id = ?`), orgID)
	err := scanOne(row, "lease", &l.OrgID, &l.RunID, &l.Holder, timeDest{&l.ExpiresAt})
	return l, err
}

// checkLease verifies inside tx that the run still holds the lease. On
// PostgreSQL the row is locked FOR SHARE until tx ends, so a takeover waits
// for the batch to commit instead of slipping in between.
func (db *DB) checkLease(ctx context.Context, tx *sqlx.Tx, l scimbridge.LeaseCheck) error {
	query := `SELECT 1 FROM leases WHERE org_id = ? AND run_id = ? AND holder = ? AND expires_at > ?`
	if db.dialect == DialectPostgres {
		query += ` FOR SHARE`
	}
	var one int
	err := tx.QueryRowContext(ctx, db.rebind(query), l.OrgID, l.RunID, l.Holder, db.tm(db.now())).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return leaseLost(l.OrgID)
	} else if err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	return nil
}

func leaseLost(orgID string) error {
	return scimbridge.Errorf(scimbridge.ELEASELOST, "the run no longer holds the lease of organization %s", orgID)
}

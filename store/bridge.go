package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

const bridgeColumns = `org_id, sealed_credentials, settings, last_sync_at, last_success_at, next_sync_at,
	consecutive_failures, last_error, needs_attention, created_at, updated_at`

func scanBridge(s interface{ Scan(...any) error }) (scimbridge.Bridge, error) {
	var b scimbridge.Bridge
	var settings string
	err := s.Scan(&b.OrgID, &b.SealedCredentials, &settings, nullTimeDest{&b.LastSyncAt},
		nullTimeDest{&b.LastSuccessAt}, nullTimeDest{&b.NextSyncAt}, &b.ConsecutiveFailures,
		strDest{&b.LastError}, &b.NeedsAttention, timeDest{&b.CreatedAt}, timeDest{&b.UpdatedAt})
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(settings), &b.Settings); err != nil {
		return b, fmt.Errorf("decode bridge settings: %w", err)
	}
	return b, nil
}

// PutBridge creates or replaces the organization's bridge with its admin
// event, and records the ids of the keys that seal the stored credentials
// (SealingKeyIDs).
func (db *DB) PutBridge(ctx context.Context, b scimbridge.Bridge, ev scimbridge.Event) error {
	settings, err := json.Marshal(b.Settings)
	if err != nil {
		return fmt.Errorf("put bridge: encode settings: %w", err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO bridges (`+bridgeColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET sealed_credentials = excluded.sealed_credentials,
				settings = excluded.settings, last_sync_at = excluded.last_sync_at,
				last_success_at = excluded.last_success_at, next_sync_at = excluded.next_sync_at,
				consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error,
				needs_attention = excluded.needs_attention, created_at = excluded.created_at,
				updated_at = excluded.updated_at`),
			b.OrgID, b.SealedCredentials, string(settings), db.ntm(b.LastSyncAt), db.ntm(b.LastSuccessAt),
			db.ntm(b.NextSyncAt), b.ConsecutiveFailures, ns(b.LastError), b.NeedsAttention,
			db.tm(b.CreatedAt), db.tm(b.UpdatedAt))
		if err != nil {
			return err
		}
		if err := db.recordSealingKeys(ctx, tx); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, b.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("put bridge: %w", err)
	}
	return nil
}

// Bridge returns the organization's bridge.
func (db *DB) Bridge(ctx context.Context, orgID string) (scimbridge.Bridge, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+bridgeColumns+` FROM bridges WHERE org_id = ?`), orgID)
	b, err := scanBridge(row)
	return b, rowError(err, "bridge")
}

// Bridges returns every organization's bridge (the scheduler's view).
func (db *DB) Bridges(ctx context.Context) ([]scimbridge.Bridge, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+bridgeColumns+` FROM bridges ORDER BY org_id`)
	if err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.Bridge{}
	for rows.Next() {
		b, err := scanBridge(rows)
		if err != nil {
			return nil, fmt.Errorf("scan bridge: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	return out, nil
}

// UpdateBridgeState writes the run-state fields of b.
func (db *DB) UpdateBridgeState(ctx context.Context, b scimbridge.Bridge) error {
	if b.NeedsAttention {
		return db.bridgeNeedsAttention(ctx, b)
	}
	res, err := db.exec(ctx, `UPDATE bridges SET last_sync_at = ?, last_success_at = ?, next_sync_at = ?,
		consecutive_failures = ?, last_error = ?, needs_attention = ?, updated_at = ? WHERE org_id = ?`,
		db.ntm(b.LastSyncAt), db.ntm(b.LastSuccessAt), db.ntm(b.NextSyncAt), b.ConsecutiveFailures,
		ns(b.LastError), b.NeedsAttention, db.tm(b.UpdatedAt), b.OrgID)
	if err != nil {
		return fmt.Errorf("update bridge state: %w", err)
	}
	return mustAffect(res, "bridge")
}

const reportColumns = `id, org_id, trigger, status, started_at, finished_at, counts, error, held_until, phases`

func scanReport(s interface{ Scan(...any) error }) (scimbridge.Report, error) {
	var r scimbridge.Report
	var trigger, status, counts, phases string
	err := s.Scan(&r.ID, &r.OrgID, &trigger, &status, timeDest{&r.StartedAt}, nullTimeDest{&r.FinishedAt},
		&counts, strDest{&r.Error}, nullTimeDest{&r.HeldUntil}, strDest{&phases})
	if err != nil {
		return r, err
	}
	r.Trigger, r.Status = scimbridge.Trigger(trigger), scimbridge.ReportStatus(status)
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return r, fmt.Errorf("decode report counts: %w", err)
	}
	if phases != "" {
		r.Phases = new(scimbridge.ReportPhases)
		if err := json.Unmarshal([]byte(phases), r.Phases); err != nil {
			return r, fmt.Errorf("decode report phases: %w", err)
		}
	}
	return r, nil
}

// PutReport inserts or replaces a report with all its items.
func (db *DB) PutReport(ctx context.Context, r scimbridge.Report) error {
	return db.PutReportFrom(ctx, r, 0)
}

// Report returns one report of the organization with its items.
func (db *DB) Report(ctx context.Context, orgID, id string) (scimbridge.Report, error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return scimbridge.Report{}, err
	}
	defer tx.Rollback()
	row := tx.QueryRowContext(ctx, db.rebind(`SELECT `+reportColumns+` FROM reports WHERE org_id = ? AND id = ?`), orgID, id)
	r, err := scanReport(row)
	if err != nil {
		return r, rowError(err, "report")
	}
	rows, err := tx.QueryContext(ctx, db.rebind(`SELECT item FROM report_items WHERE report_id = ? ORDER BY position`), id)
	if err != nil {
		return r, fmt.Errorf("read report items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		var item scimbridge.ReportItem
		if err := rows.Scan(&raw); err != nil {
			return r, fmt.Errorf("read report items: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &item); err != nil {
			return r, fmt.Errorf("decode report item: %w", err)
		}
		r.Items = append(r.Items, item)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("read report items: %w", err)
	}
	return r, nil
}

// Reports lists the organization's reports newest first, without items.
func (db *DB) Reports(ctx context.Context, orgID string, limit int) ([]scimbridge.Report, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+reportColumns+` FROM reports
		WHERE org_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`), orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("scan report: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	return out, nil
}

// PurgeReports deletes reports (and their items) started before before.
func (db *DB) PurgeReports(ctx context.Context, before time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM reports WHERE started_at < ?`, db.tm(before))
	if err != nil {
		return 0, fmt.Errorf("purge reports: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge reports: %w", err)
	}
	return int(n), nil
}

// PutHeldPlan stores the organization's one held plan, replacing any other.
func (db *DB) PutHeldPlan(ctx context.Context, orgID, reportID string, plan []byte, expiresAt time.Time) error {
	if plan == nil {
		plan = []byte{}
	}
	rec := db.bridgeRecord(orgID, scimbridge.ChangeBridgePlanHeld, reportID, time.Time{})
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO held_plans (org_id, report_id, plan, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET report_id = excluded.report_id, plan = excluded.plan,
			expires_at = excluded.expires_at`), orgID, reportID, plan, db.tm(expiresAt))
		if err != nil {
			return err
		}
		return db.insertChanges(ctx, db.txExec(tx), []scimbridge.ChangeRecord{rec})
	})
	if err != nil {
		return fmt.Errorf("put held plan: %w", err)
	}
	db.committed([]scimbridge.ChangeRecord{rec})
	return nil
}

// HeldPlan returns the organization's held plan; ENOTFOUND when none.
func (db *DB) HeldPlan(ctx context.Context, orgID string) (reportID string, plan []byte, expiresAt time.Time, err error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT report_id, plan, expires_at FROM held_plans WHERE org_id = ?`), orgID)
	err = scanOne(row, "held plan", &reportID, &plan, timeDest{&expiresAt})
	return reportID, plan, expiresAt, err
}

// DeleteHeldPlan removes the organization's held plan, if any.
func (db *DB) DeleteHeldPlan(ctx context.Context, orgID string) error {
	if _, err := db.exec(ctx, `DELETE FROM held_plans WHERE org_id = ?`, orgID); err != nil {
		return fmt.Errorf("delete held plan: %w", err)
	}
	return nil
}

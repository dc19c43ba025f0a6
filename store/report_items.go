package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

// Report items can be written as a run goes, so a run of a large directory
// never holds all of its items: AppendReportItems adds items at their
// positions, PutReportFrom writes the report and its items from a position
// on, and EachReportItem reads them back one at a time.

// AppendReportItems inserts items at positions start, start+1, ... of the
// organization's report reportID (ENOTFOUND when the organization has no
// such report), in one transaction.
func (db *DB) AppendReportItems(ctx context.Context, orgID, reportID string, start int, items []scimbridge.ReportItem) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM reports WHERE id = ? AND org_id = ?`),
			reportID, orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("report")
		}
		return db.insertReportItems(ctx, tx, reportID, start, items)
	})
	if err != nil {
		return fmt.Errorf("append report items: %w", err)
	}
	return nil
}

// PutReportFrom inserts or replaces the report r and replaces its items
// from position start on with r.Items (at start, start+1, ...); the items
// before start stay as they are.
func (db *DB) PutReportFrom(ctx context.Context, r scimbridge.Report, start int) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return fmt.Errorf("put report: encode counts: %w", err)
	}
	var phases any
	if r.Phases != nil {
		b, err := json.Marshal(r.Phases)
		if err != nil {
			return fmt.Errorf("put report: encode phases: %w", err)
		}
		phases = string(b)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO reports (`+reportColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET trigger = excluded.trigger, status = excluded.status,
				started_at = excluded.started_at, finished_at = excluded.finished_at, counts = excluded.counts,
				error = excluded.error, held_until = excluded.held_until, phases = excluded.phases
			WHERE reports.org_id = excluded.org_id`),
			r.ID, r.OrgID, string(r.Trigger), string(r.Status), db.tm(r.StartedAt), db.ntm(r.FinishedAt),
			string(counts), ns(r.Error), db.ntm(r.HeldUntil), phases)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "report"); err != nil {
			return scimbridge.Errorf(scimbridge.ECONFLICT, "report id %s belongs to another organization", r.ID)
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM report_items WHERE report_id = ? AND position >= ?`),
			r.ID, start); err != nil {
			return err
		}
		return db.insertReportItems(ctx, tx, r.ID, start, r.Items)
	})
	if err != nil {
		return fmt.Errorf("put report: %w", err)
	}
	return nil
}

// insertReportItems inserts items at positions start... with one
// multi-row INSERT per scimbridge.MaxBatch items, encoding each chunk only when it is
// written.
func (db *DB) insertReportItems(ctx context.Context, tx *sqlx.Tx, reportID string, start int, items []scimbridge.ReportItem) error {
	for off := 0; off < len(items); off += scimbridge.MaxBatch {
		chunk := items[off:min(off+scimbridge.MaxBatch, len(items))]
		args := make([]any, 0, 4*len(chunk))
		var b strings.Builder
		b.WriteString(`INSERT INTO report_items (report_id, position, item, kind) VALUES `)
		for i := range chunk {
			raw, err := json.Marshal(&chunk[i])
			if err != nil {
				return fmt.Errorf("encode report item: %w", err)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, reportID, start+off+i, string(raw), ns(string(chunk[i].Kind)))
		}
		if _, err := tx.ExecContext(ctx, db.rebind(b.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// EachReportItem calls fn with each item of the organization's report
// reportID in order, decoding one page at a time; ENOTFOUND when the
// organization has no such report. An error from fn stops the listing and
// is returned. Each page is a statement of its own, so a report of a
// million items is read within the statement timeout.
func (db *DB) EachReportItem(ctx context.Context, orgID, reportID string, fn func(scimbridge.ReportItem) error) error {
	after := -1
	for {
		page, err := db.ReportItems(ctx, orgID, reportID, "", after, scimbridge.MaxPageSize)
		if err != nil {
			return err
		}
		for _, it := range page {
			if err := fn(it.ReportItem); err != nil {
				return err
			}
		}
		if len(page) < scimbridge.MaxPageSize {
			return nil
		}
		after = page[len(page)-1].Position
	}
}

// ReportItems returns up to limit items of the organization's report of
// kind ("" for every kind) after position after, in position order: one
// range of the report_items_kind index (or of the primary key for every
// kind).
func (db *DB) ReportItems(ctx context.Context, orgID, reportID string, kind scimbridge.ChangeKind, after, limit int) ([]scimbridge.ReportItemAt, error) {
	if limit < 1 || limit > scimbridge.MaxPageSize+1 {
		return nil, scimbridge.Errorf(scimbridge.EINVALID, "limit must be 1 to %d", scimbridge.MaxPageSize)
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM reports WHERE id = ? AND org_id = ?`),
		reportID, orgID).Scan(&n); err != nil {
		return nil, fmt.Errorf("read report items: %w", err)
	}
	if n == 0 {
		return nil, notFound("report")
	}
	query := `SELECT position, item FROM report_items WHERE report_id = ? AND position > ?`
	args := []any{reportID, after}
	if kind != "" {
		query, args = query+` AND kind = ?`, append(args, string(kind))
	}
	rows, err := tx.QueryContext(ctx, db.rebind(query+` ORDER BY position LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read report items: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.ReportItemAt{}
	for rows.Next() {
		var it scimbridge.ReportItemAt
		var raw []byte
		if err := rows.Scan(&it.Position, &raw); err != nil {
			return nil, fmt.Errorf("read report items: %w", err)
		}
		if err := json.Unmarshal(raw, &it.ReportItem); err != nil {
			return nil, fmt.Errorf("decode report item: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report items: %w", err)
	}
	return out, nil
}

package store

// Webhook endpoints, their leases, attempts and kept messages.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
)

var _ scimbridge.WebhookStore = (*DB)(nil)

const webhookColumns = `id, org_id, url, types, enabled, batch, on_reject, sealed_secret, sealed_previous_secret,
	previous_expires_at, disabled_reason, created_at, updated_at, cursor_tx, cursor_seq, attempts,
	failing_since, next_attempt_at`

func scanWebhook(s interface{ Scan(...any) error }) (scimbridge.WebhookEndpoint, error) {
	var e scimbridge.WebhookEndpoint
	var types string
	d := &e.Delivery
	err := s.Scan(&e.ID, &e.OrgID, &e.URL, &types, &e.Enabled, &e.Batch, &e.OnReject, &e.SealedSecret,
		&e.SealedPreviousSecret, nullTimeDest{&e.PreviousExpiresAt}, strDest{&e.DisabledReason},
		timeDest{&e.CreatedAt}, timeDest{&e.UpdatedAt}, &d.Cursor.Tx, &d.Cursor.Seq, &d.Attempts,
		nullTimeDest{&d.FailingSince}, nullTimeDest{&d.NextAttemptAt})
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(types), &e.Types); err != nil {
		return e, fmt.Errorf("decode webhook types: %w", err)
	}
	if len(e.SealedPreviousSecret) == 0 {
		e.SealedPreviousSecret = nil
	}
	return e, nil
}

func webhookTypes(types []scimbridge.ChangeType) string {
	if types == nil {
		types = []scimbridge.ChangeType{}
	}
	b, _ := json.Marshal(types)
	return string(b)
}

// CreateWebhookEndpoint inserts e with its admin event and records the
// keys sealing the stored secrets.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e scimbridge.WebhookEndpoint, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		d := e.Delivery
		_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO webhook_endpoints (`+webhookColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.ID, e.OrgID, e.URL, webhookTypes(e.Types), e.Enabled, e.Batch, string(e.OnReject), e.SealedSecret,
			e.SealedPreviousSecret, db.ntm(e.PreviousExpiresAt), ns(e.DisabledReason), db.tm(e.CreatedAt),
			db.tm(e.UpdatedAt), d.Cursor.Tx, d.Cursor.Seq, d.Attempts, db.ntm(d.FailingSince), db.ntm(d.NextAttemptAt))
		if err != nil {
			return err
		}
		if err := db.recordSealingKeys(ctx, tx); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, e.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("create webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoint returns one endpoint of the organization.
func (db *DB) WebhookEndpoint(ctx context.Context, orgID, id string) (scimbridge.WebhookEndpoint, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+webhookColumns+` FROM webhook_endpoints
		WHERE org_id = ? AND id = ?`), orgID, id)
	e, err := scanWebhook(row)
	return e, rowError(err, "webhook endpoint")
}

// WebhookEndpoints lists the organization's endpoints, every
// organization's for "", oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context, orgID string) ([]scimbridge.WebhookEndpoint, error) {
	query, args := `SELECT `+webhookColumns+` FROM webhook_endpoints ORDER BY created_at, id`, []any{}
	if orgID != "" {
		query, args = `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE org_id = ? ORDER BY created_at, id`, []any{orgID}
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.WebhookEndpoint{}
	for rows.Next() {
		e, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook endpoint: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// UpdateWebhookEndpoint writes e's settings and secrets with its event.
// Enabling an endpoint clears its failure count, so that it starts
// retrying afresh.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e scimbridge.WebhookEndpoint, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, db.rebind(`UPDATE webhook_endpoints SET url = ?, types = ?,
			attempts = CASE WHEN ? AND NOT enabled THEN 0 ELSE attempts END,
			failing_since = CASE WHEN ? AND NOT enabled THEN NULL ELSE failing_since END,
			next_attempt_at = CASE WHEN ? AND NOT enabled THEN NULL ELSE next_attempt_at END,
			enabled = ?, batch = ?, on_reject = ?, sealed_secret = ?, sealed_previous_secret = ?,
			previous_expires_at = ?, disabled_reason = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`),
			e.URL, webhookTypes(e.Types), e.Enabled, e.Enabled, e.Enabled, e.Enabled, e.Batch, string(e.OnReject),
			e.SealedSecret, e.SealedPreviousSecret, db.ntm(e.PreviousExpiresAt), ns(e.DisabledReason),
			db.tm(e.UpdatedAt), e.OrgID, e.ID)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "webhook endpoint"); err != nil {
			return err
		}
		if err := db.recordSealingKeys(ctx, tx); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, e.OrgID)})
	})
	if err != nil {
		return fmt.Errorf("update webhook endpoint: %w", err)
	}
	return nil
}

// DeleteWebhookEndpoint deletes the endpoint with its attempts, messages
// and lease.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, orgID, id string, ev scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, table := range []string{"webhook_attempts", "webhook_messages", "webhook_leases"} {
			if _, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM `+table+` WHERE endpoint_id IN
				(SELECT id FROM webhook_endpoints WHERE org_id = ? AND id = ?)`), orgID, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?`), orgID, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "webhook endpoint"); err != nil {
			return err
		}
		if err := db.recordSealingKeys(ctx, tx); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(ev, orgID)})
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	return nil
}

// AcquireWebhookLease takes or renews the endpoint's lease in one
// statement.
func (db *DB) AcquireWebhookLease(ctx context.Context, endpointID, holder string, expires time.Time) (bool, error) {
	res, err := db.exec(ctx, `INSERT INTO webhook_leases (endpoint_id, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (endpoint_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE webhook_leases.expires_at < ? OR webhook_leases.holder = excluded.holder`,
		endpointID, holder, db.tm(expires), db.tm(db.now()))
	if err != nil {
		return false, fmt.Errorf("acquire webhook lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire webhook lease: %w", err)
	}
	return n > 0, nil
}

// ReleaseWebhookLease gives the lease up if holder has it.
func (db *DB) ReleaseWebhookLease(ctx context.Context, endpointID, holder string) error {
	if _, err := db.exec(ctx, `DELETE FROM webhook_leases WHERE endpoint_id = ? AND holder = ?`, endpointID, holder); err != nil {
		return fmt.Errorf("release webhook lease: %w", err)
	}
	return nil
}

// SaveWebhookProgress commits an attempt and the delivery state after it.
// The update of the endpoint names the lease, so a replica that lost it
// changes nothing (ELEASELOST). On PostgreSQL the commit does not wait for
// the WAL flush: a database crash can lose the last fraction of a
// second's progress, and delivery then sends those changes again, which
// at-least-once delivery allows; it does not wait for a disk flush per
// delivery.
func (db *DB) SaveWebhookProgress(ctx context.Context, p scimbridge.WebhookProgress) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if db.dialect == DialectPostgres && p.Disable == "" {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
		}
		d := p.Delivery
		query := `UPDATE webhook_endpoints SET cursor_tx = ?, cursor_seq = ?, attempts = ?, failing_since = ?,
			next_attempt_at = ?`
		args := []any{d.Cursor.Tx, d.Cursor.Seq, d.Attempts, db.ntm(d.FailingSince), db.ntm(d.NextAttemptAt)}
		if p.Disable != "" {
			query += `, enabled = ?, disabled_reason = ?, updated_at = ?`
			args = append(args, false, p.Disable, db.tm(db.now()))
		}
		query += ` WHERE id = ? AND EXISTS (SELECT 1 FROM webhook_leases l
			WHERE l.endpoint_id = webhook_endpoints.id AND l.holder = ? AND l.expires_at > ?)`
		args = append(args, p.EndpointID, p.Holder, db.tm(db.now()))
		res, err := tx.ExecContext(ctx, db.rebind(query), args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return scimbridge.Errorf(scimbridge.ELEASELOST, "this replica no longer holds the lease of webhook endpoint %s", p.EndpointID)
		}
		if a := p.Attempt; a != nil {
			if err := db.insertAttempt(ctx, tx, a); err != nil {
				return err
			}
		}
		if m := p.SetAside; m != nil {
			if err := db.putMessage(ctx, tx, *m); err != nil {
				return err
			}
		}
		if p.Redelivered != "" {
			if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE webhook_messages SET state = ?, updated_at = ?
				WHERE endpoint_id = ? AND id = ?`), scimbridge.MessageRedelivered, db.tm(db.now()), p.EndpointID, p.Redelivered); err != nil {
				return err
			}
		}
		if p.Event != nil {
			return db.insertEvents(ctx, tx, []scimbridge.Event{*p.Event})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save webhook progress: %w", err)
	}
	return nil
}

const attemptColumns = `id, endpoint_id, org_id, message_id, first_tx, first_seq, last_tx, last_seq, changes,
	time, status, duration_us, outcome, response, error, redelivery`

func (db *DB) insertAttempt(ctx context.Context, tx *sqlx.Tx, a *scimbridge.WebhookAttempt) error {
	_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO webhook_attempts (endpoint_id, org_id, message_id,
		first_tx, first_seq, last_tx, last_seq, changes, time, status, duration_us, outcome, response, error, redelivery)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.EndpointID, a.OrgID, a.MessageID, a.First.Tx, a.First.Seq, a.Last.Tx, a.Last.Seq, a.Changes,
		db.tm(a.Time), a.Status, a.Duration.Microseconds(), a.Outcome, ns(a.Response), ns(a.Error), a.Redelivery)
	if err != nil {
		return fmt.Errorf("insert webhook attempt: %w", err)
	}
	return nil
}

func scanAttempt(s interface{ Scan(...any) error }) (scimbridge.WebhookAttempt, error) {
	var a scimbridge.WebhookAttempt
	var us int64
	err := s.Scan(&a.ID, &a.EndpointID, &a.OrgID, &a.MessageID, &a.First.Tx, &a.First.Seq, &a.Last.Tx, &a.Last.Seq,
		&a.Changes, timeDest{&a.Time}, &a.Status, &us, &a.Outcome, strDest{&a.Response}, strDest{&a.Error}, &a.Redelivery)
	a.Duration = time.Duration(us) * time.Microsecond
	return a, err
}

// WebhookAttempts lists an endpoint's attempts, newest first.
func (db *DB) WebhookAttempts(ctx context.Context, orgID, endpointID string, before int64, limit int) ([]scimbridge.WebhookAttempt, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+attemptColumns+` FROM webhook_attempts
		WHERE org_id = ? AND endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?`), orgID, endpointID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.WebhookAttempt{}
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook attempt: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	return out, nil
}

// WebhookAttempt returns one attempt of the organization.
func (db *DB) WebhookAttempt(ctx context.Context, orgID string, id int64) (scimbridge.WebhookAttempt, error) {
	row := db.read.QueryRowContext(ctx, db.rebind(`SELECT `+attemptColumns+` FROM webhook_attempts
		WHERE org_id = ? AND id = ?`), orgID, id)
	a, err := scanAttempt(row)
	return a, rowError(err, "webhook attempt")
}

// PurgeWebhookAttempts deletes attempts older than before, batch rows per
// statement.
func (db *DB) PurgeWebhookAttempts(ctx context.Context, before time.Time, batch int) (int, error) {
	total := 0
	for {
		res, err := db.exec(ctx, `DELETE FROM webhook_attempts WHERE id IN
			(SELECT id FROM webhook_attempts WHERE time < ? ORDER BY id LIMIT ?)`, db.tm(before), batch)
		if err != nil {
			return total, fmt.Errorf("purge webhook attempts: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge webhook attempts: %w", err)
		}
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}

const messageColumns = `id, endpoint_id, org_id, first_tx, first_seq, last_tx, last_seq, changes, body, state,
	created_at, updated_at`

func (db *DB) putMessage(ctx context.Context, tx *sqlx.Tx, m scimbridge.WebhookMessage) error {
	_, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO webhook_messages (`+messageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (endpoint_id, id) DO UPDATE SET body = excluded.body, state = excluded.state,
			updated_at = excluded.updated_at`),
		m.ID, m.EndpointID, m.OrgID, m.First.Tx, m.First.Seq, m.Last.Tx, m.Last.Seq, m.Changes, m.Body, m.State,
		db.tm(m.CreatedAt), db.tm(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put webhook message: %w", err)
	}
	return nil
}

// PutWebhookMessage inserts or replaces a kept message with its event.
func (db *DB) PutWebhookMessage(ctx context.Context, m scimbridge.WebhookMessage, ev *scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.putMessage(ctx, tx, m); err != nil {
			return err
		}
		if ev != nil {
			return db.insertEvents(ctx, tx, []scimbridge.Event{orgEvent(*ev, m.OrgID)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put webhook message: %w", err)
	}
	return nil
}

// WebhookMessages lists an endpoint's kept messages, oldest first.
func (db *DB) WebhookMessages(ctx context.Context, orgID, endpointID string) ([]scimbridge.WebhookMessage, error) {
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT `+messageColumns+` FROM webhook_messages
		WHERE org_id = ? AND endpoint_id = ? ORDER BY created_at, id`), orgID, endpointID)
	if err != nil {
		return nil, fmt.Errorf("list webhook messages: %w", err)
	}
	defer rows.Close()
	out := []scimbridge.WebhookMessage{}
	for rows.Next() {
		var m scimbridge.WebhookMessage
		if err := rows.Scan(&m.ID, &m.EndpointID, &m.OrgID, &m.First.Tx, &m.First.Seq, &m.Last.Tx, &m.Last.Seq,
			&m.Changes, &m.Body, &m.State, timeDest{&m.CreatedAt}, timeDest{&m.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("scan webhook message: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook messages: %w", err)
	}
	return out, nil
}

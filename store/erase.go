package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// Person erasure: the profile becomes a tombstone in one transaction
// (EraseProfile), then the person's events lose their bodies in short
// batches (EraseEvents), so a large events log never holds the write lock
// for long.

// erasedColumns are the profile columns an erasure sets to NULL: every
// personal attribute, identifier and key. id, org_id, state, source,
// version, role, access_revoked and the times stay.
var erasedColumns = []string{
	"user_name", "user_name_key", "email", "email_key", "display_name", "display_name_key",
	"title", "user_type", "given_name", "family_name", "formatted", "middle_name",
	"honorific_prefix", "honorific_suffix", "nick_name", "locale", "timezone",
	"preferred_language", "profile_url", "employee_number", "department", "cost_center",
	"organization", "division", "manager", "external_id", "google_id",
	"former_user_name", "former_email", "desired_hash", "phone_numbers", "addresses",
}

// EraseProfile turns the profile into a tombstone with its event.
func (db *DB) EraseProfile(ctx context.Context, orgID, profileID string, at time.Time, ev scimbridge.Event) (scimbridge.EraseKeys, bool, error) {
	keys := scimbridge.EraseKeys{ProfileID: profileID}
	if !validUUID(profileID) {
		return keys, false, notFound("profile")
	}
	erased := false
	var written []scimbridge.ChangeRecord
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var userName, email, formerUserName, formerEmail sql.NullString
		var erasedAt any
		err := tx.QueryRowContext(ctx, db.rebind(`SELECT user_name, email, former_user_name, former_email, erased_at
			FROM profiles WHERE org_id = ? AND id = ?`), orgID, profileID).
			Scan(&userName, &email, &formerUserName, &formerEmail, &erasedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("profile")
		} else if err != nil {
			return fmt.Errorf("read profile: %w", err)
		}
		for _, s := range []sql.NullString{userName, email, formerUserName, formerEmail} {
			if s.Valid && s.String != "" {
				keys.UserNames = append(keys.UserNames, s.String)
			}
		}
		if erasedAt != nil {
			return nil
		}
		erased = true
		now := db.tm(at)
		if _, err := tx.ExecContext(ctx, db.rebind(detachGroupsBump), now, profileID); err != nil {
			return fmt.Errorf("leave groups: %w", err)
		}
		left, err := scanIDs(tx.QueryContext(ctx, db.rebind(detachMembersDelete), profileID))
		if err != nil {
			return fmt.Errorf("leave groups: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.rebind(emailDelete), profileID); err != nil {
			return fmt.Errorf("erase emails: %w", err)
		}
		_, err = tx.ExecContext(ctx, db.rebind(`UPDATE profiles SET `+strings.Join(erasedColumns, " = NULL, ")+
			` = NULL, state = ?, access_revoked = ?, version = version + 1, updated_at = ?,
			deactivated_at = COALESCE(deactivated_at, ?), detached_at = COALESCE(detached_at, ?), erased_at = ?
			WHERE org_id = ? AND id = ?`),
			string(scimbridge.StateInactive), true, now, now, now, now, orgID, profileID)
		if err != nil {
			return fmt.Errorf("erase profile: %w", err)
		}
		// The person's earlier change records keep their positions and
		// types but lose the resource they carried.
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE changes SET resource = NULL
			WHERE org_id = ? AND resource_id = ? AND resource IS NOT NULL`), orgID, profileID); err != nil {
			return fmt.Errorf("erase change records: %w", err)
		}
		// The feed says the person was erased, and that they left their
		// groups, in the transaction of the erasure; the record carries no
		// resource, so nothing personal.
		base := scimbridge.ChangeRecord{OrgID: orgID, Type: scimbridge.ChangeUserErased, ResourceID: profileID,
			Source: scimbridge.EventAdmin, RequestID: ev.RequestID, Time: at}
		recs := make([]scimbridge.ChangeRecord, 0, len(left)+1)
		for _, g := range left {
			recs = append(recs, memberRecord(scimbridge.ChangeMemberRemoved, orgID, g, profileID, &base))
		}
		recs = append(recs, base)
		if err := db.insertChanges(ctx, db.txExec(tx), recs); err != nil {
			return err
		}
		written = recs
		return db.insertEvents(ctx, tx, []scimbridge.Event{ev})
	})
	if err != nil {
		return keys, false, fmt.Errorf("erase profile: %w", err)
	}
	db.committed(written)
	return keys, erased, nil
}

// EraseEvents replaces the personal values of the person's events, batch
// rows per write transaction. The person's events are those whose
// profile_id is the profile (the changes it made), the SCIM requests whose
// path names /Users/{id}, and those whose target username is one the
// person held (requests that failed before naming a profile). Their
// request and response bodies and error become ErasedMarker, their target
// username NULL and their path loses its query string. The rows are found
// on the read pool, so the scan of a large log holds no write lock.
func (db *DB) EraseEvents(ctx context.Context, orgID string, keys scimbridge.EraseKeys, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	marker := scimbridge.ErasedMarker
	cond := []string{"profile_id = ?", "(source = 'idp' AND path LIKE ?)"}
	args := []any{keys.ProfileID, "%/Users/" + keys.ProfileID + "%"}
	if len(keys.UserNames) > 0 {
		cond = append(cond, "target_username_key IN ("+placeholders(len(keys.UserNames))+")")
		for _, u := range keys.UserNames {
			args = append(args, textkey.Key(u))
		}
	}
	// Events already erased are skipped, so a repeated erasure changes
	// nothing and counts nothing.
	notErased := `((request_body IS NOT NULL AND request_body <> ?) OR (response_body IS NOT NULL AND response_body <> ?)
		OR (error IS NOT NULL AND error <> ?) OR target_username IS NOT NULL OR path LIKE ?)`
	find := db.rebind(`SELECT id, path FROM events WHERE org_id = ? AND id > ? AND (` + strings.Join(cond, " OR ") +
		`) AND ` + notErased + ` ORDER BY id LIMIT ?`)
	update := db.rebind(`UPDATE events SET
		request_body = CASE WHEN request_body IS NULL THEN NULL ELSE ? END,
		response_body = CASE WHEN response_body IS NULL THEN NULL ELSE ? END,
		error = CASE WHEN error IS NULL THEN NULL ELSE ? END,
		target_username = NULL, target_username_key = NULL, path = ?
		WHERE id = ? AND org_id = ?`)
	total := 0
	var after int64
	for {
		type row struct {
			id   int64
			path sql.NullString
		}
		var found []row
		qargs := append(append([]any{orgID, after}, args...), marker, marker, marker, "%?%", batch)
		rows, err := db.read.QueryContext(ctx, find, qargs...)
		if err != nil {
			return total, fmt.Errorf("erase events: %w", err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.path); err != nil {
				rows.Close()
				return total, fmt.Errorf("erase events: %w", err)
			}
			found = append(found, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("erase events: %w", err)
		}
		if len(found) == 0 {
			return total, nil
		}
		err = db.inTx(ctx, func(tx *sqlx.Tx) error {
			st, err := tx.PrepareContext(ctx, update)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, r := range found {
				var path any
				if r.path.Valid {
					p, _, _ := strings.Cut(r.path.String, "?")
					path = p
				}
				if _, err := st.ExecContext(ctx, marker, marker, marker, path, r.id, orgID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("erase events: %w", err)
		}
		total += len(found)
		after = found[len(found)-1].id
	}
}

// EraseReportItems replaces the personal values of the organization's
// report items about the person: those naming the profile id, or one of
// the userNames it held. Their username becomes ErasedMarker and their
// Google id, field changes and error go; kind, reason and position stay,
// so a report's counts still add up. It returns how many items changed.
func (db *DB) EraseReportItems(ctx context.Context, orgID string, keys scimbridge.EraseKeys) (int, error) {
	likes := []string{`%"profile_id":"` + keys.ProfileID + `"%`}
	for _, u := range keys.UserNames {
		b, err := json.Marshal(u)
		if err != nil {
			return 0, fmt.Errorf("erase report items: %w", err)
		}
		likes = append(likes, strings.ToLower(`%"username":`+string(b)+`%`))
	}
	// lower() on both sides: a username matches whatever its case (ASCII
	// on SQLite, whose lower() knows no other letters).
	cond := strings.TrimSuffix(strings.Repeat("lower(ri.item) LIKE ? OR ", len(likes)), " OR ")
	args := []any{orgID}
	for _, l := range likes {
		args = append(args, l)
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(`SELECT ri.report_id, ri.position, ri.item FROM report_items ri
		JOIN reports r ON r.id = ri.report_id WHERE r.org_id = ? AND (`+cond+`)`), args...)
	if err != nil {
		return 0, fmt.Errorf("erase report items: %w", err)
	}
	type found struct {
		report   string
		position int
		item     string
	}
	var items []found
	for rows.Next() {
		var f found
		var raw []byte
		if err := rows.Scan(&f.report, &f.position, &raw); err != nil {
			rows.Close()
			return 0, fmt.Errorf("erase report items: %w", err)
		}
		var it scimbridge.ReportItem
		if err := json.Unmarshal(raw, &it); err != nil {
			rows.Close()
			return 0, fmt.Errorf("erase report items: decode: %w", err)
		}
		match := it.ProfileID == keys.ProfileID
		for _, u := range keys.UserNames {
			match = match || strings.EqualFold(it.UserName, u)
		}
		if !match || (it.UserName == scimbridge.ErasedMarker && it.GoogleID == "" && it.Fields == nil && it.Error == "") {
			continue
		}
		it.UserName, it.GoogleID, it.Fields = scimbridge.ErasedMarker, "", nil
		if it.Error != "" {
			it.Error = scimbridge.ErasedMarker
		}
		b, err := json.Marshal(it)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("erase report items: encode: %w", err)
		}
		f.item = string(b)
		items = append(items, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("erase report items: %w", err)
	}
	for start := 0; start < len(items); start += 500 {
		chunk := items[start:min(start+500, len(items))]
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, f := range chunk {
				if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE report_items SET item = ? WHERE report_id = ? AND position = ?`),
					f.item, f.report, f.position); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return start, fmt.Errorf("erase report items: %w", err)
		}
	}
	return len(items), nil
}

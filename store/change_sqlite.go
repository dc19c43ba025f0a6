package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge"
)

// updateChanged writes an update on SQLite, where an UPDATE rewrites the
// entries of every index over a column it sets, changed or not, and every
// page it dirties is written to the WAL and later checkpointed: it reads
// the stored row (the transaction holds the database's one write lock, so
// the row cannot change meanwhile), sets only the columns that differ and
// rewrites the emails only when they differ. A missing profile is
// ENOTFOUND and another version EPRECONDITION, as for the plain UPDATE.
func (w *batchWriter) updateChanged(ctx context.Context, c *scimbridge.Change) error {
	p := &c.Profile
	rows, err := w.s.query(ctx, profileByID, p.OrgID, p.ID)
	if err != nil {
		return fmt.Errorf("read profile: %w", err)
	}
	stored, err := scanProfiles(rows, nil)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return notFound("profile")
	}
	cur := &stored[0]
	if cur.Version != c.ExpectedVersion {
		return versionError(nil, c.ExpectedVersion, cur.Version)
	}
	before, after := w.db.profileArgs(cur), w.db.profileArgs(p)
	var set []string
	var args []any
	for i := 2; i < len(profileColumns); i++ {
		if before[i] != after[i] {
			set = append(set, profileColumns[i]+" = ?")
			args = append(args, after[i])
		}
	}
	if len(set) > 0 {
		query := "UPDATE profiles SET " + strings.Join(set, ", ") + " WHERE org_id = ? AND id = ? AND version = ?"
		res, err := w.s.execCached(ctx, query, append(args, p.OrgID, p.ID, c.ExpectedVersion)...)
		if err != nil {
			return w.db.convertError(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("update profile: %d rows, %v", n, err)
		}
	}
	// Emails queued earlier in the batch are not in the table yet.
	if _, queued := w.emails[p.ID]; queued || !sameEmails(cur.Emails, p.Emails) {
		if _, err := w.s.exec(ctx, emailDelete, p.ID); err != nil {
			return fmt.Errorf("replace emails: %w", err)
		}
		w.queueEmails(p)
	}
	return nil
}

// sameEmails reports whether two email lists store the same rows.
func sameEmails(a, b []scimbridge.Email) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Value != b[i].Value || a[i].Type != b[i].Type || a[i].Display != b[i].Display ||
			(a[i].Primary == nil) != (b[i].Primary == nil) ||
			a[i].Primary != nil && *a[i].Primary != *b[i].Primary {
			return false
		}
	}
	return true
}

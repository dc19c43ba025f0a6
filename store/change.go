package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// ApplyChange commits one change and its event in one transaction.
func (db *DB) ApplyChange(ctx context.Context, c scimbridge.ChangeEvent) error {
	return db.ApplyChanges(ctx, []scimbridge.ChangeEvent{c}, nil)
}

// ApplyChanges commits up to scimbridge.MaxBatch changes with their events in one
// transaction, all or nothing; with lease set it first verifies the lease.
func (db *DB) ApplyChanges(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	if len(batch) > scimbridge.MaxBatch {
		return scimbridge.Errorf(scimbridge.EINVALID, "a batch holds at most %d changes, got %d", scimbridge.MaxBatch, len(batch))
	}
	for i := range batch {
		if !validUUID(batch[i].Change.Profile.ID) {
			if batch[i].Change.Kind == scimbridge.ChangeCreate {
				return scimbridge.Errorf(scimbridge.EINVALID, "profile id %q is not a UUID", batch[i].Change.Profile.ID)
			}
			return notFound("profile")
		}
	}
	if len(batch) == 0 && lease == nil {
		return nil
	}
	recs, shown, err := db.userRecords(batch)
	if err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	if db.oneStatement(batch, lease) {
		var rec *scimbridge.ChangeRecord
		if shown[0] {
			rec = &recs[0]
		}
		if err := db.applyOne(ctx, &batch[0], rec); err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
		db.countChanges(ctx, 1)
		if rec != nil {
			db.committed(recs[:1])
		}
		return nil
	}
	if err := db.prepareWrites(ctx); err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	var s *txStmts
	var written []scimbridge.ChangeRecord
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if lease != nil {
			if err := db.checkLease(ctx, tx, *lease); err != nil {
				return err
			}
		}
		s = db.txStmts(tx)
		w := &batchWriter{db: db, s: s, emails: make(map[string]*scimbridge.Profile, len(batch))}
		events := make([]scimbridge.Event, 0, len(batch))
		for i := range batch {
			w.record = &recs[i]
			if err := w.add(ctx, &batch[i].Change); err != nil {
				return err
			}
			if shown[i] {
				w.recs = append(w.recs, recs[i])
			}
			if !batch[i].Event.Time.IsZero() {
				events = append(events, changeEvent(&batch[i]))
			}
		}
		if err := w.finish(ctx); err != nil {
			return err
		}
		if err := db.insertChanges(ctx, s.exec, w.recs); err != nil {
			return err
		}
		written = w.recs
		return db.insertEventsTx(ctx, s, events)
	})
	if s != nil {
		s.prepareLater(ctx)
	}
	if err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	db.countChanges(ctx, len(batch))
	db.committed(written)
	return nil
}

// changeEvent fills the event's organization, kind and profile from the
// change when the caller left them empty.
func changeEvent(ce *scimbridge.ChangeEvent) scimbridge.Event {
	ev := ce.Event
	if ev.OrgID == "" {
		ev.OrgID = ce.Change.Profile.OrgID
	}
	if ev.Kind == "" {
		ev.Kind = ce.Change.Kind
	}
	if ev.ProfileID == "" {
		ev.ProfileID = ce.Change.Profile.ID
	}
	return ev
}

// batchWriter writes the changes of one transaction in order, with as few
// statements as it can: consecutive creates become one multi-row INSERT
// (flushed before any update, so renames keep their order), and every
// email row of the batch is inserted at the end in multi-row INSERTs.
type batchWriter struct {
	db      *DB
	s       *txStmts
	creates []*scimbridge.Profile
	// emails holds, per profile id, the profile whose emails are still to
	// insert; order keeps the insertion order deterministic.
	emails map[string]*scimbridge.Profile
	order  []string
	// record is the change record of the change being added (its source
	// and time name the membership records of a detach); recs are the
	// records to write, in order.
	record *scimbridge.ChangeRecord
	recs   []scimbridge.ChangeRecord
}

// Rows per multi-row INSERT: 500 profiles are 20,000 parameters and 1,000
// emails 8,000, under SQLite's 32,766 and PostgreSQL's 65,535.
const (
	profileChunk = scimbridge.MaxBatch
	emailChunk   = 1000
)

func (w *batchWriter) add(ctx context.Context, c *scimbridge.Change) error {
	p := &c.Profile
	if c.Kind == scimbridge.ChangeCreate {
		w.creates = append(w.creates, p)
		w.queueEmails(p)
		return nil
	}
	if err := w.flushCreates(ctx); err != nil {
		return err
	}
	if c.Kind == scimbridge.ChangeDetach {
		if err := w.leaveGroups(ctx, p); err != nil {
			return err
		}
	}
	if w.db.dialect == DialectSQLite {
		return w.updateChanged(ctx, c)
	}
	args := append(w.db.profileArgs(p)[2:], p.OrgID, p.ID, c.ExpectedVersion)
	res, err := w.s.exec(ctx, profileUpdate, args...)
	if err != nil {
		return w.db.convertError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update profile: %w", err)
	}
	if n == 0 {
		return w.db.versionMiss(ctx, w.s, p.OrgID, p.ID, c.ExpectedVersion)
	}
	if _, err := w.s.exec(ctx, emailDelete, p.ID); err != nil {
		return fmt.Errorf("replace emails: %w", err)
	}
	w.queueEmails(p)
	return nil
}

// queueEmails makes p's emails the ones to insert for p.ID, replacing any
// queued earlier in the batch.
func (w *batchWriter) queueEmails(p *scimbridge.Profile) {
	if _, ok := w.emails[p.ID]; !ok {
		w.order = append(w.order, p.ID)
	}
	w.emails[p.ID] = p
}

func (w *batchWriter) flushCreates(ctx context.Context) error {
	for start := 0; start < len(w.creates); start += profileChunk {
		chunk := w.creates[start:min(start+profileChunk, len(w.creates))]
		var b strings.Builder
		b.WriteString(profileInsert)
		args := make([]any, 0, len(chunk)*len(profileColumns))
		for i, p := range chunk {
			if i > 0 {
				b.WriteString(", (" + placeholders(len(profileColumns)) + ")")
			}
			args = append(args, w.db.profileArgs(p)...)
		}
		if _, err := w.s.exec(ctx, b.String(), args...); err != nil {
			return w.db.convertError(err)
		}
	}
	w.creates = w.creates[:0]
	return nil
}

// finish writes what is still queued: pending creates, then every email.
func (w *batchWriter) finish(ctx context.Context) error {
	if err := w.flushCreates(ctx); err != nil {
		return err
	}
	var b strings.Builder
	args := make([]any, 0, 8*emailChunk)
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		_, err := w.s.exec(ctx, b.String(), args...)
		b.Reset()
		args, rows = args[:0], 0
		if err != nil {
			return fmt.Errorf("insert emails: %w", err)
		}
		return nil
	}
	for _, id := range w.order {
		p := w.emails[id]
		for i, e := range p.Emails {
			if rows == 0 {
				b.WriteString(emailInsert)
			} else {
				b.WriteString(emailRow)
			}
			var primary any
			if e.Primary != nil {
				primary = *e.Primary
			}
			args = append(args, p.ID, p.OrgID, i, e.Value, textkey.Key(e.Value), ns(e.Type), ns(e.Display), primary)
			if rows++; rows == emailChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// versionSelect reads a profile's version.
const versionSelect = `SELECT version FROM profiles WHERE org_id = ? AND id = ?`

// versionMiss tells a missing profile (ENOTFOUND) from a stale version
// (EPRECONDITION) after an update matched no row.
func (db *DB) versionMiss(ctx context.Context, s *txStmts, orgID, id string, expected int64) error {
	var current int64
	row, err := s.queryRow(ctx, versionSelect, orgID, id)
	if err == nil {
		err = row.Scan(&current)
	}
	return versionError(err, expected, current)
}

// versionError is the error of an update that matched no row, from the
// read of the current version: ENOTFOUND without a row, EPRECONDITION with
// one.
func versionError(err error, expected, current int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("profile")
	} else if err != nil {
		return fmt.Errorf("read profile version: %w", err)
	}
	return scimbridge.Errorf(scimbridge.EPRECONDITION,
		"profile version %d does not match the current version %d", expected, current)
}

// ReleaseProfiles turns every live (non-detached) profile of source into a
// manual one, bumping its version, and records ev with the count. The
// desired-state hash is dropped: a manual profile has no source whose
// desired state it could match.
func (db *DB) ReleaseProfiles(ctx context.Context, orgID string, source scimbridge.Source, ev scimbridge.Event) (int, error) {
	var n int
	var recs []scimbridge.ChangeRecord
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		ids, err := scanIDs(tx.QueryContext(ctx, db.rebind(`UPDATE profiles SET source = ?, desired_hash = NULL, version = version + 1, updated_at = ?
			WHERE org_id = ? AND source = ? AND detached_at IS NULL RETURNING id`),
			string(scimbridge.SourceManual), db.tm(db.now()), orgID, string(source)))
		if err != nil {
			return err
		}
		n = len(ids)
		if ev.OrgID == "" {
			ev.OrgID = orgID
		}
		if ev.Kind == "" {
			ev.Kind = scimbridge.ChangeRelease
		}
		if recs, err = db.releaseRecords(ctx, tx, orgID, ids, ev); err != nil {
			return err
		}
		if err := db.insertChanges(ctx, db.txExec(tx), recs); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, []scimbridge.Event{ev})
	})
	if err != nil {
		return 0, fmt.Errorf("release profiles: %w", err)
	}
	db.committed(recs)
	return n, nil
}

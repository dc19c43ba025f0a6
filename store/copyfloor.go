package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// CopyCreates inserts created profiles, their emails, their change records
// and their events with PostgreSQL's COPY, in one transaction and without
// any check: the fastest way the rows of a first bridge sync can reach the
// database, which bench/bridge-scale.sh measures as the first sync's floor.
// It is not a write path of the daemon (no lease, no version check, no
// change count).
func (db *DB) CopyCreates(ctx context.Context, batch []scimbridge.ChangeEvent) error {
	if db.dialect != DialectPostgres {
		return scimbridge.Errorf(scimbridge.EINVALID, "COPY needs PostgreSQL")
	}
	recs, shown, err := db.userRecords(batch)
	if err != nil {
		return fmt.Errorf("copy creates: %w", err)
	}
	if err := db.inTx(ctx, func(tx *sqlx.Tx) error { return db.copyCreates(ctx, tx, batch, recs, shown) }); err != nil {
		return fmt.Errorf("copy creates: %w", err)
	}
	return nil
}

// ApplyCreates commits a batch of creates (every change of kind
// ChangeCreate) with their emails, change records and events in one
// transaction, all or nothing, as ApplyChanges would; with lease set it
// first verifies the lease. On PostgreSQL the rows are loaded with COPY,
// any number of them; a taken userName or email fails the whole batch
// (ECONFLICT, not saying which), and the caller can apply it again with
// ApplyChanges to learn which. On SQLite it is ApplyChanges (at most
// scimbridge.MaxBatch creates).
func (db *DB) ApplyCreates(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	for i := range batch {
		if batch[i].Change.Kind != scimbridge.ChangeCreate {
			return scimbridge.Errorf(scimbridge.EINVALID, "apply creates: change %d is a %s", i, batch[i].Change.Kind)
		}
	}
	if db.dialect != DialectPostgres {
		return db.ApplyChanges(ctx, batch, lease)
	}
	for i := range batch {
		if !validUUID(batch[i].Change.Profile.ID) {
			return scimbridge.Errorf(scimbridge.EINVALID, "profile id %q is not a UUID", batch[i].Change.Profile.ID)
		}
	}
	if len(batch) == 0 && lease == nil {
		return nil
	}
	recs, shown, err := db.userRecords(batch)
	if err != nil {
		return fmt.Errorf("apply creates: %w", err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if lease != nil {
			if err := db.checkLease(ctx, tx, *lease); err != nil {
				return err
			}
		}
		return db.copyCreates(ctx, tx, batch, recs, shown)
	})
	if err != nil {
		return fmt.Errorf("apply creates: %w", err)
	}
	db.countChanges(ctx, len(batch))
	var written []scimbridge.ChangeRecord
	for i := range recs {
		if shown[i] {
			written = append(written, recs[i])
		}
	}
	db.committed(written)
	return nil
}

// copyCreates loads creates with COPY in tx: profiles, emails, the change
// records shown (in batch order: their positions are assigned by the
// table's defaults as for an INSERT) and the events.
func (db *DB) copyCreates(ctx context.Context, tx *sqlx.Tx, batch []scimbridge.ChangeEvent,
	recs []scimbridge.ChangeRecord, shown []bool) error {
	copyRows := func(table string, cols []string, each func(add func(args ...any) error) error) error {
		st, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
		if err != nil {
			return err
		}
		defer st.Close()
		if err := each(func(args ...any) error { _, err := st.ExecContext(ctx, args...); return err }); err != nil {
			return err
		}
		_, err = st.ExecContext(ctx)
		return err
	}
	err := copyRows("profiles", profileColumns, func(add func(...any) error) error {
		for i := range batch {
			if err := add(db.profileArgs(&batch[i].Change.Profile)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy profiles: %w", err)
	}
	err = copyRows("profile_emails", []string{"profile_id", "org_id", "position", "value", "value_key", "type",
		"display", "is_primary"}, func(add func(...any) error) error {
		for i := range batch {
			p := &batch[i].Change.Profile
			for j, e := range p.Emails {
				var primary any
				if e.Primary != nil {
					primary = *e.Primary
				}
				if err := add(p.ID, p.OrgID, j, e.Value, textkey.Key(e.Value), ns(e.Type), ns(e.Display), primary); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy emails: %w", err)
	}
	err = copyRows("changes", changeColumns, func(add func(...any) error) error {
		args := make([]any, 0, len(changeColumns))
		for i := range recs {
			if shown[i] {
				if err := add(db.changeArgs(&recs[i], args[:0])...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy change records: %w", err)
	}
	err = copyRows("events", eventColumns, func(add func(...any) error) error {
		for i := range batch {
			if batch[i].Event.Time.IsZero() {
				continue
			}
			ev := changeEvent(&batch[i])
			if err := add(db.eventArgs(&ev, nil)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// CopyCreates inserts created profiles, their emails and their events with
// PostgreSQL's COPY, in one transaction and without any check: the fastest
// way the rows of a first bridge sync can reach the database, which
// bench/bridge-scale.sh measures as the first sync's floor. It is not a
// write path of the daemon (no lease, no version check, no change count).
func (db *DB) CopyCreates(ctx context.Context, batch []scimbridge.ChangeEvent) error {
	if db.dialect != DialectPostgres {
		return scimbridge.Errorf(scimbridge.EINVALID, "COPY needs PostgreSQL")
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
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
		err = copyRows("events", eventColumns, func(add func(...any) error) error {
			for i := range batch {
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
	})
	if err != nil {
		return fmt.Errorf("copy creates: %w", err)
	}
	return nil
}

// CopyChangeRecords inserts the change records of created profiles (as
// ApplyChanges renders them: one user.created record each, its resource
// rendered by the change renderer) with PostgreSQL's COPY, in one
// transaction, so that they share its position's tx as a batch's records
// do. Like CopyCreates it is a bulk-load path for benchmarks
// (bench/seedscale), not a write path of the daemon.
func (db *DB) CopyChangeRecords(ctx context.Context, batch []scimbridge.ChangeEvent) error {
	if db.dialect != DialectPostgres {
		return scimbridge.Errorf(scimbridge.EINVALID, "COPY needs PostgreSQL")
	}
	recs, oks, err := db.userRecords(batch)
	if err != nil {
		return fmt.Errorf("copy change records: %w", err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		st, err := tx.PrepareContext(ctx, pq.CopyIn("changes", changeColumns...))
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, 0, len(changeColumns))
		for i := range recs {
			if !oks[i] {
				continue
			}
			if _, err := st.ExecContext(ctx, db.changeArgs(&recs[i], args[:0])...); err != nil {
				return err
			}
		}
		if _, err := st.ExecContext(ctx); err != nil {
			return err
		}
		return st.Close()
	})
	if err != nil {
		return fmt.Errorf("copy change records: %w", err)
	}
	return nil
}

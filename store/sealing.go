package store

// The ids of the keys that sealed the stored secrets.

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge/internal/seal"
)

// SealingKeyIDs returns the ids of the encryption keys that sealed the
// secrets stored in the database, sorted.
func (db *DB) SealingKeyIDs(ctx context.Context) ([]string, error) {
	ids := []string{}
	if err := db.read.SelectContext(ctx, &ids, `SELECT key_id FROM sealing_keys ORDER BY key_id`); err != nil {
		return nil, fmt.Errorf("read sealing keys: %w", err)
	}
	return ids, nil
}

// recordSealingKeys makes sealing_keys name exactly the keys that seal the
// stored secrets, in the transaction that has just stored one. On
// PostgreSQL the table is locked first, so two such transactions take
// turns and each sees the other's secrets.
func (db *DB) recordSealingKeys(ctx context.Context, tx *sqlx.Tx) error {
	if db.dialect == DialectPostgres {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE sealing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock sealing keys: %w", err)
		}
	}
	var sealed [][]byte
	if err := tx.SelectContext(ctx, &sealed, `SELECT sealed_credentials FROM bridges WHERE sealed_credentials IS NOT NULL
		UNION ALL SELECT sealed_secret FROM webhook_endpoints
		UNION ALL SELECT sealed_previous_secret FROM webhook_endpoints WHERE sealed_previous_secret IS NOT NULL`); err != nil {
		return fmt.Errorf("read sealed secrets: %w", err)
	}
	inUse := map[string]bool{}
	for _, s := range sealed {
		if id, err := seal.SealedKeyID(s); err == nil {
			inUse[id] = true
		}
	}
	var recorded []string
	if err := tx.SelectContext(ctx, &recorded, `SELECT key_id FROM sealing_keys`); err != nil {
		return fmt.Errorf("read sealing keys: %w", err)
	}
	for _, id := range recorded {
		if !inUse[id] {
			if _, err := tx.ExecContext(ctx, db.rebind(`DELETE FROM sealing_keys WHERE key_id = ?`), id); err != nil {
				return fmt.Errorf("forget sealing key: %w", err)
			}
		}
	}
	for id := range inUse {
		if !slices.Contains(recorded, id) {
			if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO sealing_keys (key_id) VALUES (?)`), id); err != nil {
				return fmt.Errorf("record sealing key: %w", err)
			}
		}
	}
	return nil
}

package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/scimbridge/scimbridge"
)

// SQLite extended result codes of unique and primary-key violations.
const (
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
)

// tm is the stored form of a time: Unix microseconds on SQLite, a UTC
// time.Time truncated to the microsecond on PostgreSQL.
func (db *DB) tm(t time.Time) any {
	if db.dialect == DialectSQLite {
		return t.UnixMicro()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ntm is tm for an optional time: NULL when nil.
func (db *DB) ntm(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.tm(*t)
}

// ns stores the empty string as NULL: unassigned is NULL so that SCIM "pr"
// is IS NOT NULL.
func ns(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonList stores a list (phoneNumbers, addresses) as a JSON array in
// TEXT; an empty list is NULL.
func jsonList[T any](list []T) any {
	if len(list) == 0 {
		return nil
	}
	// The element types hold only strings and *bool: Marshal cannot fail.
	b, _ := json.Marshal(list)
	return string(b)
}

// jsonDest scans a list stored by jsonList; NULL is nil.
type jsonDest[T any] struct{ p *[]T }

func (d jsonDest[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*d.p = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unexpected %T", src)
	}
	var out []T
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("scan list: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*d.p = out
	return nil
}

// timeDest scans a stored time (either form) into a UTC time.Time.
type timeDest struct{ p *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*d.p = time.UnixMicro(v).UTC()
	case time.Time:
		*d.p = v.UTC()
	case nil:
		*d.p = time.Time{}
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// nullTimeDest scans an optional stored time; NULL is nil.
type nullTimeDest struct{ p **time.Time }

func (d nullTimeDest) Scan(src any) error {
	if src == nil {
		*d.p = nil
		return nil
	}
	var t time.Time
	if err := (timeDest{&t}).Scan(src); err != nil {
		return err
	}
	*d.p = &t
	return nil
}

// strDest scans optional text; NULL is "".
type strDest struct{ p *string }

func (d strDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = ""
	case string:
		*d.p = v
	case []byte:
		*d.p = string(v)
	default:
		return fmt.Errorf("scan text: unexpected %T", src)
	}
	return nil
}

// validUUID reports whether id is a UUID in its canonical 36-character form.
func validUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil
}

// notFound is the ENOTFOUND error for a missing thing.
func notFound(what string) error {
	return scimbridge.Errorf(scimbridge.ENOTFOUND, "%s not found", what)
}

// convertError turns a unique violation into ECONFLICT (scimType
// uniqueness) naming the attribute; other errors pass through.
func (db *DB) convertError(err error) error {
	if err == nil {
		return nil
	}
	var appErr *scimbridge.Error
	if errors.As(err, &appErr) {
		return err
	}
	var where string
	var pqErr *pq.Error
	var liteErr *sqlite.Error
	switch {
	case errors.As(err, &pqErr) && pqErr.Code == "23505":
		where = pqErr.Constraint
	case errors.As(err, &liteErr) && (liteErr.Code() == sqliteConstraintUnique ||
		liteErr.Code() == sqliteConstraintPrimaryKey):
		where = liteErr.Error()
	default:
		return err
	}
	attr := uniqueAttribute(where)
	return &scimbridge.Error{
		Code:     scimbridge.ECONFLICT,
		ScimType: "uniqueness",
		Message:  fmt.Sprintf("%s is already in use", attr),
		Err:      err,
	}
}

// uniqueAttribute names the attribute of a unique index (PostgreSQL gives
// the index name, SQLite the column list).
func uniqueAttribute(where string) string {
	switch {
	case strings.Contains(where, "user_name_key"):
		return "userName"
	case strings.Contains(where, "display_name_key"):
		return "displayName"
	case strings.Contains(where, "email_key"):
		return "email"
	case strings.Contains(where, "external_id"):
		return "externalId"
	case strings.Contains(where, "google_id"):
		return "googleId"
	case strings.Contains(where, "slug"):
		return "slug"
	case strings.Contains(where, "token_hash"):
		return "token"
	default:
		return "id"
	}
}

// scanOne scans a single-row query; no row is ENOTFOUND naming what.
func scanOne(row *sql.Row, what string, dest ...any) error {
	return rowError(row.Scan(dest...), what)
}

// rowError turns sql.ErrNoRows into ENOTFOUND naming what.
func rowError(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	} else if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// discard scans and drops a column.
type discard struct{}

func (discard) Scan(any) error { return nil }

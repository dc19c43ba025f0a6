package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// A single change (a SCIM request's) commits on PostgreSQL as one
// statement: the profile write, its emails and its event are
// data-modifying CTEs of one statement, which PostgreSQL runs as one
// transaction. Instead of BEGIN, three or four statements and COMMIT, each
// a round trip, the change costs one; atomicity, the unique indexes and the
// foreign keys (checked at the end of the statement) are the same.

// maxOneStatementEmails bounds the emails of a change written as one
// statement: each count is a statement text of its own.
const maxOneStatementEmails = 4

// eventColumnTypes are the PostgreSQL types of eventColumns, for the casts
// an INSERT ... SELECT needs (its parameters take no type from the target).
var eventColumnTypes = []string{
	"text", "timestamptz", "text", "text", "integer", "text",
	"text", "text", "text", "text",
	"bigint", "text", "text", "text", "text", "text",
	"text", "text", "boolean", "boolean", "integer", "text",
}

// oneStatement reports whether ApplyChanges writes batch as one statement;
// a detach, which also leaves the profile's groups, takes the batch path.
func (db *DB) oneStatement(batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) bool {
	return db.dialect == DialectPostgres && lease == nil && len(batch) == 1 &&
		len(batch[0].Change.Profile.Emails) <= maxOneStatementEmails &&
		batch[0].Change.Kind != scimbridge.ChangeDetach // leaves its groups too
}

// applyOne commits one change and its event (when its Time is set) with one
// statement. A create is
//
//	WITH p AS (INSERT INTO profiles ...), e AS (INSERT INTO profile_emails ...)
//	INSERT INTO events ...
//
// and an update changes the profile only at the expected version; its
// emails are upserted by position, rewriting only those that differ, and
// those past the new count deleted (a delete and an insert of the same key
// cannot share a statement), and the event is inserted only when the
// profile row was.
func (db *DB) applyOne(ctx context.Context, ce *scimbridge.ChangeEvent, rec *scimbridge.ChangeRecord) error {
	c := &ce.Change
	p := &c.Profile
	hasEvent := !ce.Event.Time.IsZero()
	var query string
	var args []any
	if c.Kind == scimbridge.ChangeCreate {
		query, args = db.createStatement(p, len(p.Emails), rec != nil, hasEvent)
	} else {
		query, args = db.updateStatement(p, c.ExpectedVersion, len(p.Emails), rec != nil, hasEvent)
	}
	if rec != nil {
		args = db.changeArgs(rec, args)
	}
	if hasEvent {
		ev := changeEvent(ce)
		args = db.eventArgs(&ev, args)
	}
	st, err := db.writeStmts.get(ctx, query)
	if err != nil {
		return err
	}
	if c.Kind == scimbridge.ChangeCreate {
		if st != nil {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = db.write.ExecContext(ctx, db.rebind(query), args...)
		}
		return db.convertError(err)
	}
	var n int
	if st != nil {
		err = st.QueryRowContext(ctx, args...).Scan(&n)
	} else {
		err = db.write.QueryRowContext(ctx, db.rebind(query), args...).Scan(&n)
	}
	if err != nil {
		return db.convertError(err)
	}
	if n == 0 {
		return db.versionMissNow(ctx, p.OrgID, p.ID, c.ExpectedVersion)
	}
	return nil
}

// createStatement is the statement of a create with emails emails, and its
// arguments but the change record's and the event's.
func (db *DB) createStatement(p *scimbridge.Profile, emails int, change, event bool) (string, []any) {
	args := db.profileArgs(p)
	parts := []string{profileInsert}
	if emails > 0 {
		parts = append(parts, emailInsert+strings.Repeat(emailRow, emails-1))
		args = db.emailArgs(p, args)
	}
	if change {
		parts = append(parts, changeInsert)
	}
	if event {
		parts = append(parts, eventInsert)
	}
	return withCTEs(parts[:len(parts)-1], parts[len(parts)-1]), args
}

// updateStatement is the statement of an update with emails emails, and
// its arguments but the change record's and the event's. It returns one
// row: how many profile rows it updated (0 on a version miss); the change
// record and the event are inserted only when the profile row was.
func (db *DB) updateStatement(p *scimbridge.Profile, expected int64, emails int, change, event bool) (string, []any) {
	args := append(db.profileArgs(p)[2:], p.OrgID, p.ID, expected)
	parts := []string{profileUpdate + " RETURNING id, org_id",
		"DELETE FROM profile_emails WHERE profile_id IN (SELECT id FROM c0) AND position >= ?"}
	args = append(args, emails)
	if emails > 0 {
		var b strings.Builder
		b.WriteString(`INSERT INTO profile_emails (profile_id, org_id, position, value, value_key, type, display, is_primary)
	SELECT c0.id, c0.org_id, v.* FROM c0, (VALUES `)
		for i := range emails {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?::integer, ?::text, ?::text, ?::text, ?::text, ?::boolean)")
		}
		b.WriteString(`) v (position, value, value_key, type, display, is_primary)
	ON CONFLICT (profile_id, position) DO UPDATE SET value = excluded.value, value_key = excluded.value_key,
		type = excluded.type, display = excluded.display, is_primary = excluded.is_primary
	WHERE (profile_emails.value, profile_emails.type, profile_emails.display, profile_emails.is_primary)
		IS DISTINCT FROM (excluded.value, excluded.type, excluded.display, excluded.is_primary)`)
		parts = append(parts, b.String())
		for i, e := range p.Emails {
			args = append(args, i, e.Value, textkey.Key(e.Value), ns(e.Type), ns(e.Display), emailPrimary(e))
		}
	}
	if change {
		parts = append(parts, insertSelect("changes", changeColumns, changeColumnTypes))
	}
	if event {
		parts = append(parts, insertSelect("events", eventColumns, eventColumnTypes))
	}
	return withCTEs(parts, "SELECT COUNT(*) FROM c0"), args
}

// insertSelect inserts one row of parameters into table when c0 has one
// (the profile row was updated).
func insertSelect(table string, columns, types []string) string {
	casts := make([]string, len(types))
	for i, t := range types {
		casts[i] = "?::" + t
	}
	return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") SELECT " +
		strings.Join(casts, ", ") + " FROM c0"
}

// withCTEs makes ctes (named c0, c1, ...) the WITH clause of main.
func withCTEs(ctes []string, main string) string {
	if len(ctes) == 0 {
		return main
	}
	var b strings.Builder
	b.WriteString("WITH ")
	for i, q := range ctes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "c%d AS (%s)", i, q)
	}
	b.WriteString(" ")
	b.WriteString(main)
	return b.String()
}

// emailArgs appends the emailInsert arguments of p's emails.
func (db *DB) emailArgs(p *scimbridge.Profile, args []any) []any {
	for i, e := range p.Emails {
		args = append(args, p.ID, p.OrgID, i, e.Value, textkey.Key(e.Value), ns(e.Type), ns(e.Display), emailPrimary(e))
	}
	return args
}

// emailPrimary is the stored is_primary of e: NULL when unset.
func emailPrimary(e scimbridge.Email) any {
	if e.Primary == nil {
		return nil
	}
	return *e.Primary
}

// versionMissNow is versionMiss outside a transaction.
func (db *DB) versionMissNow(ctx context.Context, orgID, id string, expected int64) error {
	var current int64
	row, err := db.queryRow(ctx, versionSelect, orgID, id)
	if err == nil {
		err = row.Scan(&current)
	}
	return versionError(err, expected, current)
}

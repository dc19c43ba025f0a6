package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// eventColumns are the events columns but id, in eventArgs order.
var eventColumns = []string{
	"org_id", "time", "method", "path", "status", "target_username",
	"target_username_key", "client_ip", "user_agent", "request_id",
	"duration_us", "source", "run_id", "kind", "profile_id", "error",
	"request_body", "response_body", "request_truncated", "response_truncated", "count", "actor",
}

var eventSelect = "SELECT id, " + strings.Join(eventColumns, ", ") + " FROM events"

var (
	// eventRow is "(?, ?, ...)" for one event.
	eventRow = "(" + placeholders(len(eventColumns)) + ")"
	// eventInsert inserts one event; more rows append ", " + eventRow.
	eventInsert = "INSERT INTO events (" + strings.Join(eventColumns, ", ") + ") VALUES " + eventRow
)

func (db *DB) eventArgs(e *scimbridge.Event, args []any) []any {
	count := e.Count
	if count == 0 {
		count = 1
	}
	return append(args,
		ns(e.OrgID), db.tm(e.Time), ns(e.Method), ns(e.Path), e.Status, ns(e.TargetUserName),
		ns(textkey.Key(e.TargetUserName)), ns(e.ClientIP), ns(e.UserAgent), ns(e.RequestID),
		e.Duration.Microseconds(), ns(string(e.Source)), ns(e.RunID), ns(string(e.Kind)), ns(e.ProfileID), ns(e.Error),
		ns(e.RequestBody), ns(e.ResponseBody), e.RequestTruncated, e.ResponseTruncated, count, ns(e.Actor))
}

func scanEvent(s interface{ Scan(...any) error }) (scimbridge.Event, error) {
	var e scimbridge.Event
	var durationUS int64
	var source, kind string
	err := s.Scan(&e.ID, strDest{&e.OrgID}, timeDest{&e.Time}, strDest{&e.Method}, strDest{&e.Path}, &e.Status,
		strDest{&e.TargetUserName}, strDest{new(string)}, strDest{&e.ClientIP}, strDest{&e.UserAgent},
		strDest{&e.RequestID}, &durationUS, strDest{&source}, strDest{&e.RunID}, strDest{&kind},
		strDest{&e.ProfileID}, strDest{&e.Error}, strDest{&e.RequestBody}, strDest{&e.ResponseBody},
		&e.RequestTruncated, &e.ResponseTruncated, &e.Count, strDest{&e.Actor})
	e.Duration = time.Duration(durationUS) * time.Microsecond
	e.Source, e.Kind = scimbridge.EventSource(source), scimbridge.ChangeKind(kind)
	return e, err
}

// insertEvents inserts events with one multi-row INSERT per scimbridge.MaxBatch rows.
func (db *DB) insertEvents(ctx context.Context, x sqlx.ExecerContext, events []scimbridge.Event) error {
	for start := 0; start < len(events); start += scimbridge.MaxBatch {
		chunk := events[start:min(start+scimbridge.MaxBatch, len(events))]
		var b strings.Builder
		b.WriteString("INSERT INTO events (" + strings.Join(eventColumns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(eventColumns))
		for i := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(eventRow)
			args = db.eventArgs(&chunk[i], args)
		}
		if _, err := x.ExecContext(ctx, db.rebind(b.String()), args...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
	}
	return nil
}

// insertEventsTx is insertEvents in a write transaction, through the
// prepared statement when there is one event.
func (db *DB) insertEventsTx(ctx context.Context, s *txStmts, events []scimbridge.Event) error {
	if len(events) != 1 {
		return db.insertEvents(ctx, s.tx, events)
	}
	if _, err := s.exec(ctx, eventInsert, db.eventArgs(&events[0], make([]any, 0, len(eventColumns)))...); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// copyMinEvents is the smallest batch AppendEvents loads with COPY on
// PostgreSQL; smaller ones are one multi-row INSERT.
const copyMinEvents = 16

// AppendEvents inserts a batch of events in one transaction.
func (db *DB) AppendEvents(ctx context.Context, events []scimbridge.Event) error {
	if len(events) == 0 {
		return nil
	}
	var err error
	switch {
	case db.dialect == DialectPostgres && len(events) >= copyMinEvents:
		err = db.copyEvents(ctx, events)
	case len(events) <= scimbridge.MaxBatch:
		// One statement is atomic on its own.
		err = db.insertEvents(ctx, db.write, events)
	default:
		err = db.inTx(ctx, func(tx *sqlx.Tx) error { return db.insertEvents(ctx, tx, events) })
	}
	if err == nil {
		db.countEvents(len(events))
	}
	return err
}

// copyEvents inserts events with COPY, PostgreSQL's bulk load: a batch of
// the buffered writer's 500 events costs the server a fraction of what the
// parse of a 10,000-parameter INSERT does.
func (db *DB) copyEvents(ctx context.Context, events []scimbridge.Event) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		st, err := tx.PrepareContext(ctx, "COPY events ("+strings.Join(eventColumns, ", ")+") FROM STDIN")
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, 0, len(eventColumns))
		for i := range events {
			if _, err := st.ExecContext(ctx, db.eventArgs(&events[i], args[:0])...); err != nil {
				return err
			}
		}
		if _, err := st.ExecContext(ctx); err != nil {
			return err
		}
		return st.Close()
	})
	if err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	return nil
}

// ListEvents returns a page of events, newest first.
func (db *DB) ListEvents(ctx context.Context, q scimbridge.EventQuery) (scimbridge.EventPage, error) {
	var where []string
	var args []any
	if q.OrgID == "" {
		// Events no organization could be named for (unknown token
		// prefixes, discovery without a token).
		where = append(where, "org_id IS NULL")
	} else {
		where, args = append(where, "org_id = ?"), append(args, q.OrgID)
	}
	if q.StatusClass != 0 {
		if q.StatusClass < 1 || q.StatusClass > 5 {
			return scimbridge.EventPage{}, scimbridge.Errorf(scimbridge.EINVALID, "status class must be 1 to 5")
		}
		// The expression of the events_org_class and events_org_user_class
		// indexes, so a class page is one backward range scan.
		where, args = append(where, "status / 100 = ?"), append(args, q.StatusClass)
	}
	if q.Method != "" {
		where, args = append(where, "method = ?"), append(args, q.Method)
	}
	if q.UserName != "" {
		// IS NOT NULL states the predicate of events_org_user_class.
		where = append(where, "target_username_key IS NOT NULL AND target_username_key = ?")
		args = append(args, textkey.Key(q.UserName))
	}
	if q.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(q.Source))
	}
	if q.PathPrefix != "" {
		where = append(where, "substr(path, 1, ?) = ?")
		args = append(args, utf8.RuneCountInString(q.PathPrefix), q.PathPrefix)
	}
	// With a username, SQLite (without statistics) would rather range over
	// events_org_time than the username's few events: 1.6 s instead of
	// 0.1 ms a page over a million events. A unary + keeps time out of
	// its index choice.
	timeCol := "time"
	if q.UserName != "" && db.dialect == DialectSQLite {
		timeCol = "+time"
	}
	if !q.Since.IsZero() {
		where, args = append(where, timeCol+" >= ?"), append(args, db.tm(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, timeCol+" < ?"), append(args, db.tm(q.Until))
	}
	if q.Cursor > 0 {
		where, args = append(where, "id < ?"), append(args, q.Cursor)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	args = append(args, limit+1)
	// A username without a class is served by sorting that person's
	// events, found by the (org_id, target_username_key, ...) index: id + 0
	// keeps either planner from walking the whole organization in id
	// order instead, which it prefers without statistics. Every other
	// filter has an index ending in id, walked backwards.
	order := "id"
	if q.UserName != "" && q.StatusClass == 0 {
		order = "id + 0"
	}
	rows, err := db.read.QueryContext(ctx, db.rebind(eventSelect+" WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+order+" DESC LIMIT ?"), args...)
	if err != nil {
		return scimbridge.EventPage{}, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	page := scimbridge.EventPage{Events: []scimbridge.Event{}}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return scimbridge.EventPage{}, fmt.Errorf("scan event: %w", err)
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return scimbridge.EventPage{}, fmt.Errorf("list events: %w", err)
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.NextCursor = page.Events[limit-1].ID
	}
	return page, nil
}

// PurgeEvents deletes events older than before, batch rows per statement,
// until none is left. Each statement deletes the oldest batch within a
// range of events_time starting at the last batch's newest time: the
// deleted rows' index entries stay until vacuum, and a scan from the
// oldest event would walk all of them again every batch (the purge of 10
// million events slowed from 10,600 to 2,000 rows a second within four
// minutes); and the range ends at before, so no statement walks the
// events being kept, whatever their ids.
func (db *DB) PurgeEvents(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	query := db.rebind(`DELETE FROM events WHERE id IN (SELECT id FROM events
		WHERE time >= ? AND time < ? ORDER BY time LIMIT ?) RETURNING time`)
	total := 0
	from := time.Unix(0, 0).UTC()
	for {
		n, last, err := db.purgeEventsBatch(ctx, query, from, before, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("purge events: %w", err)
		}
		if n < batch {
			return total, nil
		}
		from = last
	}
}

// purgeEventsBatch runs one of PurgeEvents' statements and returns how many
// events it deleted and the newest time among them.
func (db *DB) purgeEventsBatch(ctx context.Context, query string, from, before time.Time, batch int) (n int, last time.Time, err error) {
	rows, err := db.write.QueryContext(ctx, query, db.tm(from), db.tm(before), batch)
	if err != nil {
		return 0, last, err
	}
	defer rows.Close()
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(timeDest{&t}); err != nil {
			return 0, last, err
		}
		n++
		if t.After(last) {
			last = t
		}
	}
	if err := rows.Err(); err != nil {
		return 0, last, err // the statement failed: nothing was deleted
	}
	return n, last, nil
}

// CountRecentChanges counts the changes of kind that source applied to the
// organization since since.
func (db *DB) CountRecentChanges(ctx context.Context, orgID string, kind scimbridge.ChangeKind,
	source scimbridge.EventSource, since time.Time) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM events
		WHERE org_id = ? AND time >= ? AND source = ? AND kind = ? AND status < 400`),
		orgID, db.tm(since), string(source), string(kind)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recent changes: %w", err)
	}
	return n, nil
}

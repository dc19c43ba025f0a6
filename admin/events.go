package admin

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// EventQuery filters and pages the events log of an organization, newest
// first.
type EventQuery struct {
	// StatusClass is 2, 4 or 5 for 2xx, 4xx, 5xx; 0 for any.
	StatusClass int
	// Method is the HTTP method, any case.
	Method string
	// UserName is the target username, compared case-insensitively.
	UserName string
	// Source is idp, google or admin; empty for any.
	Source scimbridge.EventSource
	// PathPrefix keeps the events whose path starts with it.
	PathPrefix string
	// Since (inclusive) and Until (exclusive) bound the time; zero for no
	// bound.
	Since, Until time.Time
	// After is the Next of the previous page; empty for the first.
	After string
	// Limit is the page size: 0 for DefaultPageSize, at most MaxPageSize.
	Limit int
}

// EventPage is one page of events; Next continues it ("" at the end).
type EventPage struct {
	Events []scimbridge.Event `json:"events"`
	Next   string             `json:"next,omitempty"`
}

// storeQuery checks q and turns it into the store's query of org.
func (q EventQuery) storeQuery(org scimbridge.Organization) (scimbridge.EventQuery, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return scimbridge.EventQuery{}, err
	}
	switch q.StatusClass {
	case 0, 1, 2, 3, 4, 5:
	default:
		return scimbridge.EventQuery{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid status class %d: use 2xx, 4xx or 5xx", q.StatusClass)
	}
	switch q.Source {
	case "", scimbridge.EventIdP, scimbridge.EventGoogle, scimbridge.EventAdmin:
	default:
		return scimbridge.EventQuery{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid source %q: use idp, google or admin", q.Source)
	}
	for name, v := range map[string]string{"method": q.Method, "username": q.UserName, "path": q.PathPrefix} {
		if len(v) > scimbridge.MaxKeyBytes || strings.ContainsRune(v, 0) {
			return scimbridge.EventQuery{}, scimbridge.Errorf(scimbridge.EINVALID,
				"invalid %s: at most %d bytes, without NUL", name, scimbridge.MaxKeyBytes)
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return scimbridge.EventQuery{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid time range: since must be before until")
	}
	sq := scimbridge.EventQuery{
		OrgID:       org.ID,
		StatusClass: q.StatusClass,
		Method:      strings.ToUpper(q.Method),
		UserName:    q.UserName,
		Source:      q.Source,
		PathPrefix:  q.PathPrefix,
		Since:       q.Since,
		Until:       q.Until,
		Limit:       limit,
	}
	if s, err := decodeCursor(cursorEvents, q.After); err != nil {
		return sq, err
	} else if s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return sq, ErrBadCursor
		}
		sq.Cursor = id
	}
	return sq, nil
}

// Events lists one page of the organization's events, newest first.
func (a *Admin) Events(ctx context.Context, slug string, q EventQuery) (EventPage, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return EventPage{}, err
	}
	sq, err := q.storeQuery(org)
	if err != nil {
		return EventPage{}, err
	}
	p, err := a.Store.ListEvents(ctx, sq)
	if err != nil {
		return EventPage{}, fmt.Errorf("list events: %w", err)
	}
	page := EventPage{Events: p.Events}
	if p.NextCursor != 0 {
		page.Next = encodeCursor(cursorEvents, strconv.FormatInt(p.NextCursor, 10))
	}
	return page, nil
}

// Event returns one event of the organization with its bodies (redacted
// when they were written); ENOTFOUND when the organization has no such
// event.
func (a *Admin) Event(ctx context.Context, slug string, id int64) (scimbridge.Event, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return scimbridge.Event{}, err
	}
	e, err := a.Store.Event(ctx, org.ID, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return e, scimbridge.Errorf(scimbridge.ENOTFOUND, "no event %d in organization %q", id, org.Slug)
	} else if err != nil {
		return e, fmt.Errorf("read event: %w", err)
	}
	return e, nil
}

// EventsCSVHeader names the columns of an events export.
var EventsCSVHeader = []string{"id", "time", "source", "method", "path", "status", "count", "username",
	"client_ip", "user_agent", "request_id", "duration_ms", "run_id", "kind", "profile_id", "error",
	"request_body", "request_truncated", "response_body", "response_truncated", "actor"}

// csvPage is how many events an export reads at a time.
const csvPage = 1000

// WriteEventsCSV writes every event of the organization that q matches
// (q.Limit and q.After ignored), newest first, as CSV with a header row.
// It reads the log a page at a time and writes each page before reading
// the next, so an export of any size holds one page in memory.
func (a *Admin) WriteEventsCSV(ctx context.Context, w io.Writer, slug string, q EventQuery) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	q.After, q.Limit = "", csvPage
	sq, err := q.storeQuery(org)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(EventsCSVHeader); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for {
		page, err := a.Store.ListEvents(ctx, sq)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		for _, e := range page.Events {
			if err := cw.Write(EventCSVRow(e)); err != nil {
				return fmt.Errorf("write CSV: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
		if page.NextCursor == 0 {
			return nil
		}
		sq.Cursor = page.NextCursor
	}
}

// EventCSVRow is e as a row of EventsCSVHeader's columns.
func EventCSVRow(e scimbridge.Event) []string {
	ms := float64(e.Duration.Round(time.Microsecond)) / float64(time.Millisecond)
	return []string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano),
		string(e.Source), e.Method, e.Path, strconv.Itoa(e.Status), strconv.Itoa(e.Count), e.TargetUserName,
		e.ClientIP, e.UserAgent, e.RequestID, strconv.FormatFloat(ms, 'f', 3, 64),
		e.RunID, string(e.Kind), e.ProfileID, e.Error,
		e.RequestBody, strconv.FormatBool(e.RequestTruncated), e.ResponseBody, strconv.FormatBool(e.ResponseTruncated), e.Actor}
}

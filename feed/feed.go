// Package feed serves an organization's changes feed (PRODUCT.md,
// "Directory API: changes feed and webhooks"): change records after an
// opaque cursor, in order, long-polling when none are new without holding
// a database connection while it waits.
package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge"
)

// Store is what the feed reads: the change records, and the position the
// retention purge has deleted through (package store's DB).
type Store interface {
	scimbridge.ChangeStore
	ChangesPurgedThrough(ctx context.Context) (scimbridge.ChangePosition, bool, error)
}

// Limits of a request.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	MaxWait      = 60 * time.Second
)

// recheck bounds how long a waiting long-poll goes without reading: a
// notification can arrive before its records are readable (a lower
// transaction still in progress), and a change written by another process
// without a notifier (a command on SQLite) is not announced. Rechecks
// start at recheckMin after a notification that found nothing and double
// up to recheckMax.
const (
	recheckMin = 25 * time.Millisecond
	recheckMax = 2 * time.Second
)

// Feed serves the changes feed over a store.
type Feed struct {
	Store    Store
	Notifier *Notifier
	// Now is the clock of the deadlines; nil is time.Now.
	Now func() time.Time
	// Closing, once closed, ends every wait: a long-poll answers with
	// what it has (server shutdown).
	Closing <-chan struct{}
	// Poll is how often a waiting long-poll reads even without a
	// notification (changes of a process without a notifier); zero is
	// DefaultPoll.
	Poll time.Duration
}

// DefaultPoll is Feed.Poll's default.
const DefaultPoll = 5 * time.Second

// ErrGone is returned by Read for a cursor the retention purge has passed.
var ErrGone = errors.New("cursor is older than the oldest change kept")

// Change is one record as the feed returns it.
type Change struct {
	// Cursor is the position of this change: reading after it resumes
	// just past it.
	Cursor string `json:"cursor"`
	scimbridge.ChangeRecord
	// Resource is the SCIM resource after the change, as JSON.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// Page is one response of the feed.
type Page struct {
	Changes []Change `json:"changes"`
	// NextCursor is where to read next: the last change's cursor, or the
	// request's when there was none.
	NextCursor string `json:"next_cursor"`
	// HasMore says more changes are readable now.
	HasMore bool `json:"has_more"`
}

// Head is the cursor a consumer follows from after reading a snapshot
// begun after this call: no change committed later is before it.
func (f *Feed) Head(ctx context.Context, orgID string) (string, error) {
	p, err := f.Store.ChangesHead(ctx, orgID)
	if err != nil {
		return "", err
	}
	return EncodeCursor(p), nil
}

func (f *Feed) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Read returns up to limit changes of orgID ("" for every organization)
// after the cursor after ("" for the oldest kept), waiting up to wait for
// one when none is readable. A malformed cursor is EINVALID; one the
// purge has passed is ErrGone.
func (f *Feed) Read(ctx context.Context, orgID, after string, limit int, wait time.Duration) (Page, error) {
	var pos scimbridge.ChangePosition
	if after != "" {
		var err error
		if pos, err = DecodeCursor(after); err != nil {
			return Page{}, err
		}
		through, purged, err := f.Store.ChangesPurgedThrough(ctx)
		if err != nil {
			return Page{}, err
		}
		if purged && pos.Less(through) {
			return Page{}, ErrGone
		}
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	wait = min(max(wait, 0), MaxWait)
	deadline := f.now().Add(wait)

	var sub *Subscription
	if wait > 0 && f.Notifier != nil {
		// Subscribed before the first read, so a commit between the read
		// and the wait is not missed.
		sub = f.Notifier.Subscribe(orgID)
		defer sub.Close()
	}
	recheck := time.Duration(0)
	for {
		recs, err := f.Store.ChangesAfter(ctx, orgID, pos, limit+1)
		if err != nil {
			return Page{}, err
		}
		left := deadline.Sub(f.now())
		if len(recs) > 0 || left <= 0 {
			return page(recs, limit, pos), nil
		}
		// No connection is held from here until the next read.
		poll := f.Poll
		if poll <= 0 {
			poll = DefaultPoll
		}
		next := min(left, poll)
		if recheck > 0 {
			next = min(next, recheck)
			recheck = min(2*recheck, recheckMax)
		}
		timer := time.NewTimer(next)
		var woken <-chan struct{}
		if sub != nil {
			woken = sub.C
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return Page{}, ctx.Err()
		case <-f.Closing:
			timer.Stop()
			return page(nil, limit, pos), nil
		case <-woken:
			if recheck == 0 {
				recheck = recheckMin
			}
		case <-timer.C:
		}
		timer.Stop()
	}
}

// page builds the response of records read with limit+1.
func page(recs []scimbridge.ChangeRecord, limit int, after scimbridge.ChangePosition) Page {
	p := Page{Changes: make([]Change, 0, min(len(recs), limit)), NextCursor: EncodeCursor(after)}
	if len(recs) > limit {
		recs, p.HasMore = recs[:limit], true
	}
	for _, r := range recs {
		c := Change{Cursor: EncodeCursor(r.Position), ChangeRecord: r}
		if len(r.Resource) > 0 {
			c.Resource = json.RawMessage(r.Resource)
		}
		p.Changes = append(p.Changes, c)
	}
	if n := len(p.Changes); n > 0 {
		p.NextCursor = p.Changes[n-1].Cursor
	}
	return p
}

// ServeChanges answers GET .../orgs/{slug}/changes for org, already
// authorised by the caller: ?after=CURSOR&limit=N&wait=DURATION.
func (f *Feed) ServeChanges(w http.ResponseWriter, r *http.Request, org scimbridge.Organization) {
	f.serve(w, r, org.ID)
}

// ServeAllChanges answers the operator's feed of every organization.
func (f *Feed) ServeAllChanges(w http.ResponseWriter, r *http.Request) {
	f.serve(w, r, "")
}

func (f *Feed) serve(w http.ResponseWriter, r *http.Request, orgID string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the changes feed is read with GET")
		return
	}
	q := r.URL.Query()
	limit, wait, err := parseParams(q.Get("limit"), q.Get("wait"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	p, err := f.Read(r.Context(), orgID, q.Get("after"), limit, wait)
	switch {
	case errors.Is(err, ErrGone):
		writeError(w, http.StatusGone, "cursor_expired",
			"this cursor is older than the oldest change kept (changes.retention): read the users and groups again and follow the feed from the cursor returned with them")
		return
	case scimbridge.ErrorCode(err) == scimbridge.EINVALID:
		writeError(w, http.StatusBadRequest, "invalid", errorMessage(err))
		return
	case r.Context().Err() != nil:
		return // the client left
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", "could not read the changes feed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(p)
}

// parseParams reads limit (1..MaxLimit, default DefaultLimit) and wait (a
// duration such as "30s", or seconds; clamped to MaxWait).
func parseParams(limitS, waitS string) (int, time.Duration, error) {
	limit := DefaultLimit
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 || n > MaxLimit {
			return 0, 0, fmt.Errorf("limit must be a number from 1 to %d, got %q", MaxLimit, truncate(limitS))
		}
		limit = n
	}
	var wait time.Duration
	if waitS != "" {
		d, err := time.ParseDuration(waitS)
		if err != nil {
			secs, err2 := strconv.Atoi(waitS)
			if err2 != nil {
				return 0, 0, fmt.Errorf("wait must be a duration such as 30s, got %q", truncate(waitS))
			}
			d = time.Duration(min(secs, 3600)) * time.Second
		}
		if d < 0 {
			return 0, 0, fmt.Errorf("wait must not be negative, got %q", truncate(waitS))
		}
		wait = min(d, MaxWait)
	}
	return limit, wait, nil
}

func errorMessage(err error) string {
	var e *scimbridge.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The admin API's error object: the feed is one of its routes.
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = code, msg
	json.NewEncoder(w).Encode(body)
}

package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// replyLimit is how much of a reply an attempt keeps.
const replyLimit = 1024

// idleBump is how often an idle endpoint's cursor follows the feed's head.
const idleBump = 5 * time.Minute

// message is one delivery: its changes, body and id.
type message struct {
	id          string
	first, last scimbridge.ChangePosition
	changes     int
	body        []byte
	// through is the cursor once delivered: the last change it carries,
	// or past changes the endpoint does not want.
	through scimbridge.ChangePosition
	// redeliver names the kept message this delivers again.
	redeliver string
}

// step makes one attempt (or waits for a reason to make one).
func (d *delivery) step(ctx context.Context) error {
	if err := d.load(ctx, false); err != nil {
		return err
	}
	if next := d.e.Delivery.NextAttemptAt; next != nil {
		if wait := next.Sub(d.w.Clock()); wait > 0 {
			d.sleep(ctx, min(wait, d.w.Poll))
			return d.load(ctx, true)
		}
	}
	if m, err := d.redelivery(ctx); err != nil || m != nil {
		if err != nil {
			return err
		}
		return d.attempt(ctx, m)
	}
	if err := d.checkPurged(ctx); err != nil {
		return err
	}
	m, err := d.next(ctx)
	if err != nil || m == nil {
		return err
	}
	if m.changes == 0 {
		// Only changes the endpoint does not want: move past them.
		return d.save(ctx, scimbridge.WebhookProgress{Delivery: scimbridge.WebhookDelivery{Cursor: m.through}})
	}
	return d.attempt(ctx, m)
}

// next is the message at the head of the stream, nil (after waiting)
// when there is no change yet.
func (d *delivery) next(ctx context.Context) (*message, error) {
	if len(d.pending) == 0 {
		// An idle endpoint's cursor moves up to the feed's head now and
		// then, so that it stays above what the retention purge deletes:
		// the head, read before the changes, is below anything unread.
		var head scimbridge.ChangePosition
		bump := time.Since(d.bumped) >= idleBump
		if bump {
			var err error
			if head, err = d.w.Store.ChangesHead(ctx, d.e.OrgID); err != nil {
				return nil, err
			}
		}
		recs, err := d.w.Store.ChangesAfter(ctx, d.e.OrgID, d.e.Delivery.Cursor, fetchSize)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			if bump {
				d.bumped = time.Now()
				if d.e.Delivery.Cursor.Less(head) {
					dl := d.e.Delivery
					dl.Cursor = head
					return nil, d.save(ctx, scimbridge.WebhookProgress{Delivery: dl})
				}
			}
			d.sleep(ctx, d.w.Poll)
			return nil, nil
		}
		d.pending = recs
	}
	batch := max(d.e.Batch, 1)
	var take []scimbridge.ChangeRecord
	m := &message{}
	for _, r := range d.pending {
		if len(take) == batch {
			break
		}
		m.through = r.Position
		if d.e.Wants(r.Type) {
			take = append(take, r)
		}
	}
	if len(take) == 0 {
		return m, nil
	}
	body, err := Body(take, d.e.Batch > 1)
	if err != nil {
		return nil, err
	}
	m.first, m.last, m.changes, m.body = take[0].Position, take[len(take)-1].Position, len(take), body
	m.id = MessageID(m.first, m.last)
	return m, nil
}

// redelivery is the oldest message queued for redelivery, at most once a
// poll interval.
func (d *delivery) redelivery(ctx context.Context) (*message, error) {
	if time.Since(d.checked) < d.w.Poll {
		return nil, nil
	}
	d.checked = time.Now()
	msgs, err := d.w.Store.WebhookMessages(ctx, d.e.OrgID, d.e.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range msgs {
		if k.State != scimbridge.MessageRedeliver {
			continue
		}
		m := &message{id: k.ID, first: k.First, last: k.Last, changes: k.Changes, body: k.Body, redeliver: k.ID}
		if len(m.body) == 0 {
			recs, err := d.between(ctx, k.First, k.Last)
			if err != nil {
				return nil, err
			}
			if len(recs) == 0 {
				return nil, fmt.Errorf("redeliver %s: its changes are no longer kept", k.ID)
			}
			if m.body, err = Body(recs, d.e.Batch > 1 || len(recs) > 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return nil, nil
}

// between reads the wanted changes from first to last.
func (d *delivery) between(ctx context.Context, first, last scimbridge.ChangePosition) ([]scimbridge.ChangeRecord, error) {
	after := scimbridge.ChangePosition{Tx: first.Tx, Seq: first.Seq - 1}
	var out []scimbridge.ChangeRecord
	for {
		recs, err := d.w.Store.ChangesAfter(ctx, d.e.OrgID, after, fetchSize)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if last.Less(r.Position) {
				return out, nil
			}
			if d.e.Wants(r.Type) {
				out = append(out, r)
			}
		}
		if len(recs) < fetchSize {
			return out, nil
		}
		after = recs[len(recs)-1].Position
	}
}

// attempt sends m once and saves what follows.
func (d *delivery) attempt(ctx context.Context, m *message) error {
	a := d.send(ctx, m)
	d.observe(a.Outcome)
	now := d.w.Clock()
	p := scimbridge.WebhookProgress{Attempt: &a.WebhookAttempt, Delivery: d.e.Delivery}
	if m.redeliver != "" {
		a.Redelivery = true
		if a.Outcome == scimbridge.AttemptDelivered {
			p.Redelivered = m.redeliver
		}
		return d.save(ctx, p)
	}
	if a.Outcome == scimbridge.AttemptDelivered {
		p.Delivery = scimbridge.WebhookDelivery{Cursor: m.through}
		return d.save(ctx, p)
	}
	dl := &p.Delivery
	dl.Attempts++
	if dl.FailingSince == nil {
		dl.FailingSince = &a.Time
	}
	switch {
	case a.Outcome == scimbridge.AttemptRejected && d.e.OnReject == scimbridge.RejectSkip && dl.Attempts >= scimbridge.WebhookSkipAttempts:
		p.SetAside = &scimbridge.WebhookMessage{ID: m.id, EndpointID: d.e.ID, OrgID: d.e.OrgID, First: m.first, Last: m.last,
			Changes: m.changes, Body: m.body, State: scimbridge.MessageSetAside, CreatedAt: now, UpdatedAt: now}
		p.Delivery = scimbridge.WebhookDelivery{Cursor: m.through}
		d.observe("set_aside")
		d.w.Logger.Warn("webhook change set aside", "endpoint", d.e.ID, "message", m.id, "status", a.Status)
	case now.Sub(*dl.FailingSince) >= scimbridge.WebhookRetryFor:
		p.Disable = fmt.Sprintf("delivery failed for %s since %s; last: %s", scimbridge.WebhookRetryFor,
			dl.FailingSince.Format(time.RFC3339), attemptText(a))
		ev, err := d.disableEvent(ctx, p.Disable)
		if err != nil {
			return err
		}
		p.Event = &ev
		dl.NextAttemptAt = nil
		d.observe("disabled")
		d.w.Logger.Warn("webhook endpoint disabled", "endpoint", d.e.ID, "reason", p.Disable)
	default:
		next := now.Add(d.backoff(dl.Attempts, a.retryAfter))
		dl.NextAttemptAt = &next
	}
	if err := d.save(ctx, p); err != nil {
		return err
	}
	if p.Disable != "" {
		return errStop
	}
	return nil
}

// save commits p under the lease and keeps the new delivery state.
func (d *delivery) save(ctx context.Context, p scimbridge.WebhookProgress) error {
	p.EndpointID, p.Holder = d.e.ID, d.w.Holder
	if err := d.w.Store.SaveWebhookProgress(ctx, p); err != nil {
		return err
	}
	if p.Delivery.Cursor != d.e.Delivery.Cursor {
		// Drop what the cursor passed.
		i := 0
		for i < len(d.pending) && !p.Delivery.Cursor.Less(d.pending[i].Position) {
			i++
		}
		d.pending = d.pending[i:]
	}
	d.e.Delivery = p.Delivery
	return nil
}

func (d *delivery) observe(outcome string) {
	if d.w.Observer != nil {
		d.w.Observer.WebhookAttempt(outcome)
	}
}

// backoff is the wait after the n-th failed attempt: BackoffMin doubled
// each time up to BackoffMax, with up to a tenth of jitter, or the
// receiver's Retry-After when it gave one.
func (d *delivery) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter)
	}
	wait := d.w.BackoffMin
	for i := 1; i < n && wait < d.w.BackoffMax; i++ {
		wait *= 2
	}
	wait = min(wait, d.w.BackoffMax)
	return wait + time.Duration(rand.Int64N(int64(wait)/10+1))
}

// disableEvent is the admin event recording that delivery disabled the
// endpoint.
func (d *delivery) disableEvent(ctx context.Context, reason string) (scimbridge.Event, error) {
	org, err := d.w.Store.Organization(ctx, d.e.OrgID)
	if err != nil {
		return scimbridge.Event{}, fmt.Errorf("read organization: %w", err)
	}
	return scimbridge.Event{OrgID: org.ID, Time: d.w.Clock(), Method: "PATCH",
		Path: scimbridge.AdminPath(org.Slug, "/webhooks/"+d.e.ID), Status: 200, Source: scimbridge.EventAdmin,
		Actor: "scimbridge:webhooks", Error: reason, Count: 1,
		RequestBody: `{"enabled":false}`}, nil
}

// sent is an attempt with the receiver's Retry-After.
type sent struct {
	scimbridge.WebhookAttempt
	retryAfter time.Duration
}

// send posts m once, signed with the endpoint's secrets.
func (d *delivery) send(ctx context.Context, m *message) sent {
	start := time.Now()
	now := d.w.Clock()
	a := sent{WebhookAttempt: scimbridge.WebhookAttempt{EndpointID: d.e.ID, OrgID: d.e.OrgID, MessageID: m.id,
		First: m.first, Last: m.last, Changes: m.changes, Time: now, Outcome: scimbridge.AttemptFailed}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.e.URL, bytes.NewReader(m.body))
	if err != nil {
		a.Error = "invalid URL"
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scimbridge-webhooks")
	req.Header.Set(HeaderID, m.id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, SignatureHeader(d.keys, m.id, now, m.body))
	resp, err := d.w.Client.Do(req)
	if err != nil {
		a.Duration = time.Since(start)
		a.Error = errorText(err)
		return a
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, replyLimit))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a.Duration = time.Since(start)
	a.Status, a.Response = resp.StatusCode, strings.ToValidUTF8(string(reply), "\uFFFD")
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		a.Outcome = scimbridge.AttemptDelivered
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		a.Outcome = scimbridge.AttemptRejected
	}
	a.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return a
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// errorText says why no answer came, without the URL (it may carry a
// token in its path).
func errorText(err error) string {
	switch {
	case errors.Is(err, ErrRefused):
		if i := strings.Index(err.Error(), "connect to "); i >= 0 {
			return err.Error()[i:]
		}
		return ErrRefused.Error()
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout: no answer in time"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func attemptText(a sent) string {
	if a.Status != 0 {
		return "status " + strconv.Itoa(a.Status)
	}
	return a.Error
}

// purgedThrough is what a store that purges its changes feed tells.
type purgedThrough interface {
	ChangesPurgedThrough(ctx context.Context) (scimbridge.ChangePosition, bool, error)
}

// checkPurged disables an endpoint whose cursor is below changes the
// retention purge deleted: it would miss them. Removed and added again,
// it starts from the newest change, and its receiver resynchronises from
// a snapshot.
func (d *delivery) checkPurged(ctx context.Context) error {
	if len(d.pending) > 0 || time.Since(d.purgeChecked) < d.w.Poll {
		return nil
	}
	d.purgeChecked = time.Now()
	ps, ok := d.w.Store.(purgedThrough)
	if !ok {
		return nil
	}
	through, ok, err := ps.ChangesPurgedThrough(ctx)
	if err != nil || !ok || !d.e.Delivery.Cursor.Less(through) {
		return err
	}
	reason := "changes it had not received were purged (changes.retention): remove and add the endpoint again, and resynchronise the receiver from a snapshot"
	ev, err := d.disableEvent(ctx, reason)
	if err != nil {
		return err
	}
	d.observe("disabled")
	d.w.Logger.Warn("webhook endpoint disabled", "endpoint", d.e.ID, "reason", reason)
	if err := d.save(ctx, scimbridge.WebhookProgress{Delivery: d.e.Delivery, Disable: reason, Event: &ev}); err != nil {
		return err
	}
	return errStop
}

package webhook

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// checkStream asserts that the receiver got every change 1..n, in order,
// each message possibly repeated (at least once) but never out of order.
func checkStream(t *testing.T, got []received, want []string) {
	t.Helper()
	var seen []string
	for _, r := range got {
		if !r.ok {
			t.Fatalf("a delivery's signature did not verify")
		}
		ps := positions(t, r.body)
		if len(seen) > 0 && len(ps) > 0 {
			// A retried message repeats the changes just seen.
			if i := slices.Index(seen, ps[0]); i >= 0 {
				if !slices.Equal(seen[i:min(i+len(ps), len(seen))], ps[:min(len(ps), len(seen)-i)]) {
					t.Fatalf("redelivery out of order: %v after %v", ps, seen[len(seen)-1])
				}
				ps = ps[min(len(ps), len(seen)-i):]
			}
		}
		seen = append(seen, ps...)
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("received %d changes %v..., want %d in order", len(seen), seen[:min(5, len(seen))], len(want))
	}
}

func TestWorker_OrderAndCompleteness(t *testing.T) {
	for _, tt := range []struct {
		name  string
		batch int
	}{{"OnePerRequest", 1}, {"Batched", 40}} {
		t.Run(tt.name, func(t *testing.T) {
			e := sqliteEnv(t)
			var secret string
			// Every seventh request fails: the message is retried.
			rc := newReceiver(t, nil, func(n int, w http.ResponseWriter) bool {
				if n%7 == 0 {
					w.WriteHeader(http.StatusInternalServerError)
					return true
				}
				return false
			})
			ep, s := e.endpoint(rc.URL+"/hook", tt.batch, scimbridge.RejectRetry)
			secret = s
			rc.secrets = []string{secret}
			run(t, e.worker("a"))
			const n = 300
			for i := 0; i < n; i++ {
				e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
				if i%50 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			waitFor(t, "every change", func() bool {
				got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
				return !got.Delivery.Cursor.Less(e.feed.head())
			})
			checkStream(t, rc.requests(), e.feed.positions())
		})
	}
}

func TestWorker_TypesFilter(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, nil)
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	ep.Types = []scimbridge.ChangeType{scimbridge.ChangeUserDeleted}
	if err := e.db.UpdateWebhookEndpoint(context.Background(), ep, scimbridge.Event{Time: time.Now(), Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	e.feed.add(e.org.ID, scimbridge.ChangeUserDeleted)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	run(t, e.worker("a"))
	waitFor(t, "cursor past every change", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	if got := rc.requests(); len(got) != 1 || positions(t, got[0].body)[0] != e.feed.pos(2) {
		t.Errorf("deliveries = %d, want only the deletion", len(got))
	}
}

// A receiver answering 500, then 429 with Retry-After, then 2xx: three
// attempts, the third no sooner than Retry-After said.
func TestWorker_RetryAfter(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("boom"))
			return true
		case 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	run(t, e.worker("a"))
	waitFor(t, "delivery", func() bool { return len(e.attempts(ep)) == 3 })
	a := e.attempts(ep)
	if a[0].Status != 500 || a[0].Response != "boom" || a[1].Status != 429 || a[2].Status != 204 ||
		a[2].Outcome != scimbridge.AttemptDelivered {
		t.Fatalf("attempts = %+v", a)
	}
	if gap := a[2].Time.Sub(a[1].Time); gap < time.Second {
		t.Errorf("retried %s after a 429 with Retry-After: 1", gap)
	}
	if a[0].MessageID != a[2].MessageID {
		t.Errorf("message id changed between attempts: %s, %s", a[0].MessageID, a[2].MessageID)
	}
}

// A receiver that never answers: attempts end at the timeout and are
// retried; once it answers, delivery goes on.
func TestWorker_Timeout(t *testing.T) {
	e := sqliteEnv(t)
	var hang atomic.Bool
	hang.Store(true)
	release := make(chan struct{})
	rc := newReceiver(t, nil, func(n int, w http.ResponseWriter) bool {
		if hang.Load() {
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
		return false
	})
	t.Cleanup(func() { close(release) }) // before the receiver closes
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	w := e.worker("a")
	w.Timeout = 200 * time.Millisecond
	run(t, w)
	waitFor(t, "two timed-out attempts", func() bool { return len(e.attempts(ep)) >= 2 })
	for _, a := range e.attempts(ep)[:2] {
		if a.Status != 0 || !strings.Contains(a.Error, "timeout") || a.Outcome != scimbridge.AttemptFailed {
			t.Errorf("attempt = %+v, want a timeout", a)
		}
	}
	hang.Store(false)
	waitFor(t, "delivery after recovery", func() bool {
		a := e.attempts(ep)
		return a[len(a)-1].Outcome == scimbridge.AttemptDelivered
	})
}

// on_reject skip: a change rejected 5 times is set aside and delivery
// moves on; redelivering it later delivers it again with the same id.
// on_reject retry: a rejected change keeps being retried.
func TestWorker_OnReject(t *testing.T) {
	e := sqliteEnv(t)
	var accept atomic.Bool
	var rejected2 atomic.Value
	rejected2.Store("none")
	rcSkip := newReceiver(t, nil, nil)
	rcSkip.answer = func(n int, w http.ResponseWriter) bool { return rejectBody(rcSkip, n, w, &accept, &rejected2) }
	rcRetry := newReceiver(t, nil, nil)
	rcRetry.answer = func(n int, w http.ResponseWriter) bool { return rejectBody(rcRetry, n, w, &accept, &rejected2) }
	skip, _ := e.endpoint(rcSkip.URL, 1, scimbridge.RejectSkip)
	retry, _ := e.endpoint(rcRetry.URL, 1, scimbridge.RejectRetry)
	for i := 0; i < 3; i++ {
		e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	}
	rejected2.Store(`"position":"` + e.feed.pos(2) + `"`)
	run(t, e.worker("a"))
	waitFor(t, "skip endpoint past the rejected change", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, skip.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	second, _ := ParsePosition(e.feed.pos(2))
	msgs, _ := e.db.WebhookMessages(context.Background(), e.org.ID, skip.ID)
	if len(msgs) != 1 || msgs[0].State != scimbridge.MessageSetAside || msgs[0].ID != MessageID(second, second) {
		t.Fatalf("kept messages = %+v", msgs)
	}
	rejected := 0
	for _, a := range e.attempts(skip) {
		if a.Outcome == scimbridge.AttemptRejected {
			rejected++
		}
	}
	if rejected != scimbridge.WebhookSkipAttempts {
		t.Errorf("rejected attempts = %d, want %d", rejected, scimbridge.WebhookSkipAttempts)
	}
	waitFor(t, "retry endpoint past 5 rejections", func() bool { return len(e.attempts(retry)) > 7 })
	if got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, retry.ID); Position(got.Delivery.Cursor) != e.feed.pos(1) {
		t.Errorf("retry endpoint moved on to %+v", got.Delivery.Cursor)
	}

	// Redeliver the set-aside change once the receiver accepts it.
	accept.Store(true)
	m := msgs[0]
	m.State = scimbridge.MessageRedeliver
	if err := e.db.PutWebhookMessage(context.Background(), m, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "redelivery", func() bool {
		msgs, _ := e.db.WebhookMessages(context.Background(), e.org.ID, skip.ID)
		return msgs[0].State == scimbridge.MessageRedelivered
	})
	got := rcSkip.requests()
	last := got[len(got)-1]
	if last.header.Get(HeaderID) != m.ID || positions(t, last.body)[0] != e.feed.pos(2) {
		t.Errorf("redelivered %s %v, want %s", last.header.Get(HeaderID), positions(t, last.body), m.ID)
	}
	waitFor(t, "retry endpoint delivers once accepted", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, retry.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
}

func rejectBody(rc *receiver, n int, w http.ResponseWriter, accept *atomic.Bool, reject *atomic.Value) bool {
	got := rc.requests()
	if !accept.Load() && strings.Contains(string(got[n-1].body), reject.Load().(string)) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return true
	}
	return false
}

// A delivery failing for 3 days disables the endpoint with an admin event.
func TestWorker_DisableAfterThreeDays(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, func(n int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	run(t, e.worker("a"))
	waitFor(t, "failures", func() bool { return len(e.attempts(ep)) >= 2 })
	if got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID); !got.Enabled {
		t.Fatal("disabled before 3 days")
	}
	e.clock.advance(scimbridge.WebhookRetryFor + time.Minute)
	waitFor(t, "disabled", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
		return !got.Enabled
	})
	got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
	if !strings.Contains(got.DisabledReason, "status 502") {
		t.Errorf("reason = %q", got.DisabledReason)
	}
	page, err := e.db.ListEvents(context.Background(), scimbridge.EventQuery{OrgID: e.org.ID, Source: scimbridge.EventAdmin, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range page.Events {
		if strings.HasSuffix(ev.Path, "/webhooks/"+ep.ID) && ev.Method == "PATCH" && strings.Contains(ev.Error, "502") {
			found = true
		}
	}
	if !found {
		t.Errorf("no admin event for the disabling among %+v", page.Events)
	}
	n := len(e.attempts(ep))
	time.Sleep(100 * time.Millisecond)
	if len(e.attempts(ep)) != n {
		t.Error("a disabled endpoint is still attempted")
	}
}

// Two workers on one PostgreSQL database: one delivers an endpoint at a
// time, and when it stops the other takes over without losing a change.
func TestWorker_LeaseTakeover(t *testing.T) {
	e := newEnv(t, storetest.OpenPostgres(t))
	rc := newReceiver(t, nil, nil)
	ep, secret := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	rc.secrets = []string{secret}
	wa, wb := e.worker("a"), e.worker("b")
	wa.LeaseTTL, wb.LeaseTTL = 600*time.Millisecond, 600*time.Millisecond
	stopA := run(t, wa)
	waitFor(t, "a holds the lease", func() bool { return wa.Delivering() == 1 })
	run(t, wb)
	for i := 0; i < 50; i++ {
		e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	}
	waitFor(t, "first half", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	if wb.Delivering() != 0 {
		t.Error("b delivers while a holds the lease")
	}
	stopA()
	for i := 0; i < 50; i++ {
		e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	}
	waitFor(t, "b takes over", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, ep.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	checkStream(t, rc.requests(), e.feed.positions())
}

// Backlogs gives the age of the oldest change an endpoint has not
// received, and 0 once it has every change.
func TestBacklogs(t *testing.T) {
	e := sqliteEnv(t)
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, nil, func(n int, w http.ResponseWriter) bool {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	r := e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	run(t, e.worker("a"))
	now := r.Time.Add(time.Minute)
	b, err := Backlogs(context.Background(), e.st, now)
	if err != nil || len(b) != 1 || b[0].EndpointID != ep.ID || b[0].Oldest != time.Minute {
		t.Fatalf("backlogs = %+v, %v; want one minute", b, err)
	}
	down.Store(false)
	waitFor(t, "delivery", func() bool {
		b, _ := Backlogs(context.Background(), e.st, now)
		return len(b) == 1 && b[0].Oldest == 0
	})
}

// An endpoint whose cursor is below changes the retention purge deleted
// is disabled instead of silently missing them; an idle endpoint's cursor
// follows the head and is not.
func TestWorker_PurgedChanges(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, nil)
	idle, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	behind, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	behind.Enabled = false
	if err := e.db.UpdateWebhookEndpoint(context.Background(), behind, scimbridge.Event{Time: time.Now(), Count: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	}
	stop := run(t, e.worker("a"))
	waitFor(t, "the idle endpoint up to date", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, idle.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	stop()
	if n, err := e.db.PurgeChanges(context.Background(), time.Now().Add(time.Hour), 100); n != 3 || err != nil {
		t.Fatalf("purge = %d, %v", n, err)
	}
	behind.Enabled = true
	if err := e.db.UpdateWebhookEndpoint(context.Background(), behind, scimbridge.Event{Time: time.Now(), Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, e.worker("b"))
	waitFor(t, "the endpoint behind the purge disabled", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, behind.ID)
		return !got.Enabled && strings.Contains(got.DisabledReason, "purged")
	})
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	waitFor(t, "the idle endpoint delivers on", func() bool {
		got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, idle.ID)
		return !got.Delivery.Cursor.Less(e.feed.head())
	})
	if got, _ := e.db.WebhookEndpoint(context.Background(), e.org.ID, idle.ID); !got.Enabled {
		t.Errorf("the up-to-date endpoint was disabled: %s", got.DisabledReason)
	}
}

// After a rotation both secrets sign until the previous one expires;
// then only the new one does.
func TestWorker_RotationWindow(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, nil)
	ep, oldSecret := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	newSecret, _ := NewSecret()
	sealed, _ := e.ring.Seal(e.org.ID, []byte(newSecret))
	until := e.clock.now().Add(scimbridge.WebhookPreviousSecretFor)
	ep.SealedPreviousSecret, ep.SealedSecret, ep.PreviousExpiresAt = ep.SealedSecret, sealed, &until
	if err := e.db.UpdateWebhookEndpoint(context.Background(), ep, scimbridge.Event{Time: time.Now(), Count: 1}); err != nil {
		t.Fatal(err)
	}
	run(t, e.worker("a"))
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	waitFor(t, "first delivery", func() bool { return len(rc.requests()) == 1 })
	e.clock.advance(scimbridge.WebhookPreviousSecretFor + time.Minute)
	time.Sleep(100 * time.Millisecond) // the worker reloads the endpoint every poll
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	waitFor(t, "second delivery", func() bool { return len(rc.requests()) == 2 })
	verify := func(r received, secret string) bool {
		h := map[string]string{}
		for _, k := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
			h[k] = r.header.Get(k)
		}
		ts, _ := strconv.ParseInt(h[HeaderTimestamp], 10, 64)
		return specVerify(secret, h, r.body, time.Unix(ts, 0)) == nil
	}
	got := rc.requests()
	if n := len(strings.Fields(got[0].header.Get(HeaderSignature))); n != 2 || !verify(got[0], oldSecret) || !verify(got[0], newSecret) {
		t.Errorf("during the window: %d signatures; old verifies %v, new %v", n, verify(got[0], oldSecret), verify(got[0], newSecret))
	}
	if n := len(strings.Fields(got[1].header.Get(HeaderSignature))); n != 1 || verify(got[1], oldSecret) || !verify(got[1], newSecret) {
		t.Errorf("after the window: %d signatures; old verifies %v, new %v", n, verify(got[1], oldSecret), verify(got[1], newSecret))
	}
}

// Redelivering an attempted message (its body not kept) renders its
// changes again from the feed and sends them with the same webhook-id.
func TestWorker_RedeliverAttempt(t *testing.T) {
	e := sqliteEnv(t)
	rc := newReceiver(t, nil, nil)
	ep, _ := e.endpoint(rc.URL, 1, scimbridge.RejectRetry)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	e.feed.add(e.org.ID, scimbridge.ChangeUserCreated)
	run(t, e.worker("a"))
	waitFor(t, "two deliveries", func() bool { return len(e.attempts(ep)) == 2 })
	a := e.attempts(ep)[0]
	m := scimbridge.WebhookMessage{ID: a.MessageID, EndpointID: ep.ID, OrgID: e.org.ID, First: a.First, Last: a.Last,
		Changes: a.Changes, Body: []byte{}, State: scimbridge.MessageRedeliver, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.db.PutWebhookMessage(context.Background(), m, nil); err != nil {
		t.Fatal(err)
	}
	// The receiver sees the request before the worker records its attempt.
	waitFor(t, "the redelivery", func() bool { return len(rc.requests()) == 3 && len(e.attempts(ep)) == 3 })
	got := rc.requests()
	if got[2].header.Get(HeaderID) != a.MessageID || !slices.Equal(positions(t, got[2].body), []string{e.feed.pos(1)}) ||
		string(got[2].body) != string(got[0].body) {
		t.Errorf("redelivered %s %s, want %s as first sent", got[2].header.Get(HeaderID), got[2].body, got[0].body)
	}
	if last := e.attempts(ep)[2]; !last.Redelivery || last.Outcome != scimbridge.AttemptDelivered {
		t.Errorf("redelivery attempt = %+v", last)
	}
}

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// RetryPolicy bounds how one Google request (one page) is retried.
type RetryPolicy struct {
	// MaxAttempts is the number of tries, the first included.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it up to MaxDelay.
	// The delay actually slept is jittered in [d/2, d).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter caps how long a Retry-After header can make us wait.
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx is done. Tests inject a fast one.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRetryPolicy is 6 attempts, backoff from 1 s doubling to 32 s, and
// Retry-After honoured up to 2 minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:   6,
		BaseDelay:     time.Second,
		MaxDelay:      32 * time.Second,
		MaxRetryAfter: 2 * time.Minute,
		Sleep:         sleepContext,
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	if p.Sleep == nil {
		p.Sleep = d.Sleep
	}
	return p
}

// backoff is the delay before retry number n (1-based): BaseDelay·2^(n-1)
// capped at MaxDelay, jittered into [d/2, d), and at least retryAfter.
func (p RetryPolicy) backoff(n int, retryAfter time.Duration) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	if half := d / 2; half > 0 {
		d = half + rand.N(half)
	}
	if retryAfter > d {
		d = min(retryAfter, p.MaxRetryAfter)
	}
	return d
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PermanentError is a Google error that retrying will not fix: the
// credentials are wrong, revoked or lack access, or the API is not enabled.
// The bridge shows it as "needs attention" with Message, Google's own text.
type PermanentError struct {
	Status  int    // HTTP status, when there was a response
	Reason  string // Google's reason ("forbidden", "accessNotConfigured", "invalid_grant", ...)
	Message string // Google's message
}

func (e *PermanentError) Error() string {
	if e.Message == "" || e.Message == e.Reason {
		return "google: " + e.Reason
	}
	return "google: " + e.Reason + ": " + e.Message
}

// IsPermanent reports whether err carries a *PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// rateLimitReasons are the 403 reasons Google uses for quota and rate limits.
var rateLimitReasons = map[string]bool{
	"userRateLimitExceeded": true,
	"rateLimitExceeded":     true,
	"quotaExceeded":         true,
}

// verdict is what classify decides about one failed attempt.
type verdict struct {
	retry      bool
	reason     string
	retryAfter time.Duration
	permanent  *PermanentError
}

// classify sorts an error from the Directory API or the token endpoint into
// retryable or permanent.
func classify(err error, now time.Time) verdict {
	var gerr *googleapi.Error
	var rerr *oauth2.RetrieveError
	switch {
	case errors.As(err, &gerr):
		return classifyAPI(gerr, now)
	case errors.As(err, &rerr):
		return classifyToken(rerr, now)
	default:
		// Connection refused, reset, timeout, truncated body: transient.
		return verdict{retry: true, reason: "transport"}
	}
}

func classifyAPI(e *googleapi.Error, now time.Time) verdict {
	reason := ""
	if len(e.Errors) > 0 {
		reason = e.Errors[0].Reason
	}
	msg := e.Message
	if msg == "" && len(e.Errors) > 0 {
		msg = e.Errors[0].Message
	}
	if msg == "" {
		msg = strings.TrimSpace(truncate(e.Body, 300))
	}
	ra := retryAfter(e.Header, now)
	switch {
	case e.Code == http.StatusTooManyRequests:
		return verdict{retry: true, reason: orDefault(reason, "rateLimitExceeded"), retryAfter: ra}
	case e.Code == http.StatusForbidden && rateLimitReasons[reason]:
		return verdict{retry: true, reason: reason, retryAfter: ra}
	case e.Code >= 500:
		return verdict{retry: true, reason: orDefault(reason, "http"+strconv.Itoa(e.Code)), retryAfter: ra}
	}
	if reason == "" {
		reason = statusReason(e.Code)
	}
	return verdict{reason: reason, permanent: &PermanentError{Status: e.Code, Reason: reason, Message: msg}}
}

func classifyToken(e *oauth2.RetrieveError, now time.Time) verdict {
	code, desc := e.ErrorCode, e.ErrorDescription
	if code == "" {
		// The JWT flow does not parse the body; do it here.
		var body struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(e.Body, &body) == nil {
			code, desc = body.Error, body.ErrorDescription
		}
	}
	status := 0
	var header http.Header
	if e.Response != nil {
		status, header = e.Response.StatusCode, e.Response.Header
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		return verdict{retry: true, reason: "token_" + orDefault(code, "http"+strconv.Itoa(status)), retryAfter: retryAfter(header, now)}
	}
	if code == "" {
		code = "token_" + statusReason(status)
	}
	return verdict{reason: code, permanent: &PermanentError{Status: status, Reason: code, Message: orDefault(desc, code)}}
}

func statusReason(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "badRequest"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "notFound"
	}
	return "http" + strconv.Itoa(code)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Stats counts the Directory's requests, retries and errors since it was
// made, for metrics.
type Stats struct {
	Requests int64 // attempts, retries included
	Pages    int64 // pages received
	Retries  int64
	// RetriesByReason and ErrorsByReason count retried attempts and
	// final failures by Google's reason.
	RetriesByReason map[string]int64
	ErrorsByReason  map[string]int64
}

type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) add(f func(s *Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.RetriesByReason == nil {
		c.s.RetriesByReason = map[string]int64{}
		c.s.ErrorsByReason = map[string]int64{}
	}
	f(&c.s)
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.RetriesByReason = make(map[string]int64, len(c.s.RetriesByReason))
	for k, v := range c.s.RetriesByReason {
		s.RetriesByReason[k] = v
	}
	s.ErrorsByReason = make(map[string]int64, len(c.s.ErrorsByReason))
	for k, v := range c.s.ErrorsByReason {
		s.ErrorsByReason[k] = v
	}
	return s
}

// call runs fn, retrying transient failures under the Directory's policy,
// each attempt within the Directory's query budget. It
// returns the number of retries and fn's last error, a *PermanentError for a
// permanent failure.
func (d *Directory) call(ctx context.Context, what string, fn func(ctx context.Context) error) (int, error) {
	p := d.retry
	retries := 0
	for attempt := 1; ; attempt++ {
		if d.limiter != nil {
			if err := d.limiter.Wait(ctx); err != nil {
				return retries, fmt.Errorf("%s: %w", what, err)
			}
		}
		d.stats.add(func(s *Stats) { s.Requests++ })
		err := fn(ctx)
		if err == nil {
			return retries, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return retries, fmt.Errorf("%s: %w", what, ctxErr)
		}
		v := classify(err, d.clock())
		if !v.retry {
			d.stats.add(func(s *Stats) { s.ErrorsByReason[v.reason]++ })
			d.logger.Warn("google request failed", "request", what, "reason", v.reason, "message", v.permanent.Message)
			return retries, fmt.Errorf("%s: %w", what, v.permanent)
		}
		if attempt >= p.MaxAttempts {
			d.stats.add(func(s *Stats) { s.ErrorsByReason[v.reason]++ })
			d.logger.Warn("google request failed after retries", "request", what, "reason", v.reason, "attempts", attempt)
			return retries, fmt.Errorf("%s: gave up after %d attempts (%s): %w", what, attempt, v.reason, err)
		}
		delay := p.backoff(attempt, v.retryAfter)
		retries++
		d.stats.add(func(s *Stats) { s.Retries++; s.RetriesByReason[v.reason]++ })
		d.logger.Info("google request retried", "request", what, "reason", v.reason, "attempt", attempt, "delay", delay)
		if err := p.Sleep(ctx, delay); err != nil {
			return retries, fmt.Errorf("%s: %w", what, err)
		}
	}
}

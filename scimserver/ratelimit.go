package scimserver

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// tokenLimiter is the per-token request rate limit: one token bucket per
// organization (an organization has one SCIM token), per replica.
type tokenLimiter struct {
	mu     sync.Mutex
	limit  rate.Limit // 0: disabled
	burst  int
	bucket map[string]*rate.Limiter
}

func newTokenLimiter(r float64, burst int) *tokenLimiter {
	l := &tokenLimiter{bucket: make(map[string]*rate.Limiter)}
	l.set(r, burst)
	return l
}

// set changes the limit; buckets start full again. A burst below 1 is the
// rate rounded up (at least 1).
func (l *tokenLimiter) set(r float64, burst int) {
	if r < 0 || math.IsNaN(r) {
		r = 0
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(r)))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit, l.burst = rate.Limit(r), burst
	clear(l.bucket)
}

// allow takes one request from key's bucket; when it is empty it returns
// false and how long until a request would be allowed.
func (l *tokenLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 0 {
		return true, 0
	}
	b := l.bucket[key]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.bucket[key] = b
	}
	res := b.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// failureLimiter counts failed authentications per key (client IP and
// token prefix, see failureKey) in fixed one-minute windows; a key over the
// limit is refused until its window ends.
type failureLimiter struct {
	mu     sync.Mutex
	limit  int // 0: disabled
	window map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

// failureWindow is the length of an authentication failure window.
const failureWindow = time.Minute

// maxFailureKeys bounds the memory of the failure limiter: past it, expired
// windows are swept before a new key is tracked.
const maxFailureKeys = 10000

func newFailureLimiter(limit int) *failureLimiter {
	return &failureLimiter{limit: max(0, limit), window: make(map[string]*failWindow)}
}

// blocked reports whether key used up its failures in the current window,
// and how long until the window ends.
func (f *failureLimiter) blocked(key string, now time.Time) (bool, time.Duration) {
	if f.limit == 0 {
		return false, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.window[key]
	if w == nil || now.Sub(w.start) >= failureWindow || w.n < f.limit {
		return false, 0
	}
	return true, w.start.Add(failureWindow).Sub(now)
}

// fail records one failed authentication of key.
func (f *failureLimiter) fail(key string, now time.Time) {
	if f.limit == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.window[key]
	if w == nil || now.Sub(w.start) >= failureWindow {
		if w == nil && len(f.window) >= maxFailureKeys {
			for k, v := range f.window {
				if now.Sub(v.start) >= failureWindow {
					delete(f.window, k)
				}
			}
		}
		w = &failWindow{start: now}
		f.window[key] = w
	}
	w.n++
}

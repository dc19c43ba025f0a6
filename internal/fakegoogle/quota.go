package fakegoogle

import (
	"fmt"
	"net/http"
	"time"
)

// DefaultQuota is Google's default Directory API quota: 2,400 queries a
// minute (per user per project; the fake counts every API request it gets).
const DefaultQuota = 2400

// quota is a sliding one-minute window over admitted API requests: a request
// is admitted when fewer than limit were admitted in the minute before it.
type quota struct {
	limit int
	times []time.Time // ring of the last limit admissions
	next  int
	full  bool
}

// admit records a request at now, or returns how long until one would be
// admitted. Callers hold the server's lock.
func (q *quota) admit(now time.Time) (time.Duration, bool) {
	if q.limit <= 0 {
		return 0, true
	}
	if len(q.times) != q.limit {
		q.times, q.next, q.full = make([]time.Time, q.limit), 0, false
	}
	if q.full {
		if oldest := q.times[q.next]; now.Sub(oldest) < time.Minute {
			return oldest.Add(time.Minute).Sub(now), false
		}
	}
	q.times[q.next] = now
	q.next = (q.next + 1) % q.limit
	if q.next == 0 {
		q.full = true
	}
	return 0, true
}

// SetQuota sets how many API requests a minute the fake admits (a sliding
// window); more get 403 userRateLimitExceeded as Google answers. Zero or
// less disables the quota. The default is DefaultQuota.
func (s *Server) SetQuota(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = quota{limit: perMinute}
}

// SetClock sets the clock the quota reads (default time.Now).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// RateLimited counts requests refused by the quota.
func (s *Server) RateLimited() int { return s.counter(&s.rateLimited) }

// authorize checks the bearer token, that it carries one of scopes, and the
// quota, in Google's order; it writes the error and returns false when one
// fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scopes ...string) bool {
	info, ok := s.auth.accessToken(r.Header.Get("Authorization"))
	if !ok {
		writeGoogleError(w, Failure{Status: http.StatusUnauthorized, Reason: "authError"})
		return false
	}
	if !info.anyScope(scopes...) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="`+scopes[0]+`"`)
		writeGoogleError(w, insufficientScope)
		return false
	}
	s.mu.Lock()
	wait, ok := s.quota.admit(s.now())
	if !ok {
		s.rateLimited++
	}
	s.mu.Unlock()
	if !ok {
		writeGoogleError(w, Failure{Status: http.StatusForbidden, Reason: "userRateLimitExceeded",
			Message:    fmt.Sprintf("Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com' (%d a minute).", s.quotaLimit()),
			RetryAfter: fmt.Sprint(int(wait.Seconds()) + 1)})
		return false
	}
	return true
}

func (s *Server) quotaLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quota.limit
}

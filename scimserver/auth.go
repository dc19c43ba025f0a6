package scimserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// authFailed is the one detail every 401 shows: the client is not told
// which part of its token was wrong.
const authFailed = "authentication failed: a valid SCIM bearer token is required"

// authenticate finds the organization of the request's bearer token, or
// answers 401 (WWW-Authenticate: Bearer). A client IP with too many recent
// failures is refused with 429 before any lookup; an organization over its
// rate limit gets 429. Both carry an integer Retry-After.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderFrom(r.Context())
		now := s.clock()
		if blocked, wait := s.authFail.blocked(rec.clientIP, now); blocked {
			rec.errMsg = "too many failed authentications from this client"
			s.writeRateLimited(w, r, wait, "too many failed authentications; retry later")
			return
		}
		org, reason, err := s.authorize(r.Context(), r.Header.Get("Authorization"), rec)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("authorize request: %w", err))
			return
		}
		if reason != "" {
			s.authFail.fail(rec.clientIP, now)
			rec.errMsg = reason
			w.Header().Set("WWW-Authenticate", "Bearer")
			s.writeError(w, r, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, authFailed))
			return
		}
		rec.org = org
		if ok, wait := s.limiter.allow(org.ID, now); !ok {
			rec.errMsg = "rate limit exceeded"
			s.writeRateLimited(w, r, wait, "too many requests; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize checks a bearer token: scb_<slug>_<secret>, the organization
// the slug names, its SCIM configuration, and the token's hash compared in
// constant time. Nothing is cached, so a regenerated token invalidates the
// old one at once. It returns the organization, or a reason for the events
// log when the token is refused; err is a store failure. The organization
// the slug names is recorded in rec even when the token is refused.
func (s *Server) authorize(ctx context.Context, header string, rec *recorder) (scimbridge.Organization, string, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	switch {
	case header == "":
		return scimbridge.Organization{}, "no Authorization header", nil
	case !strings.EqualFold(scheme, "Bearer") || token == "":
		return scimbridge.Organization{}, "Authorization is not a bearer token", nil
	}
	slug, ok := scimbridge.SCIMTokenSlug(token)
	if !ok {
		return scimbridge.Organization{}, "bearer token is not a scimbridge SCIM token", nil
	}
	org, cfg, err := s.store.OrganizationSCIMConfig(ctx, slug)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Organization{}, "token names an unknown organization", nil
	} else if err != nil {
		return scimbridge.Organization{}, "", fmt.Errorf("find organization: %w", err)
	}
	rec.org = org
	if cfg.OrgID == "" {
		return scimbridge.Organization{}, "SCIM is not enabled for the organization", nil
	}
	if !scimbridge.TokenMatches(token, cfg.TokenHash) {
		return scimbridge.Organization{}, "token does not match the organization's current SCIM token", nil
	}
	// last_used_at is written at most once a minute; skipping the write
	// when the row just read is recent spares a write per request.
	if now := s.clock(); cfg.LastUsedAt == nil || now.Sub(*cfg.LastUsedAt) >= touchInterval {
		if err := s.store.TouchSCIMConfig(ctx, org.ID, now); err != nil {
			s.logger.Warn("touch scim config", "org_id", org.ID, "err", err)
		}
	}
	return org, "", nil
}

// touchInterval is how often last_used_at is written at most.
const touchInterval = time.Minute

// writeRateLimited answers 429 with an integer Retry-After.
func (s *Server) writeRateLimited(w http.ResponseWriter, r *http.Request, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	s.writeError(w, r, scimbridge.Errorf(eRateLimited, "%s", detail))
}

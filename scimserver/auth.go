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
// answers 401 (WWW-Authenticate: Bearer). Failed authentications are
// counted per client IP and token prefix (the organization the token's
// scb_<slug>_ names); once a key has too many recent failures, its refused
// requests get 429 instead of 401. The limit is checked only after the
// token is refused, so it never blocks a valid token from a shared
// address. An organization over its rate limit gets 429. Both 429s carry
// an integer Retry-After.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderFrom(r.Context())
		now := s.clock()
		org, reason, err := s.authorize(r.Context(), r.Header.Get("Authorization"), rec)
		if err != nil {
			skipUnreadBody(w, r)
			s.writeError(w, r, fmt.Errorf("authorize request: %w", err))
			return
		}
		if reason != "" {
			skipUnreadBody(w, r)
			key := failureKey(rec.clientIP, rec.org.ID)
			if blocked, wait := s.authFail.blocked(key, now); blocked {
				rec.errMsg = "too many failed authentications from this client: " + reason
				s.writeRateLimited(w, r, wait, "too many failed authentications; retry later")
				return
			}
			s.authFail.fail(key, now)
			rec.errMsg = reason
			w.Header().Set("WWW-Authenticate", "Bearer")
			s.writeError(w, r, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, authFailed))
			return
		}
		rec.org = org
		if ok, wait := s.limiter.allow(org.ID, now); !ok {
			skipUnreadBody(w, r)
			rec.errMsg = "rate limit exceeded"
			s.writeRateLimited(w, r, wait, "too many requests; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// failureKey is the failure limiter's key of a refused request: its client
// IP and the organization its token's prefix names ("" for none). Keying
// by organization rather than by the prefix as sent bounds the keys per IP.
func failureKey(ip, orgID string) string {
	return ip + " " + orgID
}

// authorize checks a bearer token: scb_<slug>_<secret>, the organization
// the slug names, its SCIM configuration, and the token's hash compared in
// constant time. Nothing is cached, so a regenerated token invalidates the
// old one at once. It returns the organization, or a reason for the events
// log when the token is refused; err is a store failure. The organization
// the scb_<slug>_ prefix names is recorded in rec even when the token is
// refused, whatever the rest of the token (a secret one character short
// is the commonest copy-paste mistake, and its admin must see it).
func (s *Server) authorize(ctx context.Context, header string, rec *recorder) (scimbridge.Organization, string, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	switch {
	case header == "":
		return scimbridge.Organization{}, "no Authorization header", nil
	case !strings.EqualFold(scheme, "Bearer") || token == "":
		return scimbridge.Organization{}, "Authorization is not a bearer token", nil
	}
	slug, ok := scimbridge.SCIMTokenPrefixSlug(token)
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
	if _, ok := scimbridge.SCIMTokenSlug(token); !ok {
		return scimbridge.Organization{}, "bearer token is malformed: not scb_<slug>_ and 43 base62 characters", nil
	}
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

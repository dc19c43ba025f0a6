// Package scimserver is the SCIM 2.0 HTTP API through which identity
// providers (Okta, Microsoft Entra ID, JumpCloud, OneLogin, ...) create,
// update, deactivate and detach an organization's users, and the events log
// that records every request made to it.
//
// It is a thin layer over net/http: routes.go lists every route; auth.go
// finds the organization from the bearer token; users.go and list.go turn
// SCIM requests into reconcile decisions and store changes; events.go gives
// each request a recorder and writes exactly one event per request, either
// in the transaction of the change it made or through a buffered writer.
// Errors reach clients only through the table in errors.go.
package scimserver

import (
	"cmp"
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// Config is what the SCIM server needs.
type Config struct {
	Store  scimbridge.Store
	Logger *slog.Logger
	Clock  scimbridge.Clock
	// PublicURL is the absolute base of the daemon (http://127.0.0.1:8080);
	// the SCIM base URL is PublicURL + scim.BasePath. Absolute URLs in responses
	// come only from here, never from the Host header.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RateLimit is requests per second per token (per replica) and
	// RateBurst its bucket size; a RateLimit of 0 disables the limit.
	RateLimit float64
	RateBurst int
	// AuthFailureLimit is how many failed authentications a client IP may
	// make per minute with one token prefix before its refused requests
	// get 429 instead of 401; a valid token is never refused. 0 disables it.
	AuthFailureLimit int
	// EventBuffer and EventBufferBytes bound the queue of buffered events
	// kept while the database is unavailable (0: DefaultEventBuffer,
	// DefaultEventBufferBytes); beyond either, events are dropped and
	// counted.
	EventBuffer      int
	EventBufferBytes int
	// EventDrainTimeout bounds writing the queued events once Run's
	// context is done, when the database is unavailable (0: 30 s).
	EventDrainTimeout time.Duration

	// bodyTimeout replaces the default bodyTimeout (tests).
	bodyTimeout time.Duration
}

// Stats are the server's counters.
type Stats struct {
	// EventsWritten counts events the buffered writer inserted.
	EventsWritten uint64
	// EventsCommitted counts events committed with a profile change.
	EventsCommitted uint64
	// EventWriteFailures counts events that were never written, for any
	// reason: refused by the database, dropped from a full queue, or lost
	// at shutdown.
	EventWriteFailures uint64
	// EventsDropped counts events dropped because the queue was full (in
	// events or in bytes) while the database was unavailable.
	EventsDropped uint64
	// EventsLost counts events still queued when the drain on shutdown
	// gave up on an unavailable database.
	EventsLost uint64
	// EventsQueued and EventsQueuedBytes are the events waiting in the
	// queue now and what they cost against EventBufferBytes.
	EventsQueued      uint64
	EventsQueuedBytes uint64
	// EventsAggregated counts repeated 401/429 requests folded into another
	// event's Count instead of getting an event of their own.
	EventsAggregated uint64
}

// Server is the SCIM API of every organization.
type Server struct {
	store   scimbridge.Store
	logger  *slog.Logger
	clock   scimbridge.Clock
	baseURL string // PublicURL + scim.BasePath, no trailing slash

	trusted  atomic.Pointer[[]netip.Prefix]
	limiter  *tokenLimiter
	authFail *failureLimiter
	events   *eventWriter
	handler  http.Handler
	mux      *http.ServeMux // the routes, for Route

	committed atomic.Uint64
	// bodyTimeout is how long an authenticated request's body may take.
	bodyTimeout time.Duration
}

// New returns the SCIM server for cfg. Call Run to write the buffered
// events, and serve Handler under scim.BasePath.
func New(cfg Config) *Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	s := &Server{
		store:    cfg.Store,
		logger:   logger,
		clock:    clock,
		baseURL:  strings.TrimRight(cfg.PublicURL, "/") + scim.BasePath,
		limiter:  newTokenLimiter(cfg.RateLimit, cfg.RateBurst),
		authFail: newFailureLimiter(cfg.AuthFailureLimit),
		events: newEventWriter(cfg.Store, logger, clock,
			eventLimits{events: cfg.EventBuffer, bytes: cfg.EventBufferBytes, drain: cfg.EventDrainTimeout}),

		bodyTimeout: cmp.Or(cfg.bodyTimeout, bodyTimeout),
	}
	s.SetTrustedProxies(cfg.TrustedProxies)
	s.handler = s.routes()
	return s
}

// Handler serves the SCIM API. It expects full request paths
// (/api/connect/v1/Users); put it in front of other routes with Mount, so
// that every path under the base URL reaches it.
func (s *Server) Handler() http.Handler { return s.handler }

// Run writes buffered events until ctx is done, then writes every event
// still buffered and returns; while the database is unavailable it keeps
// them and retries, and at shutdown it gives up after EventDrainTimeout.
// Cancel ctx only after the HTTP server has stopped: events of requests
// finishing later are written synchronously.
func (s *Server) Run(ctx context.Context) error {
	return s.events.run(ctx)
}

// SetTrustedProxies replaces the trusted proxies (configuration reload).
func (s *Server) SetTrustedProxies(prefixes []netip.Prefix) {
	p := make([]netip.Prefix, 0, len(prefixes))
	for _, pr := range prefixes {
		p = append(p, pr.Masked())
	}
	s.trusted.Store(&p)
}

// SetRateLimit replaces the per-token rate limit (configuration reload);
// a rate of 0 disables it.
func (s *Server) SetRateLimit(rate float64, burst int) {
	s.limiter.set(rate, burst)
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	st := s.events.stats()
	st.EventsCommitted = s.committed.Load()
	return st
}

// trustedProxies returns the current trusted proxies (read only).
func (s *Server) trustedProxies() []netip.Prefix {
	return *s.trusted.Load()
}

// retryAfterSeconds renders a wait as the integer seconds of Retry-After,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

package daemon

import (
	"context"
	"log/slog"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scimserver"
)

// newSCIMService builds the SCIM API for the configuration.
func newSCIMService(cfg configs.Config, publicURL string, db scimbridge.Store, logger *slog.Logger, clock scimbridge.Clock) *scimserver.Server {
	return scimserver.New(scimserver.Config{
		Store:            db,
		Logger:           logger,
		Clock:            clock,
		PublicURL:        publicURL,
		TrustedProxies:   cfg.TrustedProxyPrefixes(),
		RateLimit:        cfg.SCIM.RateLimit,
		RateBurst:        cfg.SCIM.RateBurst,
		AuthFailureLimit: cfg.SCIM.AuthFailureLimit,
		EventBuffer:      cfg.Events.Buffer,
		EventBufferBytes: cfg.Events.BufferBytes,
		// The drain of queued events gets the shutdown timeout of its own
		// when the database is down.
		EventDrainTimeout: cfg.ShutdownTimeout.Duration(),
	})
}

// encodeUser is p as a SCIM User resource, exactly as the SCIM API sends
// it, its manager resolved through m (nil: not resolved).
func encodeUser(ctx context.Context, p scimbridge.Profile, baseURL string, m *scimserver.ManagerResolver) ([]byte, error) {
	return scimserver.EncodeUser(ctx, p, scim.EncodeOptions{BaseURL: baseURL}, m)
}

package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// googleTimeout bounds one HTTP request to Google.
const googleTimeout = 60 * time.Second

// Test-only settings, read from SCIMBRIDGE_TEST_* variables (which the
// configuration ignores) so end-to-end tests need not wait for production
// timings. Invalid or absent values keep the defaults.
const (
	envTestBridgePoll = "SCIMBRIDGE_TEST_BRIDGE_POLL" // how often the scheduler looks for due bridges
	envTestLeaseTTL   = "SCIMBRIDGE_TEST_LEASE_TTL"   // lease lifetime; renewed every third of it
	// envTestClockOffset sets the process's clock forward, so that a
	// schedule's next tick comes without waiting for the wall clock's.
	envTestClockOffset = "SCIMBRIDGE_TEST_CLOCK_OFFSET"
)

// newBridgeScheduler returns the scheduler running every organization's
// Google bridge in serve, with the keys that open their credentials
// (openKeyring: serve refuses to start without a key the database
// records). A stored value none of them opens fails its runs with "cannot
// decrypt credentials", which bridge status shows.
func newBridgeScheduler(keyring *seal.Keyring, cfg configs.Config, publicURL string, getenv func(string) string, db scimbridge.Store,
	logger *slog.Logger, clock scimbridge.Clock, m *metrics) *bridge.Scheduler {
	base := http.DefaultTransport.(*http.Transport).Clone()
	tokenURL, _ := url.Parse(cfg.Google.TokenURL)
	runner := &bridge.Runner{
		Store:      db,
		Keyring:    keyring,
		Endpoints:  endpoints(cfg),
		HTTPClient: &http.Client{Timeout: googleTimeout, Transport: &googleTransport{base: base, token: tokenURL, counter: m.google}},
		Logger:     logger,
		Clock:      clock,
		Holder:     holderName(),
		PublicURL:  publicURL,
		Observer:   m,
	}
	if ttl := testDuration(getenv, envTestLeaseTTL); ttl > 0 {
		runner.LeaseTTL, runner.RenewInterval = ttl, ttl/3
	}
	return &bridge.Scheduler{
		Runner:          runner,
		Store:           db,
		Logger:          logger,
		Clock:           clock,
		Poll:            testDuration(getenv, envTestBridgePoll),
		ReportRetention: cfg.Reports.Retention.Duration(),
	}
}

// holderName names this serve in the lease table: host, process id and a
// random suffix (a restarted process may get the same id).
func holderName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// testDuration reads a SCIMBRIDGE_TEST_* duration; 0 when unset or invalid.
func testDuration(getenv func(string) string, name string) time.Duration {
	d, err := time.ParseDuration(getenv(name))
	if err != nil || d < 0 {
		return 0
	}
	return d
}

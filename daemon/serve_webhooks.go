package daemon

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/webhook"
)

// Test-only settings of webhook delivery (see serve_bridge.go).
const (
	envTestWebhookPoll    = "SCIMBRIDGE_TEST_WEBHOOK_POLL"    // how often endpoints and idle feeds are looked at
	envTestWebhookBackoff = "SCIMBRIDGE_TEST_WEBHOOK_BACKOFF" // the first retry's wait; it doubles up to 20 times it
)

// newWebhookWorker returns the worker that delivers every organization's
// changes to its webhook endpoints, with the URL rules of the
// configuration; nil when the store keeps no changes feed.
func newWebhookWorker(keyring *seal.Keyring, cfg configs.Config, getenv func(string) string, db any,
	logger *slog.Logger, clock scimbridge.Clock, m *metrics) (*webhook.Worker, error) {
	st, ok := db.(webhook.Store)
	if !ok {
		logger.Warn("webhook delivery is off: the store keeps no changes feed")
		return nil, nil
	}
	roots, err := webhook.LoadRootCAs(cfg.Webhooks.CAFile)
	if err != nil {
		return nil, &configs.ValidationError{Problems: []configs.Problem{{Key: "webhooks.ca_file", Message: err.Error()}}}
	}
	w := &webhook.Worker{
		Store:    st,
		Keyring:  keyring,
		Guard:    &webhook.Guard{Allowed: cfg.Webhooks.AllowedPrefixes(), RootCAs: roots},
		Holder:   holderName(),
		Clock:    clock,
		Logger:   logger,
		Observer: m,
		Timeout:  cfg.Webhooks.Timeout.Duration(),
		Poll:     testDuration(getenv, envTestWebhookPoll),
		LeaseTTL: testDuration(getenv, envTestLeaseTTL),
	}
	if b := testDuration(getenv, envTestWebhookBackoff); b > 0 {
		w.BackoffMin, w.BackoffMax = b, 20*b
	}
	m.registry.MustRegister(&webhookCollector{store: st, clock: clock, logger: logger})
	return w, nil
}

// WebhookAttempt counts a delivery attempt's outcome (webhook.Observer).
func (m *metrics) WebhookAttempt(outcome string) {
	m.webhookDeliveries.WithLabelValues(outcome).Inc()
}

func newWebhookDeliveries() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts made by this process, by outcome (delivered, failed, rejected), and changes set aside (set_aside) and endpoints disabled (disabled).",
	}, []string{"outcome"})
}

// webhookCollector reads, at scrape time, the age of each enabled
// endpoint's oldest undelivered change.
type webhookCollector struct {
	store  webhook.Store
	clock  scimbridge.Clock
	logger *slog.Logger
}

var webhookOldestDesc = prometheus.NewDesc(metricsNamespace+"_webhook_oldest_undelivered_seconds",
	"Age of the oldest change not yet delivered to each enabled webhook endpoint (0 when up to date).",
	[]string{"org_id", "endpoint_id"}, nil)

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) { ch <- webhookOldestDesc }

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	backlogs, err := webhook.Backlogs(ctx, c.store, c.clock())
	if err != nil {
		c.logger.Warn("read webhook backlogs", "err", err)
		return
	}
	for _, b := range backlogs {
		ch <- prometheus.MustNewConstMetric(webhookOldestDesc, prometheus.GaugeValue, b.Oldest.Seconds(), b.OrgID, b.EndpointID)
	}
}

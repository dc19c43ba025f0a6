package daemon

import (
	"database/sql"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimserver"
)

// metricsNamespace prefixes every scimbridge metric.
const metricsNamespace = "scimbridge"

// stateTimeout bounds the database reads of one scrape.
const stateTimeout = 5 * time.Second

// metrics are serve's Prometheus metrics, on a registry of their own (no
// package-level state). Counters of events that happen in this process
// are updated as they happen; what the database or another component
// knows is read at scrape time by stateCollector.
type metrics struct {
	registry *prometheus.Registry

	scimRequests *prometheus.CounterVec   // method, route, code
	scimDuration *prometheus.HistogramVec // method, route
	runs         *prometheus.CounterVec   // result
	runChanges   *prometheus.CounterVec   // kind
	google       *prometheus.CounterVec   // endpoint, code
	googleCalls  prometheus.Counter
	googleRetry  *prometheus.CounterVec // reason
	googleErrors *prometheus.CounterVec // reason
	// webhookDeliveries counts delivery attempts by outcome.
	webhookDeliveries *prometheus.CounterVec
	phases            *phaseMetrics
}

// metricsSources are what stateCollector reads at scrape time.
type metricsSources struct {
	store  scimbridge.Store
	pools  func() map[string]sql.DBStats // nil when the store has no pools
	scim   func() scimserver.Stats       // nil when the SCIM server keeps no counters
	clock  scimbridge.Clock
	logger *slog.Logger
}

// newMetrics registers every metric, the Go runtime's and the process's.
func newMetrics(src *metricsSources) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), webhookDeliveries: newWebhookDeliveries()}
	f := func(c prometheus.Collector) { m.registry.MustRegister(c) }
	f(m.webhookDeliveries)
	m.scimRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "scim_requests_total",
		Help: "SCIM requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	m.scimDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metricsNamespace, Name: "scim_request_duration_seconds",
		Help:    "Time to answer SCIM requests, by method and route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "bridge_runs_total",
		Help: "Google bridge runs finished in this process, by result (applied, held, dry-run, failed, interrupted).",
	}, []string{"result"})
	m.runChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "bridge_changes_total",
		Help: "Changes of the bridge runs finished in this process, by kind (created, updated, deactivated, reactivated; skipped, failed and held are not applied).",
	}, []string{"kind"})
	m.google = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "google_http_requests_total",
		Help: "HTTP requests to Google, by endpoint (api, token) and status code (error when no answer came).",
	}, []string{"endpoint", "code"})
	m.googleCalls = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "google_api_calls_total",
		Help: "Directory API call attempts made by bridge runs, retries included.",
	})
	m.googleRetry = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "google_api_retries_total",
		Help: "Directory API calls retried by bridge runs, by Google's reason.",
	}, []string{"reason"})
	m.googleErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metricsNamespace, Name: "google_api_errors_total",
		Help: "Directory API calls that failed for good (permanent, or out of retries), by Google's reason.",
	}, []string{"reason"})
	for _, c := range []prometheus.Collector{m.scimRequests, m.scimDuration, m.runs, m.runChanges,
		m.google, m.googleCalls, m.googleRetry, m.googleErrors} {
		f(c)
	}
	m.phases = newPhaseMetrics(f)
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f(buildInfo())
	f(&stateCollector{src: src})
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// buildInfo is scimbridge_build_info: constant 1, labelled with the
// binary's version, commit and Go version (as `scimbridge version`).
func buildInfo() prometheus.Collector {
	v := currentVersion()
	version, revision, goVersion := v.Version, v.Commit, v.GoVersion
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metricsNamespace, Name: "build_info",
		Help:        "Always 1; the labels describe the running binary.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// instrumentSCIM counts and times the SCIM requests next answers; route
// names the route pattern a request matches (scimserver.Server.Route), so
// labels stay bounded.
func (m *metrics) instrumentSCIM(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method, route := methodLabel(r.Method), route(r)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			m.scimRequests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
			m.scimDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// methodLabel bounds the method label to the methods SCIM uses.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m
	}
	return "other"
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var _ bridge.Observer = (*metrics)(nil)

// RunFinished counts a finished bridge run: its result, the changes its
// report counts and its Google client's calls, retries and errors.
func (m *metrics) RunFinished(rep scimbridge.Report, google bridge.Stats) {
	m.runs.WithLabelValues(string(rep.Status)).Inc()
	m.phases.observe(rep)
	n := rep.Counts
	for kind, v := range map[string]int{"created": n.Created, "updated": n.Updated, "deactivated": n.Deactivated,
		"reactivated": n.Reactivated, "skipped": n.Skipped, "failed": n.Failed, "held": n.Held} {
		if v > 0 {
			m.runChanges.WithLabelValues(kind).Add(float64(v))
		}
	}
	m.googleCalls.Add(float64(google.Requests))
	for reason, v := range google.RetriesByReason {
		m.googleRetry.WithLabelValues(reasonLabel(reason)).Add(float64(v))
	}
	for reason, v := range google.ErrorsByReason {
		m.googleErrors.WithLabelValues(reasonLabel(reason)).Add(float64(v))
	}
}

// reasonLabel bounds Google's reason strings.
func reasonLabel(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// googleTransport counts the bridge's HTTP requests to Google by endpoint
// (the token endpoint or the API) and status code.
type googleTransport struct {
	base    http.RoundTripper
	token   *url.URL // the configured token URL
	counter *prometheus.CounterVec
}

func (t *googleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	endpoint := "api"
	if t.token != nil && r.URL.Host == t.token.Host && r.URL.Path == t.token.Path {
		endpoint = "token"
	}
	resp, err := t.base.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.counter.WithLabelValues(endpoint, code).Inc()
	return resp, err
}

package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge"
)

// phaseMetrics are the phases of the bridge runs (scimbridge.ReportPhases):
// where their time went, and their listing's and applying's rates.
type phaseMetrics struct {
	seconds    *prometheus.HistogramVec // phase
	pages      prometheus.Counter
	pagesRate  prometheus.Gauge
	changeRate prometheus.Gauge
}

func newPhaseMetrics(register func(prometheus.Collector)) *phaseMetrics {
	m := &phaseMetrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "bridge_phase_seconds",
			Help:    "Time bridge runs spent per phase: listing (wall time of the listing), planning and applying (summed; applying can overlap listing).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"phase"}),
		pages: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metricsNamespace, Name: "bridge_listing_pages_total",
			Help: "users.list pages the bridge runs finished in this process listed.",
		}),
		pagesRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "bridge_last_run_pages_per_second",
			Help: "users.list pages a second of the last bridge run finished in this process that listed.",
		}),
		changeRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Name: "bridge_last_run_changes_per_second",
			Help: "Changes applied a second of applying time by the last bridge run finished in this process that applied any.",
		}),
	}
	for _, c := range []prometheus.Collector{m.seconds, m.pages, m.pagesRate, m.changeRate} {
		register(c)
	}
	return m
}

// observe records a finished run's phases, if it recorded any.
func (m *phaseMetrics) observe(rep scimbridge.Report) {
	p := rep.Phases
	if p == nil {
		return
	}
	m.seconds.WithLabelValues("listing").Observe(p.ListingSeconds)
	m.seconds.WithLabelValues("planning").Observe(p.PlanningSeconds)
	m.seconds.WithLabelValues("applying").Observe(p.ApplyingSeconds)
	m.pages.Add(float64(p.Pages))
	if p.Pages > 0 {
		m.pagesRate.Set(p.PagesPerSecond)
	}
	if p.Changes > 0 {
		m.changeRate.Set(p.ChangesPerSecond)
	}
}

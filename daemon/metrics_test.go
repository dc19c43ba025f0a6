package daemon_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricFamilies is one scrape of /metrics.
type metricFamilies map[string]*dto.MetricFamily

func scrape(t *testing.T, opsURL string) metricFamilies {
	t.Helper()
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of metric name with exactly the given labels (the
// sample count for a histogram); ok is false when there is none.
func (f metricFamilies) value(name string, labels map[string]string) (float64, bool) {
	fam, found := f[name]
	if !found {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func TestServe_MetricsFollowSCIMTraffic(t *testing.T) {
	bin := buildScimbridge(t)
	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	p := runDaemon(t, "serve", bin, daemonEnv(home, "SCIMBRIDGE_DATA_DIR="+dataDir, "SCIMBRIDGE_BOOTSTRAP=true"))
	mainURL, opsURL := p.ready()
	token := readCredentials(t, filepath.Join(dataDir, "bootstrap-credentials"))["scim_token"]
	api := mainURL + "/api/connect/v1"

	before := scrape(t, opsURL)
	user := scimRequest(t, "POST", api+"/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com","active":true}`, 201)
	scimRequest(t, "GET", api+"/Users/"+user["id"].(string), token, "", 200)
	scimRequest(t, "GET", api+"/Users/6c1bd1a5-8a4e-4f0e-9d8c-3f1b0a9e2c11", token, "", 404)
	scimRequest(t, "GET", api+"/Users", "scb_default_wrongwrongwrongwrongwrongwrongwrongwrongwro", "", 401)

	delta := func(after metricFamilies, name string, labels map[string]string) float64 {
		a, _ := after.value(name, labels)
		b, _ := before.value(name, labels)
		return a - b
	}
	after := scrape(t, opsURL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"scimbridge_scim_requests_total", map[string]string{"method": "POST", "route": "/Users", "code": "201"}, 1},
		{"scimbridge_scim_requests_total", map[string]string{"method": "GET", "route": "/Users/{id}", "code": "200"}, 1},
		{"scimbridge_scim_requests_total", map[string]string{"method": "GET", "route": "/Users/{id}", "code": "404"}, 1},
		{"scimbridge_scim_requests_total", map[string]string{"method": "GET", "route": "/Users", "code": "401"}, 1},
		{"scimbridge_scim_request_duration_seconds", map[string]string{"method": "GET", "route": "/Users/{id}"}, 2},
		{"scimbridge_events_written_total", map[string]string{"path": "committed"}, 1},
	} {
		if got := delta(after, c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	t.Run("BufferedEventsCounted", func(t *testing.T) {
		// The GETs and the 401 are written by the buffered writer within
		// 200 ms.
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := delta(scrape(t, opsURL), "scimbridge_events_written_total", map[string]string{"path": "buffered"})
			if got == 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("buffered events written moved by %v, want 3", got)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("StateAndProcess", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64 // -1: any value
		}{
			{"scimbridge_organizations", nil, 1},
			{"scimbridge_database_up", nil, 1},
			{"scimbridge_bridges", nil, 0},
			{"scimbridge_bridge_held_plans", nil, 0},
			{"scimbridge_event_write_failures_total", nil, 0},
			{"scimbridge_events_dropped_total", map[string]string{"reason": "queue_full"}, 0},
			{"scimbridge_events_dropped_total", map[string]string{"reason": "shutdown"}, 0},
			{"scimbridge_events_queued", nil, -1},
			{"scimbridge_events_queued_bytes", nil, -1},
			{"scimbridge_db_connections_max_open", map[string]string{"pool": "write"}, 1},
			{"scimbridge_db_connections_open", map[string]string{"pool": "read"}, -1},
			{"go_goroutines", nil, -1},
			{"process_resident_memory_bytes", nil, -1},
		} {
			got, ok := after.value(c.name, c.labels)
			if !ok || (c.want >= 0 && got != c.want) {
				t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
			}
		}
		if fam := after["scimbridge_build_info"]; fam == nil || len(fam.GetMetric()) != 1 || fam.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("scimbridge_build_info = %v", fam)
		}
	})
}

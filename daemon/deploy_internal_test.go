package daemon

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
)

// TestDeployMetricNames checks that the alerting rules and the Grafana
// dashboard in deploy/ are well-formed and name only metrics that serve's
// /metrics exports, so a renamed metric cannot leave an alert that never
// fires or an empty panel.
func TestDeployMetricNames(t *testing.T) {
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc)
	go func() {
		newMetrics(&metricsSources{}).registry.Describe(ch)
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			exported[m[1]] = true
		}
	}
	if !exported["scimbridge_scim_requests_total"] || !exported["process_cpu_seconds_total"] {
		t.Fatalf("descriptors of the registry not understood: %v", exported)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("../deploy/prometheus/scimbridge.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("rules: %v", err)
	}
	exprs := map[string]string{} // expression -> where
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs[r.Expr] = "alert " + r.Alert
		}
	}

	var dashboard any
	if b, err = os.ReadFile("../deploy/grafana/scimbridge.json"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dashboard); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if title, ok := v["title"].(string); ok {
				where = "panel " + title
			}
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "definition") {
					exprs[s] = where
				}
				walk(e, where)
			}
		case []any:
			for _, e := range v {
				walk(e, where)
			}
		}
	}
	walk(dashboard, "dashboard")

	quoted := regexp.MustCompile(`"[^"]*"`)
	ident := regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	checked := map[string]bool{}
	for expr, where := range exprs {
		for _, name := range ident.FindAllString(quoted.ReplaceAllString(expr, `""`), -1) {
			if !strings.HasPrefix(name, "scimbridge_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
				continue
			}
			checked[name] = true
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !exported[name] && !exported[base] {
				t.Errorf("%s uses %s, which /metrics does not export", where, name)
			}
		}
	}
	if len(exprs) < 20 || len(checked) < 20 {
		t.Errorf("checked %d metric names in %d expressions: the files were not read as expected", len(checked), len(exprs))
	}
}

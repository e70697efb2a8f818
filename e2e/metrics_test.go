package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestMetricsAfterRealCalls scrapes /metrics on METRICS_ADDR after real
// calls and parses it with the Prometheus text parser: every series the
// calls should have moved did, and no label carries a user, a path or a
// made-up tool name.
func TestMetricsAfterRealCalls(t *testing.T) {
	g := needGitea(t)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", loopbackFreePort(t))
	a := startAegisFor(t, g, toolScopes, "METRICS_ADDR="+metricsAddr)
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken

	toolCallHTTP(t, a, alice, "get_me")
	toolCallHTTP(t, a, alice, "get_me")
	toolCallHTTP(t, a, alice, "no_such_tool_/etc/passwd")
	toolCallHTTP(t, a, "not-a-token", "get_me")
	a.toolCall(t, alice, "get_file_contents", map[string]any{"owner": testgitea.AliceName, "repo": "notes", "path": "README.md"})
	cs := a.connectWith(t, "/mcp", alice, legacyProtocol, nil)
	call(t, cs, "get_me", nil)

	if res := do(t, "GET", a.URL+"/metrics", "", nil); res.status != http.StatusNotFound {
		t.Errorf("GET /metrics on the public listener = %d, want 404", res.status)
	}
	res := do(t, "GET", "http://"+metricsAddr+"/metrics", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", res.status, res.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(res.body))
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		f := families[name]
		if f == nil {
			t.Errorf("no metric %s", name)
			return 0
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
		return 0
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"aegis_tool_calls_total", map[string]string{"tool": "get_me", "outcome": "ok"}, 3},
		{"aegis_tool_calls_total", map[string]string{"tool": "unknown", "outcome": "unknown_tool"}, 1},
		{"aegis_tool_duration_seconds", map[string]string{"tool": "get_file_contents"}, 1},
		{"aegis_auth_failures_total", map[string]string{"reason": "invalid_token"}, 1},
		{"aegis_token_cache_events_total", map[string]string{"event": "miss"}, 1},
		{"aegis_token_cache_events_total", map[string]string{"event": "hit"}, 1},
		{"aegis_gitea_requests_total", map[string]string{"status": "200"}, 3},
		{"aegis_gitea_request_duration_seconds", nil, 3},
		{"aegis_http_requests_total", map[string]string{"route": "/mcp/tool/call", "code": "200"}, 3},
		{"aegis_http_requests_total", map[string]string{"route": "/mcp/tool/call", "code": "401"}, 1},
		{"aegis_sessions_open", map[string]string{"transport": "streamable"}, 1},
		{"aegis_build_info", map[string]string{"version": "e2e"}, 1},
	} {
		if got := value(c.name, c.labels); got < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
		}
	}
	for name, f := range families {
		if !strings.HasPrefix(name, "aegis_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v := l.GetValue(); strings.Contains(v, testgitea.AliceName) || strings.Contains(v, "passwd") || strings.Contains(v, "README") {
					t.Errorf("%s has a label %s=%q from user input", name, l.GetName(), v)
				}
			}
		}
	}
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

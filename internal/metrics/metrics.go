// Package metrics holds the server's Prometheus metrics and serves them in
// the text format. Every label takes its values from a fixed set the
// caller chooses (tool names, route names, status codes, outcome codes),
// never from user input: no user names, no paths, no repository names.
//
// A nil *Metrics records nothing, so code paths need no checks.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's metrics, in their own registry.
type Metrics struct {
	reg           *prometheus.Registry
	httpRequests  *prometheus.CounterVec
	toolCalls     *prometheus.CounterVec
	toolDuration  *prometheus.HistogramVec
	authFailures  *prometheus.CounterVec
	tokenCache    *prometheus.CounterVec
	giteaRequests *prometheus.CounterVec
	giteaDuration prometheus.Histogram
}

// New returns the metrics of a server of the given version, with Go's and
// the process's own collectors.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aegis_http_requests_total", Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aegis_tool_calls_total", Help: "Tool calls, by tool and outcome (ok, tool_error, confirmation_asked, or the refusal's code).",
		}, []string{"tool", "outcome"}),
		toolDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aegis_tool_duration_seconds", Help: "Time to answer a tool call, refusals included, by tool.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"tool"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aegis_auth_failures_total", Help: "Requests refused before they had a caller, by reason (an OAuth error code, no_token, or an address limit).",
		}, []string{"reason"}),
		tokenCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aegis_token_cache_events_total", Help: "Token verification cache lookups: hit (accepted), hit_refused, miss.",
		}, []string{"event"}),
		giteaRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aegis_gitea_requests_total", Help: "Requests to Gitea, by status code (error: no answer).",
		}, []string{"status"}),
		giteaDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "aegis_gitea_request_duration_seconds", Help: "Time Gitea took to answer, headers included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aegis_build_info", Help: "Always 1; the labels name the build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	m.reg.MustRegister(m.httpRequests, m.toolCalls, m.toolDuration, m.authFailures, m.tokenCache, m.giteaRequests, m.giteaDuration, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// OpenGauge reports, as aegis_sessions_open{transport}, what count returns
// at each scrape. Call it once per transport.
func (m *Metrics) OpenGauge(transport string, count func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "aegis_sessions_open", Help: "Sessions and event streams open now, by transport.",
		ConstLabels: prometheus.Labels{"transport": transport},
	}, func() float64 { return float64(count()) }))
}

// HTTPRequest counts one answered request to route with status code.
func (m *Metrics) HTTPRequest(route string, code int) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

// ToolCall counts one call of tool with its outcome and duration.
func (m *Metrics) ToolCall(tool, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolDuration.WithLabelValues(tool).Observe(d.Seconds())
}

// AuthFailure counts one request refused before it had a caller.
func (m *Metrics) AuthFailure(reason string) {
	if m == nil {
		return
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

// TokenCacheObserver counts verification cache lookups by event; nil for
// nil metrics, so that nothing is called at all.
func (m *Metrics) TokenCacheObserver() func(event string) {
	if m == nil {
		return nil
	}
	return func(event string) { m.tokenCache.WithLabelValues(event).Inc() }
}

// GiteaObserver counts requests to Gitea by status (0: no answer) and
// times them; nil for nil metrics, so that nothing is called at all.
func (m *Metrics) GiteaObserver() func(status int, d time.Duration) {
	if m == nil {
		return nil
	}
	return func(status int, d time.Duration) {
		label := "error"
		if status > 0 {
			label = strconv.Itoa(status)
		}
		m.giteaRequests.WithLabelValues(label).Inc()
		m.giteaDuration.Observe(d.Seconds())
	}
}

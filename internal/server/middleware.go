package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/metrics"
)

// requestIDPattern accepts a caller's X-Request-ID only if it is short and
// plain, so it is safe to echo and to log.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID echoes a sane incoming X-Request-ID or assigns a new one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
			r.Header.Set("X-Request-ID", id)
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// routeOf names the route of path for metrics, from a fixed set: a path
// no route serves is "other", so callers cannot make up label values.
func routeOf(path string) string {
	switch path {
	case pathMCP, pathSSE, pathToolCall, pathToolsList, "/healthz", "/readyz", "/health", "/":
		return path
	}
	if strings.HasPrefix(path, "/.well-known/") {
		return "/.well-known"
	}
	return "other"
}

// withAccessLog logs one line per request and counts it. It logs the path but never the
// query string or headers: a misbehaving client may put a token in either.
// It also turns a handler panic into a fixed 500 answer.
func withAccessLog(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
					panic(p)
				}
				log.Error("handler panic", "request_id", r.Header.Get("X-Request-ID"), "path", r.URL.Path)
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, "internal_error", "internal server error")
				}
			}
			m.HTTPRequest(routeOf(r.URL.Path), rec.status)
			log.Info("request",
				"request_id", r.Header.Get("X-Request-ID"),
				"method", r.Method,
				"path", r.URL.Path,
				"status", rec.status,
				"duration_ms", time.Since(start).Milliseconds(),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

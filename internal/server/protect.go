package server

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// loopbackHosts are always accepted in Host: a reverse proxy on the same
// machine commonly forwards to 127.0.0.1.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// protect guards the MCP endpoints against DNS rebinding and cross-site
// use: the Host must be PUBLIC_BASE_URL's host, a loopback name or an
// allowed host; a browser Origin, when sent, must be PUBLIC_BASE_URL's
// origin or an allowed one. An allowed origin's preflight is answered here,
// before authentication, and its other answers carry the CORS headers
// (cors.go). Bodies are bounded.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			writeError(w, http.StatusForbidden, "forbidden_host", "the Host header names a host this server does not serve")
			return
		}
		w.Header().Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); o != "" {
			if !s.originAllowed(o) {
				writeError(w, http.StatusForbidden, "forbidden_origin", "requests from this web origin are not allowed")
				return
			}
			allowOrigin(w.Header(), o)
			if isPreflight(r) {
				answerPreflight(w, r)
				return
			}
		}
		if r.ContentLength > s.cfg.MaxRequestBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	return host != "" && slices.Contains(s.hosts, host)
}

// allowedHostsAndOrigins derives the Host and Origin allow-lists.
func (s *Server) allowedHostsAndOrigins() (hosts, origins []string) {
	hosts = append(hosts, loopbackHosts...)
	hosts = append(hosts, strings.ToLower(s.cfg.PublicBaseURL.Hostname()))
	for _, h := range s.cfg.AllowedHosts {
		hosts = append(hosts, strings.ToLower(strings.Trim(h, "[]")))
	}
	origins = append(origins, strings.ToLower(s.cfg.PublicBaseURL.Scheme+"://"+s.cfg.PublicBaseURL.Host))
	for _, o := range s.cfg.AllowedOrigins {
		origins = append(origins, strings.ToLower(o))
	}
	return hosts, origins
}

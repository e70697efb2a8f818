package broker

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// oauthError is an RFC 6749 §5.2 (and RFC 7591 §3.2.2) error answer. Its
// description is a fixed text: never a token, nor anything Gitea said.
type oauthError struct {
	status      int
	code        string
	description string
	retryAfter  time.Duration
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: desc}
}

func invalidGrant(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: desc}
}

func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: desc}
}

func serverError(desc string) *oauthError {
	return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: desc, retryAfter: 5 * time.Second}
}

// writeJSON answers v with status, never cached, readable by any origin
// (these endpoints take no cookies; a browser-based client calls them
// across origins).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.retryAfter.Seconds())))
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// servePreflight answers a CORS preflight of the JSON endpoints.
func (b *Broker) servePreflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, MCP-Protocol-Version")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// redirectError sends the browser back to a client's verified redirect URI
// with an RFC 6749 §4.1.2.1 error, its state and this issuer (RFC 9207).
func (b *Broker) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	q := url.Values{"error": {code}, "error_description": {desc}, "iss": {b.issuer}}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, q), http.StatusSeeOther) //nolint:gosec // G710: only a registered redirect URI comes here
}

// withQuery adds q to the query of an absolute URI, keeping what it has.
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	have := u.Query()
	for k, vs := range q {
		have[k] = vs
	}
	u.RawQuery = have.Encode()
	return u.String()
}

// pageHeaders are set on every HTML page the broker serves: no framing, no
// scripts, no caching, no referrer to other origins (its URLs carry state).
// The referrer policy is same-origin, not no-referrer: under no-referrer a
// browser sends "Origin: null" with the consent form's post, which
// serveConsentDecision must then refuse.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorization failed — AegisGitea MCP</title>
<style>` + pageStyle + `</style></head>
<body><main><h1>Authorization failed</h1><p>{{.}}</p>
<p class="fine">Nothing was shared with the application. Start again from the application that sent you here.</p></main></body></html>`))

// showError answers a browser with an error page: used whenever the
// client's redirect URI is not (yet) known to be the client's own, so
// nothing is sent to it.
func showError(w http.ResponseWriter, status int, msg string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, msg)
}

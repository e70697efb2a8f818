package server

import (
	"net/http"
	"slices"
	"strings"
)

// Browser clients (CORS). The MCP endpoints take browser requests only
// from the allowed origins (PUBLIC_BASE_URL's and ALLOWED_ORIGINS, see
// protect): to those they answer preflights without a token, so that the
// browser then sends the real request with its token, and their answers
// name the origin, so that a page can read them, refusals and challenges
// included. A page from any other origin gets 403 and no CORS headers, so
// the browser shows it nothing. No credentials mode: tokens travel in
// Authorization, never in cookies, so Access-Control-Allow-Credentials is
// never sent. The protected-resource metadata is public: any origin may
// read it (wellknown.go).

// corsMaxAge is how long, in seconds, a browser may reuse a preflight.
const corsMaxAge = "600"

// corsRequestHeaders are the headers a browser client may send.
var corsRequestHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", protocolVersionHeader,
	"Last-Event-ID", toolsetsHeader, "X-Request-ID",
}, ", ")

// corsExposedHeaders are the answer headers a browser client may read.
const corsExposedHeaders = "Mcp-Session-Id, WWW-Authenticate, Retry-After, X-Request-ID"

// corsMethods are the methods each MCP endpoint takes.
var corsMethods = map[string]string{
	pathMCP:       "GET, POST, DELETE",
	pathSSE:       "GET, POST",
	pathToolCall:  "POST",
	pathToolsList: "GET",
}

// originAllowed reports whether a browser origin may use the MCP endpoints.
func (s *Server) originAllowed(origin string) bool {
	return slices.Contains(s.origins, strings.ToLower(origin))
}

// isPreflight reports whether r is a CORS preflight.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// allowOrigin lets the page at origin, an allowed one, read the answer.
func allowOrigin(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
}

// answerPreflight answers a preflight from an allowed origin: 204, with
// what the endpoint at r's path takes. No token is needed: a preflight
// carries none, and it runs nothing.
func answerPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	methods, ok := corsMethods[r.URL.Path]
	if !ok {
		methods = corsMethods[pathMCP]
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", corsRequestHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// publicPreflight completes the preflight answer of a public document
// (Access-Control-Allow-Origin: * is set by the document itself): MCP
// clients send Mcp-Protocol-Version when they fetch it.
func publicPreflight(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Headers", corsRequestHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
}

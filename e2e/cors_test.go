package e2e

import (
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestBrowserClientFromAllowedOrigin walks what a browser does for a page
// at an ALLOWED_ORIGINS origin: the preflight, with no token, is answered;
// the real call, with the token, is readable by the page; every answer is
// no-store. A page at any other origin gets 403 and no CORS headers.
func TestBrowserClientFromAllowedOrigin(t *testing.T) {
	g := needGitea(t)
	const origin = "https://chat.example.com"
	a := startAegisFor(t, g, toolScopes, "ALLOWED_ORIGINS="+origin)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken

	for _, path := range []string{"/mcp", "/mcp/sse", "/mcp/tool/call", "/mcp/tools"} {
		res := do(t, "OPTIONS", a.URL+path, "", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
		if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(res.header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight of %s from %s without a token = %d %v, want 204 for the origin", path, origin, res.status, res.header)
		}
		res = do(t, "OPTIONS", a.URL+path, "", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
		if res.status != 403 || res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight of %s from a foreign origin = %d %v, want 403 without CORS headers", path, res.status, res.header)
		}
	}

	res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`, "Origin", origin)
	if res.status != 200 || !strings.Contains(res.body, `alice`) || res.header.Get("Access-Control-Allow-Origin") != origin ||
		res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("tool call from %s = %d %v %s, want alice's answer, readable by the page, no-store", origin, res.status, res.header, res.body)
	}
	res = do(t, "POST", a.URL+"/mcp", tok,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`,
		"Origin", origin, "Accept", "application/json, text/event-stream")
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != origin || res.header.Get("Mcp-Session-Id") == "" ||
		!strings.Contains(res.header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") ||
		res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("initialize from %s = %d %v, want a readable session, no-store and nosniff", origin, res.status, res.header)
	}
	res = do(t, "POST", a.URL+"/mcp", "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, "Origin", origin)
	if res.status != 401 || res.header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(res.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("401 to %s = %d %v, want the challenge readable by the page", origin, res.status, res.header)
	}
	res = do(t, "OPTIONS", a.URL+"/.well-known/oauth-protected-resource/mcp", "", nil, "Origin", origin, "Access-Control-Request-Method", "GET")
	if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight of the metadata = %d %v, want 204 for any origin", res.status, res.header)
	}
}

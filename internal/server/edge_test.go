package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// The answers at the edge: CORS for browser clients, and the caching and
// sniffing headers of every MCP answer.

const (
	chatOrigin = "https://chat.example.com" // in ALLOWED_ORIGINS
	evilOrigin = "https://evil.example.com"
)

// edgeServer is a real HTTP server in front of a Server, OAuth mode or
// shared-token mode, with chatOrigin allowed.
func edgeServer(t *testing.T, oauth bool) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(&stdioGitea{})
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	public, _ := url.Parse("https://mcp.example.com")
	cfg := &config.Config{GiteaURL: u, OAuthMode: oauth, ListenAddr: "127.0.0.1:0", PublicBaseURL: public,
		RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 10, AllowedOrigins: []string{chatOrigin}}
	if oauth {
		cfg.OAuthClientID, cfg.OAuthClientSecret = "client", config.NewSecret("secret")
	} else {
		cfg.GiteaToken = config.NewSecret("pat")
	}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// edgeAnswer is a response whose body the test's cleanup closes.
type edgeAnswer struct {
	StatusCode int
	Header     http.Header
	Body       io.ReadCloser
}

// edgeDo sends one request; header holds name, value pairs. A 200 event
// stream is answered as soon as its header arrives; its body is closed
// when the test ends, or by the caller.
func edgeDo(t *testing.T, srv *httptest.Server, method, path, body string, header ...string) *edgeAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return &edgeAnswer{StatusCode: resp.StatusCode, Header: resp.Header, Body: resp.Body}
}

// corsHeaders are the response's Access-Control-* headers.
func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// TestPreflightFromAllowedOriginNeedsNoToken: a browser at an allowed
// origin gets its preflight answered without a token on every MCP
// endpoint; any other origin or host gets 403 and no CORS headers.
func TestPreflightFromAllowedOriginNeedsNoToken(t *testing.T) {
	srv := edgeServer(t, true)
	for path, methods := range map[string]string{
		pathMCP: "GET, POST, DELETE", pathSSE: "GET, POST", pathToolCall: "POST", pathToolsList: "GET",
	} {
		for _, origin := range []string{chatOrigin, "https://mcp.example.com"} {
			resp := edgeDo(t, srv, http.MethodOptions, path, "", "Origin", origin,
				"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
			h := resp.Header
			if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
				h.Get("Access-Control-Allow-Methods") != methods || h.Get("Access-Control-Max-Age") == "" ||
				!strings.Contains(h.Get("Vary"), "Origin") || h.Get("WWW-Authenticate") != "" {
				t.Errorf("preflight of %s from %s = %d %v, want 204 naming the origin and %q", path, origin, resp.StatusCode, h, methods)
			}
			for _, want := range []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version",
				"Last-Event-ID", "X-Mcp-Toolsets", "X-Request-ID"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
					t.Errorf("preflight of %s: Access-Control-Allow-Headers %q lacks %s", path, h.Get("Access-Control-Allow-Headers"), want)
				}
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("preflight of %s allows credentials (cookies): tokens travel in Authorization only", path)
			}
		}
		for _, tt := range []struct{ name, origin, host string }{
			{name: "foreign origin", origin: evilOrigin},
			{name: "null origin", origin: "null"},
			{name: "allowed origin, rebinding host", origin: chatOrigin, host: "evil.example.com"},
		} {
			header := []string{"Origin", tt.origin, "Access-Control-Request-Method", "POST"}
			if tt.host != "" {
				header = append(header, "Host", tt.host)
			}
			resp := edgeDo(t, srv, http.MethodOptions, path, "", header...)
			if resp.StatusCode != http.StatusForbidden || len(corsHeaders(resp.Header)) != 0 {
				t.Errorf("preflight of %s, %s = %d with %v, want 403 and no CORS headers", path, tt.name, resp.StatusCode, corsHeaders(resp.Header))
			}
		}
	}
}

// TestAnswersToAllowedOriginsAreReadable: a browser at an allowed origin
// can read every answer, the 401 challenge included; a foreign origin's
// requests are refused with no CORS headers.
func TestAnswersToAllowedOriginsAreReadable(t *testing.T) {
	srv := edgeServer(t, true)
	for _, tt := range []struct{ method, path, body string }{
		{method: "POST", path: pathMCP, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`},
		{method: "GET", path: pathSSE},
		{method: "POST", path: pathToolCall, body: `{"tool":"get_me"}`},
		{method: "GET", path: pathToolsList},
	} {
		resp := edgeDo(t, srv, tt.method, tt.path, tt.body, "Origin", chatOrigin)
		h := resp.Header
		if resp.StatusCode != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" ||
			h.Get("Access-Control-Allow-Origin") != chatOrigin || !strings.Contains(h.Get("Vary"), "Origin") {
			t.Errorf("%s %s from %s without a token = %d %v, want 401 with the challenge and the origin allowed", tt.method, tt.path, chatOrigin, resp.StatusCode, h)
		}
		for _, want := range []string{"Mcp-Session-Id", "WWW-Authenticate", "Retry-After", "X-Request-ID"} {
			if !strings.Contains(h.Get("Access-Control-Expose-Headers"), want) {
				t.Errorf("%s %s: Access-Control-Expose-Headers %q lacks %s", tt.method, tt.path, h.Get("Access-Control-Expose-Headers"), want)
			}
		}
		resp = edgeDo(t, srv, tt.method, tt.path, tt.body, "Origin", evilOrigin)
		if resp.StatusCode != http.StatusForbidden || len(corsHeaders(resp.Header)) != 0 {
			t.Errorf("%s %s from %s = %d with %v, want 403 and no CORS headers", tt.method, tt.path, evilOrigin, resp.StatusCode, corsHeaders(resp.Header))
		}
	}
	// A real answer, not only a refusal, names the origin (shared-token mode needs no token).
	shared := edgeServer(t, false)
	resp := edgeDo(t, shared, "GET", pathToolsList, "", "Origin", chatOrigin)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != chatOrigin {
		t.Errorf("GET %s from %s = %d %v, want 200 naming the origin", pathToolsList, chatOrigin, resp.StatusCode, resp.Header)
	}
	resp = edgeDo(t, shared, "GET", pathToolsList, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET %s without an Origin carries Access-Control-Allow-Origin %q", pathToolsList, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestMetadataIsPublicToBrowsers: the protected-resource metadata answers
// a preflight and any origin may read it.
func TestMetadataIsPublicToBrowsers(t *testing.T) {
	srv := edgeServer(t, true)
	for _, path := range append([]string{""}, protectedPaths...) {
		path = wellKnownPrefix + path
		resp := edgeDo(t, srv, http.MethodOptions, path, "", "Origin", evilOrigin,
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "mcp-protocol-version")
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Mcp-Protocol-Version") {
			t.Errorf("OPTIONS %s = %d %v, want 204 for any origin", path, resp.StatusCode, h)
		}
		resp = edgeDo(t, srv, http.MethodGet, path, "", "Origin", evilOrigin)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(string(body), `"resource":`) {
			t.Errorf("GET %s = %d %v %s, want 200 with Access-Control-Allow-Origin: *", path, resp.StatusCode, resp.Header, body)
		}
	}
}

// wantPrivate checks an answer is marked as one caller's data.
func wantPrivate(t *testing.T, what string, resp *edgeAnswer) {
	t.Helper()
	if cc := resp.Header.Values("Cache-Control"); len(cc) != 1 || cc[0] != "no-store" {
		t.Errorf("%s (%d): Cache-Control %q, want exactly no-store", what, resp.StatusCode, cc)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", what, resp.StatusCode, got)
	}
}

// TestMCPAnswersAreNoStore: every answer of the MCP endpoints, from
// results and event streams to refusals and the SDK's own errors, says
// no-store and nosniff.
func TestMCPAnswersAreNoStore(t *testing.T) {
	srv := edgeServer(t, false)
	accept := []string{"Accept", "application/json, text/event-stream"}

	// Streamable HTTP: initialize (the SDK answers with an event stream),
	// the session's GET stream, its end, and the SDK's own errors.
	resp := edgeDo(t, srv, "POST", pathMCP, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, accept...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize = %d", resp.StatusCode)
	}
	wantPrivate(t, "POST /mcp initialize ("+resp.Header.Get("Content-Type")+")", resp)
	session := resp.Header.Get("Mcp-Session-Id")
	_, _ = io.Copy(io.Discard, resp.Body)
	sess := append([]string{"Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18"}, accept...)
	resp = edgeDo(t, srv, "POST", pathMCP, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, sess...)
	wantPrivate(t, "POST /mcp notification", resp)
	resp = edgeDo(t, srv, "POST", pathMCP, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, sess...)
	wantPrivate(t, "POST /mcp tools/list", resp)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp = edgeDo(t, srv, "GET", pathMCP, "", "Mcp-Session-Id", session, "Mcp-Protocol-Version", "2025-06-18", "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET /mcp stream = %d %q, want an event stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	wantPrivate(t, "GET /mcp stream", resp)
	_ = resp.Body.Close()
	wantPrivate(t, "POST /mcp malformed", edgeDo(t, srv, "POST", pathMCP, `{not json`, sess...))
	wantPrivate(t, "POST /mcp unknown session", edgeDo(t, srv, "POST", pathMCP, `{"jsonrpc":"2.0","id":3,"method":"ping"}`,
		append([]string{"Mcp-Session-Id", "nope"}, accept...)...))
	wantPrivate(t, "PUT /mcp", edgeDo(t, srv, "PUT", pathMCP, ""))
	resp = edgeDo(t, srv, "DELETE", pathMCP, "", "Mcp-Session-Id", session)
	wantPrivate(t, "DELETE /mcp", resp)

	// The legacy SSE transport: the stream, a message, a refusal.
	resp = edgeDo(t, srv, "GET", pathSSE, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /mcp/sse = %d", resp.StatusCode)
	}
	wantPrivate(t, "GET /mcp/sse stream", resp)
	r := bufio.NewReader(resp.Body)
	var endpoint string
	for endpoint == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the endpoint event: %v", err)
		}
		endpoint, _ = strings.CutPrefix(strings.TrimSpace(line), "data: ")
	}
	_, query, _ := strings.Cut(endpoint, "?")
	wantPrivate(t, "POST /mcp/sse message", edgeDo(t, srv, "POST", pathSSE+"?"+query, `{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	wantPrivate(t, "POST /mcp/sse unknown session", edgeDo(t, srv, "POST", pathSSE+"?sessionid=nope", `{}`))

	// The plain endpoints, their results and their refusals.
	wantPrivate(t, "POST /mcp/tool/call", edgeDo(t, srv, "POST", pathToolCall, `{"tool":"get_me"}`))
	wantPrivate(t, "GET /mcp/tools", edgeDo(t, srv, "GET", pathToolsList, ""))
	wantPrivate(t, "GET /mcp/tool/call (405)", edgeDo(t, srv, "GET", pathToolCall, ""))
	wantPrivate(t, "POST /mcp/tool/call too large", edgeDo(t, srv, "POST", pathToolCall, `{"tool":"`+strings.Repeat("a", 2048)+`"}`))
	wantPrivate(t, "GET /mcp/tools, foreign origin", edgeDo(t, srv, "GET", pathToolsList, "", "Origin", evilOrigin))
	wantPrivate(t, "GET /mcp/tools, rebinding host", edgeDo(t, srv, "GET", pathToolsList, "", "Host", "evil.example.com"))
	wantPrivate(t, "OPTIONS /mcp preflight", edgeDo(t, srv, "OPTIONS", pathMCP, "", "Origin", chatOrigin, "Access-Control-Request-Method", "POST"))

	// OAuth refusals.
	oauth := edgeServer(t, true)
	wantPrivate(t, "POST /mcp without a token", edgeDo(t, oauth, "POST", pathMCP, `{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	wantPrivate(t, "GET /mcp/sse without a token", edgeDo(t, oauth, "GET", pathSSE, ""))
}

// TestPrivateWriterKeepsTheResponseController: the wrapper fixes the
// headers even when a handler flushes before it writes, and deadlines
// and flushes still reach the real writer.
func TestPrivateWriterKeepsTheResponseController(t *testing.T) {
	errs := make(chan error, 2)
	srv := httptest.NewServer(privateAnswers(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		errs <- rc.SetWriteDeadline(time.Time{})
		errs <- rc.Flush()
		_, _ = io.WriteString(w, "data: x\n\n")
	})))
	t.Cleanup(srv.Close)
	resp := edgeDo(t, srv, "GET", "/", "")
	wantPrivate(t, "a stream flushed before its first write", resp)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("ResponseController through the wrapper: %v", err)
		}
	}
	// A handler that writes nothing still sends the fixed headers.
	srv2 := httptest.NewServer(privateAnswers(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
	})))
	t.Cleanup(srv2.Close)
	wantPrivate(t, "an empty answer", edgeDo(t, srv2, "GET", "/", ""))
}

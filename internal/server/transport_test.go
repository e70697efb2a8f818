package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// sharedTokenServer is a server in shared-token mode (OAUTH_MODE=false).
func sharedTokenServer(t *testing.T) http.Handler {
	t.Helper()
	return sharedTokenServerWith(t, nil)
}

// sharedTokenServerWith is sharedTokenServer with its configuration
// changed by mod first.
func sharedTokenServerWith(t *testing.T, mod func(*config.Config)) http.Handler {
	t.Helper()
	up := httptest.NewServer(&fakeGitea{})
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	public, _ := url.Parse("https://mcp.example.com")
	cfg := &config.Config{GiteaURL: u, OAuthMode: false, GiteaToken: config.NewSecret("pat"), ListenAddr: "127.0.0.1:0",
		PublicBaseURL: public, RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 10, AllowedHosts: []string{"mcp.internal"}}
	if mod != nil {
		mod(cfg)
	}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

func TestSharedTokenModeAndProtections(t *testing.T) {
	h := sharedTokenServer(t)
	tests := []struct {
		name       string
		method     string
		target     string
		host       string
		header     http.Header
		body       string
		wantStatus int
		wantBody   string
	}{
		{name: "tools without a token", method: "GET", target: "/mcp/tools", wantStatus: 200, wantBody: `"name":"get_me"`},
		{name: "token in the URL", method: "GET", target: "/mcp/tools?access_token=x", wantStatus: 400, wantBody: "invalid_request"},
		{name: "public host", method: "GET", target: "/mcp/tools", host: "mcp.example.com", wantStatus: 200},
		{name: "allowed host", method: "GET", target: "/mcp/tools", host: "mcp.internal:8443", wantStatus: 200},
		{name: "other host", method: "GET", target: "/mcp/tools", host: "attacker.example", wantStatus: 403, wantBody: "forbidden_host"},
		{name: "foreign origin", method: "GET", target: "/mcp/tools", header: http.Header{"Origin": {"https://evil.example"}}, wantStatus: 403},
		{name: "public origin", method: "GET", target: "/mcp/tools", header: http.Header{"Origin": {"https://mcp.example.com"}}, wantStatus: 200},
		{name: "body over the limit", method: "POST", target: "/mcp/tool/call", body: `{"tool":"get_me","arguments":{"x":"` + strings.Repeat("a", 2048) + `"}}`,
			wantStatus: 413},
		{name: "wrong method on tool call", method: "GET", target: "/mcp/tool/call", wantStatus: 405},
		{name: "tool call as text/plain", method: "POST", target: "/mcp/tool/call", body: `{"tool":"get_me"}`,
			header: http.Header{"Content-Type": {"text/plain"}}, wantStatus: 415, wantBody: "unsupported_media_type"},
		{name: "basic credentials", method: "POST", target: "/mcp", header: http.Header{"Authorization": {"Basic YWxpY2U6cHc="}},
			body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, wantStatus: 401, wantBody: `"error_description":"this server takes`},
		{name: "sse post without session", method: "POST", target: "/mcp/sse?sessionid=nope", body: `{}`, wantStatus: 404, wantBody: "session_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, strings.NewReader(tt.body))
			if tt.host != "" {
				req.Host = tt.host
			} else {
				req.Host = "127.0.0.1:8080"
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("%s %s = %d %s, want %d containing %q", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestCallToolWithoutPrincipalRefuses: the call path refuses a call that
// reached it without a verified caller, rather than run or crash.
func TestCallToolWithoutPrincipalRefuses(t *testing.T) {
	s := newTestServer(t, &fakeGitea{}, nil)
	if _, ref := s.runCall(t.Context(), toolCall{name: "get_me"}); ref == nil || !errors.Is(ref.auth, auth.ErrNoToken) {
		t.Errorf("runCall without a principal = %+v, want ErrNoToken", ref)
	}
}

// TestSSEStreamsPerUserAreBounded: one user cannot hold more than
// MAX_STREAMS_PER_USER streams open; closing one makes room again.
func TestSSEStreamsPerUserAreBounded(t *testing.T) {
	const maxStreamsPerUser = 4
	srv := httptest.NewServer(sharedTokenServerWith(t, func(c *config.Config) { c.Limits.StreamsPerUser = maxStreamsPerUser }))
	t.Cleanup(srv.Close)
	open := func(ctx context.Context) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/mcp/sse", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close()
			return resp.StatusCode
		}
		// Wait for the endpoint event: the session is registered by then.
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp.StatusCode
	}
	cancels := make([]context.CancelFunc, maxStreamsPerUser)
	for i := range maxStreamsPerUser {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		if code := open(ctx); code != http.StatusOK {
			t.Fatalf("stream %d = %d, want 200", i+1, code)
		}
	}
	if code := open(t.Context()); code != http.StatusTooManyRequests {
		t.Errorf("stream %d = %d, want 429", maxStreamsPerUser+1, code)
	}
	cancels[0]()
	for range 100 { // the server notices the closed stream asynchronously
		ctx, cancel := context.WithCancel(t.Context())
		if code := open(ctx); code == http.StatusOK {
			cancel()
			return
		}
		cancel()
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("no room for a stream after one was closed")
}

// TestIdleStreamsGetKeepAlives: both kinds of event stream send a comment
// while idle, so a proxy's read timeout does not cut them.
func TestIdleStreamsGetKeepAlives(t *testing.T) {
	old := streamKeepAlive
	streamKeepAlive = 50 * time.Millisecond
	t.Cleanup(func() { streamKeepAlive = old })
	srv := httptest.NewServer(sharedTokenServer(t))
	t.Cleanup(srv.Close)
	// waitForComment opens the stream at path and reads it until a keep-alive comment.
	waitForComment := func(what, path string, header ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // a stream without comments fails, not hangs
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s = %d", what, resp.StatusCode)
		}
		r := bufio.NewReader(resp.Body)
		for range 50 {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v before a keep-alive", what, err)
			}
			if line == ": keep-alive\n" {
				return
			}
		}
		t.Errorf("%s: no keep-alive comment in its first 50 lines", what)
	}
	waitForComment("GET /mcp/sse", pathSSE)

	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+pathMCP, strings.NewReader(init))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	id := resp.Header.Get("Mcp-Session-Id")
	if id == "" {
		t.Fatalf("initialize = %d without a session id", resp.StatusCode)
	}
	waitForComment("GET /mcp", pathMCP, "Mcp-Session-Id", id, "Mcp-Protocol-Version", "2025-06-18")
}

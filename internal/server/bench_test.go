package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// cannedGitea answers the reads the benchmarks make from memory, so that
// what they measure is this server (and the SDK), not a network or Gitea.
type cannedGitea struct{}

func (cannedGitea) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"message":"not found"}`
	status := http.StatusNotFound
	switch r.URL.Path {
	case "/api/v1/user":
		status, body = http.StatusOK, `{"id":1,"login":"alice","full_name":"Alice","email":"alice@example.com","avatar_url":"http://g/a.png","html_url":"http://g/alice","created":"2026-01-01T00:00:00Z","is_admin":false}`
	case "/api/v1/version":
		status, body = http.StatusOK, `{"version":"1.27.3"}`
	case "/api/v1/repos/alice/notes/contents/README.md":
		status, body = http.StatusOK, `{"name":"README.md","path":"README.md","sha":"3b18e512dba79e4c8300dd08aeb37f8e728b8dad","type":"file","size":120,"encoding":"base64",`+
			`"content":"IyBOb3RlcwoKQWxpY2UncyBub3Rlcy4gVGhpcyBpcyBhIHNtYWxsIGZpbGUgd2l0aCBhIGZldyBsaW5lcy4KCi0gb25lCi0gdHdvCi0gdGhyZWUKClRoZSBlbmQuCg==",`+
			`"html_url":"http://g/alice/notes/src/branch/main/README.md","last_commit_sha":"9f1c"}`
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// benchServer is a shared-token server in front of cannedGitea.
func benchServer(b *testing.B) *httptest.Server { return benchServerT(b) }

func benchServerT(b testing.TB) *httptest.Server {
	b.Helper()
	u, _ := url.Parse("http://gitea.invalid")
	ep, err := gitea.NewEndpoint(gitea.Options{BaseURL: u, Transport: cannedGitea{}})
	if err != nil {
		b.Fatal(err)
	}
	cfg := &config.Config{GiteaURL: u, GiteaToken: config.NewSecret("pat"), ListenAddr: "127.0.0.1:0", PublicBaseURL: u,
		RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 20, SessionIdleTimeout: time.Minute}
	s, err := New(Options{Config: cfg, Gitea: ep, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkStreamableToolCall is one get_file_contents call over /mcp
// with the go-sdk client, at its default protocol revision (stateless) and
// in a session. Allocations include the client's: compare runs, not
// absolutes (make bench-e2e measures the server alone).
func BenchmarkStreamableToolCall(b *testing.B) {
	srv := benchServer(b)
	for _, version := range []string{"", "2025-11-25"} {
		name := "stateless"
		if version != "" {
			name = "session"
		}
		b.Run(name, func(b *testing.B) {
			client := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
			cs, err := client.Connect(b.Context(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = cs.Close() }()
			args := map[string]any{"owner": "alice", "repo": "notes", "path": "README.md"}
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(b.Context(), &mcp.CallToolParams{Name: "get_file_contents", Arguments: args})
				if err != nil || res.IsError {
					b.Fatalf("call = %v, %v", res, err)
				}
			}
		})
	}
}

// BenchmarkToolCallEndpoint is one get_file_contents call through POST
// /mcp/tool/call, the server's handler called directly.
func BenchmarkToolCallEndpoint(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler
	body := `{"tool":"get_file_contents","arguments":{"owner":"alice","repo":"notes","path":"README.md"}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "http://127.0.0.1/mcp/tool/call", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("= %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkStatelessToolCallServer is one MCP 2026-07-28 tools/call POST
// to /mcp as the go-sdk client sends it, the server's handler called
// directly: the server's own cost, with no client in the figures.
func BenchmarkStatelessToolCallServer(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler
	body := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}},` +
		`"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},` +
		`"name":"get_file_contents","arguments":{"owner":"alice","repo":"notes","path":"README.md"}}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "http://127.0.0.1/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "get_file_contents")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "README") {
			b.Fatalf("= %d %s", rec.Code, rec.Body)
		}
	}
}

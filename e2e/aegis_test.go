package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// toolScopes is what a user grants to use every tool.
const toolScopes = "openid read:repository read:user read:issue"

// aegis is an aegis-gitea-mcp server running in the test process against
// the shared Gitea, accepting the tokens of one OAuth app.
type aegis struct {
	URL   string
	App   *testgitea.OAuthApp
	srv   *server.Server
	clock *clock
	logs  *syncBuffer
	// auditLog is the server's audit log, checked when the test ends.
	auditLog string

	mu     sync.Mutex
	tokens []string // every access token issued for the test, to look for in the logs
}

// clock is a test clock: real time plus an offset a test can advance, so
// token expiry and cache TTLs are crossed without sleeping.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAegis serves aegis-gitea-mcp for app's tokens on a loopback port,
// configured through the real configuration loader; extra holds more
// VAR=value settings.
func startAegis(t *testing.T, g *testgitea.Gitea, app *testgitea.OAuthApp, extra ...string) *aegis {
	t.Helper()
	return startAegisOn(t, listenLoopback(t), g, app, extra...)
}

// listenLoopback listens on a free loopback port.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// startAegisOn is startAegis on the listener l.
func startAegisOn(t *testing.T, l net.Listener, g *testgitea.Gitea, app *testgitea.OAuthApp, extra ...string) *aegis {
	t.Helper()
	return startAegisWith(t, l, g, app, nil, extra...)
}

// startAegisWith is startAegisOn with the server's options changed by
// change (nil: none) before the server is built.
func startAegisWith(t *testing.T, l net.Listener, g *testgitea.Gitea, app *testgitea.OAuthApp, change func(*server.Options), extra ...string) *aegis {
	t.Helper()
	base := "http://" + l.Addr().String()
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	environ := append([]string{
		"AUDIT_LOG_PATH=" + auditLog, // every e2e server keeps one; a test may name its own
		"GITEA_URL=" + g.URL,
		"GITEA_OAUTH_CLIENT_ID=" + app.ClientID,
		"GITEA_OAUTH_CLIENT_SECRET=" + app.ClientSecret,
		"PUBLIC_BASE_URL=" + base,
		"LISTEN_ADDR=" + l.Addr().String(),
	}, extra...)
	cfg, err := config.Load(nil, environ, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	a := &aegis{URL: base, App: app, clock: &clock{}, logs: &syncBuffer{}, auditLog: cfg.AuditLog}
	opts := server.Options{Config: cfg, Version: "e2e", Now: a.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if change != nil {
		change(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	a.srv = srv
	if err := srv.Preflight(t.Context()); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		a.checkLogs(t)
	})
	return a
}

// checkLogs holds for every e2e server once it stopped: its audit log
// verifies, and neither it nor the server's own log holds the client
// secret or any access token issued for the test.
func (a *aegis) checkLogs(t *testing.T) {
	t.Helper()
	var audited []byte
	if a.auditLog != "-" {
		if _, err := audit.Verify(a.auditLog); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the server's audit log does not verify: %v", err)
		}
		audited, _ = os.ReadFile(a.auditLog)
	}
	if refused, denied := countRefusals(a.logs.String(), string(audited)); a.auditLog != "-" && refused != denied {
		t.Errorf("the server refused %d calls, and its audit log has %d access_denied records of calls", refused, denied)
	}
	a.mu.Lock()
	secrets := append([]string{a.App.ClientSecret}, a.tokens...)
	a.mu.Unlock()
	for _, secret := range secrets {
		if strings.Contains(a.logs.String(), secret) {
			t.Errorf("the server logged a secret (%.8s...)", secret)
		}
		if strings.Contains(string(audited), secret) {
			t.Errorf("the audit log holds a secret (%.8s...)", secret)
		}
	}
}

// countRefusals counts the calls the server's log says were refused and
// the access_denied records of calls (with a tool) in its audit log.
func countRefusals(serverLog, auditLog string) (refused, denied int) {
	for line := range strings.SplitSeq(serverLog, "\n") {
		var l struct {
			Msg, Outcome, Kind string
			Suppressed         int
		}
		switch {
		case json.Unmarshal([]byte(line), &l) != nil:
		case l.Msg == "tool call" && strings.HasPrefix(l.Outcome, "refused"):
			refused += 1 + l.Suppressed // refusal lines are sampled; each says how many it stands for
		case l.Msg == "log lines suppressed" && strings.HasPrefix(l.Kind, "refused"):
			refused += l.Suppressed
		}
	}
	for line := range strings.SplitSeq(auditLog, "\n") {
		var e audit.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind == audit.KindAccessDenied && e.Tool != "" {
			denied++
		}
	}
	return refused, denied
}

// startAegisFor creates the app for scope and serves aegis for it.
func startAegisFor(t *testing.T, g *testgitea.Gitea, scope string, extra ...string) *aegis {
	t.Helper()
	app, err := g.App(t.Context(), scope)
	if err != nil {
		t.Fatal(err)
	}
	return startAegis(t, g, app, extra...)
}

// token gets user's access token for a's app through the code flow.
func (a *aegis) token(t *testing.T, g *testgitea.Gitea, user, scope string) *testgitea.TokenSet {
	t.Helper()
	tok, err := g.AuthorizationCode(t.Context(), g.User(user), a.App, scope)
	if err != nil {
		t.Fatalf("code flow for %s: %v", user, err)
	}
	a.mu.Lock()
	a.tokens = append(a.tokens, tok.AccessToken, tok.RefreshToken)
	a.mu.Unlock()
	return tok
}

// bearer is an http.Client that sends token on every request.
func bearer(token string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: bearerTransport{token: token}}
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// legacyProtocol is the newest MCP revision with sessions; connect
// negotiates the SDK's default, 2026-07-28, where the server offers it.
const legacyProtocol = "2025-11-25"

// connect opens an MCP session with the official go-sdk client over
// Streamable HTTP ("/mcp") or legacy SSE ("/mcp/sse"), at the client's
// default protocol revision.
func (a *aegis) connect(t *testing.T, path, token string) *mcp.ClientSession {
	t.Helper()
	return a.connectWith(t, path, token, "", nil)
}

// connectWith is connect at protocol revision version ("" for the
// client's default) with client options opts (nil for none).
func (a *aegis) connectWith(t *testing.T, path, token, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	var transport mcp.Transport
	if path == "/mcp/sse" {
		transport = &mcp.SSEClientTransport{Endpoint: a.URL + path, HTTPClient: bearer(token)}
	} else {
		transport = &mcp.StreamableClientTransport{Endpoint: a.URL + path, HTTPClient: bearer(token)}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e", Version: "1"}, opts)
	cs, err := client.Connect(t.Context(), transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s: %v", path, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call runs a tool through an MCP session and returns its text and error flag.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool %s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String(), res.IsError
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// httpResult is a plain HTTP answer, for the endpoints tested with net/http.
type httpResult struct {
	status int
	header http.Header
	body   string
}

func (h httpResult) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(h.body), v); err != nil {
		t.Fatalf("body %q: %v", h.body, err)
	}
}

// do sends one request with an optional bearer token and JSON body.
func do(t *testing.T, method, url, token string, body any, header ...string) httpResult {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		if header[i] == "Authorization" { // a second one, on purpose
			req.Header.Add(header[i], header[i+1])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// doHost is a GET whose header pairs may set Host.
func doHost(t *testing.T, url, token string, header ...string) httpResult {
	t.Helper()
	return do(t, "GET", url, token, nil, header...)
}

// toolResult is the answer of POST /mcp/tool/call.
type toolResult struct {
	Status          int
	Text            string         // the text content
	Structured      map[string]any // structuredContent
	IsError         bool
	WWWAuthenticate string
	Body            string
}

// toolCall runs a tool through POST /mcp/tool/call with token; the compact
// way to test a tool's output end to end.
func (a *aegis) toolCall(t *testing.T, token, name string, args map[string]any) toolResult {
	t.Helper()
	res := do(t, "POST", a.URL+"/mcp/tool/call", token, map[string]any{"tool": name, "arguments": args})
	out := toolResult{Status: res.status, WWWAuthenticate: res.header.Get("WWW-Authenticate"), Body: res.body}
	if res.status != http.StatusOK {
		return out
	}
	var body struct {
		Content           []struct{ Text string } `json:"content"`
		StructuredContent map[string]any          `json:"structuredContent"`
		IsError           bool                    `json:"isError"`
	}
	res.json(t, &body)
	for _, c := range body.Content {
		out.Text += c.Text
	}
	out.Structured, out.IsError = body.StructuredContent, body.IsError
	return out
}

// mustCall runs a tool that must succeed and returns its structured output.
func mustCall(t *testing.T, a *aegis, token, name string, args map[string]any) map[string]any {
	t.Helper()
	res := a.toolCall(t, token, name, args)
	if res.Status != http.StatusOK || res.IsError {
		t.Fatalf("%s(%v) = %d %s, want a result", name, args, res.Status, res.Body)
	}
	return res.Structured
}

// mustDecode runs a tool that must succeed and decodes its structured
// output into out, which is zeroed first so a reused value keeps nothing.
func mustDecode(t *testing.T, a *aegis, token, name string, args map[string]any, out any) toolResult {
	t.Helper()
	res := a.toolCall(t, token, name, args)
	if res.Status != http.StatusOK || res.IsError {
		t.Fatalf("%s(%v) = %d %s, want a result", name, args, res.Status, res.Body)
	}
	data, err := json.Marshal(res.Structured)
	if err != nil {
		t.Fatal(err)
	}
	reflect.ValueOf(out).Elem().SetZero()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s: decoding %s: %v", name, data, err)
	}
	return res
}

// mustRefuse runs a tool that must fail as a tool error whose text holds want.
func mustRefuse(t *testing.T, a *aegis, token, name string, args map[string]any, want string) {
	t.Helper()
	res := a.toolCall(t, token, name, args)
	if res.Status != http.StatusOK || !res.IsError || !strings.Contains(res.Text, want) {
		t.Errorf("%s(%v) = %d %s, want a tool error containing %q", name, args, res.Status, res.Body, want)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestTransportsActAsTheCaller runs the same calls through the go-sdk
// client over Streamable HTTP and legacy SSE: each user sees exactly what
// Gitea lets that user see.
func TestTransportsActAsTheCaller(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken

	for _, path := range []string{"/mcp", "/mcp/sse"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			as := a.connect(t, path, alice)
			names := toolNames(t, as)
			for _, want := range []string{"get_me", "list_repositories", "get_repository", "get_file_contents", "list_issues", "get_issue"} {
				if !slices.Contains(names, want) {
					t.Errorf("alice's tools %v lack %s", names, want)
				}
			}
			if text, isErr := call(t, as, "get_me", nil); isErr || !strings.Contains(text, `"login":"alice"`) {
				t.Errorf("get_me as alice = %s (error %v)", text, isErr)
			}
			text, isErr := call(t, as, "list_repositories", nil)
			if isErr || !strings.Contains(text, "alice/notes") || strings.Contains(text, "bob/secrets") {
				t.Errorf("list_repositories as alice = %s, want alice/notes and never bob/secrets", text)
			}
			text, isErr = call(t, as, "get_file_contents", map[string]any{"owner": "alice", "repo": "notes", "path": testgitea.GuideFile})
			if isErr || !strings.Contains(text, "Alice's private guide.") {
				t.Errorf("get_file_contents as alice = %s", text)
			}
			text, isErr = call(t, as, "list_issues", map[string]any{"owner": "alice", "repo": "notes"})
			if isErr || !strings.Contains(text, `"number":1`) || strings.Contains(text, `"number":2`) {
				t.Errorf("list_issues as alice = %s, want issue #1 and not pull request #2", text)
			}
			text, isErr = call(t, as, "get_issue", map[string]any{"owner": "alice", "repo": "notes", "number": 1})
			if isErr || !strings.Contains(text, "setup") {
				t.Errorf("get_issue as alice = %s", text)
			}

			bs := a.connect(t, path, bob)
			if text, _ := call(t, bs, "get_me", nil); !strings.Contains(text, `"login":"bob"`) {
				t.Errorf("get_me as bob = %s", text)
			}
			text, isErr = call(t, bs, "get_repository", map[string]any{"owner": "alice", "repo": "notes"})
			if !isErr || !strings.Contains(text, "not found") {
				t.Errorf("bob reading alice/notes = %s (error %v), want a not-found tool error", text, isErr)
			}
			text, isErr = call(t, bs, "get_repository", map[string]any{"owner": "acme", "repo": "handbook"})
			if isErr || !strings.Contains(text, `"permission":"read"`) {
				t.Errorf("bob reading acme/handbook = %s, want read permission", text)
			}
			text, isErr = call(t, bs, "get_file_contents", map[string]any{"owner": "alice", "repo": "notes", "path": "../../etc/passwd"})
			if !isErr || !strings.Contains(text, "path") {
				t.Errorf("path traversal = %s, want a tool error naming the path", text)
			}
		})
	}
}

func TestToolCallEndpoint(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	url := a.URL + "/mcp/tool/call"

	res := do(t, "POST", url, alice, map[string]any{"tool": "get_file_contents",
		"arguments": map[string]any{"owner": "alice", "repo": "notes", "path": testgitea.GuideFile}})
	var out struct {
		Content           []map[string]any `json:"content"`
		StructuredContent map[string]any   `json:"structuredContent"`
		IsError           bool             `json:"isError"`
	}
	res.json(t, &out)
	if res.status != 200 || out.IsError || out.StructuredContent["content"] != testgitea.GuideContent || len(out.Content) != 1 {
		t.Errorf("alice's get_file_contents = %d %s", res.status, res.body)
	}

	res = do(t, "POST", url, bob, map[string]any{"name": "get_repository", "arguments": map[string]any{"owner": "alice", "repo": "notes"}})
	res.json(t, &out)
	if res.status != 200 || !out.IsError || !strings.Contains(res.body, "not found") {
		t.Errorf("bob's get_repository of alice/notes = %d %s, want a not-found tool error", res.status, res.body)
	}

	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantText   string
	}{
		{name: "unknown tool", body: `{"tool":"delete_everything","arguments":{}}`, wantStatus: 404, wantText: "unknown_tool"},
		{name: "missing argument", body: `{"tool":"get_repository","arguments":{"owner":"alice"}}`, wantStatus: 400, wantText: "repo: is required"},
		{name: "wrong type", body: `{"tool":"get_issue","arguments":{"owner":"alice","repo":"notes","number":"one"}}`, wantStatus: 400, wantText: "number"},
		{name: "extra argument", body: `{"tool":"get_me","arguments":{"sudo":"admin"}}`, wantStatus: 400, wantText: "sudo"},
		{name: "bad enum", body: `{"tool":"list_issues","arguments":{"owner":"alice","repo":"notes","state":"merged"}}`, wantStatus: 400, wantText: "state"},
		{name: "malformed json", body: `{"tool":`, wantStatus: 400, wantText: "invalid_json"},
		{name: "unknown field", body: `{"tool":"get_me","args":{}}`, wantStatus: 400, wantText: "invalid_json"},
		{name: "two names", body: `{"tool":"get_me","name":"get_issue"}`, wantStatus: 400, wantText: "different tools"},
		{name: "huge body", body: `{"tool":"get_me","arguments":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`, wantStatus: 413, wantText: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "POST", url, alice, tt.body)
			if res.status != tt.wantStatus || !strings.Contains(res.body, tt.wantText) {
				t.Errorf("POST %s = %d %s, want %d containing %q", tt.name, res.status, res.body, tt.wantStatus, tt.wantText)
			}
		})
	}

	list := do(t, "GET", a.URL+"/mcp/tools", alice, nil)
	var tools struct {
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
	}
	list.json(t, &tools)
	if list.status != 200 || len(tools.Tools) < 6 || tools.Tools[0].InputSchema == nil {
		t.Errorf("GET /mcp/tools = %d %s", list.status, list.body)
	}
}

func TestSessionsAreBoundToTheirUser(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken

	t.Run("streamable", func(t *testing.T) {
		as := a.connectWith(t, "/mcp", alice, legacyProtocol, nil)
		ping := `{"jsonrpc":"2.0","id":99,"method":"tools/list","params":{}}`
		res := do(t, "POST", a.URL+"/mcp", bob, ping, "Mcp-Session-Id", as.ID(), "Accept", "application/json, text/event-stream",
			"Mcp-Protocol-Version", "2025-06-18")
		if res.status != 403 {
			t.Errorf("bob reusing alice's session id = %d %s, want 403", res.status, res.body)
		}
		res = do(t, "POST", a.URL+"/mcp", alice, ping, "Mcp-Session-Id", as.ID(), "Accept", "application/json, text/event-stream",
			"Mcp-Protocol-Version", "2025-06-18")
		if res.status != 200 {
			t.Errorf("alice in her own session = %d %s, want 200", res.status, res.body)
		}
	})

	t.Run("sse", func(t *testing.T) {
		stream := openSSE(t, a.URL+"/mcp/sse", alice)
		endpoint := stream.next(t, "endpoint")
		msg := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
		res := do(t, "POST", a.URL+endpoint, bob, msg)
		if res.status != 403 || !strings.Contains(res.body, "another user") {
			t.Errorf("bob posting into alice's SSE session = %d %s, want 403", res.status, res.body)
		}
		if res := do(t, "POST", a.URL+endpoint, "", msg); res.status != 401 {
			t.Errorf("anonymous post into alice's SSE session = %d, want 401", res.status)
		}
		res = do(t, "POST", a.URL+endpoint, alice, msg)
		if res.status != 202 {
			t.Errorf("alice posting into her SSE session = %d %s, want 202", res.status, res.body)
		}
		if reply := stream.next(t, "message"); !strings.Contains(reply, `"id":1`) || !strings.Contains(reply, "aegis-gitea-mcp") {
			t.Errorf("alice's initialize reply = %s", reply)
		}
		if strings.Contains(a.logs.String(), `"tool":`) && strings.Contains(a.logs.String(), `"user":"bob"`) {
			t.Error("a tool ran for bob in alice's session")
		}
	})
}

func TestScopesShapeWhatATokenMayDo(t *testing.T) {
	g := needGitea(t)
	const repoOnly = "read:repository"
	a := startAegisFor(t, g, repoOnly)
	tok := a.token(t, g, testgitea.AliceName, repoOnly).AccessToken

	cs := a.connectWith(t, "/mcp", tok, legacyProtocol, nil)
	names := toolNames(t, cs)
	if !slices.Contains(names, "get_file_contents") || slices.Contains(names, "list_issues") || slices.Contains(names, "get_me") {
		t.Errorf("tools for read:repository = %v, want repository tools only", names)
	}
	if text, isErr := call(t, cs, "get_file_contents", map[string]any{"owner": "alice", "repo": "notes", "path": testgitea.GuideFile}); isErr {
		t.Errorf("reading a file with read:repository: %s", text)
	}

	// Over Streamable HTTP a call outside the scopes is refused at the HTTP level.
	callIssues := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_issues","arguments":{"owner":"alice","repo":"notes"}}}`
	res := do(t, "POST", a.URL+"/mcp", tok, callIssues, "Mcp-Session-Id", cs.ID(), "Accept", "application/json, text/event-stream",
		"Mcp-Protocol-Version", "2025-06-18")
	wantChallenge := `Bearer error="insufficient_scope"`
	if h := res.header.Get("WWW-Authenticate"); res.status != 403 || !strings.HasPrefix(h, wantChallenge) ||
		!strings.Contains(h, `scope="read:repository read:issue"`) || !strings.Contains(h, `resource_metadata="`+a.URL+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Errorf("list_issues over /mcp = %d, WWW-Authenticate %q", res.status, h)
	}

	// So it is for a stateless MCP 2026-07-28 request.
	callIssues = `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"list_issues","arguments":{"owner":"alice","repo":"notes"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	res = do(t, "POST", a.URL+"/mcp", tok, callIssues, "Accept", "application/json, text/event-stream",
		"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "list_issues")
	if h := res.header.Get("WWW-Authenticate"); res.status != 403 || !strings.HasPrefix(h, wantChallenge) {
		t.Errorf("list_issues over /mcp at 2026-07-28 = %d %s, WWW-Authenticate %q", res.status, res.body, h)
	}

	res = do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"list_issues","arguments":{"owner":"alice","repo":"notes"}}`)
	if h := res.header.Get("WWW-Authenticate"); res.status != 403 || !strings.HasPrefix(h, wantChallenge) || !strings.Contains(res.body, "revoke") {
		t.Errorf("list_issues over /mcp/tool/call = %d %s, WWW-Authenticate %q", res.status, res.body, h)
	}

	// Over SSE the refusal is a tool error with the same guidance.
	ss := a.connect(t, "/mcp/sse", tok)
	if text, isErr := call(t, ss, "list_issues", map[string]any{"owner": "alice", "repo": "notes"}); !isErr || !strings.Contains(text, "read:issue") {
		t.Errorf("list_issues over SSE = %s (error %v), want the missing-scope guidance", text, isErr)
	}
}

// TestProtocolRevisions: a client at MCP 2026-07-28 (the go-sdk's default:
// server/discover, no session, per-request _meta) and one at 2025-11-25
// (initialize, a session) both reach /mcp and act as their own user.
func TestProtocolRevisions(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	for _, tt := range []struct {
		version     string
		wantSession bool
	}{
		{version: "2026-07-28", wantSession: false},
		{version: legacyProtocol, wantSession: true},
	} {
		t.Run(tt.version, func(t *testing.T) {
			cs := a.connectWith(t, "/mcp", tok, tt.version, nil)
			if got := cs.InitializeResult().ProtocolVersion; got != tt.version {
				t.Errorf("negotiated %s, want %s", got, tt.version)
			}
			if (cs.ID() != "") != tt.wantSession {
				t.Errorf("session id %q, want a session: %v", cs.ID(), tt.wantSession)
			}
			if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, `"login":"alice"`) {
				t.Errorf("get_me at %s = %s", tt.version, text)
			}
		})
	}
}

// TestStatelessMode serves /mcp without sessions, as several replicas would.
func TestStatelessMode(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "MCP_STATELESS=true")
	cs := a.connect(t, "/mcp", a.token(t, g, testgitea.AliceName, toolScopes).AccessToken)
	if cs.ID() != "" {
		t.Errorf("stateless server handed out session id %q", cs.ID())
	}
	if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, `"login":"alice"`) {
		t.Errorf("get_me without sessions = %s", text)
	}
}

// TestConcurrentCallersNeverMix: alice and bob calling at once through one
// server and one verdict cache each always get their own identity back.
func TestConcurrentCallersNeverMix(t *testing.T) {
	g := needGitea(t)
	// The limits would refuse some of these calls; TestCallsInFlightAreBounded tests them.
	a := startAegisFor(t, g, toolScopes, noCallLimits...)
	tokens := map[string]string{
		testgitea.AliceName: a.token(t, g, testgitea.AliceName, toolScopes).AccessToken,
		testgitea.BobName:   a.token(t, g, testgitea.BobName, toolScopes).AccessToken,
	}
	const callsPerUser = 40
	type answer struct{ want, got string }
	answers := make(chan answer, 2*callsPerUser)
	var wg sync.WaitGroup
	for user, tok := range tokens {
		for range callsPerUser {
			wg.Go(func() { // no t.Fatal here: it must not run off the test goroutine
				login, err := whoAmI(t.Context(), a.URL, tok)
				if err != nil {
					login = "error: " + err.Error()
				}
				answers <- answer{want: user, got: login}
			})
		}
	}
	wg.Wait()
	close(answers)
	for ans := range answers {
		if ans.got != ans.want {
			t.Errorf("a call with %s's token answered as %q", ans.want, ans.got)
		}
	}
}

// whoAmI calls get_me through /mcp/tool/call; safe to use from any goroutine.
func whoAmI(ctx context.Context, base, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp/tool/call", strings.NewReader(`{"tool":"get_me"}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		StructuredContent struct {
			Login string `json:"login"`
		} `json:"structuredContent"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	return out.StructuredContent.Login, nil
}

// TestHugeBodiesAreRefused: every MCP endpoint answers a body over
// MAX_REQUEST_BODY_BYTES with 413 before anything runs.
func TestHugeBodiesAreRefused(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "MAX_REQUEST_BODY_BYTES=65536")
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	huge := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 100<<10) + `"}}`
	stream := openSSE(t, a.URL+"/mcp/sse", tok)
	endpoint := stream.next(t, "endpoint")
	for _, url := range []string{a.URL + "/mcp", a.URL + endpoint, a.URL + "/mcp/tool/call"} {
		res := do(t, "POST", url, tok, huge, "Accept", "application/json, text/event-stream")
		if res.status != 413 {
			t.Errorf("POST %s with a 100 KiB body = %d %s, want 413", url, res.status, res.body)
		}
	}
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// Callers for the load, scale-out and fault tests: one tool call at a
// time over one transport, reporting failures as errors instead of
// failing the test, so that goroutines can count them.

// The transports a caller may use.
const (
	viaStreamable = "streamable" // Streamable HTTP with a session (MCP 2025-11-25)
	viaStateless  = "stateless"  // Streamable HTTP without a session (MCP 2026-07-28, the client's default)
	viaSSE        = "sse"        // legacy HTTP+SSE
	viaToolCall   = "toolcall"   // POST /mcp/tool/call
)

var allTransports = []string{viaStreamable, viaStateless, viaSSE, viaToolCall}

// caller makes tool calls for one user over one transport.
type caller struct {
	via    string
	user   string
	base   string // the server's (or the proxy's) base URL
	client *http.Client
	cs     *mcp.ClientSession // nil for viaToolCall
}

// answer is what a call got: the tool's text and error flag, or err.
type answer struct {
	text    string
	toolErr bool
	err     error
}

// statusError is an HTTP answer that is not 200 to POST /mcp/tool/call.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d %s", e.status, e.body) }

// dial connects a caller for user over via, through client (which sends
// the user's token) to base.
func dial(ctx context.Context, via, user, base string, client *http.Client) (*caller, error) {
	c := &caller{via: via, user: user, base: base, client: client}
	var transport mcp.Transport
	version := ""
	switch via {
	case viaToolCall:
		return c, nil
	case viaSSE:
		transport = &mcp.SSEClientTransport{Endpoint: base + "/mcp/sse", HTTPClient: client}
	case viaStreamable:
		transport, version = &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: client}, legacyProtocol
	case viaStateless:
		transport = &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: client}
	default:
		return nil, fmt.Errorf("no transport %q", via)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e-load", Version: "1"}, nil).
		Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		return nil, fmt.Errorf("connect over %s: %w", via, err)
	}
	c.cs = cs
	return c, nil
}

// call runs one tool.
func (c *caller) call(ctx context.Context, tool string, args map[string]any) answer {
	if c.cs != nil {
		res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			return answer{err: err}
		}
		var text strings.Builder
		for _, content := range res.Content {
			if tc, ok := content.(*mcp.TextContent); ok {
				text.WriteString(tc.Text)
			}
		}
		return answer{text: text.String(), toolErr: res.IsError}
	}
	body, err := json.Marshal(map[string]any{"tool": tool, "arguments": args})
	if err != nil {
		return answer{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/mcp/tool/call", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return answer{err: &statusError{status: resp.StatusCode, body: string(data)}}
	}
	var out struct {
		Content []struct{ Text string } `json:"content"`
		IsError bool                    `json:"isError"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return answer{err: fmt.Errorf("answer %q: %w", data, err)}
	}
	var text strings.Builder
	for _, content := range out.Content {
		text.WriteString(content.Text)
	}
	return answer{text: text.String(), toolErr: out.IsError}
}

func (c *caller) close() {
	if c.cs != nil {
		_ = c.cs.Close()
	}
}

// ownCall is a call whose answer is its caller's own data, and what in it
// shows whose data it is.
type ownCall struct {
	tool string
	args map[string]any
	mark string // in the answer of the caller, and of nobody else
}

// ownCalls are alice's and bob's calls of their own private data: who they
// are and a file of their private repository.
var ownCalls = map[string][]ownCall{
	testgitea.AliceName: {
		{tool: "get_me", mark: `"login":"alice"`},
		{tool: "get_file_contents", args: map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceRepo, "path": testgitea.GuideFile},
			mark: "Alice's private guide"},
	},
	testgitea.BobName: {
		{tool: "get_me", mark: `"login":"bob"`},
		{tool: "get_file_contents", args: map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo, "path": "README.md"},
			mark: "bob's private repository"},
	},
}

// checkOwn says what is wrong with a successful answer to user's call c:
// "" when it is user's answer and holds nothing of the other user's.
func checkOwn(user string, c ownCall, a answer) string {
	for other, calls := range ownCalls {
		if other == user {
			continue
		}
		for _, oc := range calls {
			if strings.Contains(a.text, oc.mark) {
				return fmt.Sprintf("%s's %s answer carries %s's data (%q)", user, c.tool, other, oc.mark)
			}
		}
	}
	if !strings.Contains(a.text, c.mark) {
		return fmt.Sprintf("%s's %s answer lacks %q: %.200s", user, c.tool, c.mark, a.text)
	}
	return ""
}

// giteaDown says whether a failed answer is the clear refusal of a call
// while Gitea cannot be used: the tool error that says so, or the
// 503 temporarily_unavailable of a token that could not be verified.
func giteaDown(a answer) bool {
	if a.err == nil {
		return a.toolErr && strings.Contains(a.text, "Gitea is unavailable")
	}
	var se *statusError
	return errors.As(a.err, &se) && se.status == http.StatusServiceUnavailable && strings.Contains(se.body, `"temporarily_unavailable"`)
}

// codeFlow gets user's token set for app through the code flow, retrying a
// few times: Gitea 1.27 sometimes fails a grant created while another test
// creates one for the same user ("cannot create grant for user").
func codeFlow(t *testing.T, g *testgitea.Gitea, app *testgitea.OAuthApp, user string) *testgitea.TokenSet {
	t.Helper()
	var err error
	for attempt := range 4 {
		var tok *testgitea.TokenSet
		if tok, err = g.AuthorizationCode(t.Context(), g.User(user), app, toolScopes); err == nil {
			return tok
		}
		time.Sleep(time.Duration(attempt+1) * 250 * time.Millisecond)
	}
	t.Fatalf("code flow for %s: %v", user, err)
	return nil
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The ways a call reaches the server.
const (
	// kindSession is Streamable HTTP on /mcp at MCP 2025-11-25, the newest
	// revision with sessions, with the SDK's default standalone GET stream.
	kindSession = "mcp-session"
	// kindStateless is Streamable HTTP on /mcp at the SDK's default
	// revision, 2026-07-28: no session, every request stands alone.
	kindStateless = "mcp-stateless"
	// kindSSE is the legacy HTTP+SSE transport on /mcp/sse.
	kindSSE = "sse"
	// kindToolCall is POST /mcp/tool/call, one plain HTTP request per call.
	kindToolCall = "tool-call"
	// kindDirect is Gitea's REST API with the same token, no server between.
	kindDirect = "direct"
)

// legacyProtocol is the newest MCP revision with sessions.
const legacyProtocol = "2025-11-25"

// statelessProtocol is the first revision without sessions.
const statelessProtocol = "2026-07-28"

// tool is one read measured through the server and directly.
type tool struct {
	name       string
	args       map[string]any
	direct     string // Gitea's REST path for the same read
	want       string // in the tool's answer
	wantDirect string // in Gitea's answer
	body       []byte // POST /mcp/tool/call's body
}

// benchTools are the reads measured: a small file and the caller's
// repositories (the tool's default page of 20).
func benchTools() []*tool {
	ts := []*tool{
		{name: "get_file_contents", args: map[string]any{"owner": benchUser, "repo": benchRepo, "path": benchFile},
			direct: "/api/v1/repos/" + benchUser + "/" + benchRepo + "/contents/" + benchFile, want: "A small file", wantDirect: `"name":"guide.md"`},
		{name: "list_repositories", args: map[string]any{},
			direct: "/api/v1/user/repos?limit=20&page=1", want: benchUser + "/" + benchRepo, wantDirect: `"full_name":"` + benchUser + "/" + benchRepo + `"`},
	}
	for _, t := range ts {
		t.body, _ = json.Marshal(map[string]any{"tool": t.name, "arguments": t.args})
	}
	return ts
}

// caller makes one call of a tool and returns its text. It is safe for
// concurrent use only where noted.
type caller interface {
	call(ctx context.Context, t *tool) (string, error)
	close()
}

// directCaller reads from Gitea over a shared keep-alive pool; it is safe
// for concurrent use.
type directCaller struct {
	base   string
	token  string
	client *http.Client
}

func (d *directCaller) call(ctx context.Context, t *tool) (string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+t.direct, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("direct %s: %w", t.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", fmt.Errorf("direct %s: %w", t.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("direct %s: status %d", t.name, resp.StatusCode)
	}
	return string(b), nil
}

func (d *directCaller) close() {}

// toolCallCaller posts to /mcp/tool/call over a shared keep-alive pool;
// it is safe for concurrent use.
type toolCallCaller struct {
	url    string
	client *http.Client // adds the token
}

func (c *toolCallCaller) call(ctx context.Context, t *tool) (string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(t.body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("tool-call %s: %w", t.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("tool-call %s: status %d", t.name, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("tool-call %s: %w", t.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the connection goes back to the pool
	text := ""
	if len(out.Content) > 0 {
		text = out.Content[0].Text
	}
	if out.IsError {
		return "", fmt.Errorf("tool-call %s: tool error: %.200s", t.name, text)
	}
	return text, nil
}

func (c *toolCallCaller) close() {}

// mcpCaller is one go-sdk client session.
type mcpCaller struct {
	cs     *mcp.ClientSession
	cancel context.CancelFunc // ends the session's streams after Close
}

func (c *mcpCaller) call(ctx context.Context, t *tool) (string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: t.name, Arguments: t.args})
	if err != nil {
		return "", fmt.Errorf("%s: %w", t.name, err)
	}
	text := ""
	if len(res.Content) > 0 {
		if tc, ok := res.Content[0].(*mcp.TextContent); ok {
			text = tc.Text
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s: tool error: %.200s", t.name, text)
	}
	return text, nil
}

func (c *mcpCaller) close() {
	_ = c.cs.Close()
	c.cancel()
}

// clients are the HTTP clients of one benchmark run, all loopback-only.
type clients struct {
	token  string
	direct *directCaller
	mcp    *http.Client // adds the token; no overall timeout, streams last
}

func newClients(giteaURL, token string) *clients {
	return &clients{
		token:  token,
		direct: &directCaller{base: giteaURL, token: token, client: &http.Client{Transport: newTransport()}},
		mcp:    &http.Client{Transport: bearer{token: token, next: newTransport()}},
	}
}

// open connects a caller of kind to the server at base. standalone says
// whether a session's standalone GET stream is opened (kindSession only).
func (c *clients) open(ctx context.Context, base, kind string, standalone bool) (caller, error) {
	var transport mcp.Transport
	version := ""
	switch kind {
	case kindDirect:
		return c.direct, nil
	case kindToolCall:
		return &toolCallCaller{url: base + "/mcp/tool/call", client: c.mcp}, nil
	case kindSession:
		transport = &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: c.mcp, MaxRetries: -1, DisableStandaloneSSE: !standalone}
		version = legacyProtocol
	case kindStateless:
		transport = &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: c.mcp, MaxRetries: -1}
	case kindSSE:
		transport = &mcp.SSEClientTransport{Endpoint: base + "/mcp/sse", HTTPClient: c.mcp}
		version = legacyProtocol // 2026-07-28 defines no SSE binding
	default:
		return nil, fmt.Errorf("no transport %q", kind)
	}
	// The SSE client ties its event stream to Connect's context, so that
	// context lives as long as the session; a timer bounds the connect.
	ctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(callTimeout, cancel)
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-bench", Version: "1"}, nil)
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if !timer.Stop() && err == nil {
		err = errors.New("connecting took too long")
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("connect %s: %w", kind, err)
	}
	got := cs.InitializeResult().ProtocolVersion
	switch {
	case kind == kindSession && (got != legacyProtocol || cs.ID() == ""):
		_ = cs.Close()
		cancel()
		return nil, fmt.Errorf("%s negotiated %s (session %t), want %s with a session", kind, got, cs.ID() != "", legacyProtocol)
	case kind == kindStateless && got < statelessProtocol:
		_ = cs.Close()
		cancel()
		return nil, fmt.Errorf("%s negotiated %s, want %s or later", kind, got, statelessProtocol)
	}
	return &mcpCaller{cs: cs, cancel: cancel}, nil
}

// openMany opens n callers of kind, a few at a time; on failure it closes
// those it opened.
func (c *clients) openMany(ctx context.Context, base, kind string, standalone bool, n int) ([]caller, error) {
	out := make([]caller, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], errs[i] = c.open(ctx, base, kind, standalone)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			closeAll(out)
			return nil, err
		}
	}
	return out, nil
}

// closeAll closes callers, a few at a time.
func closeAll(cs []caller) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, c := range cs {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.close()
		})
	}
	wg.Wait()
}

// check makes one call through c and fails unless the answer holds what t
// reads.
func check(ctx context.Context, c caller, t *tool) error {
	text, err := c.call(ctx, t)
	if err != nil {
		return err
	}
	want := t.want
	if _, direct := c.(*directCaller); direct {
		want = t.wantDirect
	}
	if !strings.Contains(text, want) {
		return fmt.Errorf("%s: the answer lacks %q: %.300s", t.name, want, text)
	}
	return nil
}

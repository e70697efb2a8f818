package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// Each limit of issue 9 is driven on the real server and Gitea: the user or
// address at the limit gets 429 (HTTP) or a tool error naming the limit
// (MCP), with Retry-After, and another user or address is unaffected.

// noCallLimits turns off the limits a test of many parallel calls would
// hit, where the limits are not what it tests.
var noCallLimits = []string{"MAX_CONCURRENT_CALLS_PER_USER=0", "MAX_CONCURRENT_CALLS=0", "RATE_LIMIT_PER_MINUTE=0", "RATE_LIMIT_PER_IP_PER_SECOND=0"}

// wantLimited checks an HTTP answer is a 429 with Retry-After and code.
func wantLimited(t *testing.T, what string, res httpResult, code string) {
	t.Helper()
	if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, `"`+code+`"`) {
		t.Fatalf("%s = %d %s, want 429 %s", what, res.status, res.body, code)
	}
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After = %q, want whole seconds", what, res.header.Get("Retry-After"))
	}
}

// toolCallHTTP runs name without arguments through POST /mcp/tool/call.
func toolCallHTTP(t *testing.T, a *aegis, token, name string, header ...string) httpResult {
	t.Helper()
	return do(t, "POST", a.URL+"/mcp/tool/call", token, map[string]any{"tool": name, "arguments": map[string]any{}}, header...)
}

// auditReasons counts the audit records of kind by reason.
func auditReasons(t *testing.T, a *aegis, kind audit.Kind) map[string]int {
	t.Helper()
	data, err := os.ReadFile(a.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for line := range strings.SplitSeq(string(data), "\n") {
		var e audit.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Kind == kind {
			out[e.Reason]++
		}
	}
	return out
}

func TestCallsPerMinuteOnEveryTransport(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "RATE_LIMIT_PER_MINUTE=3")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken

	streamable := a.connectWith(t, "/mcp", alice, legacyProtocol, nil)
	sse := a.connect(t, "/mcp/sse", alice)
	// The minute's budget, spent across the transports.
	if res := toolCallHTTP(t, a, alice, "get_me"); res.status != http.StatusOK {
		t.Fatalf("alice's first call = %d %s", res.status, res.body)
	}
	if text, isErr := call(t, streamable, "get_me", nil); isErr {
		t.Fatalf("alice's second call = %s", text)
	}
	if text, isErr := call(t, sse, "get_me", nil); isErr {
		t.Fatalf("alice's third call = %s", text)
	}
	wantLimited(t, "alice's fourth call over /mcp/tool/call", toolCallHTTP(t, a, alice, "get_me"), "rate_limited")
	if text, isErr := call(t, streamable, "get_me", nil); !isErr || !strings.Contains(text, "RATE_LIMIT_PER_MINUTE") || !strings.Contains(text, "retry in") {
		t.Errorf("alice over the limit on /mcp = %v %q, want a tool error naming RATE_LIMIT_PER_MINUTE", isErr, text)
	}
	if text, isErr := call(t, sse, "get_me", nil); !isErr || !strings.Contains(text, "RATE_LIMIT_PER_MINUTE") {
		t.Errorf("alice over the limit on /mcp/sse = %v %q, want a tool error naming RATE_LIMIT_PER_MINUTE", isErr, text)
	}
	if res := toolCallHTTP(t, a, bob, "get_me"); res.status != http.StatusOK {
		t.Errorf("bob, under his own budget = %d %s, want 200", res.status, res.body)
	}
	a.clock.Advance(time.Minute) // the budget refills with time
	if res := toolCallHTTP(t, a, alice, "get_me"); res.status != http.StatusOK {
		t.Errorf("alice a minute later = %d %s, want 200", res.status, res.body)
	}
	if n := auditReasons(t, a, audit.KindAccessDenied)["rate_limited"]; n != 3 {
		t.Errorf("%d audit records of rate_limited calls, want 3", n)
	}
}

func TestWritesHaveTheirOwnBudget(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g, "WRITE_RATE_LIMIT_PER_MINUTE=1")
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "budget")
	issue := map[string]any{"owner": testgitea.AliceName, "repo": repo, "title": "one"}
	if res := a.toolCall(t, tok, "create_issue", issue); res.Status != http.StatusOK || res.IsError {
		t.Fatalf("first write = %d %s", res.Status, res.Body)
	}
	res := do(t, "POST", a.URL+"/mcp/tool/call", tok, map[string]any{"tool": "create_issue", "arguments": issue})
	wantLimited(t, "second write in a minute", res, "write_rate_limited")
	if !strings.Contains(res.body, "WRITE_RATE_LIMIT_PER_MINUTE") {
		t.Errorf("the refusal does not name its limit: %s", res.body)
	}
	if res := a.toolCall(t, tok, "list_issues", map[string]any{"owner": testgitea.AliceName, "repo": repo}); res.Status != http.StatusOK || res.IsError {
		t.Errorf("a read after the write budget is spent = %d %s, want it to run", res.Status, res.Body)
	}
	var issues []any
	if out := mustCall(t, a, tok, "list_issues", map[string]any{"owner": testgitea.AliceName, "repo": repo}); out != nil {
		issues, _ = out["issues"].([]any)
	}
	if len(issues) != 1 {
		t.Errorf("%d issues exist, want 1: the refused write must not have run", len(issues))
	}
}

func TestCallsInFlightAreBounded(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "MAX_CONCURRENT_CALLS_PER_USER=2", "RATE_LIMIT_PER_MINUTE=0")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	args := map[string]any{"owner": testgitea.AliceName, "repo": "notes", "number": 2}
	const parallel = 48
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range parallel {
		wg.Go(func() {
			res := do(t, "POST", a.URL+"/mcp/tool/call", alice, map[string]any{"tool": "get_pull_request_diff", "arguments": args})
			mu.Lock()
			codes[res.status]++
			mu.Unlock()
			if res.status == http.StatusTooManyRequests && !strings.Contains(res.body, "MAX_CONCURRENT_CALLS_PER_USER") {
				t.Errorf("429 without naming its limit: %s", res.body)
			}
		})
	}
	// Meanwhile bob, under his own bound, is served.
	if res := toolCallHTTP(t, a, bob, "get_me"); res.status != http.StatusOK {
		t.Errorf("bob during alice's burst = %d %s, want 200", res.status, res.body)
	}
	wg.Wait()
	t.Logf("%d parallel calls, at most 2 in flight: %v", parallel, codes)
	if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusOK] < 2 || codes[http.StatusOK]+codes[http.StatusTooManyRequests] != parallel {
		t.Errorf("answers %v: want some calls run and the rest refused with 429", codes)
	}
}

// initSession opens a Streamable HTTP session with a raw initialize and
// returns the answer and the session id.
func initSession(t *testing.T, a *aegis, token string) (httpResult, string) {
	t.Helper()
	msg := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + legacyProtocol +
		`","capabilities":{},"clientInfo":{"name":"limits","version":"1"}}}`
	res := do(t, "POST", a.URL+"/mcp", token, msg, "Accept", "application/json, text/event-stream")
	return res, res.header.Get("Mcp-Session-Id")
}

// openStream opens the standalone event stream of session id; the stream
// is read until it ends, and ended is closed then.
func openStream(t *testing.T, a *aegis, token, id string) (status int, ended <-chan struct{}) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+"/mcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", legacyProtocol)
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by the reader goroutine
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = resp.Body.Close() }()
		_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
	}()
	if resp.StatusCode != http.StatusOK {
		<-done
	}
	return resp.StatusCode, done
}

// eventually retries check until it holds or five seconds pass: the
// server notices a closed session asynchronously.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for range 100 {
		if check() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("%s: not within 5 s", what)
}

func TestSessionsAndStreamsAreBounded(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "MAX_SESSIONS_PER_USER=3", "MAX_STREAMS_PER_USER=2")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken

	var ids []string
	for i := range 3 {
		res, id := initSession(t, a, alice)
		if res.status != http.StatusOK || id == "" {
			t.Fatalf("alice's session %d = %d %s", i+1, res.status, res.body)
		}
		ids = append(ids, id)
	}
	res, _ := initSession(t, a, alice)
	wantLimited(t, "alice's fourth session", res, "too_many_sessions")
	if res, id := initSession(t, a, bob); res.status != http.StatusOK || id == "" {
		t.Errorf("bob's session while alice is at her limit = %d %s", res.status, res.body)
	}

	// Streams: two per user, across /mcp and /mcp/sse.
	if code, _ := openStream(t, a, alice, ids[0]); code != http.StatusOK {
		t.Fatalf("alice's stream on session 1 = %d", code)
	}
	code, ended := openStream(t, a, alice, ids[1])
	if code != http.StatusOK {
		t.Fatalf("alice's stream on session 2 = %d", code)
	}
	if code, _ := openStream(t, a, alice, ids[2]); code != http.StatusTooManyRequests {
		t.Errorf("alice's third stream = %d, want 429", code)
	}
	sse := do(t, "GET", a.URL+"/mcp/sse", alice, nil)
	wantLimited(t, "alice's SSE stream while she holds two", sse, "too_many_streams")

	// Ending a session ends its stream and gives back both slots.
	if res := do(t, "DELETE", a.URL+"/mcp", alice, nil, "Mcp-Session-Id", ids[1], "Mcp-Protocol-Version", legacyProtocol); res.status != http.StatusNoContent {
		t.Fatalf("DELETE session = %d %s", res.status, res.body)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the stream of a deleted session is still open after 5 s")
	}
	eventually(t, "a new session after one was deleted", func() bool {
		res, id := initSession(t, a, alice)
		return res.status == http.StatusOK && id != ""
	})
	eventually(t, "a new stream after one ended", func() bool {
		code, _ := openStream(t, a, alice, ids[2])
		return code == http.StatusOK
	})
}

func TestAddressLimits(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "MAX_AUTH_FAILURES=3", "AUTH_FAILURE_WINDOW=600", "TRUSTED_PROXIES=127.0.0.1")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	if res := toolCallHTTP(t, a, alice, "get_me"); res.status != http.StatusOK { // verified now, before the shut-out
		t.Fatalf("alice = %d %s", res.status, res.body)
	}
	for i := range 3 {
		if res := toolCallHTTP(t, a, "not-a-token-"+strconv.Itoa(i), "get_me"); res.status != http.StatusUnauthorized {
			t.Fatalf("bad token %d = %d, want 401", i+1, res.status)
		}
	}
	// Asking without a token is how clients find the challenge: never counted.
	for range 5 {
		if res := do(t, "POST", a.URL+"/mcp", "", `{}`); res.status != http.StatusUnauthorized {
			t.Fatalf("no token = %d, want 401", res.status)
		}
	}
	wantLimited(t, "a fourth bad token", toolCallHTTP(t, a, "not-a-token-x", "get_me"), "too_many_auth_failures")
	wantLimited(t, "bob's token, never verified, from the shut-out address", toolCallHTTP(t, a, bob, "get_me"), "too_many_auth_failures")
	wantLimited(t, "the shut-out on /mcp", do(t, "POST", a.URL+"/mcp", bob, `{}`), "too_many_auth_failures")
	if res := toolCallHTTP(t, a, alice, "get_me"); res.status != http.StatusOK {
		t.Errorf("alice's already verified token from the shut-out address = %d %s, want 200", res.status, res.body)
	}
	// Another client behind the trusted proxy is another address.
	if res := toolCallHTTP(t, a, bob, "get_me", "X-Forwarded-For", "198.51.100.7"); res.status != http.StatusOK {
		t.Errorf("bob from another address = %d %s, want 200", res.status, res.body)
	}
	if n := auditReasons(t, a, audit.KindSecurityEvent)["too_many_auth_failures"]; n != 1 {
		t.Errorf("%d security events for the shut-out, want exactly 1", n)
	}

	// Untrusted forwarding headers are not believed.
	b := startAegisFor(t, g, toolScopes, "MAX_AUTH_FAILURES=1", "TRUSTED_PROXIES=none")
	bob2 := b.token(t, g, testgitea.BobName, toolScopes).AccessToken
	toolCallHTTP(t, b, "bad", "get_me")
	wantLimited(t, "a spoofed X-Forwarded-For without trusted proxies", toolCallHTTP(t, b, bob2, "get_me", "X-Forwarded-For", "203.0.113.9"), "too_many_auth_failures")
}

func TestRequestsPerSecondPerAddress(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "RATE_LIMIT_PER_IP_PER_SECOND=5", "TRUSTED_PROXIES=127.0.0.1")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	limited := 0
	for range 20 { // the clock does not move: more than a second's budget
		res := toolCallHTTP(t, a, alice, "get_me")
		switch res.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			wantLimited(t, "over the address's rate", res, "rate_limited")
		default:
			t.Fatalf("= %d %s", res.status, res.body)
		}
	}
	if limited < 14 {
		t.Errorf("%d of 20 requests in one instant refused, want at least 14 (a budget of 5)", limited)
	}
	if res := toolCallHTTP(t, a, alice, "get_me", "X-Forwarded-For", "198.51.100.8"); res.status != http.StatusOK {
		t.Errorf("alice from another address = %d %s, want 200", res.status, res.body)
	}
	if res := do(t, "GET", a.URL+"/healthz", "", nil); res.status != http.StatusOK {
		t.Errorf("/healthz under the limit = %d: health checks are not limited", res.status)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// readOnlyScopes read everything the write tests touch, and write nothing.
const readOnlyScopes = "openid read:repository read:issue read:user"

// TestWriteModeOffOffersNoWrites: by default no write tool is listed on
// any path, and a call to one is refused, saying write mode is off.
func TestWriteModeOffOffersNoWrites(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, writeScopes)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "woff")

	for _, path := range []string{"/mcp", "/mcp/sse"} {
		cs := a.connect(t, path, tok)
		if names := toolNames(t, cs); slices.Contains(names, "create_issue") || !slices.Contains(names, "get_issue") {
			t.Errorf("tools over %s with write mode off: %v", path, names)
		}
		text, isErr := call(t, cs, "create_issue", map[string]any{"owner": "alice", "repo": repo, "title": "x"})
		if !isErr || !strings.Contains(text, "write mode is off") || !strings.Contains(text, "WRITE_MODE=true") {
			t.Errorf("create_issue over %s = %s (error %v), want the write-mode refusal", path, text, isErr)
		}
	}
	res := a.toolCall(t, tok, "create_issue", map[string]any{"owner": "alice", "repo": repo, "title": "x"})
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "write_mode_off") {
		t.Errorf("create_issue over /mcp/tool/call = %d %s, want 403 write_mode_off", res.Status, res.Body)
	}
	if list := do(t, "GET", a.URL+"/mcp/tools", tok, nil); strings.Contains(list.body, `"create_issue"`) {
		t.Error("GET /mcp/tools lists create_issue with write mode off")
	}
	if n := countIssues(t, g, "alice", repo); n != 0 {
		t.Errorf("%d issues created with write mode off", n)
	}
}

// TestWhitelistBoundsWrites: with WRITE_REPOSITORY_WHITELIST, a write
// lands only in a listed repository; elsewhere it is refused, naming the
// repository and the variable, and nothing changes.
func TestWhitelistBoundsWrites(t *testing.T) {
	g := needGitea(t)
	listed, other := freshRepo(t, g, testgitea.AliceName, "wlisted"), freshRepo(t, g, testgitea.AliceName, "wother")
	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+listed+",acme/*")
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken

	mustCall(t, a, tok, "create_issue", map[string]any{"owner": "alice", "repo": listed, "title": "allowed"})
	res := a.toolCall(t, tok, "create_issue", map[string]any{"owner": "alice", "repo": other, "title": "refused"})
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "alice/"+other) || !strings.Contains(res.Body, "WRITE_REPOSITORY_WHITELIST") {
		t.Errorf("create_issue outside the whitelist = %d %s", res.Status, res.Body)
	}
	cs := a.connect(t, "/mcp", tok)
	if text, isErr := call(t, cs, "create_issue", map[string]any{"owner": "ALICE", "repo": other, "title": "refused"}); !isErr || !strings.Contains(text, "WRITE_REPOSITORY_WHITELIST") {
		t.Errorf("create_issue outside the whitelist over MCP = %s", text)
	}
	if n := countIssues(t, g, "alice", other); n != 0 {
		t.Errorf("%d issues created outside the whitelist", n)
	}
	if n := countIssues(t, g, "alice", listed); n != 1 {
		t.Errorf("%d issues in the listed repository, want 1", n)
	}
}

// TestMissingWriteScope: a token granted read scopes only gets the same
// insufficient_scope step-up as reads, naming the write scope, on every
// transport that can carry it; over SSE the guidance is a tool error.
func TestMissingWriteScope(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, readOnlyScopes, "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	tok := a.token(t, g, testgitea.AliceName, readOnlyScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wscope")
	args := map[string]any{"owner": "alice", "repo": repo, "title": "x"}
	wantScope := `scope="read:repository read:user write:issue"`

	res := a.toolCall(t, tok, "create_issue", args)
	if res.Status != 403 || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) || !strings.Contains(res.WWWAuthenticate, wantScope) ||
		!strings.Contains(res.Body, "revoke") {
		t.Errorf("/mcp/tool/call = %d %s (WWW-Authenticate %q)", res.Status, res.Body, res.WWWAuthenticate)
	}

	legacy := a.connectWith(t, "/mcp", tok, legacyProtocol, nil)
	if slices.Contains(toolNames(t, legacy), "create_issue") {
		t.Error("tools/list offers create_issue to a token without write:issue")
	}
	body := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_issue","arguments":{"owner":"alice","repo":"` + repo + `","title":"x"}}}`
	r := do(t, "POST", a.URL+"/mcp", tok, body, "Mcp-Session-Id", legacy.ID(), "Accept", "application/json, text/event-stream",
		"Mcp-Protocol-Version", legacyProtocol)
	if h := r.header.Get("WWW-Authenticate"); r.status != 403 || !strings.Contains(h, wantScope) {
		t.Errorf("/mcp at %s = %d %s (WWW-Authenticate %q)", legacyProtocol, r.status, r.body, h)
	}
	r = post2026(t, a, tok, 6, "create_issue", args, nil)
	if h := r.header.Get("WWW-Authenticate"); r.status != 403 || !strings.Contains(h, wantScope) {
		t.Errorf("/mcp at 2026-07-28 = %d %s (WWW-Authenticate %q)", r.status, r.body, h)
	}

	sse := a.connect(t, "/mcp/sse", tok)
	if text, isErr := call(t, sse, "create_issue", args); !isErr || !strings.Contains(text, "write:issue") || !strings.Contains(text, "revoke") {
		t.Errorf("over SSE = %s (error %v)", text, isErr)
	}
	if n := countIssues(t, g, "alice", repo); n != 0 {
		t.Errorf("%d issues created without write:issue", n)
	}
}

// post2026 sends one tools/call as a stateless MCP 2026-07-28 request;
// params holds extra call parameters (inputResponses, requestState).
func post2026(t *testing.T, a *aegis, token string, id int, name string, args, params map[string]any) httpResult {
	t.Helper()
	p := map[string]any{"name": name, "arguments": args, "_meta": map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientCapabilities": map[string]any{"elicitation": map[string]any{"form": map[string]any{}}},
	}}
	for k, v := range params {
		p[k] = v
	}
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": p}
	return do(t, "POST", a.URL+"/mcp", token, msg, "Accept", "application/json, text/event-stream",
		"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", name)
}

// rpcResult is the JSON-RPC result of an answer sent as JSON or as one SSE event.
func rpcResult(t *testing.T, r httpResult) map[string]any {
	t.Helper()
	data := r.body
	if i := strings.Index(data, "data: "); i >= 0 {
		data = strings.TrimSpace(strings.SplitN(data[i+len("data: "):], "\n", 2)[0])
	}
	var msg struct {
		Result map[string]any `json:"result"`
		Error  any            `json:"error"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil || msg.Result == nil {
		t.Fatalf("answer %d %q: no JSON-RPC result (%v, error %v)", r.status, r.body, err, msg.Error)
	}
	return msg.Result
}

func resultText(res map[string]any) string {
	var b strings.Builder
	content, _ := res["content"].([]any)
	for _, c := range content {
		if m, ok := c.(map[string]any); ok {
			fmt.Fprint(&b, m["text"])
		}
	}
	return b.String()
}

// labelExists reads whether owner/repo has a label called name.
func labelExists(t *testing.T, g *testgitea.Gitea, owner, repo, name string) bool {
	t.Helper()
	var labels []struct{ Name string }
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+owner+"/"+repo+"/labels", 200, &labels); err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(labels, func(l struct{ Name string }) bool { return l.Name == name })
}

// TestDestructiveCallsAskTheHuman: with CONFIRM_DESTRUCTIVE (the default) a
// destructive call runs only after the human accepted the exact question
// in their client, at either protocol revision; a declined question
// changes nothing; a client that cannot ask is not offered such tools and
// is refused; an answer cannot be replayed, nor used by another user.
func TestDestructiveCallsAskTheHuman(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wconfirm")
	label := func(name string) map[string]any { return map[string]any{"owner": "alice", "repo": repo, "name": name} }
	newLabel := func(name string) {
		mustCall(t, a, alice, "create_label", map[string]any{"owner": "alice", "repo": repo, "name": name, "color": "#123456"})
	}
	answering := func(action string, confirm bool, asked *[]string) *mcp.ClientOptions {
		return &mcp.ClientOptions{ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			*asked = append(*asked, req.Params.Message)
			return &mcp.ElicitResult{Action: action, Content: map[string]any{"confirm": confirm}}, nil
		}}
	}

	for _, version := range []string{"2026-07-28", legacyProtocol} {
		t.Run(version, func(t *testing.T) {
			name := "accept-" + version
			newLabel(name)
			var asked []string
			cs := a.connectWith(t, "/mcp", alice, version, answering("accept", true, &asked))
			if !slices.Contains(toolNames(t, cs), "delete_label") {
				t.Error("a client that can ask is not offered delete_label")
			}
			if text, isErr := call(t, cs, "delete_label", label(name)); isErr {
				t.Fatalf("accepted delete_label = %s", text)
			}
			if want := fmt.Sprintf(`Delete label %q in alice/%s?`, name, repo); len(asked) != 1 || !strings.Contains(asked[0], want) {
				t.Errorf("the human was asked %q, want %q", asked, want)
			}
			if labelExists(t, g, "alice", repo, name) {
				t.Error("the accepted deletion did not happen")
			}

			name = "decline-" + version
			newLabel(name)
			asked = nil
			cs = a.connectWith(t, "/mcp", alice, version, answering("decline", false, &asked))
			if text, isErr := call(t, cs, "delete_label", label(name)); !isErr || !strings.Contains(text, "declined: nothing was done") {
				t.Errorf("declined delete_label = %s (error %v)", text, isErr)
			}
			if !labelExists(t, g, "alice", repo, name) {
				t.Error("a declined deletion happened")
			}
		})
	}

	t.Run("a client that cannot ask", func(t *testing.T) {
		newLabel("kept")
		cs := a.connectWith(t, "/mcp", alice, legacyProtocol, nil)
		if slices.Contains(toolNames(t, cs), "delete_label") {
			t.Error("a client without elicitation is offered delete_label")
		}
		if text, isErr := call(t, cs, "delete_label", label("kept")); !isErr || !strings.Contains(text, "CONFIRM_DESTRUCTIVE") {
			t.Errorf("delete_label from a client that cannot ask = %s", text)
		}
		res := a.toolCall(t, alice, "delete_label", label("kept"))
		if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "confirmation_unavailable") {
			t.Errorf("delete_label over /mcp/tool/call = %d %s", res.Status, res.Body)
		}
		if !labelExists(t, g, "alice", repo, "kept") {
			t.Error("a deletion nobody confirmed happened")
		}
	})

	t.Run("no replay, no other user", func(t *testing.T) {
		bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
		if err := g.AddCollaborator(t.Context(), "alice", repo, "bob", "write"); err != nil {
			t.Fatal(err)
		}
		accept := map[string]any{"confirm": map[string]any{"action": "accept", "content": map[string]any{"confirm": true}}}
		ask := func(name string) string {
			q := rpcResult(t, post2026(t, a, alice, 1, "delete_label", label(name), nil))
			state, _ := q["requestState"].(string)
			if q["resultType"] != "input_required" || state == "" {
				t.Fatalf("first delete_label answer = %v, want a question", q)
			}
			return state
		}

		newLabel("bobs-try")
		state := ask("bobs-try")
		res := rpcResult(t, post2026(t, a, bob, 2, "delete_label", label("bobs-try"), map[string]any{"inputResponses": accept, "requestState": state}))
		if res["isError"] != true || !strings.Contains(resultText(res), "does not match") {
			t.Errorf("bob answering alice's question = %v", res)
		}
		if !labelExists(t, g, "alice", repo, "bobs-try") {
			t.Error("bob's answer to alice's question deleted the label")
		}

		newLabel("once")
		state = ask("once")
		if res := rpcResult(t, post2026(t, a, alice, 3, "delete_label", label("once"), map[string]any{"inputResponses": accept, "requestState": state})); res["isError"] == true {
			t.Fatalf("answered delete_label = %v", res)
		}
		if labelExists(t, g, "alice", repo, "once") {
			t.Fatal("the answered deletion did not happen")
		}
		newLabel("once")
		res = rpcResult(t, post2026(t, a, alice, 4, "delete_label", label("once"), map[string]any{"inputResponses": accept, "requestState": state}))
		if res["isError"] != true || !strings.Contains(resultText(res), "already used") {
			t.Errorf("replayed answer = %v", res)
		}
		if !labelExists(t, g, "alice", repo, "once") {
			t.Error("a replayed answer deleted the label again")
		}
	})
}

// TestToolsetsNarrow: TOOLSETS narrows what the server offers, and a
// connection narrows further with X-MCP-Toolsets or ?toolsets=, never
// widening past the server's.
func TestToolsetsNarrow(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, writeScopes, "TOOLSETS=issues,pulls")
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	listed := func(r httpResult) []string {
		var body struct{ Tools []struct{ Name string } }
		r.json(t, &body)
		var names []string
		for _, tool := range body.Tools {
			names = append(names, tool.Name)
		}
		return names
	}
	all := listed(do(t, "GET", a.URL+"/mcp/tools", tok, nil))
	if !slices.Contains(all, "get_issue") || !slices.Contains(all, "get_pull_request") || slices.Contains(all, "get_file_contents") {
		t.Errorf("TOOLSETS=issues,pulls lists %v", all)
	}
	if got := listed(do(t, "GET", a.URL+"/mcp/tools?toolsets=pulls,repos", tok, nil)); slices.Contains(got, "get_issue") ||
		slices.Contains(got, "get_file_contents") || !slices.Contains(got, "get_pull_request") {
		t.Errorf("?toolsets=pulls,repos lists %v, want pull tools only", got)
	}
	if res := a.toolCall(t, tok, "get_file_contents", map[string]any{"owner": "alice", "repo": "notes", "path": "README.md"}); res.Status != http.StatusNotFound ||
		!strings.Contains(res.Body, "toolset_not_offered") {
		t.Errorf("a tool outside TOOLSETS = %d %s", res.Status, res.Body)
	}

	client := &http.Client{Transport: headerTransport{token: tok, header: http.Header{"X-Mcp-Toolsets": {"issues"}}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e", Version: "1"}, nil).Connect(t.Context(),
		&mcp.StreamableClientTransport{Endpoint: a.URL + "/mcp", HTTPClient: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if got := toolNames(t, cs); !slices.Contains(got, "get_issue") || slices.Contains(got, "get_pull_request") {
		t.Errorf("X-MCP-Toolsets: issues lists %v", got)
	}
	if text, isErr := call(t, cs, "get_pull_request", map[string]any{"owner": "alice", "repo": "notes", "number": testgitea.AlicePull}); !isErr ||
		!strings.Contains(text, `toolset "pulls"`) {
		t.Errorf("a tool outside the connection's toolsets = %s", text)
	}
}

// headerTransport sends a bearer token and extra headers on every request.
type headerTransport struct {
	token  string
	header http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+h.token)
	for k, v := range h.header {
		r.Header[k] = v
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestWhitelistCoversAForksDestination: a fork writes where it lands, so
// the caller's own account (or the organization) must be listed as well as
// the source.
func TestWhitelistCoversAForksDestination(t *testing.T) {
	g := needGitea(t)
	repo := freshRepo(t, g, testgitea.AliceName, "wforksrc")
	if err := g.AddCollaborator(t.Context(), "alice", repo, "bob", "read"); err != nil {
		t.Fatal(err)
	}
	fork := map[string]any{"owner": "alice", "repo": repo}
	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+repo)
	bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	res := a.toolCall(t, bob, "fork_repository", fork)
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "bob/* are not allowed") {
		t.Errorf("a fork into bob's unlisted account = %d %s", res.Status, res.Body)
	}
	if err := g.AdminGet(t.Context(), "/api/v1/repos/bob/"+repo, http.StatusNotFound, nil); err != nil {
		t.Errorf("the refused fork exists: %v", err)
	}

	b := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+repo+",bob/*")
	bob = b.token(t, g, testgitea.BobName, writeScopes).AccessToken
	mustCall(t, b, bob, "fork_repository", fork)
	if err := g.AdminGet(t.Context(), "/api/v1/repos/bob/"+repo, http.StatusOK, nil); err != nil {
		t.Errorf("the allowed fork: %v", err)
	}
	// bob's seeded repositories are listed by other tests: leave them as they were.
	if err := g.AdminDo(t.Context(), http.MethodDelete, "/api/v1/repos/bob/"+repo, "", nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
}

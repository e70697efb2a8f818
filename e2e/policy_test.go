package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestPolicyNarrowsWhatIsAllowed: each kind of policy rule allows and
// denies on the real server, over every path a call can take; tools/list
// follows the policy; a denial is a clear refusal with its rule and an
// audit record; a reload swaps the policy, and a bad file is refused with
// the old policy kept.
func TestPolicyNarrowsWhatIsAllowed(t *testing.T) {
	g := needGitea(t)
	open, closed := freshRepo(t, g, testgitea.AliceName, "wpolicy"), freshRepo(t, g, testgitea.AliceName, "wpolicy-closed")
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	writePolicy := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := `defaults: {read: allow, write: deny, destructive: deny}
toolsets: {deny: [actions]}
tools: {deny: [search_code]}
repositories:
  "alice/` + open + `":
    write: allow
    tools: {deny: [update_issue]}
    paths: {deny: [".gitea/workflows/**", "secret/**"]}
  "alice/` + closed + `":
    paths: {allow: ["docs/**"]}
users:
  "bob": {write: deny}
`
	writePolicy(base)
	logPath := filepath.Join(dir, "audit.log")
	a := startWriter(t, g, "POLICY_FILE_PATH="+file, "AUDIT_LOG_PATH="+logPath)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	args := func(repo string, kv ...any) map[string]any {
		m := map[string]any{"owner": "alice", "repo": repo}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	denied := func(who, token, tool string, in map[string]any, rule string) {
		t.Helper()
		res := a.toolCall(t, token, tool, in)
		if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "policy_denied") || !strings.Contains(res.Body, rule) {
			t.Errorf("%s %s(%v) = %d %s, want a policy denial naming %q", who, tool, in, res.Status, res.Body, rule)
		}
	}

	mustCall(t, a, alice, "create_issue", args(open, "title", "allowed here"))
	denied("alice", alice, "create_issue", args(closed, "title", "not here"), "defaults.write")
	denied("alice", alice, "update_issue", args(open, "number", 1, "title", "renamed"), `tools.deny: update_issue`)
	denied("alice", alice, "get_file_contents", args(closed, "path", "README.md"), "paths.allow")
	if res := a.toolCall(t, alice, "get_file_contents", args(closed, "path", "docs/none.md")); res.Status != http.StatusOK {
		t.Errorf("a path the allow list covers = %d %s, want it past the policy (Gitea: not found)", res.Status, res.Body)
	}
	denied("bob", bob, "create_issue", args(open, "title", "bob may not write"), `users[\"bob\"].write`) // as JSON escapes it
	mustCall(t, a, alice, "create_file", args(open, "path", "docs/ok.md", "content", "fine\n"))
	for _, p := range []string{".gitea/workflows/ci.yml", "secret/key.txt", "docs/../secret/key.txt", "./secret//key.txt", "Secret/KEY.txt"} {
		denied("alice", alice, "create_file", args(open, "path", p, "content", "x"), "paths.deny")
	}
	if err := g.AdminGet(t.Context(), "/api/v1/repos/alice/"+open+"/contents/secret/key.txt", http.StatusNotFound, nil); err != nil {
		t.Errorf("a denied path was written: %v", err)
	}
	denied("alice", alice, "get_file_contents", args(open, "path", "secret/key.txt"), "paths.deny")
	mustCall(t, a, alice, "get_file_contents", args(open, "path", "docs/ok.md"))
	denied("alice", alice, "delete_file", args(open, "path", "docs/ok.md", "sha", strings.Repeat("a", 40)), "defaults.destructive")
	denied("alice", alice, "search_code", map[string]any{"owner": "alice", "repo": open, "query": "x"}, "tools.deny")
	denied("alice", alice, "list_workflow_runs", args(open), "toolsets.deny")

	cs := a.connect(t, "/mcp", alice)
	names := toolNames(t, cs)
	for _, hidden := range []string{"search_code", "list_workflow_runs", "dispatch_workflow", "delete_file", "merge_pull_request"} {
		if slices.Contains(names, hidden) {
			t.Errorf("tools/list offers %s, which the policy denies everywhere", hidden)
		}
	}
	if !slices.Contains(names, "create_file") || !slices.Contains(names, "get_issue") {
		t.Errorf("tools/list lacks what the policy allows: %v", names)
	}
	if text, isErr := call(t, cs, "create_issue", args(closed, "title", "over MCP")); !isErr || !strings.Contains(text, "the policy denies") {
		t.Errorf("a denied call over MCP = %s (error %v), want the policy's refusal", text, isErr)
	}

	// A bad file is refused at reload, and the policy in force stays.
	writePolicy(base + "bogus_key: true\n")
	if err := a.srv.ReloadPolicy(); err == nil || !strings.Contains(err.Error(), "policy.yaml:13") {
		t.Errorf("reloading a bad file = %v, want it refused naming line 13", err)
	}
	mustCall(t, a, alice, "create_issue", args(open, "title", "old policy still in force"))
	denied("alice", alice, "create_issue", args(closed, "title", "still denied"), "defaults.write")
	// A good file replaces it.
	writePolicy(strings.Replace(base, "write: deny, destructive", "write: allow, destructive", 1))
	if err := a.srv.ReloadPolicy(); err != nil {
		t.Fatalf("reloading a good file: %v", err)
	}
	mustCall(t, a, alice, "create_issue", args(closed, "title", "allowed after the reload"))

	// Every denial and reload is on record, in a chain that verifies.
	if _, err := audit.Verify(logPath); err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var denials, reloads int
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Kind == audit.KindAccessDenied && e.Reason == "policy_denied" && e.Decision == audit.DecisionDeny && e.Rule != "":
			denials++
		case e.Kind == audit.KindPolicyReload:
			reloads++
		}
	}
	if denials < 12 || reloads != 2 {
		t.Errorf("the audit log has %d policy denials and %d reloads, want >= 12 and 2", denials, reloads)
	}
}

// TestBadPolicyStopsStartup: a policy file with a mistake is a
// configuration error naming the file and the line.
func TestBadPolicyStopsStartup(t *testing.T) {
	g := needGitea(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("defaults:\n  write: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil, []string{"GITEA_URL=" + g.URL, "GITEA_OAUTH_CLIENT_ID=x", "GITEA_OAUTH_CLIENT_SECRET=y", "POLICY_FILE_PATH=" + file}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(server.Options{Config: cfg})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "policy.yaml:2") {
		t.Errorf("server.New with a bad policy = %v, want a configuration error naming policy.yaml:2", err)
	}
}

// TestPolicyFiltersReadsAcrossRepositories: reads that span repositories
// leave out the items of a repository the policy does not let the caller
// read, and fetch refuses them.
func TestPolicyFiltersReadsAcrossRepositories(t *testing.T) {
	g := needGitea(t)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("repositories:\n  \"bob/*\": {read: deny}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const scope = "openid read:repository read:issue read:user"
	a := startAegisFor(t, g, scope, "POLICY_FILE_PATH="+file)
	alice := a.token(t, g, testgitea.AliceName, scope).AccessToken
	website := testgitea.BobName + "/" + testgitea.BobPublicRepo

	var repos struct{ Repositories []namedRepo }
	mustDecode(t, a, alice, "list_repositories", map[string]any{"query": testgitea.BobPublicRepo}, &repos)
	for _, r := range repos.Repositories {
		if r.FullName == website {
			t.Errorf("list_repositories shows %s, which the policy denies", website)
		}
	}
	res := mustCall(t, a, alice, "search", map[string]any{"query": testgitea.BobPublicRepo})
	if data, _ := json.Marshal(res); strings.Contains(string(data), website) {
		t.Errorf("search shows %s: %s", website, data)
	}
	mustRefuse(t, a, alice, "fetch", map[string]any{"id": "repo/" + website}, "policy does not let you read "+website)
	// Without the policy, the same reads show it: the filter is the policy's.
	b := startAegisFor(t, g, scope)
	aliceB := b.token(t, g, testgitea.AliceName, scope).AccessToken
	mustDecode(t, b, aliceB, "list_repositories", map[string]any{"query": testgitea.BobPublicRepo}, &repos)
	if !slices.ContainsFunc(repos.Repositories, func(r namedRepo) bool { return r.FullName == website }) {
		t.Errorf("without a policy list_repositories lacks %s: %+v", website, repos)
	}
}

// namedRepo is a repository in a tool's list.
type namedRepo struct {
	FullName string `json:"full_name"`
}

package policy

import (
	"strings"
	"sync"
	"testing"
)

// known is the server's vocabulary in these tests.
var known = Known{
	Tools: []string{
		"get_file_contents", "list_directory", "create_file", "update_file", "delete_file",
		"delete_branch", "delete_tag", "merge_pull_request", "create_pull_request",
		"create_issue", "list_issues", "get_me", "search", "list_workflow_runs", "dispatch_workflow",
	},
	Toolsets: []string{"users", "repos", "issues", "pulls", "actions", "search"},
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src), known)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

// req builds a request: tool, toolset, access, repo, paths.
func req(user, tool, toolset, access, repo string, paths ...string) Request {
	return Request{User: user, Tool: tool, Toolset: toolset, Access: access, Repo: repo, Paths: paths}
}

func TestDecide(t *testing.T) {
	const (
		specific = `
repositories:
  "*/*":       {tools: {deny: [create_issue]}}
  "acme/*":    {tools: {deny: [update_file]}}
  "acme/p*":   {tools: {deny: [create_file]}}
  "acme/prod": {tools: {deny: [delete_file]}}
`
		paths = `
paths: {deny: [".gitea/workflows/**"]}
repositories:
  "acme/*":
    paths: {allow: ["src/**", "docs/**"], deny: ["src/secrets/**"]}
`
	)
	tests := []struct {
		name   string
		policy string
		req    Request
		allow  bool
		rule   string
	}{
		// Global tools and toolsets.
		{"global tool deny", `tools: {deny: [merge_pull_request]}`, req("", "merge_pull_request", "pulls", Write, "acme/x"), false, "tools.deny: merge_pull_request"},
		{"global tool deny, other tool", `tools: {deny: [merge_pull_request]}`, req("", "create_pull_request", "pulls", Write, "acme/x"), true, "defaults.write"},
		{"global tool deny, no repository", `tools: {deny: [merge_pull_request]}`, req("", "merge_pull_request", "pulls", Write, ""), false, "tools.deny: merge_pull_request"},
		{"glob deny", `tools: {deny: ["delete_*"]}`, req("", "delete_branch", "repos", Destructive, "a/b"), false, "tools.deny: delete_*"},
		{"glob deny ignores case", `tools: {deny: ["delete_*"]}`, req("", "Delete_Branch", "repos", Destructive, "a/b"), false, "tools.deny: delete_*"},
		{"glob deny, no match", `tools: {deny: ["delete_*"]}`, req("", "create_file", "repos", Write, "a/b"), true, "defaults.write"},
		{"toolset deny", `toolsets: {deny: [actions]}`, req("", "dispatch_workflow", "actions", Write, "a/b"), false, "toolsets.deny: actions"},
		{"toolset deny ignores case", `toolsets: {deny: [actions]}`, req("", "list_workflow_runs", "Actions", Read, ""), false, "toolsets.deny: actions"},
		{"toolset deny, other toolset", `toolsets: {deny: [actions]}`, req("", "list_issues", "issues", Read, ""), true, "defaults.read"},
		{"tools.allow lists", `tools: {allow: [get_file_contents]}`, req("", "get_file_contents", "repos", Read, "a/b"), true, "defaults.read"},
		{"tools.allow denies the rest", `tools: {allow: [get_file_contents]}`, req("", "list_issues", "issues", Read, "a/b"), false, "tools.allow"},
		{"empty tools.allow denies all", `tools: {allow: []}`, req("", "get_me", "users", Read, ""), false, "tools.allow"},
		{"toolsets.allow denies the rest", `toolsets: {allow: [issues]}`, req("", "get_me", "users", Read, ""), false, "toolsets.allow"},
		{"toolsets.allow, no toolset", `toolsets: {allow: [issues]}`, req("", "get_me", "", Read, ""), false, "toolsets.allow"},
		{"allow lists are one list: tool", `{tools: {allow: [get_me]}, toolsets: {allow: [issues]}}`, req("", "get_me", "users", Read, ""), true, "defaults.read"},
		{"allow lists are one list: toolset", `{tools: {allow: [get_me]}, toolsets: {allow: [issues]}}`, req("", "create_issue", "issues", Write, "a/b"), true, "defaults.write"},
		{"allow lists are one list: neither", `{tools: {allow: [get_me]}, toolsets: {allow: [issues]}}`, req("", "get_file_contents", "repos", Read, "a/b"), false, "tools.allow, toolsets.allow"},
		{"deny wins over allow", `tools: {allow: ["delete_*"], deny: [delete_branch]}`, req("", "delete_branch", "repos", Destructive, "a/b"), false, "tools.deny: delete_branch"},
		{"deny wins over allow, other", `tools: {allow: ["delete_*"], deny: [delete_branch]}`, req("", "delete_file", "repos", Destructive, "a/b"), true, "defaults.destructive"},
		{"toolset deny wins over tools.allow", `{tools: {allow: [dispatch_workflow]}, toolsets: {deny: [actions]}}`, req("", "dispatch_workflow", "actions", Write, "a/b"), false, "toolsets.deny: actions"},
		{"global allow and repository allow intersect", `{tools: {allow: [get_me, search]}, repositories: {"a/b": {tools: {allow: [search, list_issues]}}}}`, req("", "list_issues", "issues", Read, "a/b"), false, "tools.allow"},

		// Repository rules.
		{"repository tool deny", `repositories: {"acme/*": {tools: {deny: [merge_pull_request]}}}`, req("", "merge_pull_request", "pulls", Write, "acme/web"), false, `repositories["acme/*"].tools.deny: merge_pull_request`},
		{"repository tool deny, other owner", `repositories: {"acme/*": {tools: {deny: [merge_pull_request]}}}`, req("", "merge_pull_request", "pulls", Write, "other/web"), true, "defaults.write"},
		{"repository tool deny, spanning call", `repositories: {"acme/*": {tools: {deny: [search]}}}`, req("", "search", "search", Read, ""), true, "defaults.read"},
		{"repository ignores case", `repositories: {"acme/*": {tools: {deny: [merge_pull_request]}}}`, req("", "merge_pull_request", "pulls", Write, "ACME/Web"), false, `repositories["acme/*"].tools.deny: merge_pull_request`},
		{"repository write allow over defaults", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}}`, req("", "create_file", "repos", Write, "acme/web"), true, `repositories["acme/*"].write`},
		{"defaults write deny elsewhere", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}}`, req("", "create_file", "repos", Write, "other/web"), false, "defaults.write"},
		{"defaults write deny, spanning call", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}}`, req("", "create_file", "repos", Write, ""), false, "defaults.write"},
		{"defaults write deny, read still allowed", `defaults: {write: deny}`, req("", "get_file_contents", "repos", Read, "a/b"), true, "defaults.read"},
		{"destructive deny", `defaults: {destructive: deny}`, req("", "delete_file", "repos", Destructive, "a/b"), false, "defaults.destructive"},
		{"destructive deny, write allowed", `defaults: {destructive: deny}`, req("", "update_file", "repos", Write, "a/b"), true, "defaults.write"},
		{"repository destructive allow", `{defaults: {destructive: deny}, repositories: {"acme/tmp": {destructive: allow}}}`, req("", "delete_file", "repos", Destructive, "acme/tmp"), true, `repositories["acme/tmp"].destructive`},
		{"levels are cumulative: write deny stops destructive", `{defaults: {write: deny}, repositories: {"a/b": {destructive: allow}}}`, req("", "delete_file", "repos", Destructive, "a/b"), false, "defaults.write"},
		{"repository read deny stops writes", `repositories: {"acme/secret": {read: deny}}`, req("", "create_issue", "issues", Write, "acme/secret"), false, `repositories["acme/secret"].read`},
		{"most specific: exact", specific, req("", "delete_file", "repos", Destructive, "acme/prod"), false, `repositories["acme/prod"].tools.deny: delete_file`},
		{"most specific: exact only", specific, req("", "create_file", "repos", Write, "acme/prod"), true, "defaults.write"},
		{"most specific: exact only, broadest ignored", specific, req("", "create_issue", "issues", Write, "acme/prod"), true, "defaults.write"},
		{"most specific: more literals", specific, req("", "create_file", "repos", Write, "acme/pre"), false, `repositories["acme/p*"].tools.deny: create_file`},
		{"most specific: more literals only", specific, req("", "update_file", "repos", Write, "acme/pre"), true, "defaults.write"},
		{"most specific: owner glob", specific, req("", "update_file", "repos", Write, "acme/web"), false, `repositories["acme/*"].tools.deny: update_file`},
		{"most specific: catch-all", specific, req("", "create_issue", "issues", Write, "other/web"), false, `repositories["*/*"].tools.deny: create_issue`},
		{"most specific: exact beats glob on access", `repositories: {"acme/*": {write: deny}, "acme/prod": {write: allow}}`, req("", "create_file", "repos", Write, "acme/prod"), true, `repositories["acme/prod"].write`},
		{"most specific: glob where exact misses", `repositories: {"acme/*": {write: deny}, "acme/prod": {write: allow}}`, req("", "create_file", "repos", Write, "acme/dev"), false, `repositories["acme/*"].write`},
		{"tie: both apply (first)", `repositories: {"acme/*": {tools: {deny: [create_file]}}, "*/prod": {tools: {deny: [update_file]}}}`, req("", "create_file", "repos", Write, "acme/prod"), false, `repositories["acme/*"].tools.deny: create_file`},
		{"tie: both apply (second)", `repositories: {"acme/*": {tools: {deny: [create_file]}}, "*/prod": {tools: {deny: [update_file]}}}`, req("", "update_file", "repos", Write, "acme/prod"), false, `repositories["*/prod"].tools.deny: update_file`},
		{"tie: deny wins on access", `repositories: {"acme/*": {write: allow}, "*/prod": {write: deny}}`, req("", "update_file", "repos", Write, "acme/prod"), false, `repositories["*/prod"].write`},

		// User rules.
		{"user rule", `users: {bob: {write: deny}}`, req("bob", "create_issue", "issues", Write, "a/b"), false, `users["bob"].write`},
		{"user rule ignores case", `users: {bob: {write: deny}}`, req("Bob", "create_issue", "issues", Write, "a/b"), false, `users["bob"].write`},
		{"user rule, other user", `users: {bob: {write: deny}}`, req("carol", "create_issue", "issues", Write, "a/b"), true, "defaults.write"},
		{"user rule, no user", `users: {bob: {write: deny}}`, req("", "create_issue", "issues", Write, "a/b"), true, "defaults.write"},
		{"user write deny stops destructive", `users: {bob: {write: deny}}`, req("bob", "delete_file", "repos", Destructive, "a/b"), false, `users["bob"].write`},
		{"user read allowed", `users: {bob: {write: deny}}`, req("bob", "list_issues", "issues", Read, "a/b"), true, "defaults.read"},
		{"user tool deny", `users: {bob: {tools: {deny: [create_issue]}}}`, req("bob", "create_issue", "issues", Write, ""), false, `users["bob"].tools.deny: create_issue`},
		{"user tools.allow", `users: {alice: {tools: {allow: [get_file_contents]}}}`, req("alice", "list_issues", "issues", Read, ""), false, `users["alice"].tools.allow`},
		{"user toolset deny", `users: {alice: {toolsets: {deny: [pulls]}}}`, req("alice", "merge_pull_request", "pulls", Write, "a/b"), false, `users["alice"].toolsets.deny: pulls`},
		{"user allow over defaults", `{defaults: {write: deny}, users: {alice: {write: allow}}}`, req("alice", "create_file", "repos", Write, "a/b"), true, `users["alice"].write`},
		{"user allow does not beat repository deny", `{repositories: {"acme/*": {write: deny}}, users: {alice: {write: allow}}}`, req("alice", "create_file", "repos", Write, "acme/web"), false, `repositories["acme/*"].write`},
		{"user deny beats repository allow", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}, users: {bob: {write: deny}}}`, req("bob", "create_file", "repos", Write, "acme/web"), false, `users["bob"].write`},
		{"user cannot allow a global deny", `{tools: {deny: [merge_pull_request]}, users: {alice: {tools: {allow: [merge_pull_request]}}}}`, req("alice", "merge_pull_request", "pulls", Write, "a/b"), false, "tools.deny: merge_pull_request"},
		{"user paths", `users: {bob: {paths: {deny: ["docs/**"]}}}`, req("bob", "get_file_contents", "repos", Read, "a/b", "docs/x.md"), false, `users["bob"].paths.deny: docs/**`},

		// Paths.
		{"path allowed", paths, req("", "get_file_contents", "repos", Read, "acme/web", "src/main.go"), true, "defaults.read"},
		{"path allow list root dir", paths, req("", "list_directory", "repos", Read, "acme/web", "src"), true, "defaults.read"},
		{"path outside allow", paths, req("", "get_file_contents", "repos", Read, "acme/web", "README.md"), false, `repositories["acme/*"].paths.allow`},
		{"path deny", paths, req("", "get_file_contents", "repos", Read, "acme/web", "src/secrets/key.pem"), false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{"path deny, the directory", paths, req("", "list_directory", "repos", Read, "acme/web", "src/secrets"), false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{"path deny at write", paths, req("", "update_file", "repos", Write, "acme/web", "src/secrets/key.pem"), false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{"path deny, one of several", paths, req("", "update_file", "repos", Write, "acme/web", "src/a.go", "src/secrets/k", "docs/x"), false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{"global path deny", paths, req("", "update_file", "repos", Write, "other/web", ".gitea/workflows/ci.yml"), false, "paths.deny: .gitea/workflows/**"},
		{"global path deny ignores case", paths, req("", "update_file", "repos", Write, "other/web", ".Gitea/Workflows/ci.yml"), false, "paths.deny: .gitea/workflows/**"},
		{"global path, elsewhere", paths, req("", "update_file", "repos", Write, "other/web", "README.md"), true, "defaults.write"},
		{"root under an allow list", paths, req("", "list_directory", "repos", Read, "acme/web", ""), false, `repositories["acme/*"].paths.allow`},
		{"root without an allow list", paths, req("", "list_directory", "repos", Read, "other/web", "."), true, "defaults.read"},
		{"allow compares exactly", paths, req("", "get_file_contents", "repos", Read, "acme/web", "SRC/main.go"), false, `repositories["acme/*"].paths.allow`},
		{"pattern without ** covers below", `paths: {deny: [src/secrets]}`, req("", "get_file_contents", "repos", Read, "a/b", "src/secrets/deep/key"), false, "paths.deny: src/secrets"},
		{"* stays in its segment", `paths: {deny: ["*.pem"]}`, req("", "get_file_contents", "repos", Read, "a/b", "keys/x.pem"), true, "defaults.read"},
		{"** crosses segments", `paths: {deny: ["**/*.pem"]}`, req("", "get_file_contents", "repos", Read, "a/b", "keys/x.PEM"), false, "paths.deny: **/*.pem"},
		{"paths without a repository", paths, req("", "search", "search", Read, "", "src/x"), false, "request.paths: paths without a repository"},
		{"tools decided before paths", `{tools: {deny: [update_file]}, paths: {deny: [x]}}`, req("", "update_file", "repos", Write, "a/b", "x"), false, "tools.deny: update_file"},

		// Malformed requests.
		{"no access", ``, req("", "get_me", "users", "", ""), false, "request.access: not read, write or destructive"},
		{"unknown access", ``, req("", "get_me", "users", "admin", ""), false, "request.access: not read, write or destructive"},
		{"access is case-sensitive", ``, req("", "get_me", "users", "Read", ""), false, "request.access: not read, write or destructive"},
		{"no tool", ``, req("", "", "users", Read, ""), false, "request.tool: no tool named"},
		{"repository without owner", ``, req("", "get_me", "users", Read, "acme"), false, "request.repo: not owner/repo"},
		{"repository with three parts", ``, req("", "get_me", "users", Read, "acme/x/y"), false, "request.repo: not owner/repo"},
		{"repository with empty owner", ``, req("", "get_me", "users", Read, "/x"), false, "request.repo: not owner/repo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.policy
			if src == "" {
				src = "{}"
			}
			got := mustParse(t, src).Decide(tt.req)
			if got.Allow != tt.allow || got.Rule != tt.rule {
				t.Errorf("Decide(%+v) = %+v, want {Allow:%v Rule:%s}", tt.req, got, tt.allow, tt.rule)
			}
		})
	}
}

// TestPathTricks: every spelling of a denied path stays denied, every
// escape is refused, whatever the allow lists say.
func TestPathTricks(t *testing.T) {
	p := mustParse(t, `
paths: {allow: ["**"], deny: ["src/secrets/**", ".gitea/workflows"]}
`)
	denied := []string{
		"src/secrets/x",
		"src/../src/secrets/x",
		"./src/secrets/x",
		"src//secrets/x",
		"src/./secrets/x",
		"src/secrets/",
		"src/secrets",
		"SRC/Secrets/x",
		"src/SECRETS/x",
		"ſrc/ſecrets/x", // long s folds to s
		"a/b/../../src/secrets/x",
		".gitea/workflows/ci.yml",
		".GITEA/workflows/ci.yml",
		"x/../.gitea/workflows/ci.yml",
		// Escapes and unsafe spellings are denied outright.
		"../src/secrets/x",
		"src/../../x",
		"..",
		"/src/secrets/x",
		"/etc/passwd",
		`src\secrets\x`,
		`src/secrets\x`,
		"src/secrets\x00/x",
		"src/\x00",
		"src/a\nb",
		"src/a\rb",
		"src/a\x7fb",
		"src/a\u0085b",
		"src/\xff",
		strings.Repeat("a/", 3000),
	}
	for _, path := range denied {
		if d := p.Decide(req("", "get_file_contents", "repos", Read, "a/b", path)); d.Allow {
			t.Errorf("Decide(%q) allowed, want denied", path)
		}
		if ok, _ := p.PathAllowed("", "a/b", path); ok {
			t.Errorf("PathAllowed(%q) = true, want false", path)
		}
	}
	allowed := []string{"src/main.go", "src/secretsx/y", "src/secret", "docs/../README.md", "", ".", "src/", "src/.gitea/workflows/x"}
	for _, path := range allowed {
		if d := p.Decide(req("", "get_file_contents", "repos", Read, "a/b", path)); !d.Allow {
			t.Errorf("Decide(%q) denied by %s, want allowed", path, d.Rule)
		}
	}
	for path, rule := range map[string]string{
		"../x":       "request.paths: a path leads out of the repository",
		"/x":         "request.paths: a path is absolute",
		`a\b`:        "request.paths: a path holds a backslash",
		"a\x00":      "request.paths: a path holds a control character",
		"\xff":       "request.paths: a path is not valid UTF-8",
		"SRC/Secret": "",
	} {
		if _, got := p.PathAllowed("", "a/b", path); got != rule {
			t.Errorf("PathAllowed(%q) rule = %q, want %q", path, got, rule)
		}
	}
}

func TestPathAllowed(t *testing.T) {
	p := mustParse(t, `
paths: {deny: [".gitea/**"]}
repositories:
  "acme/*": {paths: {allow: ["src/**"], deny: ["src/secrets/**"]}}
users:
  bob: {paths: {deny: ["src/private"]}}
`)
	tests := []struct {
		user, repo, path string
		ok               bool
		rule             string
	}{
		{"", "acme/web", "src/a.go", true, ""},
		{"", "acme/web", "README.md", false, `repositories["acme/*"].paths.allow`},
		{"", "acme/web", "src/secrets/k", false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{"", "other/web", "README.md", true, ""},
		{"", "other/web", ".gitea/x", false, "paths.deny: .gitea/**"},
		{"bob", "other/web", "src/private/x", false, `users["bob"].paths.deny: src/private`},
		{"alice", "other/web", "src/private/x", true, ""},
		{"", "", "src/a.go", false, "request.paths: paths without a repository"},
		{"", "acme", "src/a.go", false, "request.repo: not owner/repo"},
	}
	for _, tt := range tests {
		ok, rule := p.PathAllowed(tt.user, tt.repo, tt.path)
		if ok != tt.ok || rule != tt.rule {
			t.Errorf("PathAllowed(%q, %q, %q) = %v, %q; want %v, %q", tt.user, tt.repo, tt.path, ok, rule, tt.ok, tt.rule)
		}
	}
}

func TestToolAllowed(t *testing.T) {
	tests := []struct {
		name, policy, user, tool, toolset, access string
		want                                      bool
	}{
		{"no rules", `{}`, "", "get_me", "users", Read, true},
		{"global deny hides", `tools: {deny: [merge_pull_request]}`, "", "merge_pull_request", "pulls", Write, false},
		{"global glob hides", `tools: {deny: ["delete_*"]}`, "", "delete_file", "repos", Destructive, false},
		{"toolset deny hides", `toolsets: {deny: [actions]}`, "", "dispatch_workflow", "actions", Write, false},
		{"not in allow list hides", `tools: {allow: [get_me]}`, "", "list_issues", "issues", Read, false},
		{"user deny hides for the user", `users: {bob: {tools: {deny: [create_issue]}}}`, "bob", "create_issue", "issues", Write, false},
		{"user deny, other user", `users: {bob: {tools: {deny: [create_issue]}}}`, "carol", "create_issue", "issues", Write, true},
		{"denied in some repositories stays", `repositories: {"acme/*": {tools: {deny: [merge_pull_request]}}}`, "", "merge_pull_request", "pulls", Write, true},
		{"catch-all deny stays (spanning calls)", `repositories: {"*/*": {tools: {deny: [search]}}}`, "", "search", "search", Read, true},
		{"defaults deny hides", `defaults: {destructive: deny}`, "", "delete_file", "repos", Destructive, false},
		{"allowed in one repository stays", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}}`, "", "create_file", "repos", Write, true},
		{"allowed in one exact repository stays", `{defaults: {write: deny}, repositories: {"acme/web": {write: allow}}}`, "", "create_file", "repos", Write, true},
		{"allowed only where the user is denied", `{defaults: {write: deny}, repositories: {"acme/*": {write: allow}}, users: {bob: {write: deny}}}`, "bob", "create_file", "repos", Write, false},
		{"user allow over defaults", `{defaults: {write: deny}, users: {alice: {write: allow}}}`, "alice", "create_file", "repos", Write, true},
		{"bad access", `{}`, "", "get_me", "users", "admin", false},
		{"no tool", `{}`, "", "", "users", Read, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.policy).ToolAllowed(tt.user, tt.tool, tt.toolset, tt.access); got != tt.want {
				t.Errorf("ToolAllowed(%q, %q, %q, %q) = %v, want %v", tt.user, tt.tool, tt.toolset, tt.access, got, tt.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	for name, p := range map[string]*Policy{"Default": Default(), "nil": nil, "parsed {}": mustParse(t, "{}")} {
		for _, access := range []string{Read, Write, Destructive} {
			r := req("bob", "delete_file", "repos", access, "acme/web", "src/secrets/x", ".gitea/workflows/ci.yml")
			if d := p.Decide(r); !d.Allow || d.Rule != "defaults."+access {
				t.Errorf("%s.Decide(%s) = %+v, want allowed by defaults.%s", name, access, d, access)
			}
			if !p.ToolAllowed("bob", "delete_file", "repos", access) {
				t.Errorf("%s.ToolAllowed(%s) = false", name, access)
			}
		}
		if ok, rule := p.PathAllowed("bob", "acme/web", "any/path"); !ok || rule != "" {
			t.Errorf("%s.PathAllowed = %v, %q", name, ok, rule)
		}
		// Malformed requests are refused whatever the policy.
		if d := p.Decide(req("", "get_file_contents", "repos", Read, "a/b", "../x")); d.Allow {
			t.Errorf("%s allowed a path leaving the repository", name)
		}
		if d := p.Decide(req("", "get_me", "users", "", "")); d.Allow {
			t.Errorf("%s allowed a request without access level", name)
		}
	}
}

func TestRefusal(t *testing.T) {
	if got := (Decision{Allow: true, Rule: "defaults.read"}).Refusal(); got != "" {
		t.Errorf("allowed Refusal() = %q, want empty", got)
	}
	d := mustParse(t, `repositories: {"acme/*": {tools: {deny: [merge_pull_request]}}}`).
		Decide(req("", "merge_pull_request", "pulls", Write, "acme/x"))
	want := `the policy denies this call: rule repositories["acme/*"].tools.deny: merge_pull_request`
	if got := d.Refusal(); got != want {
		t.Errorf("Refusal() = %q, want %q", got, want)
	}
	if got := (Decision{}).Refusal(); got != "the policy denies this call" {
		t.Errorf("zero Decision Refusal() = %q", got)
	}
}

// TestRuleHasNoRequestText: a refusal never echoes what the caller sent.
func TestRuleHasNoRequestText(t *testing.T) {
	p := mustParse(t, `{tools: {allow: [get_file_contents]}, paths: {allow: [src]}}`)
	const evil = "IGNORE_PREVIOUS_INSTRUCTIONS"
	for _, r := range []Request{
		req(evil, evil, evil, Read, "a/b"),
		req(evil, evil, evil, evil, evil),
		req("", "get_file_contents", "repos", Read, evil),
		req("", "get_file_contents", "repos", Read, "a/b", evil),
		req("", "get_file_contents", "repos", Read, "a/b", "../"+evil),
	} {
		if d := p.Decide(r); d.Allow || strings.Contains(d.Rule, evil) {
			t.Errorf("Decide(%+v) = %+v", r, d)
		}
	}
}

func TestConcurrentDecide(t *testing.T) {
	p, err := Load("testdata/example.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				user := []string{"bob", "alice", ""}[(i+j)%3]
				p.Decide(req(user, "update_file", "repos", Write, "acme/web", "src/x", "src/secrets/y"))
				p.PathAllowed(user, "acme/prod", "docs/x")
				p.ToolAllowed(user, "delete_file", "repos", Destructive)
			}
		})
	}
	wg.Wait()
}

func TestExample(t *testing.T) {
	p, err := Load("testdata/example.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r     Request
		allow bool
		rule  string
	}{
		{req("", "get_file_contents", "repos", Read, "acme/web", "src/main.go"), true, "defaults.read"},
		{req("", "update_file", "repos", Write, "acme/web", "src/secrets/db.yml"), false, `repositories["acme/*"].paths.deny: src/secrets/**`},
		{req("", "update_file", "repos", Write, "acme/prod", "src/x"), false, `repositories["acme/prod"].write`},
		{req("", "update_file", "repos", Write, "acme/prod", "README.md"), false, `repositories["acme/prod"].write`},
		{req("", "merge_pull_request", "pulls", Write, "acme/web"), false, `repositories["acme/*"].tools.deny: merge_pull_request`},
		{req("", "get_file_contents", "repos", Read, "acme/prod", "README.md"), true, "defaults.read"}, // acme/* does not apply
		{req("", "delete_branch", "repos", Destructive, "other/x"), false, `repositories["*/*"].tools.deny: delete_*`},
		{req("alice", "delete_file", "repos", Destructive, "acme/web", "src/old.go"), true, `users["alice"].destructive`},
		{req("alice", "delete_tag", "repos", Destructive, "acme/web"), false, "tools.deny: delete_tag"},
		{req("bob", "create_issue", "issues", Write, "other/x"), false, `users["bob"].write`},
		{req("bob", "list_workflow_runs", "actions", Read, "other/x"), false, "toolsets.deny: actions"},
		{req("", "update_file", "repos", Write, "other/x", ".gitea/workflows/ci.yml"), false, "paths.deny: .gitea/workflows/**"},
	}
	for _, tt := range tests {
		if d := p.Decide(tt.r); d.Allow != tt.allow || d.Rule != tt.rule {
			t.Errorf("Decide(%+v) = %+v, want {Allow:%v Rule:%s}", tt.r, d, tt.allow, tt.rule)
		}
	}
}

// TestRestrictsPaths: a repository is path-restricted when a global,
// repository or user path rule applies to it.
func TestRestrictsPaths(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`repositories:
  "acme/*": {paths: {deny: ["secret/**"]}}
  "acme/open": {write: allow}
users:
  "carol": {paths: {allow: ["docs/**"]}}
`), Known{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, repo string
		want       bool
	}{
		{user: "bob", repo: "acme/web", want: true},
		{user: "bob", repo: "acme/open", want: false}, // the most specific rule has no path rules
		{user: "bob", repo: "alice/notes", want: false},
		{user: "carol", repo: "alice/notes", want: true},
		{user: "bob", repo: "not-a-repo", want: true},
	}
	for _, tt := range tests {
		if got := p.RestrictsPaths(tt.user, tt.repo); got != tt.want {
			t.Errorf("RestrictsPaths(%q, %q) = %v, want %v", tt.user, tt.repo, got, tt.want)
		}
	}
	if Default().RestrictsPaths("bob", "acme/web") {
		t.Error("the default policy restricts paths")
	}
}

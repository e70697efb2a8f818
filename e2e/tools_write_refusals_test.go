package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// TestWriteGitRefusals: bob's writes to alice's private repository find
// nothing, and his writes to acme/handbook, which he may only read, are
// refused as forbidden; either way nothing changes.
func TestWriteGitRefusals(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	ctx := t.Context()

	writes := func(sha, branch, tag string) map[string]map[string]any {
		return map[string]map[string]any{
			"create_file":   {"path": "x.txt", "content": "x\n"},
			"update_file":   {"path": "f.txt", "content": "x\n", "sha": sha},
			"delete_file":   {"path": "f.txt", "sha": sha},
			"commit_files":  {"files": []map[string]any{{"operation": "delete", "path": "f.txt", "sha": sha}}},
			"create_branch": {"branch": "x"},
			"delete_branch": {"branch": branch},
			"create_tag":    {"tag": "x"},
			"delete_tag":    {"tag": tag},
		}
	}
	// unchanged checks alice's repo kept f.txt at sha, main at head,
	// keep-branch and keep-tag, and got no x.txt, branch x or tag x.
	unchanged := func(t *testing.T, repo, sha, head string) {
		t.Helper()
		if got, blob := wgFile(t, g, repo, "f.txt", "main"); got != "f\n" || blob != sha {
			t.Errorf("f.txt read back as %q at blob %s, want it unchanged at %s", got, blob, sha)
		}
		if got := wgHead(t, g, repo, "main"); got != head {
			t.Errorf("main is at %q, want %s", got, head)
		}
		for _, p := range []string{"/branches/keep-branch", "/tags/keep-tag"} {
			if err := g.AdminGet(ctx, wgAPI(repo)+p, http.StatusOK, nil); err != nil {
				t.Error(err)
			}
		}
		for _, p := range []string{"/branches/x", "/tags/x", "/contents/x.txt"} {
			if err := g.AdminGet(ctx, wgAPI(repo)+p, http.StatusNotFound, nil); err != nil {
				t.Error(err)
			}
		}
	}

	t.Run("alice's repository", func(t *testing.T) {
		repo := freshRepo(t, g, testgitea.AliceName, "wgit")
		if err := g.PutFile(ctx, testgitea.AliceName, repo, "f.txt", "f\n", ""); err != nil {
			t.Fatal(err)
		}
		_, sha := wgFile(t, g, repo, "f.txt", "main")
		head := wgHead(t, g, repo, "main")
		for path, body := range map[string]map[string]any{
			"/tags": {"tag_name": "keep-tag"}, "/branches": {"new_branch_name": "keep-branch"},
		} {
			if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+path, testgitea.AliceName, body, http.StatusCreated, nil); err != nil {
				t.Fatal(err)
			}
		}
		for name, args := range writes(sha, "keep-branch", "keep-tag") {
			args["owner"], args["repo"] = testgitea.AliceName, repo
			mustRefuse(t, a, bob, name, args, "not found")
		}
		mustRefuse(t, a, bob, "fork_repository", twArgs(repo), "not found")
		if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.BobName+"/"+repo, http.StatusNotFound, nil); err != nil {
			t.Error(err)
		}
		unchanged(t, repo, sha, head)
	})

	t.Run("read-only org repository", func(t *testing.T) {
		// handbook is seeded and read by other tests: it is only read here.
		owner, repo := testgitea.Org, testgitea.OrgRepo
		var readme struct{ SHA string }
		if err := g.AdminGet(ctx, "/api/v1/repos/"+owner+"/"+repo+"/contents/README.md", http.StatusOK, &readme); err != nil {
			t.Fatal(err)
		}
		head := twBranchHead(t, g, owner, repo, "main")
		for name, args := range writes(readme.SHA, "main", "x") {
			if p, ok := args["path"]; ok && p == "f.txt" {
				args["path"] = "README.md"
			}
			if files, ok := args["files"].([]map[string]any); ok {
				files[0]["path"] = "README.md"
			}
			args["owner"], args["repo"] = owner, repo
			mustRefuse(t, a, bob, name, args, "may not change this repository")
		}
		var after struct{ SHA string }
		if err := g.AdminGet(ctx, "/api/v1/repos/"+owner+"/"+repo+"/contents/README.md", http.StatusOK, &after); err != nil || after.SHA != readme.SHA {
			t.Errorf("README.md read back at blob %q (%v), want %s", after.SHA, err, readme.SHA)
		}
		if got := twBranchHead(t, g, owner, repo, "main"); got != head {
			t.Errorf("main is at %q, want %s", got, head)
		}
		for _, p := range []string{"/branches/x", "/tags/x", "/contents/x.txt"} {
			if err := g.AdminGet(ctx, "/api/v1/repos/"+owner+"/"+repo+p, http.StatusNotFound, nil); err != nil {
				t.Error(err)
			}
		}
	})
}

// TestWriteGitHiddenWithoutWriteMode: with write mode off the repository
// write tools are not listed, and a call to one is refused unsent.
func TestWriteGitHiddenWithoutWriteMode(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, writeScopes)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	names := toolNames(t, a.connect(t, "/mcp", tok))
	if !slices.Contains(names, "get_file_contents") {
		t.Fatalf("tools/list = %v, want the read tools", names)
	}
	for _, w := range []string{"create_file", "update_file", "delete_file", "commit_files", "create_branch", "delete_branch",
		"create_tag", "delete_tag", "fork_repository"} {
		if slices.Contains(names, w) {
			t.Errorf("tools/list with write mode off lists %s", w)
		}
	}
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")
	if res := a.toolCall(t, tok, "create_file", twArgs(repo, "path", "x.txt", "content", "x\n")); res.Status != http.StatusForbidden ||
		!strings.Contains(res.Body, "write_mode_off") {
		t.Errorf("create_file with write mode off = %d %s, want 403 write_mode_off", res.Status, res.Body)
	}
	wgNoFile(t, g, repo, "x.txt", "main")
}

// TestWriteGitConfirmQuestions checks what the human is asked before a
// destructive call, and what each call declares it reaches; nothing runs.
func TestWriteGitConfirmQuestions(t *testing.T) {
	bind := func(t *testing.T, name string, args map[string]any) *tools.Call {
		t.Helper()
		tool, ok := tools.Default().Lookup(name)
		if !ok {
			t.Fatalf("no tool %s", name)
		}
		raw, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tool.Bind(raw)
		if err != nil {
			t.Fatalf("Bind %s(%s): %v", name, raw, err)
		}
		return c
	}
	sha := strings.Repeat("a", 40)
	notes := func(kv ...any) map[string]any { return twArgs(testgitea.AliceRepo, kv...) }
	questions := []struct {
		name string
		args map[string]any
		want string
	}{
		{"update_file", notes("path", "docs/a.md", "content", "x", "sha", sha, "branch", "main"), `Overwrite "docs/a.md" on main in alice/notes?`},
		{"update_file", notes("path", "docs/a.md", "content", "x", "sha", sha), `Overwrite "docs/a.md" on the default branch in alice/notes?`},
		{"delete_file", notes("path", "a\u200bb.md", "sha", sha, "new_branch", "fix"),
			`Delete "a\u200bb.md" on new branch fix (from the default branch) in alice/notes?`},
		{"commit_files", notes("branch", "main", "files", []map[string]any{
			{"operation": "create", "path": "new/d.txt", "content": "d"},
			{"operation": "update", "path": "a.txt", "content": "a", "sha": sha},
			{"operation": "update", "path": "e.txt", "from_path": "old/e.txt", "content": "e", "sha": sha},
			{"operation": "rename", "path": "moved/b.txt", "from_path": "b.txt", "sha": sha},
			{"operation": "delete", "path": "c.txt", "sha": sha},
		}), `Commit 5 file change(s) on main in alice/notes: create "new/d.txt"; update "a.txt"; update "e.txt" (moved from "old/e.txt"); ` +
			`rename "b.txt" to "moved/b.txt"; delete "c.txt"?`},
		{"delete_branch", notes("branch", "feature/x"), `Delete branch "feature/x" in alice/notes?`},
		{"delete_tag", notes("tag", "v1.0.0"), `Delete tag "v1.0.0" in alice/notes?`},
		{"create_file", notes("path", "a.md", "content", "x"), ""},
		{"create_branch", notes("branch", "x"), ""},
		{"create_tag", notes("tag", "x"), ""},
		{"fork_repository", notes(), ""},
	}
	for _, q := range questions {
		if got := bind(t, q.name, q.args).Question; got != q.want {
			t.Errorf("%s question = %q, want %q", q.name, got, q.want)
		}
	}

	// A long commit is asked about in bounded words, naming how many more.
	var many []map[string]any
	for i := range 100 {
		many = append(many, map[string]any{"operation": "delete", "path": strings.Repeat("d", 200) + "/" + strings.Repeat("x", i+1), "sha": sha})
	}
	q := bind(t, "commit_files", notes("files", many)).Question
	if len(q) > 800 || !strings.HasPrefix(q, "Commit 100 file change(s) on the default branch in alice/notes: delete ") ||
		!strings.HasSuffix(q, "x\"; and 99 more?") {
		t.Errorf("question for 100 long changes (%d bytes) = %q", len(q), q)
	}
	one := []map[string]any{{"operation": "delete", "path": strings.Repeat("p", 490), "sha": sha},
		{"operation": "rename", "path": strings.Repeat("q", 490), "from_path": strings.Repeat("r", 490), "sha": sha}}
	if q := bind(t, "commit_files", notes("files", one)).Question; len(q) > 800 || !strings.Contains(q, "and 1 more?") {
		t.Errorf("question for two long changes (%d bytes) = %q", len(q), q)
	}

	// What the whitelist checks: the files written, the branch landed on,
	// and a fork's destination when it is known beforehand.
	c := bind(t, "commit_files", notes("branch", "main", "new_branch", "fix", "files", []map[string]any{
		{"operation": "rename", "path": "b.md", "from_path": "a.md", "sha": sha}}))
	if tg := c.Target; tg.Owner != "alice" || tg.Repo != "notes" || tg.Ref != "fix" || !slices.Equal(tg.Paths, []string{"b.md", "a.md"}) || len(tg.Related) != 0 {
		t.Errorf("commit_files target = %+v", tg)
	}
	forks := []struct {
		args map[string]any
		want []tools.RepoName
	}{
		{notes(), []tools.RepoName{{}}}, // the caller's own account, name unknown
		{notes("name", "copy"), []tools.RepoName{{Repo: "copy"}}},
		{notes("organization", "acme"), []tools.RepoName{{Owner: "acme"}}},
		{notes("organization", "acme", "name", "copy"), []tools.RepoName{{Owner: "acme", Repo: "copy"}}},
	}
	for _, f := range forks {
		if got := bind(t, "fork_repository", f.args).Target.Related; !slices.Equal(got, f.want) {
			t.Errorf("fork_repository(%v) reaches %v, want %v", f.args, got, f.want)
		}
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// The repository write tools end to end: each change made through aegis
// is read back from Gitea as the administrator. The wg* read-back helpers
// are gitea_write_git_test.go's.

// twArgs are a tool's arguments on alice's repository repo, plus kv pairs.
func twArgs(repo string, kv ...any) map[string]any {
	args := map[string]any{"owner": testgitea.AliceName, "repo": repo}
	for i := 0; i+1 < len(kv); i += 2 {
		args[kv[i].(string)] = kv[i+1]
	}
	return args
}

// twFileOut is create_file's and update_file's result.
type twFileOut struct {
	Path   string `json:"path"`
	SHA    string `json:"sha"`
	Commit string `json:"commit"`
	Branch string `json:"branch"`
	URL    string `json:"url"`
}

// twCommitURL reports whether url is the web page of commit sha in alice's repo.
func twCommitURL(url, repo, sha string) bool {
	return sha != "" && strings.HasSuffix(url, "/"+testgitea.AliceName+"/"+repo+"/commit/"+sha)
}

func TestWriteGitFiles(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")

	// Written as given: CRLF, trailing blanks, tabs, an invisible character.
	content := "# Grüße\r\n  trailing  \n\tx\u200by\n"
	head0 := wgHead(t, g, repo, "main")
	var created twFileOut
	mustDecode(t, a, tok, "create_file", twArgs(repo, "path", "docs/new.md", "content", content, "message", "Add the new page"), &created)
	got, blob := wgFile(t, g, repo, "docs/new.md", "main")
	if got != content {
		t.Errorf("created file = %q, want exactly %q", got, content)
	}
	head := wgHead(t, g, repo, "main")
	if created.Path != "docs/new.md" || created.SHA != blob || created.Commit != head || created.Branch != "main" || !twCommitURL(created.URL, repo, head) {
		t.Errorf("create_file = %+v, want docs/new.md at blob %s, commit %s (the new head) on main", created, blob, head)
	}
	if c := wgReadCommit(t, g, repo, head); !slices.Equal(c.parents(), []string{head0}) ||
		strings.TrimSpace(c.Commit.Message) != "Add the new page" || !slices.Equal(c.files(), []string{"added docs/new.md"}) {
		t.Errorf("the commit read back = %+v, want one added file on %s with the message", c, head0)
	}

	// Creating it again is refused: the file is there.
	mustRefuse(t, a, tok, "create_file", twArgs(repo, "path", "docs/new.md", "content", "clobber\n"), "already exists")
	if got, sha := wgFile(t, g, repo, "docs/new.md", "main"); got != content || sha != blob || wgHead(t, g, repo, "main") != head {
		t.Error("a refused create_file changed the file or the branch")
	}

	// On a new branch: main stays.
	var onBranch twFileOut
	mustDecode(t, a, tok, "create_file", twArgs(repo, "path", "b.md", "content", "b\n", "branch", "main", "new_branch", "feature/b"), &onBranch)
	if got, _ := wgFile(t, g, repo, "b.md", "feature/b"); got != "b\n" {
		t.Errorf("b.md on feature/b = %q", got)
	}
	wgNoFile(t, g, repo, "b.md", "main")
	if bh := wgHead(t, g, repo, "feature/b"); onBranch.Branch != "feature/b" || onBranch.Commit != bh ||
		!slices.Equal(wgReadCommit(t, g, repo, bh).parents(), []string{head}) || wgHead(t, g, repo, "main") != head {
		t.Errorf("create_file on a new branch = %+v, want a commit on feature/b from %s, main unchanged", onBranch, head)
	}

	var updated twFileOut
	mustDecode(t, a, tok, "update_file", twArgs(repo, "path", "docs/new.md", "content", "v2\n", "sha", blob), &updated)
	got, blob2 := wgFile(t, g, repo, "docs/new.md", "main")
	head2 := wgHead(t, g, repo, "main")
	if got != "v2\n" || blob2 == blob || updated.SHA != blob2 || updated.Commit != head2 || updated.Branch != "main" ||
		!slices.Equal(wgReadCommit(t, g, repo, head2).parents(), []string{head}) {
		t.Errorf("update_file = %+v; file read back %q at blob %s, head %s; want v2 in a commit on %s", updated, got, blob2, head2, head)
	}

	// A stale sha: the file changed since it was read. Refused, unchanged.
	mustRefuse(t, a, tok, "update_file", twArgs(repo, "path", "docs/new.md", "content", "lost update\n", "sha", blob),
		"the file changed since you read it")
	mustRefuse(t, a, tok, "update_file", twArgs(repo, "path", "docs/new.md", "content", "lost update\n", "sha", blob),
		"read it again with get_file_contents")
	if got, sha := wgFile(t, g, repo, "docs/new.md", "main"); got != "v2\n" || sha != blob2 || wgHead(t, g, repo, "main") != head2 {
		t.Errorf("after a refused update the file is %q (blob %s), want %q unchanged", got, sha, "v2\n")
	}

	// Deleting: a stale sha is refused, the current one removes the file.
	mustRefuse(t, a, tok, "delete_file", twArgs(repo, "path", "docs/new.md", "sha", blob), "the file changed since you read it")
	if got, _ := wgFile(t, g, repo, "docs/new.md", "main"); got != "v2\n" || wgHead(t, g, repo, "main") != head2 {
		t.Error("a refused delete_file changed the repository")
	}
	var deleted struct {
		Deleted, Commit, Branch, URL string
	}
	mustDecode(t, a, tok, "delete_file", twArgs(repo, "path", "docs/new.md", "sha", blob2, "message", "Remove it"), &deleted)
	wgNoFile(t, g, repo, "docs/new.md", "main")
	head3 := wgHead(t, g, repo, "main")
	if deleted.Deleted != "docs/new.md" || deleted.Commit != head3 || deleted.Branch != "main" || !twCommitURL(deleted.URL, repo, head3) {
		t.Errorf("delete_file = %+v, want docs/new.md deleted in %s on main", deleted, head3)
	}
	if c := wgReadCommit(t, g, repo, head3); !slices.Equal(c.parents(), []string{head2}) || !slices.Equal(c.files(), []string{"removed docs/new.md"}) ||
		strings.TrimSpace(c.Commit.Message) != "Remove it" {
		t.Errorf("the delete commit read back = %+v", c)
	}
	mustRefuse(t, a, tok, "delete_file", twArgs(repo, "path", "docs/new.md", "sha", blob2), "not found")
	if wgHead(t, g, repo, "main") != head3 {
		t.Error("a refused delete_file moved main")
	}
}

// twChangesOut is commit_files' result.
type twChangesOut struct {
	Commit string `json:"commit"`
	Branch string `json:"branch"`
	URL    string `json:"url"`
	Files  []struct {
		Path string `json:"path"`
		SHA  string `json:"sha"`
	} `json:"files"`
	Note string `json:"note"`
}

func TestWriteGitCommitFiles(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		if err := g.PutFile(t.Context(), testgitea.AliceName, repo, name, strings.TrimSuffix(name, ".txt")+"\n", ""); err != nil {
			t.Fatalf("PutFile %s: %v", name, err)
		}
	}
	_, shaA := wgFile(t, g, repo, "a.txt", "main")
	_, shaB := wgFile(t, g, repo, "b.txt", "main")
	_, shaC := wgFile(t, g, repo, "c.txt", "main")
	head0 := wgHead(t, g, repo, "main")

	var out twChangesOut
	mustDecode(t, a, tok, "commit_files", twArgs(repo, "message", "Four changes at once", "files", []map[string]any{
		{"operation": "create", "path": "new/d.txt", "content": "d\n"},
		{"operation": "update", "path": "a.txt", "content": "a2\n", "sha": shaA},
		{"operation": "rename", "path": "moved/b.txt", "from_path": "b.txt", "sha": shaB},
		{"operation": "delete", "path": "c.txt", "sha": shaC},
	}), &out)
	head := wgHead(t, g, repo, "main")
	c := wgReadCommit(t, g, repo, head)
	// One commit: the new head's only parent is the old head.
	if out.Commit != head || !slices.Equal(c.parents(), []string{head0}) || out.Branch != "main" || !twCommitURL(out.URL, repo, head) ||
		strings.TrimSpace(c.Commit.Message) != "Four changes at once" {
		t.Errorf("commit_files = %+v; head %s with parents %v; want one commit on %s", out, head, c.parents(), head0)
	}
	if want := []string{"added moved/b.txt", "added new/d.txt", "modified a.txt", "removed b.txt", "removed c.txt"}; !slices.Equal(c.files(), want) {
		t.Errorf("the commit's files = %v, want %v", c.files(), want)
	}
	gotD, shaD := wgFile(t, g, repo, "new/d.txt", "main")
	gotA, newA := wgFile(t, g, repo, "a.txt", "main")
	gotB, movedB := wgFile(t, g, repo, "moved/b.txt", "main")
	if gotD != "d\n" || gotA != "a2\n" || gotB != "b\n" || movedB != shaB {
		t.Errorf("read back: d %q, a %q, moved b %q (blob %s)", gotD, gotA, gotB, movedB)
	}
	wgNoFile(t, g, repo, "b.txt", "main")
	wgNoFile(t, g, repo, "c.txt", "main")
	var listed []string
	for _, f := range out.Files {
		listed = append(listed, f.Path+"@"+f.SHA)
	}
	if want := []string{"new/d.txt@" + shaD, "a.txt@" + newA, "moved/b.txt@" + shaB}; !slices.Equal(listed, want) || out.Note != "" {
		t.Errorf("commit_files files = %v (note %q), want %v", listed, out.Note, want)
	}

	// All or nothing: one stale sha refuses the whole commit.
	mustRefuse(t, a, tok, "commit_files", twArgs(repo, "files", []map[string]any{
		{"operation": "create", "path": "e.txt", "content": "e\n"},
		{"operation": "update", "path": "a.txt", "content": "a3\n", "sha": shaA},
	}), "a file changed since its sha was read")
	if wgHead(t, g, repo, "main") != head {
		t.Error("a refused commit_files moved main")
	}
	wgNoFile(t, g, repo, "e.txt", "main")

	// An update without content would empty the file: refused.
	mustRefuse(t, a, tok, "commit_files", twArgs(repo, "files", []map[string]any{
		{"operation": "update", "path": "a.txt", "sha": newA},
	}), "files[0].content")
	if got, sha := wgFile(t, g, repo, "a.txt", "main"); got != "a2\n" || sha != newA || wgHead(t, g, repo, "main") != head {
		t.Error("a refused update without content changed a.txt")
	}

	// On a new branch: main stays.
	var onBranch twChangesOut
	mustDecode(t, a, tok, "commit_files", twArgs(repo, "new_branch", "batch", "files", []map[string]any{
		{"operation": "delete", "path": "a.txt", "sha": newA},
	}), &onBranch)
	wgNoFile(t, g, repo, "a.txt", "batch")
	if got, _ := wgFile(t, g, repo, "a.txt", "main"); got != "a2\n" || wgHead(t, g, repo, "main") != head {
		t.Error("commit_files on a new branch changed main")
	}
	if bh := wgHead(t, g, repo, "batch"); onBranch.Branch != "batch" || onBranch.Commit != bh || len(onBranch.Files) != 0 ||
		!slices.Equal(wgReadCommit(t, g, repo, bh).parents(), []string{head}) {
		t.Errorf("commit_files on a new branch = %+v, want one commit on batch from %s", onBranch, head)
	}
}

// twBranchHead is branch's head commit, or "" if Gitea says it does not exist.
func twBranchHead(t *testing.T, g *testgitea.Gitea, owner, repo, branch string) string {
	t.Helper()
	var b struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+owner+"/"+repo+"/branches/"+branch, http.StatusOK, &b); err != nil {
		if g.AdminGet(t.Context(), "/api/v1/repos/"+owner+"/"+repo+"/branches/"+branch, http.StatusNotFound, nil) == nil {
			return ""
		}
		t.Fatalf("reading back branch %s: %v", branch, err)
	}
	return b.Commit.ID
}

func TestWriteGitBranches(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")
	initial := wgHead(t, g, repo, "main")
	if err := g.PutFile(t.Context(), testgitea.AliceName, repo, "later.txt", "later\n", ""); err != nil {
		t.Fatal(err)
	}
	head := wgHead(t, g, repo, "main")

	var b struct{ Branch, SHA string }
	mustDecode(t, a, tok, "create_branch", twArgs(repo, "branch", "feature/x"), &b)
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "feature/x"); b.Branch != "feature/x" || b.SHA != head || got != head {
		t.Errorf("create_branch = %+v, branch read back at %q; want feature/x at the head of main %s", b, got, head)
	}
	mustDecode(t, a, tok, "create_branch", twArgs(repo, "branch", "old", "from", initial), &b)
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "old"); b.SHA != initial || got != initial {
		t.Errorf("create_branch from a commit = %+v, read back at %q; want %s", b, got, initial)
	}

	mustRefuse(t, a, tok, "create_branch", twArgs(repo, "branch", "feature/x", "from", initial), "already exists")
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "feature/x"); got != head {
		t.Errorf("a refused create_branch moved feature/x to %s", got)
	}
	mustRefuse(t, a, tok, "create_branch", twArgs(repo, "branch", "nowhere", "from", "no-such-ref"), "not found")
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "nowhere"); got != "" {
		t.Errorf("a refused create_branch created nowhere at %s", got)
	}

	var del struct{ Deleted string }
	mustDecode(t, a, tok, "delete_branch", twArgs(repo, "branch", "feature/x"), &del)
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "feature/x"); del.Deleted != "branch feature/x" || got != "" {
		t.Errorf("delete_branch = %+v, branch read back at %q; want it gone", del, got)
	}
	mustRefuse(t, a, tok, "delete_branch", twArgs(repo, "branch", "feature/x"), "not found: no such branch")
	mustRefuse(t, a, tok, "delete_branch", twArgs(repo, "branch", "main"), "it is the default branch")
	if got := twBranchHead(t, g, testgitea.AliceName, repo, "main"); got != head {
		t.Errorf("after a refused delete_branch main is at %q, want %s", got, head)
	}
}

// twTagBack is a tag as the administrator reads it back.
type twTagBack struct {
	ID, Message string
	Commit      struct{ SHA string }
}

// twTag reads tag name of alice's repo back; ok is false if it does not exist.
func twTag(t *testing.T, g *testgitea.Gitea, repo, name string) (tag twTagBack, ok bool) {
	t.Helper()
	if g.AdminGet(t.Context(), wgAPI(repo)+"/tags/"+name, http.StatusNotFound, nil) == nil {
		return tag, false
	}
	if err := g.AdminGet(t.Context(), wgAPI(repo)+"/tags/"+name, http.StatusOK, &tag); err != nil {
		t.Fatalf("reading back tag %s: %v", name, err)
	}
	return tag, true
}

func TestWriteGitTags(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")
	initial := wgHead(t, g, repo, "main")
	if err := g.PutFile(t.Context(), testgitea.AliceName, repo, "later.txt", "later\n", ""); err != nil {
		t.Fatal(err)
	}
	head := wgHead(t, g, repo, "main")

	var out struct {
		Tag       string
		SHA       string
		Annotated bool
	}
	mustDecode(t, a, tok, "create_tag", twArgs(repo, "tag", "v1.0.0"), &out)
	if tb, ok := twTag(t, g, repo, "v1.0.0"); !ok || out.Tag != "v1.0.0" || out.SHA != head || out.Annotated || tb.Commit.SHA != head || tb.ID != head {
		t.Errorf("create_tag = %+v, read back %+v; want a lightweight tag at %s", out, tb, head)
	}
	mustDecode(t, a, tok, "create_tag", twArgs(repo, "tag", "release/v0.1", "target", initial, "message", "First cut"), &out)
	tb, ok := twTag(t, g, repo, "release/v0.1")
	if !ok || !out.Annotated || out.SHA != initial || tb.Commit.SHA != initial || tb.ID == initial || strings.TrimSpace(tb.Message) != "First cut" {
		t.Errorf("create_tag annotated = %+v, read back %+v; want a tag object on %s with the message", out, tb, initial)
	}

	mustRefuse(t, a, tok, "create_tag", twArgs(repo, "tag", "v1.0.0", "target", initial), "already exists")
	if tb, _ := twTag(t, g, repo, "v1.0.0"); tb.Commit.SHA != head {
		t.Errorf("a refused create_tag moved v1.0.0 to %s", tb.Commit.SHA)
	}

	var del struct{ Deleted string }
	mustDecode(t, a, tok, "delete_tag", twArgs(repo, "tag", "v1.0.0"), &del)
	if _, ok := twTag(t, g, repo, "v1.0.0"); ok || del.Deleted != "tag v1.0.0" {
		t.Errorf("delete_tag = %+v, tag still there: %v", del, ok)
	}
	mustRefuse(t, a, tok, "delete_tag", twArgs(repo, "tag", "v1.0.0"), "not found: no such tag")

	// A release's tag is refused.
	if err := g.AdminDo(t.Context(), http.MethodPost, wgAPI(repo)+"/releases", testgitea.AliceName,
		map[string]any{"tag_name": "v2.0.0", "target_commitish": "main", "name": "Two"}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, a, tok, "delete_tag", twArgs(repo, "tag", "v2.0.0"), "a release is attached to this tag")
	if tb, ok := twTag(t, g, repo, "v2.0.0"); !ok || tb.Commit.SHA != head {
		t.Errorf("the release's tag = %+v (exists %v), want it kept at %s", tb, ok, head)
	}
}

func TestWriteGitFork(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	repo := freshRepo(t, g, testgitea.AliceName, "wgit")
	if err := g.AddCollaborator(t.Context(), testgitea.AliceName, repo, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	name := repo + "-fork"
	t.Cleanup(func() {
		// bob's repositories are seeded; leave them as they were.
		if err := g.AdminDo(context.Background(), http.MethodDelete, "/api/v1/repos/"+testgitea.BobName+"/"+name, "", nil, http.StatusNoContent, nil); err != nil {
			t.Errorf("deleting bob's fork: %v", err)
		}
	})

	var out struct {
		FullName      string `json:"full_name"`
		Private       bool   `json:"private"`
		DefaultBranch string `json:"default_branch"`
		URL           string `json:"url"`
	}
	mustDecode(t, a, bob, "fork_repository", twArgs(repo, "name", name), &out)
	var back struct {
		Fork   bool `json:"fork"`
		Parent struct {
			FullName string `json:"full_name"`
		} `json:"parent"`
	}
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+testgitea.BobName+"/"+name, http.StatusOK, &back); err != nil {
		t.Fatalf("reading back the fork: %v", err)
	}
	if out.FullName != testgitea.BobName+"/"+name || !out.Private || out.DefaultBranch != "main" ||
		!strings.HasSuffix(out.URL, "/"+testgitea.BobName+"/"+name) || !back.Fork || back.Parent.FullName != testgitea.AliceName+"/"+repo {
		t.Errorf("fork_repository = %+v, read back %+v; want bob's private fork %s of alice/%s", out, back, name, repo)
	}
	if got, want := twBranchHead(t, g, testgitea.BobName, name, "main"), wgHead(t, g, repo, "main"); got != want {
		t.Errorf("the fork's main is at %q, want the original's %s", got, want)
	}

	// A second fork into bob's account, and one into an organization where
	// bob may only read, are refused and create nothing.
	mustRefuse(t, a, bob, "fork_repository", twArgs(repo, "name", name+"-again"), "already has a fork of this repository")
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+testgitea.BobName+"/"+name+"-again", http.StatusNotFound, nil); err != nil {
		t.Error(err)
	}
	mustRefuse(t, a, bob, "fork_repository", twArgs(repo, "organization", testgitea.Org), "may not create repositories in that organization")
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+testgitea.Org+"/"+repo, http.StatusNotFound, nil); err != nil {
		t.Error(err)
	}
}

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

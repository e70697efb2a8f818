package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
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

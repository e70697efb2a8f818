package e2e

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The secret files' texts: no result may hold any of them.
const (
	pathsSecret  = "SWORDFISH-41 the launch code\n"
	pathsSecret2 = "SWORDFISH-42 the new launch code\n"
	pathsPrivate = "SWORDFISH-43 a private note\n"
)

// TestPolicyPathsWithholdWhatReadsReturn: with a policy denying paths of a
// repository, reads that return many paths (listings, trees, commits,
// comparisons, pull requests, code search, fetch) name the withheld ones,
// marked "withheld": "policy", and show none of their content, SHA or
// patch; the allowed ones are shown as ever.
func TestPolicyPathsWithholdWhatReadsReturn(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	repo := freshRepo(t, g, testgitea.AliceName, "wpaths")
	for path, content := range map[string]string{
		"secret/key.txt": pathsSecret, "docs/a.md": "public notes\n", "docs/private/x.txt": pathsPrivate,
	} {
		if err := g.PutFile(ctx, "alice", repo, path, content, ""); err != nil {
			t.Fatalf("PutFile %s: %v", path, err)
		}
	}
	apiPath := "/api/v1/repos/alice/" + repo
	// One commit, on branch both, changing an allowed and a withheld file.
	sha := func(path string) string {
		var f struct{ SHA string }
		if err := g.AdminGet(ctx, apiPath+"/contents/"+path+"?ref=main", http.StatusOK, &f); err != nil {
			t.Fatal(err)
		}
		return f.SHA
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var changed struct{ Commit struct{ SHA string } }
	err := g.AdminDo(ctx, http.MethodPost, apiPath+"/contents", "alice", map[string]any{
		"branch": "main", "new_branch": "both", "message": "Touch both",
		"files": []map[string]any{
			{"operation": "update", "path": "docs/a.md", "content": b64("public notes, revised\n"), "sha": sha("docs/a.md")},
			{"operation": "update", "path": "secret/key.txt", "content": b64(pathsSecret2), "sha": sha("secret/key.txt")},
		},
	}, http.StatusCreated, &changed)
	if err != nil || changed.Commit.SHA == "" {
		t.Fatalf("committing both files: %v (%+v)", err, changed)
	}
	var pull struct{ Number int64 }
	if err := g.AdminDo(ctx, http.MethodPost, apiPath+"/pulls", "alice",
		map[string]any{"head": "both", "base": "main", "title": "Touch both"}, http.StatusCreated, &pull); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "policy.yaml")
	policy := "repositories:\n  \"alice/" + repo + "\": {paths: {deny: [\"secret/**\", \"docs/private/**\"]}}\n"
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAegisFor(t, g, writeScopes, "POLICY_FILE_PATH="+file)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	args := func(kv ...any) map[string]any {
		m := map[string]any{"owner": "alice", "repo": repo}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// read runs a tool that must succeed, decodes its output into out and
	// checks that no secret text is in it.
	read := func(tool string, in map[string]any, out any) string {
		t.Helper()
		res := mustDecode(t, a, alice, tool, in, out)
		for _, s := range []string{"SWORDFISH", "launch code", "private note"} {
			if strings.Contains(res.Body, s) {
				t.Errorf("%s(%v) shows withheld content %q: %s", tool, in, s, res.Body)
			}
		}
		return res.Body
	}

	t.Run("list_directory", func(t *testing.T) {
		var root struct {
			Entries []struct{ Name, Path, Type, Withheld string }
		}
		read("list_directory", args(), &root)
		got := map[string]string{}
		for _, e := range root.Entries {
			got[e.Path] = e.Type + "/" + e.Withheld
		}
		if got["secret"] != "dir/policy" || got["docs"] != "dir/" || got["README.md"] != "file/" {
			t.Errorf("list_directory at the root = %v, want secret withheld, docs and README.md shown", got)
		}
		var docs struct {
			Entries []struct {
				Path, Withheld string
				Size           int64
			}
		}
		read("list_directory", args("path", "docs"), &docs)
		for _, e := range docs.Entries {
			if withheld := e.Path == "docs/private"; withheld != (e.Withheld == "policy") {
				t.Errorf("list_directory docs: %+v, want only docs/private withheld", e)
			}
		}
		if res := a.toolCall(t, alice, "list_directory", args("path", "secret")); res.Status != http.StatusForbidden || !strings.Contains(res.Body, "policy_denied") {
			t.Errorf("list_directory of a withheld directory = %d %s, want a policy denial", res.Status, res.Body)
		}
	})

	t.Run("get_tree", func(t *testing.T) {
		type entry struct {
			Path, Type, SHA, Withheld string
			Size                      int64
		}
		var tree struct {
			Entries []entry
		}
		read("get_tree", args("recursive", true), &tree)
		byPath := map[string]entry{}
		for _, e := range tree.Entries {
			byPath[e.Path] = e
		}
		for _, p := range []string{"secret", "secret/key.txt", "docs/private", "docs/private/x.txt"} {
			if e, ok := byPath[p]; !ok || e.Withheld != "policy" || e.SHA != "" || e.Size != 0 {
				t.Errorf("get_tree lists %s as %+v (listed %v), want it withheld with no SHA or size", p, e, ok)
			}
		}
		if e := byPath["docs/a.md"]; e.Withheld != "" || len(e.SHA) != 40 || e.Size == 0 {
			t.Errorf("get_tree lists docs/a.md as %+v, want it shown in full", e)
		}
		// A directory's tree SHA, given as ref, would list paths relative
		// to it, which the policy cannot judge: refused.
		var docs struct{ SHA string }
		read("get_tree", args("path", "docs"), &docs)
		mustRefuse(t, a, alice, "get_tree", args("ref", docs.SHA), "branch, tag or commit")
		mustRefuse(t, a, alice, "search_code", args("ref", docs.SHA, "query", "SWORDFISH"), "branch, tag or commit")
		var byCommit struct{ Entries []entry }
		read("get_tree", args("ref", changed.Commit.SHA), &byCommit)
		if len(byCommit.Entries) == 0 {
			t.Error("get_tree at a commit SHA lists nothing")
		}
	})

	type fileChange struct {
		Path, Status, Withheld string
		Additions              *int
	}
	checkChanges := func(t *testing.T, tool string, files []fileChange, patch string, withheld []string) {
		t.Helper()
		var docs, secret *fileChange
		for i, f := range files {
			switch f.Path {
			case "docs/a.md":
				docs = &files[i]
			case "secret/key.txt":
				secret = &files[i]
			}
		}
		if docs == nil || docs.Withheld != "" || docs.Additions == nil || *docs.Additions != 1 {
			t.Errorf("%s lists docs/a.md as %+v, want it shown with its counts", tool, docs)
		}
		if secret == nil || secret.Withheld != "policy" || secret.Additions != nil {
			t.Errorf("%s lists secret/key.txt as %+v, want it named, withheld, without counts", tool, secret)
		}
		if !strings.Contains(patch, "diff --git a/docs/a.md b/docs/a.md") || !strings.Contains(patch, "+public notes, revised") ||
			strings.Contains(patch, "secret/key.txt") {
			t.Errorf("%s patch = %q, want docs/a.md's part only", tool, patch)
		}
		if !slices.Equal(withheld, []string{"secret/key.txt"}) {
			t.Errorf("%s withheld = %q, want secret/key.txt", tool, withheld)
		}
	}

	t.Run("get_commit", func(t *testing.T) {
		var c struct {
			Files    []fileChange
			Patch    string
			Withheld []string
			Stats    struct{ Additions, Deletions int }
		}
		read("get_commit", args("ref", changed.Commit.SHA, "include_patch", true), &c)
		checkChanges(t, "get_commit", c.Files, c.Patch, c.Withheld)
		if c.Stats.Additions != 1 || c.Stats.Deletions != 1 {
			t.Errorf("get_commit stats = %+v, want docs/a.md's alone", c.Stats)
		}
	})

	t.Run("compare_refs", func(t *testing.T) {
		var c struct {
			Files    []fileChange
			Patch    string
			Withheld []string
		}
		read("compare_refs", args("base", "main", "head", "both", "include_patch", true), &c)
		checkChanges(t, "compare_refs", c.Files, c.Patch, c.Withheld)
	})

	t.Run("pull_request", func(t *testing.T) {
		var files struct {
			Files []struct {
				Filename, Withheld string
				Additions          int
			}
		}
		read("list_pull_request_files", args("number", pull.Number), &files)
		for _, f := range files.Files {
			withheld := f.Filename == "secret/key.txt"
			if withheld != (f.Withheld == "policy") || (withheld && f.Additions != 0) || (!withheld && f.Additions != 1) {
				t.Errorf("list_pull_request_files: %+v, want secret/key.txt withheld and docs/a.md shown", f)
			}
		}
		if len(files.Files) != 2 {
			t.Errorf("list_pull_request_files lists %d files, want both", len(files.Files))
		}
		var diff struct {
			Diff     string
			Withheld []string
		}
		read("get_pull_request_diff", args("number", pull.Number), &diff)
		if !strings.Contains(diff.Diff, "+public notes, revised") || strings.Contains(diff.Diff, "secret/key.txt") ||
			!slices.Equal(diff.Withheld, []string{"secret/key.txt"}) {
			t.Errorf("get_pull_request_diff = %+v, want docs/a.md's part, secret/key.txt withheld", diff)
		}
		// file names a path: the server may refuse the call outright, or
		// the tool answers it withheld.
		in := args("number", pull.Number, "file", "secret/key.txt")
		if res := a.toolCall(t, alice, "get_pull_request_diff", in); res.Status != http.StatusForbidden {
			read("get_pull_request_diff", in, &diff)
			if diff.Diff != "" || !slices.Equal(diff.Withheld, []string{"secret/key.txt"}) {
				t.Errorf("get_pull_request_diff of secret/key.txt = %+v, want it withheld", diff)
			}
		} else if !strings.Contains(res.Body, "policy_denied") {
			t.Errorf("get_pull_request_diff of secret/key.txt = %d %s, want a policy denial or a withheld answer", res.Status, res.Body)
		}
	})

	t.Run("search_code", func(t *testing.T) {
		var s struct {
			Matches  []struct{ Path, Text string }
			Withheld []string
		}
		read("search_code", args("query", "SWORDFISH"), &s)
		if len(s.Matches) != 0 || !slices.Contains(s.Withheld, "secret/key.txt") || !slices.Contains(s.Withheld, "docs/private/x.txt") {
			t.Errorf("search_code for the secret = %+v, want no match and the withheld files named", s)
		}
		read("search_code", args("query", "public notes"), &s)
		if len(s.Matches) != 1 || s.Matches[0].Path != "docs/a.md" {
			t.Errorf("search_code for allowed text = %+v, want docs/a.md", s)
		}
	})

	t.Run("fetch", func(t *testing.T) {
		var f struct {
			Title, Text string
			Metadata    map[string]string
		}
		read("fetch", map[string]any{"id": "file/alice/" + repo + "/secret/key.txt"}, &f)
		if f.Metadata["withheld"] != "policy" || f.Title != "secret/key.txt" {
			t.Errorf("fetch of a withheld file = %+v, want it named and withheld", f)
		}
		read("fetch", map[string]any{"id": "file/alice/" + repo + "/docs/a.md"}, &f)
		if f.Metadata["withheld"] != "" || f.Text != "public notes\n" {
			t.Errorf("fetch of an allowed file = %+v, want its text", f)
		}
	})

	t.Run("get_blob", func(t *testing.T) {
		// A blob has no path: where paths are restricted, none is shown,
		// not even the secret's, whose SHA the caller may have learned.
		res := a.toolCall(t, alice, "get_blob", map[string]any{"owner": "alice", "repo": repo, "sha": sha("secret/key.txt")})
		if !res.IsError || !strings.Contains(res.Text, "cannot be path-checked") || strings.Contains(res.Body, pathsSecret) {
			t.Errorf("get_blob where paths are restricted = %d %s", res.Status, res.Body)
		}
	})
}

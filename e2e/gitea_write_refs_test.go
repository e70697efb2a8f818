package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

func TestGiteaWriteGitBranches(t *testing.T) {
	g := needGitea(t)
	e, _ := wgEndpoint(t, g)
	alice := wgWriter(t, g, e, testgitea.AliceName)
	repo := wgRepo(t, g)
	ctx := t.Context()
	initial := wgHead(t, g, repo, "main")
	if err := g.PutFile(ctx, testgitea.AliceName, repo, "later.txt", "later\n", ""); err != nil {
		t.Fatal(err)
	}
	head := wgHead(t, g, repo, "main")

	b, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "feature/one", "")
	if err != nil {
		t.Fatalf("CreateBranch from the default branch: %v", err)
	}
	if b.Name != "feature/one" || b.Commit == nil || b.Commit.ID != head || wgHead(t, g, repo, "feature/one") != head {
		t.Errorf("CreateBranch = %+v, want feature/one at %s", b, head)
	}
	b, err = alice.CreateBranch(ctx, testgitea.AliceName, repo, "from-sha", strings.ToUpper(initial))
	if err != nil {
		t.Fatalf("CreateBranch from a commit: %v", err)
	}
	if got := wgHead(t, g, repo, "from-sha"); got != initial || b.Commit.ID != initial {
		t.Errorf("branch from-sha is at %s (answer %s), want %s", got, b.Commit.ID, initial)
	}
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/tags", testgitea.AliceName,
		map[string]any{"tag_name": "base", "target": initial}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "from-tag", "base"); err != nil {
		t.Fatalf("CreateBranch from a tag: %v", err)
	}
	if got := wgHead(t, g, repo, "from-tag"); got != initial {
		t.Errorf("branch from-tag is at %s, want %s", got, initial)
	}
	if _, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "from-branch", "from-sha"); err != nil {
		t.Fatalf("CreateBranch from a branch: %v", err)
	}
	if got := wgHead(t, g, repo, "from-branch"); got != initial {
		t.Errorf("branch from-branch is at %s, want %s", got, initial)
	}

	// Names already taken.
	if _, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "feature/one", ""); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("CreateBranch of an existing branch: error = %v, want ErrConflict", err)
	}
	if _, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "base", ""); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("CreateBranch named like a tag: error = %v, want ErrConflict", err)
	}
	if _, err := alice.CreateBranch(ctx, testgitea.AliceName, repo, "nowhere", "no-such-ref"); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("CreateBranch from an unknown ref: error = %v, want ErrNotFound", err)
	}
	if err := g.AdminGet(ctx, wgAPI(repo)+"/branches/nowhere", http.StatusNotFound, nil); err != nil {
		t.Error(err)
	}
	// Why CreateBranch resolves the ref first: Gitea answers an unknown
	// old_ref_name with a 500, which would read as "Gitea is unavailable".
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/branches", testgitea.AliceName,
		map[string]any{"new_branch_name": "nowhere", "old_ref_name": "no-such-ref"}, http.StatusInternalServerError, nil); err != nil {
		t.Errorf("Gitea changed how it answers an unknown old_ref_name (CreateBranch's look-up may no longer be needed): %v", err)
	}

	// Deleting.
	if err := alice.DeleteBranch(ctx, testgitea.AliceName, repo, "feature/one"); err != nil {
		t.Fatalf("DeleteBranch: %v", err)
	}
	if err := g.AdminGet(ctx, wgAPI(repo)+"/branches/feature/one", http.StatusNotFound, nil); err != nil {
		t.Errorf("after DeleteBranch: %v", err)
	}
	if err := alice.DeleteBranch(ctx, testgitea.AliceName, repo, "feature/one"); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("DeleteBranch of a missing branch: error = %v, want ErrNotFound", err)
	}
	if err := alice.DeleteBranch(ctx, testgitea.AliceName, repo, "main"); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("DeleteBranch of the default branch: error = %v, want ErrForbidden", err)
	}
	if wgHead(t, g, repo, "main") != head {
		t.Error("main changed after a refused delete")
	}
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/branch_protections", testgitea.AliceName,
		map[string]any{"rule_name": "from-sha"}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteBranch(ctx, testgitea.AliceName, repo, "from-sha"); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("DeleteBranch of a protected branch: error = %v, want ErrForbidden", err)
	}
	if wgHead(t, g, repo, "from-sha") != initial {
		t.Error("the protected branch changed after a refused delete")
	}
	// A protected branch refuses file writes too.
	_, err = alice.CreateFile(ctx, testgitea.AliceName, repo, "p.txt", gitea.FileWrite{Content: []byte("p"), Branch: "from-sha"})
	if !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("CreateFile on a protected branch: error = %v, want ErrForbidden", err)
	}
	wgNoFile(t, g, repo, "p.txt", "from-sha")
}

func TestGiteaWriteGitTags(t *testing.T) {
	g := needGitea(t)
	e, _ := wgEndpoint(t, g)
	alice := wgWriter(t, g, e, testgitea.AliceName)
	repo := wgRepo(t, g)
	ctx := t.Context()
	initial := wgHead(t, g, repo, "main")
	if err := g.PutFile(ctx, testgitea.AliceName, repo, "later.txt", "later\n", ""); err != nil {
		t.Fatal(err)
	}
	head := wgHead(t, g, repo, "main")

	type tagBack struct {
		Name    string `json:"name"`
		ID      string `json:"id"`
		Message string `json:"message"`
		Commit  struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	readTag := func(name string) tagBack {
		t.Helper()
		var tb tagBack
		if err := g.AdminGet(ctx, wgAPI(repo)+"/tags/"+name, http.StatusOK, &tb); err != nil {
			t.Fatalf("reading back tag %s: %v", name, err)
		}
		return tb
	}

	light, err := alice.CreateTag(ctx, testgitea.AliceName, repo, gitea.TagCreate{Name: "v1.0.0"})
	if err != nil {
		t.Fatalf("CreateTag lightweight: %v", err)
	}
	if tb := readTag("v1.0.0"); light.Name != "v1.0.0" || light.Annotated() || light.Commit.SHA != head || tb.Commit.SHA != head || tb.ID != head {
		t.Errorf("CreateTag lightweight = %+v (read back %+v), want a lightweight tag at %s", light, tb, head)
	}

	annotated, err := alice.CreateTag(ctx, testgitea.AliceName, repo, gitea.TagCreate{Name: "release/v0.1", Target: initial, Message: "First cut"})
	if err != nil {
		t.Fatalf("CreateTag annotated: %v", err)
	}
	tb := readTag("release/v0.1")
	if !annotated.Annotated() || annotated.Commit.SHA != initial || tb.Commit.SHA != initial || tb.ID == initial ||
		tb.ID != annotated.ID || strings.TrimSpace(tb.Message) != "First cut" || strings.TrimSpace(annotated.Message) != "First cut" {
		t.Errorf("CreateTag annotated = %+v (read back %+v), want a tag object on %s with the message", annotated, tb, initial)
	}
	var object struct {
		Tag     string `json:"tag"`
		Message string `json:"message"`
		Object  struct {
			SHA string `json:"sha"`
		} `json:"object"`
	}
	if err := g.AdminGet(ctx, wgAPI(repo)+"/git/tags/"+tb.ID, http.StatusOK, &object); err != nil {
		t.Fatalf("reading back the tag object: %v", err)
	}
	if object.Tag != "release/v0.1" || object.Object.SHA != initial || strings.TrimSpace(object.Message) != "First cut" {
		t.Errorf("tag object = %+v", object)
	}

	if _, err := alice.CreateTag(ctx, testgitea.AliceName, repo, gitea.TagCreate{Name: "main-tag", Target: "main"}); err != nil {
		t.Fatalf("CreateTag at a branch: %v", err)
	}
	if tb := readTag("main-tag"); tb.Commit.SHA != head {
		t.Errorf("tag at main points at %s, want %s", tb.Commit.SHA, head)
	}
	if _, err := alice.CreateTag(ctx, testgitea.AliceName, repo, gitea.TagCreate{Name: "v1.0.0", Target: initial}); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("CreateTag of an existing tag: error = %v, want ErrConflict", err)
	}
	if tb := readTag("v1.0.0"); tb.Commit.SHA != head {
		t.Error("the existing tag moved")
	}
	if _, err := alice.CreateTag(ctx, testgitea.AliceName, repo, gitea.TagCreate{Name: "v9", Target: "no-such-ref"}); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("CreateTag at an unknown target: error = %v, want ErrNotFound", err)
	}

	if err := alice.DeleteTag(ctx, testgitea.AliceName, repo, "v1.0.0"); err != nil {
		t.Fatalf("DeleteTag: %v", err)
	}
	if err := g.AdminGet(ctx, wgAPI(repo)+"/tags/v1.0.0", http.StatusNotFound, nil); err != nil {
		t.Errorf("after DeleteTag: %v", err)
	}
	if err := alice.DeleteTag(ctx, testgitea.AliceName, repo, "v1.0.0"); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("DeleteTag of a missing tag: error = %v, want ErrNotFound", err)
	}
	if err := alice.DeleteTag(ctx, testgitea.AliceName, repo, "release/v0.1"); err != nil {
		t.Fatalf("DeleteTag of an annotated tag with a slash: %v", err)
	}
	if err := g.AdminGet(ctx, wgAPI(repo)+"/tags/release/v0.1", http.StatusNotFound, nil); err != nil {
		t.Errorf("after DeleteTag: %v", err)
	}
	// A tag a release hangs on is refused.
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/releases", testgitea.AliceName,
		map[string]any{"tag_name": "v2.0.0", "target_commitish": "main", "name": "Two"}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteTag(ctx, testgitea.AliceName, repo, "v2.0.0"); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("DeleteTag of a release's tag: error = %v, want ErrConflict", err)
	}
	if tb := readTag("v2.0.0"); tb.Commit.SHA != head {
		t.Errorf("the release's tag = %+v, want it kept at %s", tb, head)
	}
}

func TestGiteaWriteGitFork(t *testing.T) {
	g := needGitea(t)
	e, _ := wgEndpoint(t, g)
	repo := wgRepo(t, g)
	ctx := t.Context()
	if err := g.AddCollaborator(ctx, testgitea.AliceName, repo, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	bob := wgWriter(t, g, e, testgitea.BobName)
	name := repo + "-fork"
	t.Cleanup(func() {
		// bob's repository list is seeded; leave it as it was.
		if err := g.AdminDo(context.Background(), http.MethodDelete, "/api/v1/repos/"+testgitea.BobName+"/"+name, "", nil, http.StatusNoContent, nil); err != nil {
			t.Errorf("deleting bob's fork: %v", err)
		}
	})

	fork, err := bob.Fork(ctx, testgitea.AliceName, repo, gitea.ForkOptions{Name: name})
	if err != nil {
		t.Fatalf("Fork: %v", err)
	}
	if fork.FullName != testgitea.BobName+"/"+name || !fork.Fork || !fork.Private || fork.Owner.Login != testgitea.BobName || !fork.Permissions.Admin {
		t.Errorf("Fork = %+v, want bob's private fork %s that he administers", fork, name)
	}
	var back struct {
		Fork   bool `json:"fork"`
		Parent struct {
			FullName string `json:"full_name"`
		} `json:"parent"`
	}
	if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.BobName+"/"+name, http.StatusOK, &back); err != nil {
		t.Fatalf("reading back the fork: %v", err)
	}
	if !back.Fork || back.Parent.FullName != testgitea.AliceName+"/"+repo {
		t.Errorf("fork read back = %+v, want a fork of alice/%s", back, repo)
	}
	var branch struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.BobName+"/"+name+"/branches/main", http.StatusOK, &branch); err != nil {
		t.Fatalf("reading back the fork's main: %v", err)
	}
	if want := wgHead(t, g, repo, "main"); branch.Commit.ID != want {
		t.Errorf("the fork's main is at %s, want the original's %s", branch.Commit.ID, want)
	}

	if _, err := bob.Fork(ctx, testgitea.AliceName, repo, gitea.ForkOptions{Name: name + "-again"}); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("a second fork into bob's account: error = %v, want ErrConflict", err)
	}
	if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.BobName+"/"+name+"-again", http.StatusNotFound, nil); err != nil {
		t.Error(err)
	}
	// bob reads acme through a read-only team: he may not create repositories there.
	if _, err := bob.Fork(ctx, testgitea.AliceName, repo, gitea.ForkOptions{Organization: testgitea.Org}); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("Fork into an organization bob may not create in: error = %v, want ErrForbidden", err)
	}
	if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.Org+"/"+repo, http.StatusNotFound, nil); err != nil {
		t.Error(err)
	}
	if _, err := bob.Fork(ctx, testgitea.AliceName, repo, gitea.ForkOptions{Organization: "no-such-org"}); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("Fork into a missing organization: error = %v, want ErrNotFound", err)
	}
}

// TestGiteaWriteGitRefusals checks who may not write: a user without
// access, a read-only token, a read-only client and invalid arguments.
func TestGiteaWriteGitRefusals(t *testing.T) {
	g := needGitea(t)
	e, counter := wgEndpoint(t, g)
	repo := wgRepo(t, g)
	ctx := t.Context()
	if err := g.PutFile(ctx, testgitea.AliceName, repo, "f.txt", "f\n", ""); err != nil {
		t.Fatal(err)
	}
	_, sha := wgFile(t, g, repo, "f.txt", "main")
	head := wgHead(t, g, repo, "main")
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/tags", testgitea.AliceName,
		map[string]any{"tag_name": "keep-tag"}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	if err := g.AdminDo(ctx, http.MethodPost, wgAPI(repo)+"/branches", testgitea.AliceName,
		map[string]any{"new_branch_name": "keep-branch"}, http.StatusCreated, nil); err != nil {
		t.Fatal(err)
	}
	owner := testgitea.AliceName

	// Every write, as one client.
	writes := func(c *gitea.Client) map[string]func() error {
		return map[string]func() error{
			"CreateFile": func() error {
				_, err := c.CreateFile(ctx, owner, repo, "x.txt", gitea.FileWrite{Content: []byte("x")})
				return err
			},
			"UpdateFile": func() error {
				_, err := c.UpdateFile(ctx, owner, repo, "f.txt", sha, gitea.FileWrite{Content: []byte("x")})
				return err
			},
			"DeleteFile": func() error { _, err := c.DeleteFile(ctx, owner, repo, "f.txt", sha, gitea.FileWrite{}); return err },
			"ChangeFiles": func() error {
				_, err := c.ChangeFiles(ctx, owner, repo, gitea.FileChanges{Files: []gitea.FileChange{{Operation: gitea.FileDelete, Path: "f.txt", SHA: sha}}})
				return err
			},
			"CreateBranch":          func() error { _, err := c.CreateBranch(ctx, owner, repo, "x", ""); return err },
			"CreateBranch from ref": func() error { _, err := c.CreateBranch(ctx, owner, repo, "x", "main"); return err },
			"DeleteBranch":          func() error { return c.DeleteBranch(ctx, owner, repo, "keep-branch") },
			"CreateTag":             func() error { _, err := c.CreateTag(ctx, owner, repo, gitea.TagCreate{Name: "x"}); return err },
			"DeleteTag":             func() error { return c.DeleteTag(ctx, owner, repo, "keep-tag") },
		}
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if content, got := wgFile(t, g, repo, "f.txt", "main"); content != "f\n" || got != sha || wgHead(t, g, repo, "main") != head {
			t.Error("the repository changed")
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

	t.Run("bob has no access", func(t *testing.T) {
		bob := wgWriter(t, g, e, testgitea.BobName)
		for name, call := range writes(bob) {
			if err := call(); !errors.Is(err, gitea.ErrNotFound) {
				t.Errorf("%s by bob: error = %v, want ErrNotFound", name, err)
			}
		}
		if _, err := bob.Fork(ctx, owner, repo, gitea.ForkOptions{}); !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("Fork by bob: error = %v, want ErrNotFound", err)
		}
		if err := g.AdminGet(ctx, "/api/v1/repos/"+testgitea.BobName+"/"+repo, http.StatusNotFound, nil); err != nil {
			t.Error(err)
		}
		unchanged(t)
	})

	t.Run("read token", func(t *testing.T) {
		reader := e.AsWriter(oauthToken(t, g, testgitea.AliceName, readScopes).AccessToken)
		for name, call := range writes(reader) {
			if err := call(); !errors.Is(err, gitea.ErrForbidden) {
				t.Errorf("%s with a read:repository token: error = %v, want ErrForbidden", name, err)
			}
		}
		unchanged(t)
	})

	t.Run("read collaborator", func(t *testing.T) {
		readOnly := wgRepo(t, g)
		if err := g.AddCollaborator(ctx, owner, readOnly, testgitea.BobName, "read"); err != nil {
			t.Fatal(err)
		}
		bob := wgWriter(t, g, e, testgitea.BobName)
		_, err := bob.CreateFile(ctx, owner, readOnly, "x.txt", gitea.FileWrite{Content: []byte("x")})
		if !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("CreateFile by a read collaborator: error = %v, want ErrForbidden", err)
		}
		if _, err := bob.CreateBranch(ctx, owner, readOnly, "x", ""); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("CreateBranch by a read collaborator: error = %v, want ErrForbidden", err)
		}
		wgNoFile(t, g, readOnly, "x.txt", "main")
	})

	t.Run("read-only client", func(t *testing.T) {
		ro := e.As(oauthToken(t, g, testgitea.AliceName, writeGitScopes).AccessToken)
		before := counter.n.Load()
		for name, call := range writes(ro) {
			if err := call(); !errors.Is(err, gitea.ErrReadOnly) {
				t.Errorf("%s by a read-only client: error = %v, want ErrReadOnly", name, err)
			}
		}
		if _, err := ro.Fork(ctx, owner, repo, gitea.ForkOptions{}); !errors.Is(err, gitea.ErrReadOnly) {
			t.Errorf("Fork by a read-only client: error = %v, want ErrReadOnly", err)
		}
		if sent := counter.n.Load() - before; sent != 0 {
			t.Errorf("a read-only client sent %d requests, want none", sent)
		}
		unchanged(t)
	})

	t.Run("invalid arguments", func(t *testing.T) {
		alice := wgWriter(t, g, e, testgitea.AliceName)
		file := func(path string, w gitea.FileWrite) func() error {
			return func() error { _, err := alice.CreateFile(ctx, owner, repo, path, w); return err }
		}
		calls := map[string]func() error{
			"path dotdot":         file("../x", gitea.FileWrite{}),
			"path dotdot inside":  file("a/../../x", gitea.FileWrite{}),
			"path absolute":       file("/etc/passwd", gitea.FileWrite{}),
			"path empty":          file("", gitea.FileWrite{}),
			"path backslash":      file(`a\b`, gitea.FileWrite{}),
			"path control":        file("a\nb", gitea.FileWrite{}),
			"path .git":           file(".git/config", gitea.FileWrite{}),
			"create from_path":    file("x", gitea.FileWrite{FromPath: "f.txt"}),
			"branch dotdot":       file("x", gitea.FileWrite{Branch: "a..b"}),
			"new branch too long": file("x", gitea.FileWrite{NewBranch: strings.Repeat("n", 101)}),
			"message control":     file("x", gitea.FileWrite{Message: "a\x1bb"}),
			"content too large":   file("x", gitea.FileWrite{Content: make([]byte, gitea.MaxFileWriteBytes+1)}),
			"update short sha": func() error {
				_, err := alice.UpdateFile(ctx, owner, repo, "f.txt", "abc", gitea.FileWrite{})
				return err
			},
			"update non-hex sha": func() error {
				_, err := alice.UpdateFile(ctx, owner, repo, "f.txt", strings.Repeat("g", 40), gitea.FileWrite{})
				return err
			},
			"update bad from_path": func() error {
				_, err := alice.UpdateFile(ctx, owner, repo, "f", sha, gitea.FileWrite{FromPath: "../f"})
				return err
			},
			"delete with content": func() error {
				_, err := alice.DeleteFile(ctx, owner, repo, "f.txt", sha, gitea.FileWrite{Content: []byte("x")})
				return err
			},
			"delete empty sha":      func() error { _, err := alice.DeleteFile(ctx, owner, repo, "f.txt", "", gitea.FileWrite{}); return err },
			"branch name empty":     func() error { _, err := alice.CreateBranch(ctx, owner, repo, "", ""); return err },
			"branch name dash":      func() error { _, err := alice.CreateBranch(ctx, owner, repo, "-f", ""); return err },
			"branch name lock":      func() error { _, err := alice.CreateBranch(ctx, owner, repo, "a.lock", ""); return err },
			"branch from dotdot":    func() error { _, err := alice.CreateBranch(ctx, owner, repo, "x", "../main"); return err },
			"branch repo":           func() error { _, err := alice.CreateBranch(ctx, owner, "a/b", "x", ""); return err },
			"delete branch segment": func() error { return alice.DeleteBranch(ctx, owner, repo, "a//b") },
			"tag name space":        func() error { _, err := alice.CreateTag(ctx, owner, repo, gitea.TagCreate{Name: "v 1"}); return err },
			"tag target colon": func() error {
				_, err := alice.CreateTag(ctx, owner, repo, gitea.TagCreate{Name: "v1", Target: "a:b"})
				return err
			},
			"tag message nul": func() error {
				_, err := alice.CreateTag(ctx, owner, repo, gitea.TagCreate{Name: "v1", Message: "a\x00"})
				return err
			},
			"delete tag query": func() error { return alice.DeleteTag(ctx, owner, repo, "v1?x=1") },
			"fork organization": func() error {
				_, err := alice.Fork(ctx, owner, repo, gitea.ForkOptions{Organization: "a/b"})
				return err
			},
			"fork name":           func() error { _, err := alice.Fork(ctx, owner, repo, gitea.ForkOptions{Name: ".."}); return err },
			"change files owner":  func() error { _, err := alice.ChangeFiles(ctx, "", repo, gitea.FileChanges{}); return err },
			"update path dotdot":  func() error { _, err := alice.UpdateFile(ctx, owner, repo, "../f", sha, gitea.FileWrite{}); return err },
			"delete path dotdot":  func() error { _, err := alice.DeleteFile(ctx, owner, repo, "./f", sha, gitea.FileWrite{}); return err },
			"create owner dotdot": func() error { _, err := alice.CreateFile(ctx, "..", repo, "x", gitea.FileWrite{}); return err },
		}
		before := counter.n.Load()
		for name, call := range calls {
			if err := call(); !errors.Is(err, gitea.ErrInvalidArgument) {
				t.Errorf("%s: error = %v, want ErrInvalidArgument", name, err)
			}
		}
		if sent := counter.n.Load() - before; sent != 0 {
			t.Errorf("%d requests sent for invalid arguments, want none", sent)
		}
		unchanged(t)
	})
}

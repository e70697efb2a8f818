package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// writeGitScopes is the scope set of the tokens the write tests use.
const writeGitScopes = "openid write:repository read:user"

// wgCounter is a transport that counts the requests it carries.
type wgCounter struct{ n atomic.Int64 }

func (c *wgCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// wgEndpoint is an Endpoint for g whose requests are counted.
func wgEndpoint(t *testing.T, g *testgitea.Gitea) (*gitea.Endpoint, *wgCounter) {
	t.Helper()
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &wgCounter{}
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: u, Transport: counter})
	if err != nil {
		t.Fatal(err)
	}
	return e, counter
}

// wgRepo creates a fresh private repository of alice's for one test.
func wgRepo(t *testing.T, g *testgitea.Gitea) string {
	t.Helper()
	repo, err := g.NewRepo(t.Context(), testgitea.AliceName, "git", true)
	if err != nil {
		t.Fatalf("NewRepo: %v", err)
	}
	return repo
}

// wgWriter is a writing client as user with the write scopes.
func wgWriter(t *testing.T, g *testgitea.Gitea, e *gitea.Endpoint, user string) *gitea.Client {
	t.Helper()
	return e.AsWriter(oauthToken(t, g, user, writeGitScopes).AccessToken)
}

func wgAPI(repo string) string { return "/api/v1/repos/" + testgitea.AliceName + "/" + repo }

// wgFile reads a file back as the administrator: its content and blob SHA.
func wgFile(t *testing.T, g *testgitea.Gitea, repo, path, ref string) (content, sha string) {
	t.Helper()
	var f struct {
		SHA     string `json:"sha"`
		Content string `json:"content"`
	}
	if err := g.AdminGet(t.Context(), wgAPI(repo)+"/contents/"+path+"?ref="+url.QueryEscape(ref), http.StatusOK, &f); err != nil {
		t.Fatalf("reading back %s at %s: %v", path, ref, err)
	}
	b, err := base64.StdEncoding.DecodeString(f.Content)
	if err != nil {
		t.Fatalf("reading back %s: content is not base64: %v", path, err)
	}
	return string(b), f.SHA
}

// wgNoFile asserts that path does not exist at ref.
func wgNoFile(t *testing.T, g *testgitea.Gitea, repo, path, ref string) {
	t.Helper()
	if err := g.AdminGet(t.Context(), wgAPI(repo)+"/contents/"+path+"?ref="+url.QueryEscape(ref), http.StatusNotFound, nil); err != nil {
		t.Errorf("%s at %s: %v", path, ref, err)
	}
}

// wgHead returns the head commit of branch, read back as the administrator.
func wgHead(t *testing.T, g *testgitea.Gitea, repo, branch string) string {
	t.Helper()
	var b struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(t.Context(), wgAPI(repo)+"/branches/"+branch, http.StatusOK, &b); err != nil {
		t.Fatalf("reading back branch %s: %v", branch, err)
	}
	return b.Commit.ID
}

// wgCommit is a commit as the administrator reads it back.
type wgCommit struct {
	Commit struct {
		Message string `json:"message"`
	} `json:"commit"`
	Parents []struct {
		SHA string `json:"sha"`
	} `json:"parents"`
	Files []struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	} `json:"files"`
}

func wgReadCommit(t *testing.T, g *testgitea.Gitea, repo, sha string) wgCommit {
	t.Helper()
	var c wgCommit
	if err := g.AdminGet(t.Context(), wgAPI(repo)+"/git/commits/"+sha+"?files=true", http.StatusOK, &c); err != nil {
		t.Fatalf("reading back commit %s: %v", sha, err)
	}
	return c
}

func (c wgCommit) parents() []string {
	var p []string
	for _, x := range c.Parents {
		p = append(p, x.SHA)
	}
	return p
}

func (c wgCommit) files() []string {
	var f []string
	for _, x := range c.Files {
		f = append(f, x.Status+" "+x.Filename)
	}
	slices.Sort(f)
	return f
}

// wgStatus returns the HTTP status of a Gitea error, 0 if none.
func wgStatus(err error) int {
	var apiErr *gitea.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

func TestGiteaWriteGitSingleFiles(t *testing.T) {
	g := needGitea(t)
	e, _ := wgEndpoint(t, g)
	alice := wgWriter(t, g, e, testgitea.AliceName)
	repo := wgRepo(t, g)
	ctx := t.Context()

	head0 := wgHead(t, g, repo, "main")
	created, err := alice.CreateFile(ctx, testgitea.AliceName, repo, "docs/new file.txt", gitea.FileWrite{Content: []byte("one\n"), Message: "Add the new file"})
	if err != nil {
		t.Fatalf("CreateFile: %v", err)
	}
	content, blob := wgFile(t, g, repo, "docs/new%20file.txt", "main")
	if content != "one\n" {
		t.Errorf("created file = %q, want %q", content, "one\n")
	}
	if head := wgHead(t, g, repo, "main"); created.SHA != head || !slices.Equal(created.Parents, []string{head0}) || created.Branch != "" {
		t.Errorf("CreateFile = %+v; want commit %s (the new head of main) with parent %s", created, head, head0)
	}
	if len(created.Files) != 1 || created.Files[0].Path != "docs/new file.txt" || created.Files[0].SHA != blob ||
		!strings.HasSuffix(created.Files[0].HTMLURL, "/src/branch/main/docs/new%20file.txt") {
		t.Errorf("CreateFile files = %+v, want docs/new file.txt with blob %s", created.Files, blob)
	}
	if !strings.HasSuffix(created.HTMLURL, "/"+testgitea.AliceName+"/"+repo+"/commit/"+created.SHA) {
		t.Errorf("CreateFile HTMLURL = %q, want the commit's page", created.HTMLURL)
	}
	if c := wgReadCommit(t, g, repo, created.SHA); strings.TrimSpace(c.Commit.Message) != "Add the new file" ||
		!slices.Equal(c.files(), []string{"added docs/new file.txt"}) {
		t.Errorf("created commit = %+v, want the message and one added file", c)
	}

	// Creating it again clashes with what is there (Gitea answers 422).
	_, err = alice.CreateFile(ctx, testgitea.AliceName, repo, "docs/new file.txt", gitea.FileWrite{Content: []byte("clobber\n")})
	if !errors.Is(err, gitea.ErrConflict) || wgStatus(err) != http.StatusUnprocessableEntity {
		t.Errorf("CreateFile over an existing file: error = %v, want ErrConflict from HTTP 422", err)
	}

	updated, err := alice.UpdateFile(ctx, testgitea.AliceName, repo, "docs/new file.txt", blob, gitea.FileWrite{Content: []byte("two\n"), Message: "Update it"})
	if err != nil {
		t.Fatalf("UpdateFile: %v", err)
	}
	content, blob2 := wgFile(t, g, repo, "docs/new%20file.txt", "main")
	if content != "two\n" || blob2 == blob {
		t.Errorf("updated file = %q (blob %s), want %q with a new blob", content, blob2, "two\n")
	}
	if !slices.Equal(updated.Parents, []string{created.SHA}) || updated.SHA != wgHead(t, g, repo, "main") ||
		len(updated.Files) != 1 || updated.Files[0].SHA != blob2 {
		t.Errorf("UpdateFile = %+v, want a commit on %s leaving blob %s", updated, created.SHA, blob2)
	}

	// A stale SHA: the file changed since it was read. Gitea answers 422.
	_, err = alice.UpdateFile(ctx, testgitea.AliceName, repo, "docs/new file.txt", blob, gitea.FileWrite{Content: []byte("lost update\n")})
	if !errors.Is(err, gitea.ErrConflict) || !errors.Is(err, gitea.ErrInvalidRequest) || wgStatus(err) != http.StatusUnprocessableEntity {
		t.Errorf("UpdateFile with a stale sha: error = %v, want ErrConflict (and ErrInvalidRequest) from HTTP 422", err)
	}
	if content, _ := wgFile(t, g, repo, "docs/new%20file.txt", "main"); content != "two\n" {
		t.Errorf("after the refused update the file is %q, want %q", content, "two\n")
	}
	if strings.Contains(fmt.Sprint(err), "lost update") || strings.Contains(fmt.Sprint(err), blob2) {
		t.Errorf("error %q repeats request content or Gitea's answer", err)
	}

	// Moving the file with new content.
	moved, err := alice.UpdateFile(ctx, testgitea.AliceName, repo, "moved/file.txt", blob2,
		gitea.FileWrite{Content: []byte("three\n"), FromPath: "docs/new file.txt"})
	if err != nil {
		t.Fatalf("UpdateFile moving the file: %v", err)
	}
	if content, _ := wgFile(t, g, repo, "moved/file.txt", "main"); content != "three\n" {
		t.Errorf("moved file = %q, want %q", content, "three\n")
	}
	wgNoFile(t, g, repo, "docs/new%20file.txt", "main")
	if c := wgReadCommit(t, g, repo, moved.SHA); !slices.Equal(c.parents(), []string{updated.SHA}) {
		t.Errorf("move commit parents = %v, want [%s]", c.parents(), updated.SHA)
	}

	// On a new branch: main is left alone.
	head := wgHead(t, g, repo, "main")
	onBranch, err := alice.CreateFile(ctx, testgitea.AliceName, repo, "branch.txt",
		gitea.FileWrite{Content: []byte("on a branch\n"), Branch: "main", NewBranch: "feature/files"})
	if err != nil {
		t.Fatalf("CreateFile on a new branch: %v", err)
	}
	if content, _ := wgFile(t, g, repo, "branch.txt", "feature/files"); content != "on a branch\n" {
		t.Errorf("file on the new branch = %q", content)
	}
	wgNoFile(t, g, repo, "branch.txt", "main")
	if onBranch.Branch != "feature/files" || wgHead(t, g, repo, "feature/files") != onBranch.SHA ||
		!slices.Equal(onBranch.Parents, []string{head}) || wgHead(t, g, repo, "main") != head {
		t.Errorf("CreateFile on a new branch = %+v; want a commit on feature/files from %s, main unchanged", onBranch, head)
	}
	_, err = alice.CreateFile(ctx, testgitea.AliceName, repo, "other.txt", gitea.FileWrite{Content: []byte("x"), NewBranch: "feature/files"})
	if !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("CreateFile with a new branch that exists: error = %v, want ErrConflict", err)
	}
	wgNoFile(t, g, repo, "other.txt", "feature/files")
	_, err = alice.CreateFile(ctx, testgitea.AliceName, repo, "other.txt", gitea.FileWrite{Content: []byte("x"), Branch: "no-such-branch"})
	if !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("CreateFile on a missing branch: error = %v, want ErrNotFound", err)
	}

	// Deleting: a stale SHA is refused, the right one removes the file.
	_, movedBlob := wgFile(t, g, repo, "moved/file.txt", "main")
	_, err = alice.DeleteFile(ctx, testgitea.AliceName, repo, "moved/file.txt", blob2, gitea.FileWrite{})
	if !errors.Is(err, gitea.ErrConflict) || wgStatus(err) != http.StatusUnprocessableEntity {
		t.Errorf("DeleteFile with a stale sha: error = %v, want ErrConflict from HTTP 422", err)
	}
	if content, _ := wgFile(t, g, repo, "moved/file.txt", "main"); content != "three\n" {
		t.Errorf("after the refused delete the file is %q", content)
	}
	head = wgHead(t, g, repo, "main")
	deleted, err := alice.DeleteFile(ctx, testgitea.AliceName, repo, "moved/file.txt", strings.ToUpper(movedBlob), gitea.FileWrite{Message: "Remove it"})
	if err != nil {
		t.Fatalf("DeleteFile (sha in upper case): %v", err)
	}
	wgNoFile(t, g, repo, "moved/file.txt", "main")
	if deleted.SHA != wgHead(t, g, repo, "main") || !slices.Equal(deleted.Parents, []string{head}) || len(deleted.Files) != 0 {
		t.Errorf("DeleteFile = %+v, want the new head of main, parent %s, no files", deleted, head)
	}
	if c := wgReadCommit(t, g, repo, deleted.SHA); !slices.Equal(c.files(), []string{"removed moved/file.txt"}) ||
		strings.TrimSpace(c.Commit.Message) != "Remove it" {
		t.Errorf("delete commit = %+v, want one removed file and the message", c)
	}
	_, err = alice.DeleteFile(ctx, testgitea.AliceName, repo, "moved/file.txt", movedBlob, gitea.FileWrite{})
	if !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("DeleteFile of a missing file: error = %v, want ErrNotFound", err)
	}
	_, err = alice.UpdateFile(ctx, testgitea.AliceName, repo, "missing.txt", movedBlob, gitea.FileWrite{Content: []byte("x")})
	if !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("UpdateFile of a missing file: error = %v, want ErrNotFound", err)
	}
}

func TestGiteaWriteGitChangeFiles(t *testing.T) {
	g := needGitea(t)
	e, counter := wgEndpoint(t, g)
	alice := wgWriter(t, g, e, testgitea.AliceName)
	repo := wgRepo(t, g)
	ctx := t.Context()
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		if err := g.PutFile(ctx, testgitea.AliceName, repo, name, strings.TrimSuffix(name, ".txt")+"\n", ""); err != nil {
			t.Fatalf("PutFile %s: %v", name, err)
		}
	}
	_, shaA := wgFile(t, g, repo, "a.txt", "main")
	_, shaB := wgFile(t, g, repo, "b.txt", "main")
	_, shaC := wgFile(t, g, repo, "c.txt", "main")
	head0 := wgHead(t, g, repo, "main")

	fc, err := alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{
		Message: "Four changes at once",
		Files: []gitea.FileChange{
			{Operation: gitea.FileCreate, Path: "new/d.txt", Content: []byte("d\n")},
			{Operation: gitea.FileUpdate, Path: "a.txt", Content: []byte("a2\n"), SHA: shaA},
			{Operation: gitea.FileRename, Path: "moved/b.txt", FromPath: "b.txt", SHA: shaB},
			{Operation: gitea.FileDelete, Path: "c.txt", SHA: shaC},
		},
	})
	if err != nil {
		t.Fatalf("ChangeFiles: %v", err)
	}
	if head := wgHead(t, g, repo, "main"); fc.SHA != head || !slices.Equal(fc.Parents, []string{head0}) {
		t.Errorf("ChangeFiles = %+v; want commit %s (the new head) with parent %s", fc, head, head0)
	}
	c := wgReadCommit(t, g, repo, fc.SHA)
	if !slices.Equal(c.parents(), []string{head0}) || strings.TrimSpace(c.Commit.Message) != "Four changes at once" {
		t.Errorf("the commit read back = %+v, want one commit on %s with the message", c, head0)
	}
	if want := []string{"added moved/b.txt", "added new/d.txt", "modified a.txt", "removed b.txt", "removed c.txt"}; !slices.Equal(c.files(), want) {
		t.Errorf("the commit's files = %v, want %v", c.files(), want)
	}
	if content, _ := wgFile(t, g, repo, "new/d.txt", "main"); content != "d\n" {
		t.Errorf("created file = %q", content)
	}
	contentA, newA := wgFile(t, g, repo, "a.txt", "main")
	if contentA != "a2\n" {
		t.Errorf("updated file = %q", contentA)
	}
	contentB, movedB := wgFile(t, g, repo, "moved/b.txt", "main")
	if contentB != "b\n" || movedB != shaB {
		t.Errorf("renamed file = %q (blob %s), want the same content and blob %s", contentB, movedB, shaB)
	}
	wgNoFile(t, g, repo, "b.txt", "main")
	wgNoFile(t, g, repo, "c.txt", "main")
	var paths []string
	for _, f := range fc.Files {
		paths = append(paths, f.Path+"@"+f.SHA)
	}
	_, shaD := wgFile(t, g, repo, "new/d.txt", "main")
	if want := []string{"new/d.txt@" + shaD, "a.txt@" + newA, "moved/b.txt@" + shaB}; !slices.Equal(paths, want) {
		t.Errorf("ChangeFiles files = %v, want %v", paths, want)
	}

	// All or nothing: one stale SHA refuses the whole commit.
	head := wgHead(t, g, repo, "main")
	_, err = alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{Files: []gitea.FileChange{
		{Operation: gitea.FileCreate, Path: "e.txt", Content: []byte("e\n")},
		{Operation: gitea.FileUpdate, Path: "a.txt", Content: []byte("a3\n"), SHA: shaA},
	}})
	if !errors.Is(err, gitea.ErrConflict) || wgStatus(err) != http.StatusUnprocessableEntity {
		t.Errorf("ChangeFiles with a stale sha: error = %v, want ErrConflict from HTTP 422", err)
	}
	if wgHead(t, g, repo, "main") != head {
		t.Error("a refused ChangeFiles moved main")
	}
	wgNoFile(t, g, repo, "e.txt", "main")

	// A rename onto an existing file clashes too.
	_, err = alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{Files: []gitea.FileChange{
		{Operation: gitea.FileRename, Path: "a.txt", FromPath: "new/d.txt", SHA: shaD},
	}})
	if !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("ChangeFiles renaming onto a file: error = %v, want ErrConflict", err)
	}

	// On a new branch.
	onBranch, err := alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{NewBranch: "batch", Files: []gitea.FileChange{
		{Operation: gitea.FileDelete, Path: "a.txt", SHA: newA},
	}})
	if err != nil {
		t.Fatalf("ChangeFiles on a new branch: %v", err)
	}
	wgNoFile(t, g, repo, "a.txt", "batch")
	if content, _ := wgFile(t, g, repo, "a.txt", "main"); content != "a2\n" || onBranch.Branch != "batch" || wgHead(t, g, repo, "batch") != onBranch.SHA {
		t.Errorf("ChangeFiles on a new branch = %+v; want the delete on batch only", onBranch)
	}

	// Gitea echoes at most 30 files ([api] DEFAULT_PAGING_NUM); the commit holds them all.
	var batch []gitea.FileChange
	for i := range 35 {
		batch = append(batch, gitea.FileChange{Operation: gitea.FileCreate, Path: fmt.Sprintf("batch/%02d.txt", i), Content: []byte{byte('a' + i%26)}})
	}
	big, err := alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{Files: batch})
	if err != nil {
		t.Fatalf("ChangeFiles of 35 files: %v", err)
	}
	if len(big.Files) != 30 || big.Files[29].Path != "batch/29.txt" {
		t.Errorf("ChangeFiles of 35 files lists %d files, want Gitea's first 30", len(big.Files))
	}
	if content, _ := wgFile(t, g, repo, "batch/34.txt", "main"); content != "i" {
		t.Errorf("the 35th file = %q, want %q", content, "i")
	}
	if c := wgReadCommit(t, g, repo, big.SHA); len(c.Files) != 35 {
		t.Errorf("the 35-file commit touches %d files", len(c.Files))
	}

	// Refused before anything is sent.
	many := make([]gitea.FileChange, gitea.MaxFileChanges+1)
	for i := range many {
		many[i] = gitea.FileChange{Operation: gitea.FileCreate, Path: fmt.Sprintf("f%d.txt", i)}
	}
	sha := strings.Repeat("a", 40)
	invalid := []struct {
		name  string
		files []gitea.FileChange
	}{
		{"no files", nil},
		{"too many files", many},
		{"update without sha", []gitea.FileChange{{Operation: gitea.FileUpdate, Path: "a.txt", Content: []byte("x")}}},
		{"delete without sha", []gitea.FileChange{{Operation: gitea.FileDelete, Path: "a.txt"}}},
		{"rename without sha", []gitea.FileChange{{Operation: gitea.FileRename, Path: "x.txt", FromPath: "a.txt"}}},
		{"rename without from", []gitea.FileChange{{Operation: gitea.FileRename, Path: "x.txt", SHA: sha}}},
		{"rename with content", []gitea.FileChange{{Operation: gitea.FileRename, Path: "x.txt", FromPath: "a.txt", SHA: sha, Content: []byte("x")}}},
		{"delete with content", []gitea.FileChange{{Operation: gitea.FileDelete, Path: "a.txt", SHA: sha, Content: []byte("x")}}},
		{"create with sha", []gitea.FileChange{{Operation: gitea.FileCreate, Path: "x.txt", SHA: sha}}},
		{"upload", []gitea.FileChange{{Operation: "upload", Path: "x.txt"}}},
		{"no operation", []gitea.FileChange{{Path: "x.txt"}}},
		{"dotdot path", []gitea.FileChange{{Operation: gitea.FileCreate, Path: "../x"}}},
		{"git path", []gitea.FileChange{{Operation: gitea.FileCreate, Path: "sub/.GIT/config"}}},
		{"dotdot from", []gitea.FileChange{{Operation: gitea.FileRename, Path: "x", FromPath: "a/../../b", SHA: sha}}},
		{"short sha", []gitea.FileChange{{Operation: gitea.FileDelete, Path: "a.txt", SHA: "abc123"}}},
		{"same path twice", []gitea.FileChange{
			{Operation: gitea.FileCreate, Path: "x.txt"}, {Operation: gitea.FileCreate, Path: "x.txt"}}},
		{"path too long", []gitea.FileChange{{Operation: gitea.FileCreate, Path: strings.Repeat("p", 501)}}},
	}
	before := counter.n.Load()
	for _, tt := range invalid {
		_, err := alice.ChangeFiles(ctx, testgitea.AliceName, repo, gitea.FileChanges{Files: tt.files})
		if !errors.Is(err, gitea.ErrInvalidArgument) {
			t.Errorf("ChangeFiles %s: error = %v, want ErrInvalidArgument", tt.name, err)
		}
	}
	for name, ch := range map[string]gitea.FileChanges{
		"bad branch":     {Branch: "a..b", Files: many[:1]},
		"bad new branch": {NewBranch: "x y", Files: many[:1]},
		"long branch":    {NewBranch: strings.Repeat("b", 101), Files: many[:1]},
		"nul message":    {Message: "a\x00b", Files: many[:1]},
		"huge message":   {Message: strings.Repeat("m", gitea.MaxCommitMessageBytes+1), Files: many[:1]},
		"huge content": {Files: []gitea.FileChange{
			{Operation: gitea.FileCreate, Path: "big1", Content: make([]byte, gitea.MaxFileWriteBytes/2+1)},
			{Operation: gitea.FileCreate, Path: "big2", Content: make([]byte, gitea.MaxFileWriteBytes/2+1)}}},
	} {
		if _, err := alice.ChangeFiles(ctx, testgitea.AliceName, repo, ch); !errors.Is(err, gitea.ErrInvalidArgument) {
			t.Errorf("ChangeFiles %s: error = %v, want ErrInvalidArgument", name, err)
		}
	}
	if sent := counter.n.Load() - before; sent != 0 {
		t.Errorf("%d requests sent for invalid ChangeFiles arguments, want none", sent)
	}
}

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

package e2e

import (
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

package gitea

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Limits on what one write sends, checked before any request is sent.
const (
	// MaxFileChanges is the most files one [Client.ChangeFiles] commit takes.
	MaxFileChanges = 100
	// MaxFileWriteBytes bounds the content one call writes, all files together.
	// Gitea echoes the written files in its answer, so the bound is also
	// kept to half the Endpoint's response bound ([Options.MaxResponseBytes]).
	MaxFileWriteBytes = 8 << 20
	// MaxCommitMessageBytes bounds a commit or tag message.
	MaxCommitMessageBytes = 64 << 10
	// maxWriteBranchLen is Gitea's bound on branch names in write requests (MaxSize(100)).
	maxWriteBranchLen = 100
	// maxBodyPathLen is Gitea's bound on file paths sent in a request body (MaxSize(500)).
	maxBodyPathLen = 500
)

// FileWrite is the content of a file and the commit that writes it.
type FileWrite struct {
	// Content is the file's new bytes; it must be empty for DeleteFile.
	Content []byte
	// Message is the commit message; empty lets Gitea write one.
	Message string
	// Branch is the branch the commit is made on; empty means the
	// repository's default branch. It must exist.
	Branch string
	// NewBranch, when set, is created from Branch and the commit is made on
	// it instead; it must not exist yet (it is never force-pushed).
	NewBranch string
	// FromPath, for UpdateFile only, is the file's current path: the file is
	// moved from there to the path named in the call. Empty: it stays.
	FromPath string
}

// FileOperation is what [FileChange] does to one file.
type FileOperation string

// The operations [Client.ChangeFiles] accepts. Gitea also knows "upload"
// (create or overwrite, whatever is there); it is not offered, as it
// bypasses the optimistic-concurrency check.
const (
	// FileCreate adds a file that must not exist yet.
	FileCreate FileOperation = "create"
	// FileUpdate replaces a file's content, and moves it when FromPath is set.
	FileUpdate FileOperation = "update"
	// FileRename moves the file at FromPath to Path, keeping its content.
	FileRename FileOperation = "rename"
	// FileDelete removes a file.
	FileDelete FileOperation = "delete"
)

// FileChange is one file of a [FileChanges] commit.
type FileChange struct {
	Operation FileOperation
	// Path is the file's path after the change (for a delete: the file).
	Path string
	// FromPath is the file's current path when it moves: required for
	// FileRename, optional for FileUpdate, refused otherwise.
	FromPath string
	// Content is the new content for FileCreate and FileUpdate; it must be
	// empty for FileRename and FileDelete.
	Content []byte
	// SHA is the blob SHA of the file as last read (at FromPath when it
	// moves), required for every operation but FileCreate: Gitea refuses
	// the change if the file changed since, so nothing is overwritten unseen.
	SHA string
}

// FileChanges is one commit that changes several files.
type FileChanges struct {
	Message   string // commit message; empty lets Gitea write one
	Branch    string // branch to commit on; empty means the default branch
	NewBranch string // create this branch from Branch and commit there; it must not exist
	Files     []FileChange
}

// FileCommit is the commit a file write made.
type FileCommit struct {
	SHA     string   // the new commit's SHA
	HTMLURL string   // the commit's web page
	Parents []string // its parents' SHAs: the head of the branch it was made on
	// Branch is the branch written: NewBranch, else Branch, else empty for
	// the repository's default branch.
	Branch string
	// Files are the files the commit left at the paths written, in request
	// order; a deleted file has none. Gitea lists at most 30 files
	// ([api] DEFAULT_PAGING_NUM), so a larger commit's list is cut short.
	Files []CommittedFile
}

// CommittedFile is a file as a write left it.
type CommittedFile struct {
	Path    string
	SHA     string // the new blob's SHA: pass it to the next update
	HTMLURL string
}

// fileOptions are the commit fields every contents write sends.
type fileOptions struct {
	Message   string `json:"message,omitempty"`
	Branch    string `json:"branch,omitempty"`
	NewBranch string `json:"new_branch,omitempty"`
}

type createFileBody struct {
	fileOptions
	Content string `json:"content"`
}

type updateFileBody struct {
	fileOptions
	SHA      string `json:"sha"`
	Content  string `json:"content"`
	FromPath string `json:"from_path,omitempty"`
}

type deleteFileBody struct {
	fileOptions
	SHA string `json:"sha"`
}

type changeFileBody struct {
	Operation FileOperation `json:"operation"`
	Path      string        `json:"path"`
	FromPath  string        `json:"from_path,omitempty"`
	Content   string        `json:"content,omitempty"`
	SHA       string        `json:"sha,omitempty"`
}

type changeFilesBody struct {
	fileOptions
	Files []changeFileBody `json:"files"`
}

// writtenFile is a file as Gitea echoes it after a write (its content is not kept).
type writtenFile struct {
	Path    string `json:"path"`
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
}

type writtenCommit struct {
	SHA     string      `json:"sha"`
	HTMLURL string      `json:"html_url"`
	Parents []GitObject `json:"parents"`
}

// fileAnswer is Gitea's answer to a single-file write; filesAnswer to ChangeFiles.
type fileAnswer struct {
	Content *writtenFile   `json:"content"`
	Commit  *writtenCommit `json:"commit"`
}

type filesAnswer struct {
	Files  []*writtenFile `json:"files"`
	Commit *writtenCommit `json:"commit"`
}

// CreateFile commits a new file at path in owner/repo; a file already
// there is ErrConflict.
func (c *Client) CreateFile(ctx context.Context, owner, repo, path string, w FileWrite) (*FileCommit, error) {
	target, opts, err := c.fileWrite(owner, repo, path, w)
	if err != nil {
		return nil, err
	}
	if w.FromPath != "" {
		return nil, invalid("from_path is for updates only")
	}
	body := createFileBody{fileOptions: opts, Content: base64.StdEncoding.EncodeToString(w.Content)}
	var a fileAnswer
	const op = "POST /api/v1/repos/{owner}/{repo}/contents/{path}"
	if _, err := c.send(ctx, http.MethodPost, op, target, nil, body, &a); err != nil {
		return nil, fileWriteError(err)
	}
	return fileCommit(op, a.Commit, opts, a.Content)
}

// UpdateFile replaces the content of the file at path in owner/repo, or,
// with w.FromPath set, moves the file at w.FromPath to path with the new
// content. sha is the blob SHA of the file as last read (at w.FromPath when
// it moves): if the file has changed since, Gitea refuses and the error is
// ErrConflict. A file at the destination of a move is ErrConflict too; a
// missing file or branch is ErrNotFound.
func (c *Client) UpdateFile(ctx context.Context, owner, repo, path, sha string, w FileWrite) (*FileCommit, error) {
	target, opts, err := c.fileWrite(owner, repo, path, w)
	if err != nil {
		return nil, err
	}
	blob, err := checkObjectID("sha", sha)
	if err != nil {
		return nil, err
	}
	from := w.FromPath
	if from == path {
		from = ""
	}
	if from != "" {
		if err := checkWritePath("from_path", from, true); err != nil {
			return nil, err
		}
	}
	body := updateFileBody{fileOptions: opts, SHA: blob, Content: base64.StdEncoding.EncodeToString(w.Content), FromPath: from}
	var a fileAnswer
	const op = "PUT /api/v1/repos/{owner}/{repo}/contents/{path}"
	if _, err := c.send(ctx, http.MethodPut, op, target, nil, body, &a); err != nil {
		return nil, fileWriteError(err)
	}
	return fileCommit(op, a.Commit, opts, a.Content)
}

// DeleteFile removes the file at path in owner/repo. sha is the blob SHA of
// the file as last read: if the file has changed since, Gitea refuses and
// the error is ErrConflict. w.Content and w.FromPath must be empty.
func (c *Client) DeleteFile(ctx context.Context, owner, repo, path, sha string, w FileWrite) (*FileCommit, error) {
	target, opts, err := c.fileWrite(owner, repo, path, w)
	if err != nil {
		return nil, err
	}
	if len(w.Content) != 0 || w.FromPath != "" {
		return nil, invalid("a delete takes no content and no from_path")
	}
	blob, err := checkObjectID("sha", sha)
	if err != nil {
		return nil, err
	}
	var a fileAnswer
	const op = "DELETE /api/v1/repos/{owner}/{repo}/contents/{path}"
	if _, err := c.send(ctx, http.MethodDelete, op, target, nil, deleteFileBody{fileOptions: opts, SHA: blob}, &a); err != nil {
		return nil, fileWriteError(err)
	}
	return fileCommit(op, a.Commit, opts)
}

// ChangeFiles makes one commit in owner/repo that applies every change in
// ch.Files (1-[MaxFileChanges] files, each path at most once): all of them
// or, when Gitea refuses one, none. A file changed since its SHA was read,
// or a file in the way of a create or move, is ErrConflict.
func (c *Client) ChangeFiles(ctx context.Context, owner, repo string, ch FileChanges) (*FileCommit, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	opts, err := commitOptions(ch.Message, ch.Branch, ch.NewBranch)
	if err != nil {
		return nil, err
	}
	if len(ch.Files) == 0 || len(ch.Files) > MaxFileChanges {
		return nil, invalid("files must hold 1-%d changes", MaxFileChanges)
	}
	files := make([]changeFileBody, len(ch.Files))
	seen := make(map[string]bool, len(ch.Files))
	total := 0
	for i, f := range ch.Files {
		body, err := changeFile(i, f)
		if err != nil {
			return nil, err
		}
		for _, touched := range []string{body.Path, body.FromPath} {
			if touched == "" {
				continue
			}
			if seen[touched] {
				return nil, invalid("files[%d]: each path may be changed once per commit", i)
			}
			seen[touched] = true
		}
		total += len(f.Content)
		files[i] = body
	}
	if limit := c.writeLimit(); total > limit {
		return nil, invalid("files must total at most %d bytes of content", limit)
	}
	var a filesAnswer
	const op = "POST /api/v1/repos/{owner}/{repo}/contents"
	if _, err := c.send(ctx, http.MethodPost, op, p+"/contents", nil, changeFilesBody{fileOptions: opts, Files: files}, &a); err != nil {
		return nil, fileWriteError(err)
	}
	return fileCommit(op, a.Commit, opts, a.Files...)
}

// changeFile validates the i-th change of a ChangeFiles call and encodes it.
func changeFile(i int, f FileChange) (changeFileBody, error) {
	if err := checkWritePath(fmt.Sprintf("files[%d].path", i), f.Path, true); err != nil {
		return changeFileBody{}, err
	}
	body := changeFileBody{Operation: f.Operation, Path: f.Path}
	from := f.FromPath
	if from == f.Path && f.Operation == FileUpdate {
		from = ""
	}
	needSHA, takesContent := true, true
	switch f.Operation {
	case FileCreate:
		needSHA = false
		if from != "" || f.SHA != "" {
			return changeFileBody{}, invalid("files[%d]: a create takes no from_path and no sha", i)
		}
	case FileUpdate:
	case FileRename:
		takesContent = false
		if from == "" || from == f.Path {
			return changeFileBody{}, invalid("files[%d]: a rename needs a from_path other than its path", i)
		}
	case FileDelete:
		takesContent = false
		if from != "" {
			return changeFileBody{}, invalid("files[%d]: a delete takes no from_path", i)
		}
	default:
		return changeFileBody{}, invalid("files[%d].operation must be create, update, rename or delete", i)
	}
	if from != "" {
		if err := checkWritePath(fmt.Sprintf("files[%d].from_path", i), from, true); err != nil {
			return changeFileBody{}, err
		}
		body.FromPath = from
	}
	if needSHA {
		blob, err := checkObjectID(fmt.Sprintf("files[%d].sha", i), f.SHA)
		if err != nil {
			return changeFileBody{}, err
		}
		body.SHA = blob
	}
	if takesContent {
		body.Content = base64.StdEncoding.EncodeToString(f.Content)
	} else if len(f.Content) != 0 {
		return changeFileBody{}, invalid("files[%d]: a %s takes no content", i, f.Operation)
	}
	return body, nil
}

// fileWrite validates the arguments every single-file write shares and
// returns the file's API path and the commit fields.
func (c *Client) fileWrite(owner, repo, path string, w FileWrite) (string, fileOptions, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", fileOptions{}, err
	}
	if err := checkWritePath("path", path, false); err != nil {
		return "", fileOptions{}, err
	}
	escaped, err := escapeRepoPath(path)
	if err != nil {
		return "", fileOptions{}, err
	}
	opts, err := commitOptions(w.Message, w.Branch, w.NewBranch)
	if err != nil {
		return "", fileOptions{}, err
	}
	if limit := c.writeLimit(); len(w.Content) > limit {
		return "", fileOptions{}, invalid("content must be at most %d bytes", limit)
	}
	return p + "/contents/" + escaped, opts, nil
}

// writeLimit is how much content one call may write: [MaxFileWriteBytes], or
// less when the response bound could not hold Gitea's echo of it.
func (c *Client) writeLimit() int {
	return int(min(MaxFileWriteBytes, c.endpoint.maxBody/2))
}

// commitOptions validates a commit's message and branches.
func commitOptions(message, branch, newBranch string) (fileOptions, error) {
	if err := checkCommitMessage("message", message); err != nil {
		return fileOptions{}, err
	}
	if branch != "" {
		if err := checkWriteBranch("branch", branch); err != nil {
			return fileOptions{}, err
		}
	}
	if newBranch != "" {
		if err := checkWriteBranch("new_branch", newBranch); err != nil {
			return fileOptions{}, err
		}
	}
	return fileOptions{Message: message, Branch: branch, NewBranch: newBranch}, nil
}

// checkWritePath validates a path a write names: a repository path (see
// escapeRepoPath) with no ".git" segment, which git refuses; inBody paths
// are bounded as Gitea bounds them in a request body.
func checkWritePath(what, p string, inBody bool) error {
	if _, err := escapeRepoPath(p); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if inBody && len(p) > maxBodyPathLen {
		return invalid("%s must be at most %d bytes", what, maxBodyPathLen)
	}
	for _, s := range strings.Split(p, "/") {
		if strings.EqualFold(s, ".git") {
			return invalid("%s must not have a .git segment", what)
		}
	}
	return nil
}

// checkWriteBranch validates a branch a write names or creates.
func checkWriteBranch(what, name string) error {
	if err := checkGitRef(what, name); err != nil {
		return err
	}
	if len(name) > maxWriteBranchLen {
		return invalid("%s must be at most %d bytes", what, maxWriteBranchLen)
	}
	return nil
}

// checkObjectID validates a full object id and returns it in lower case, the
// form Gitea compares against.
func checkObjectID(what, sha string) (string, error) {
	if !isFullObjectID(sha) {
		return "", invalid("%s must be a full object id: 40 or 64 hexadecimal digits", what)
	}
	return strings.ToLower(sha), nil
}

// checkCommitMessage bounds a commit or tag message and refuses control
// characters other than tab and line breaks.
func checkCommitMessage(what, msg string) error { return checkProse(what, msg, MaxCommitMessageBytes) }

// fileWriteError maps Gitea's 422 for a contents write to ErrConflict as
// well as ErrInvalidRequest: once the arguments are validated here, Gitea
// answers 422 when the request clashes with the repository's state (a stale
// SHA, a file already there or in the way, a new branch that exists).
func fileWriteError(err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

// fileCommit builds a FileCommit from Gitea's answer to op.
func fileCommit(op string, cm *writtenCommit, opts fileOptions, files ...*writtenFile) (*FileCommit, error) {
	if cm == nil || cm.SHA == "" {
		return nil, &APIError{Op: op, kind: ErrBadResponse, cause: errors.New("the answer names no commit, though the change may have been made")}
	}
	fc := &FileCommit{SHA: cm.SHA, HTMLURL: cm.HTMLURL, Branch: cmp.Or(opts.NewBranch, opts.Branch)}
	for _, p := range cm.Parents {
		fc.Parents = append(fc.Parents, p.SHA)
	}
	for _, f := range files {
		if f != nil && f.Path != "" {
			fc.Files = append(fc.Files, CommittedFile(*f))
		}
	}
	return fc, nil
}

package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The repository write tools: files (here), branches, tags and forks
// (branches_write.go).
func repoWriteTools() []*Tool {
	return []*Tool{
		createFile.Tool(), updateFile.Tool(), deleteFile.Tool(), commitFiles.Tool(),
		createBranch.Tool(), deleteBranch.Tool(), createTag.Tool(), deleteTag.Tool(),
		forkRepository.Tool(),
	}
}

var gitWriteScopes = []gitea.Scope{gitea.ScopeWriteRepository}

// CommitOpts are the commit fields every file write shares: an empty
// message lets Gitea write one, an empty branch is the default branch, and
// new_branch is created from branch to commit on. Their names are
// self-explanatory enough to go without descriptions in tools/list. Branch
// and NewBranch are the call's Target ref (new_branch first: where it lands).
type CommitOpts struct {
	Message   string `json:"message,omitempty"`
	Branch    string `json:"branch,omitempty"`
	NewBranch string `json:"new_branch,omitempty"`
}

// where words the branch a commit lands on, for a confirmation question.
func (c CommitOpts) where() string {
	from := cmp.Or(c.Branch, "the default branch")
	if c.NewBranch != "" {
		return fmt.Sprintf("on new branch %s (from %s)", c.NewBranch, from)
	}
	return "on " + from
}

func (c CommitOpts) write(content []byte) gitea.FileWrite {
	return gitea.FileWrite{Content: content, Message: c.Message, Branch: c.Branch, NewBranch: c.NewBranch}
}

// committedBranch names the branch a commit was made on. Gitea does not say
// which one the default branch is, so it is looked up once the commit is
// made; if that fails the commit stands and the branch is left out.
func committedBranch(ctx context.Context, e *Env, in RepoRef, fc *gitea.FileCommit) string {
	if fc.Branch != "" {
		return fc.Branch
	}
	r, err := e.Repository(ctx, in.Owner, in.Repo)
	if err != nil {
		return ""
	}
	return r.DefaultBranch
}

// fileWriteOut is a file as a commit left it.
type fileWriteOut struct {
	Path   string `json:"path"`
	SHA    string `json:"sha"` // the new blob: the sha of the next update
	Commit string `json:"commit"`
	Branch string `json:"branch,omitempty"`
	URL    string `json:"url"` // the commit's page
}

func fileWritten(ctx context.Context, e *Env, in RepoRef, path string, fc *gitea.FileCommit) fileWriteOut {
	out := fileWriteOut{Path: path, Commit: fc.SHA, Branch: committedBranch(ctx, e, in, fc), URL: fc.HTMLURL}
	if len(fc.Files) > 0 {
		out.Path, out.SHA = fc.Files[0].Path, fc.Files[0].SHA
	}
	return out
}

// fileConflict words Gitea's refusal of a file write that clashes with the
// repository: what the clash can be, given the call, and what to do.
func fileConflict(err error, clash, newBranch string) error {
	if !errors.Is(err, gitea.ErrConflict) {
		return err
	}
	if newBranch != "" {
		clash += ", or new_branch already exists"
	}
	return Notice("conflict: " + clash + ". Nothing was changed.")
}

// staleSHA is the clash of a write that names a file by its blob sha.
const staleSHA = "the file changed since you read it (sha is not its current blob SHA): read it again with get_file_contents and retry with the new sha"

type createFileIn struct {
	RepoRef
	Path    string `json:"path"`
	Content string `json:"content" jsonschema:"plain text, not base64"`
	CommitOpts
}

var createFile = Def[createFileIn, fileWriteOut]{
	Name:   "create_file",
	Title:  "Create a file",
	Desc:   "Commits a new file; refused if the path exists.",
	Scopes: gitWriteScopes,
	Access: Write,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in createFileIn) (fileWriteOut, error) {
		fc, err := e.CreateFile(ctx, in.Owner, in.Repo, in.Path, in.write([]byte(in.Content)))
		if err != nil {
			return fileWriteOut{}, fileConflict(err, "a file already exists at path (change it with update_file)", in.NewBranch)
		}
		return fileWritten(ctx, e, in.RepoRef, in.Path, fc), nil
	},
}

type updateFileIn struct {
	RepoRef
	Path    string `json:"path"`
	Content string `json:"content" jsonschema:"plain text, not base64"`
	SHA     string `json:"sha" jsonschema:"blob SHA from get_file_contents"`
	CommitOpts
}

var updateFile = Def[updateFileIn, fileWriteOut]{
	Name:   "update_file",
	Title:  "Update a file",
	Desc:   "Overwrites a file unless it changed since its sha was read.",
	Scopes: gitWriteScopes,
	Access: Destructive,
	Area:   AreaRepos,
	Confirm: func(in updateFileIn) string {
		return fmt.Sprintf("Overwrite %q %s in %s/%s?", in.Path, in.where(), in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in updateFileIn) (fileWriteOut, error) {
		fc, err := e.UpdateFile(ctx, in.Owner, in.Repo, in.Path, in.SHA, in.write([]byte(in.Content)))
		if err != nil {
			return fileWriteOut{}, fileConflict(err, staleSHA, in.NewBranch)
		}
		return fileWritten(ctx, e, in.RepoRef, in.Path, fc), nil
	},
}

type deleteFileIn struct {
	RepoRef
	Path string `json:"path"`
	SHA  string `json:"sha" jsonschema:"blob SHA from get_file_contents"`
	CommitOpts
}

// fileDeleteOut is the commit that deleted a file.
type fileDeleteOut struct {
	Deleted string `json:"deleted"` // the path
	Commit  string `json:"commit"`
	Branch  string `json:"branch,omitempty"`
	URL     string `json:"url"`
}

var deleteFile = Def[deleteFileIn, fileDeleteOut]{
	Name:   "delete_file",
	Title:  "Delete a file",
	Desc:   "Deletes a file unless it changed since its sha was read.",
	Scopes: gitWriteScopes,
	Access: Destructive,
	Area:   AreaRepos,
	Confirm: func(in deleteFileIn) string {
		return fmt.Sprintf("Delete %q %s in %s/%s?", in.Path, in.where(), in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in deleteFileIn) (fileDeleteOut, error) {
		fc, err := e.DeleteFile(ctx, in.Owner, in.Repo, in.Path, in.SHA, in.write(nil))
		if err != nil {
			return fileDeleteOut{}, fileConflict(err, staleSHA, in.NewBranch)
		}
		return fileDeleteOut{Deleted: in.Path, Commit: fc.SHA, Branch: committedBranch(ctx, e, in.RepoRef, fc), URL: fc.HTMLURL}, nil
	},
}

// commitFileIn is one file of a commit_files call. Content is a pointer so
// that an update which forgets it is refused rather than emptying the file.
type commitFileIn struct {
	Operation string  `json:"operation"`
	Path      string  `json:"path"`
	FromPath  string  `json:"from_path,omitempty" jsonschema:"rename: old path"`
	Content   *string `json:"content,omitempty" jsonschema:"create, update: plain text"`
	SHA       string  `json:"sha,omitempty" jsonschema:"all but create: blob SHA as read"`
}

type commitFilesIn struct {
	RepoRef
	CommitOpts
	Files []commitFileIn `json:"files"`
}

// fileChangesOut is the commit of a commit_files call.
type fileChangesOut struct {
	Commit string `json:"commit"`
	Branch string `json:"branch,omitempty"`
	URL    string `json:"url"`
	// Files are the blobs the commit left at the paths written (none for a delete).
	Files []writtenBlobOut `json:"files,omitempty"`
	Note  string           `json:"note,omitempty"`
}

type writtenBlobOut struct {
	Path string `json:"path"`
	SHA  string `json:"sha"`
}

// maxQuestionList bounds the list of changes in a commit_files question.
const maxQuestionList = 400

// summary words one change for a confirmation question.
func (f commitFileIn) summary() string {
	switch {
	case f.Operation == string(gitea.FileRename):
		return fmt.Sprintf("rename %q to %q", f.FromPath, f.Path)
	case f.FromPath != "" && f.FromPath != f.Path:
		return fmt.Sprintf("%s %q (moved from %q)", f.Operation, f.Path, f.FromPath)
	}
	return fmt.Sprintf("%s %q", f.Operation, f.Path)
}

func (in commitFilesIn) question() string {
	var b strings.Builder
	for i, f := range in.Files {
		item := f.summary()
		if i > 0 {
			if b.Len()+len(item) > maxQuestionList {
				fmt.Fprintf(&b, "; and %d more", len(in.Files)-i)
				break
			}
			b.WriteString("; ")
		} else if s, cut := Cut(item, maxQuestionList); cut {
			item = s + "…"
		}
		b.WriteString(item)
	}
	return fmt.Sprintf("Commit %d file change(s) %s in %s/%s: %s?", len(in.Files), in.where(), in.Owner, in.Repo, b.String())
}

// changes checks what the schema cannot (which fields each operation takes
// is checked by the client) and converts the files.
func (in commitFilesIn) changes() ([]gitea.FileChange, error) {
	out := make([]gitea.FileChange, len(in.Files))
	for i, f := range in.Files {
		op := gitea.FileOperation(f.Operation)
		writes := op == gitea.FileCreate || op == gitea.FileUpdate
		switch {
		case writes && f.Content == nil:
			return nil, &ArgumentError{Field: fmt.Sprintf("files[%d].content", i), Problem: "is required for a " + f.Operation + ` ("" for an empty file)`}
		case !writes && f.Content != nil:
			return nil, &ArgumentError{Field: fmt.Sprintf("files[%d].content", i), Problem: "is not taken by a " + f.Operation}
		}
		out[i] = gitea.FileChange{Operation: op, Path: f.Path, FromPath: f.FromPath, SHA: f.SHA}
		if f.Content != nil {
			out[i].Content = []byte(*f.Content)
		}
	}
	return out, nil
}

var commitFiles = Def[commitFilesIn, fileChangesOut]{
	Name:   "commit_files",
	Title:  "Commit file changes",
	Desc:   "One commit of file creates, updates, renames and deletes; all or none.",
	Scopes: gitWriteScopes,
	Access: Destructive,
	Area:   AreaRepos,
	Schema: func(s *jsonschema.Schema) {
		one, most := 1, gitea.MaxFileChanges
		files := s.Properties["files"]
		files.Type, files.Types, files.MinItems, files.MaxItems = "array", nil, &one, &most
		content := files.Items.Properties["content"]
		content.Type, content.Types = "string", nil
		files.Items.Properties["operation"].Enum = []any{"create", "update", "rename", "delete"}
	},
	Confirm: commitFilesIn.question,
	Run: func(ctx context.Context, e *Env, in commitFilesIn) (fileChangesOut, error) {
		files, err := in.changes()
		if err != nil {
			return fileChangesOut{}, err
		}
		fc, err := e.ChangeFiles(ctx, in.Owner, in.Repo, gitea.FileChanges{Message: in.Message, Branch: in.Branch,
			NewBranch: in.NewBranch, Files: files})
		if err != nil {
			return fileChangesOut{}, fileConflict(err, "a file changed since its sha was read, or a file is in the way of a create or rename: "+
				"read the files again with get_file_contents and retry", in.NewBranch)
		}
		out := fileChangesOut{Commit: fc.SHA, Branch: committedBranch(ctx, e, in.RepoRef, fc), URL: fc.HTMLURL}
		written := 0
		for _, f := range files {
			if f.Operation != gitea.FileDelete {
				written++
			}
		}
		for _, f := range fc.Files {
			out.Files = append(out.Files, writtenBlobOut{Path: f.Path, SHA: f.SHA})
		}
		if len(out.Files) < written {
			out.Note = fmt.Sprintf("Gitea listed %d of the %d files written; read the others' sha with get_file_contents", len(out.Files), written)
		}
		return out, nil
	},
}

package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

func fileTools() []*Tool {
	return []*Tool{getFileContents.Tool(), listDirectory.Tool(), getTree.Tool(), getBlob.Tool(), searchCode.Tool()}
}

type getFileContentsIn struct {
	RepoRef
	Path string `json:"path" jsonschema:"from the repository root, e.g. docs/setup.md"`
	AtRef
	StartLine int `json:"start_line,omitempty" jsonschema:"default 1"`
	EndLine   int `json:"end_line,omitempty" jsonschema:"inclusive (default: the last line)"`
}

type fileOut struct {
	Path       string   `json:"path"`
	SHA        string   `json:"sha"`
	Size       int64    `json:"size"`
	Binary     bool     `json:"binary,omitempty"`
	Content    UserText `json:"content,omitempty"`
	Truncated  bool     `json:"truncated,omitempty"`
	TotalLines int      `json:"total_lines,omitempty"`
	StartLine  int      `json:"start_line,omitempty"`
	EndLine    int      `json:"end_line,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// lineMinimum sets the schema minimum of a line number.
func lineMinimum(s *jsonschema.Schema, names ...string) {
	one := 1.0
	for _, n := range names {
		s.Properties[n].Minimum = &one
	}
}

var getFileContents = Def[getFileContentsIn, fileOut]{
	Name:   "get_file_contents",
	Title:  "Get a file",
	Desc:   "A file's text at a ref, with total_lines and the range returned; read long files in parts with start_line/end_line. Binary is described, not returned; secrets masked.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: func(s *jsonschema.Schema) { lineMinimum(s, "start_line", "end_line") },
	Run: func(ctx context.Context, e *Env, in getFileContentsIn) (fileOut, error) {
		if in.EndLine != 0 && in.EndLine < max(in.StartLine, 1) {
			return fileOut{}, &ArgumentError{Field: "end_line", Problem: "must not be before start_line"}
		}
		if !e.PathAllowed(in.Owner, in.Repo, in.Path) {
			return fileOut{}, errPathWithheld
		}
		f, err := e.FileContents(ctx, in.Owner, in.Repo, in.Path, in.Ref)
		if err != nil {
			return fileOut{}, err
		}
		if !e.PathAllowed(in.Owner, in.Repo, f.Path) {
			return fileOut{}, errPathWithheld
		}
		out := fileOut{Path: f.Path, SHA: f.SHA, Size: f.Size}
		if f.Type != "file" {
			out.Note = "this is a " + f.Type + ", not a regular file"
			return out, nil
		}
		if f.Encoding == "" && f.Size > 0 {
			out.Note = "file too large for Gitea to return through its API"
			return out, nil
		}
		data, err := f.Decode()
		if err != nil {
			return fileOut{}, err
		}
		if isBinary(data) {
			out.Binary, out.Note = true, "binary file: content not shown"
			return out, nil
		}
		lines, masked, err := maskLines(e, string(data))
		if err != nil {
			return fileOut{}, err
		}
		out.TotalLines = len(lines)
		first := max(in.StartLine, 1)
		if first > max(len(lines), 1) {
			return fileOut{}, &ArgumentError{Field: "start_line", Problem: fmt.Sprintf("is past the end of the file, which has %d lines", len(lines))}
		}
		last := len(lines)
		if in.EndLine != 0 {
			last = min(in.EndLine, last)
		}
		var notes []string
		if masked > 0 {
			notes = append(notes, fmt.Sprintf("%d secret(s) masked as %s", masked, textsafe.Masked))
		}
		text, end, cut := takeLines(lines, first, last, e.TextBudget())
		if len(lines) > 0 {
			out.StartLine, out.EndLine = first, end
		}
		switch {
		case cut && end >= first:
			notes = append(notes, fmt.Sprintf("output budget reached: lines %d-%d of %d returned; continue with start_line=%d", first, end, len(lines), end+1))
		case cut:
			out.EndLine = first
			notes = append(notes, fmt.Sprintf("line %d alone is over the output budget and was cut", first))
		}
		content, truncated, note, err := e.Content(text)
		if err != nil {
			return fileOut{}, err
		}
		out.Content, out.Truncated = content, cut || truncated
		out.Note = joinNotes(append(notes, note)...)
		return out, nil
	},
}

// isBinary reports whether data is not text: it holds NUL bytes or is not UTF-8.
func isBinary(data []byte) bool { return bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) }

// splitLines splits text into lines, each keeping its newline; a final
// newline does not start another line.
func splitLines(text string) []string {
	var lines []string
	for l := range strings.Lines(text) {
		lines = append(lines, l)
	}
	return lines
}

// maskLines splits a text file into lines with its secrets handled per the
// options, over the whole file so that no line range can split a secret
// (a private key block) out of the masking's reach.
func maskLines(e *Env, text string) (lines []string, masked int, err error) {
	lines = splitLines(text)
	masked, err = maskLineSlice(e, lines)
	return lines, masked, err
}

// maskLineSlice cleans lines and handles their secrets, in place, per the
// options.
// Masking keeps the line count: each line of a private key block becomes
// the mask. In block mode any secret refuses the whole text.
func maskLineSlice(e *Env, lines []string) (masked int, err error) {
	if e.opts.Secrets == textsafe.Off {
		return 0, nil
	}
	for i, l := range lines { // clean first: a secret split by invisible characters is whole again
		lines[i] = textsafe.Clean(l)
	}
	switch e.opts.Secrets {
	case textsafe.Block:
		if _, n := textsafe.MaskSecrets(strings.Join(lines, "")); n > 0 {
			return 0, &ArgumentError{Problem: fmt.Sprintf("the content holds %d secret(s) (keys, tokens or passwords); this server is set to withhold such content", n)}
		}
		return 0, nil
	}
	inKey := false
	for i, l := range lines {
		nl := ""
		if strings.HasSuffix(l, "\n") {
			nl = "\n"
		}
		switch {
		case !inKey && strings.Contains(l, "-----BEGIN ") && strings.Contains(l, "PRIVATE KEY"):
			inKey = !strings.Contains(l, "-----END ")
			lines[i] = textsafe.Masked + nl
			masked++
		case inKey:
			inKey = !strings.Contains(l, "-----END ")
			lines[i] = textsafe.Masked + nl
		default:
			var n int
			if lines[i], n = textsafe.MaskSecrets(l); n > 0 {
				masked += n
			}
		}
	}
	return masked, nil
}

// takeLines joins lines first..last (1-based, inclusive) while their JSON
// encoding fits budget. end is the last line taken; cut says whether fewer
// were taken than asked. A first line alone over budget is cut to fit.
func takeLines(lines []string, first, last, budget int) (text string, end int, cut bool) {
	var b strings.Builder
	size := 0
	for n := first; n <= last; n++ {
		l := lines[n-1]
		ls := jsonTextLen(l)
		if size+ls > budget {
			if n == first {
				s, _ := fitJSON(l, budget)
				return s, n - 1, true
			}
			return b.String(), n - 1, true
		}
		b.WriteString(l)
		size += ls
	}
	return b.String(), last, false
}

// jsonSize is the length of v's JSON encoding.
func jsonSize(v any) (int, error) {
	b, err := json.Marshal(v)
	return len(b), err
}

// minTextBudget is the least room worth giving a long text.
const minTextBudget = 1024

// fitContent prepares repository content (a diff, a blob) for output in at
// most budget bytes of JSON: secrets handled per the options, then cut.
func fitContent(e *Env, s string, budget int) (UserText, bool, string, error) {
	if budget < minTextBudget {
		return "", s != "", "no room left in the output budget for the text", nil
	}
	text, truncated, note, err := e.Content(s)
	if err != nil {
		return "", false, "", err
	}
	cut, more := fitJSON(string(text), budget)
	return UserText(cut), truncated || more, note, nil
}

// entryType names a tree entry's kind the way the other tools do.
func entryType(t, mode string) string {
	switch {
	case t == "tree":
		return "dir"
	case t == "commit":
		return "submodule"
	case mode == "120000":
		return "symlink"
	}
	return "file"
}

type listDirectoryIn struct {
	RepoRef
	Path string `json:"path,omitempty" jsonschema:"from the repository root (default: the root)"`
	AtRef
}

type dirEntry struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Type     string `json:"type"` // file, dir, symlink or submodule
	Size     int64  `json:"size,omitempty"`
	Withheld string `json:"withheld,omitempty"` // "policy": named, nothing more shown
}

type directoryOut struct {
	Entries   []dirEntry `json:"entries"`
	Truncated bool       `json:"truncated,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// maxDirEntries bounds a directory listing.
const maxDirEntries = 300

var listDirectory = Def[listDirectoryIn, directoryOut]{
	Name:   "list_directory",
	Title:  "List a directory",
	Desc:   "Entries at a ref: name, path, type (file, dir, symlink, submodule), size. Whole tree: get_tree.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in listDirectoryIn) (directoryOut, error) {
		entries, err := e.Directory(ctx, in.Owner, in.Repo, in.Path, in.Ref)
		if err != nil {
			return directoryOut{}, err
		}
		out := directoryOut{Entries: []dirEntry{}}
		var notes []string
		withheld := 0
		for _, c := range entries {
			if len(out.Entries) == maxDirEntries {
				out.Truncated = true
				notes = append(notes, fmt.Sprintf("only the first %d of %d entries listed: page through them with get_tree (path, recursive false)", maxDirEntries, len(entries)))
				break
			}
			d := dirEntry{Name: c.Name, Path: c.Path, Type: c.Type, Size: c.Size, Withheld: e.withheld(in.Owner, in.Repo, c.Path)}
			if d.Withheld != "" {
				d.Size = 0
				withheld++
			}
			out.Entries = append(out.Entries, d)
		}
		out.Note = joinNotes(append(notes, withheldNote(withheld))...)
		return out, nil
	},
}

type getTreeIn struct {
	RepoRef
	AtRef
	Path      string `json:"path,omitempty" jsonschema:"only under this directory"`
	Recursive bool   `json:"recursive,omitempty"`
	Page      int    `json:"page,omitempty"`
	Limit     int    `json:"limit,omitempty" jsonschema:"default 200"`
}

type treeEntry struct {
	Path     string `json:"path"`
	Type     string `json:"type"` // file, dir, symlink or submodule
	Size     int64  `json:"size,omitempty"`
	SHA      string `json:"sha,omitempty"`      // absent only when withheld
	Withheld string `json:"withheld,omitempty"` // "policy": named, nothing more shown
}

type treeOut struct {
	// SHA is the commit listed (without path, pass it as ref to page
	// through one unchanging snapshot), or under a path the directory's tree.
	SHA     string      `json:"sha"`
	Entries []treeEntry `json:"entries"`
	PageOut
}

// Bounds of a tree page.
const (
	defaultTreeLimit = 200
	maxTreeLimit     = 500
)

var getTree = Def[getTreeIn, treeOut]{
	Name:   "get_tree",
	Title:  "Get the file tree",
	Desc:   "The file tree at a ref: path, type, size, SHA (read a file by SHA with get_blob).",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: func(s *jsonschema.Schema) {
		one, most := 1.0, float64(maxTreeLimit)
		s.Properties["page"].Minimum = &one
		s.Properties["limit"].Minimum, s.Properties["limit"].Maximum = &one, &most
		s.Properties["recursive"].Default = json.RawMessage("true")
	},
	Run: func(ctx context.Context, e *Env, in getTreeIn) (treeOut, error) {
		limit := in.Limit
		if limit == 0 {
			limit = defaultTreeLimit
		}
		page := max(in.Page, 1)
		tree, prefix, err := treeAt(ctx, e, in.RepoRef, in.Ref, in.Path, in.Recursive, page, limit)
		if err != nil {
			return treeOut{}, err
		}
		out := treeOut{SHA: tree.SHA, Entries: compact(tree.Entries, func(t *gitea.GitTreeEntry) treeEntry {
			te := treeEntry{Path: prefix + t.Path, Type: entryType(t.Type, t.Mode)}
			if te.Withheld = e.withheld(in.Owner, in.Repo, te.Path); te.Withheld != "" {
				return te // named only: no SHA to read it by, no size
			}
			te.SHA = t.SHA
			if t.Type == "blob" {
				te.Size = t.Size
			}
			return te
		})}
		out.Total = int64(tree.TotalCount)
		if tree.Truncated || page*limit < tree.TotalCount {
			out.NextPage = page + 1
		}
		return out, nil
	},
}

// treeAt returns a page of the tree at ref, or of the directory dir in it,
// and the prefix that makes its entries' paths relative to the root.
func treeAt(ctx context.Context, e *Env, repo RepoRef, ref, dir string, recursive bool, page, limit int) (*gitea.GitTree, string, error) {
	if dir = strings.TrimSuffix(dir, "/"); dir == "" {
		if ref == "" {
			r, err := e.Repository(ctx, repo.Owner, repo.Repo)
			if err != nil {
				return nil, "", err
			}
			if r.Empty || r.DefaultBranch == "" {
				return nil, "", &ArgumentError{Problem: "the repository is empty"}
			}
			ref = r.DefaultBranch
		}
		ref, err := rootedTreeRef(ctx, e, repo, ref)
		if err != nil {
			return nil, "", err
		}
		t, err := e.Tree(ctx, repo.Owner, repo.Repo, ref, recursive, page, limit)
		return t, "", err
	}
	parent, name := path.Split(dir)
	entries, err := e.Directory(ctx, repo.Owner, repo.Repo, strings.TrimSuffix(parent, "/"), ref)
	if err != nil {
		return nil, "", err
	}
	for _, c := range entries {
		if c.Name != name {
			continue
		}
		if c.Type != "dir" {
			return nil, "", &ArgumentError{Field: "path", Problem: "is a " + c.Type + ", not a directory"}
		}
		t, err := e.Tree(ctx, repo.Owner, repo.Repo, c.SHA, recursive, page, limit)
		return t, dir + "/", err
	}
	return nil, "", fmt.Errorf("%w: no such directory", gitea.ErrNotFound)
}

type getBlobIn struct {
	RepoRef
	SHA string `json:"sha" jsonschema:"full SHA, from get_tree"`
}

type blobOut struct {
	SHA       string   `json:"sha"`
	Size      int64    `json:"size"`
	Binary    bool     `json:"binary,omitempty"`
	LFS       bool     `json:"lfs_pointer,omitempty"`
	Content   UserText `json:"content,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
	Note      string   `json:"note,omitempty"`
}

var getBlob = Def[getBlobIn, blobOut]{
	Name:   "get_blob",
	Title:  "Get a blob",
	Desc:   "A file version by SHA: text with secrets masked, cut to fit; binary is described, not returned.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in getBlobIn) (blobOut, error) {
		if e.opts.PathsRestricted != nil && e.opts.PathsRestricted(in.Owner, in.Repo) {
			// A blob has no path to check: where the policy withholds paths, none is shown.
			return blobOut{}, Notice("this server's policy restricts paths in this repository, and a blob by its SHA cannot be " +
				"path-checked: read the file with get_file_contents instead")
		}
		b, err := e.Blob(ctx, in.Owner, in.Repo, in.SHA)
		if err != nil {
			return blobOut{}, err
		}
		out := blobOut{SHA: b.SHA, Size: b.Size, LFS: b.LFSOid != nil}
		data, ok, err := b.Decode()
		switch {
		case err != nil:
			return blobOut{}, err
		case !ok:
			out.Note = "blob too large for Gitea to return through its API"
			return out, nil
		case isBinary(data):
			out.Binary, out.Note = true, "binary blob: content not shown"
			return out, nil
		}
		if out.Content, out.Truncated, out.Note, err = fitContent(e, string(data), e.TextBudget()); err != nil {
			return blobOut{}, err
		}
		if out.Truncated {
			out.Note = joinNotes(out.Note, "content cut to fit: read it by line range with get_file_contents")
		}
		if out.LFS {
			out.Note = joinNotes(out.Note, "this is a Git LFS pointer; the file itself is stored outside git")
		}
		return out, nil
	},
}

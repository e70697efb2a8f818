package tools

import (
	"bytes"
	"context"
	"unicode/utf8"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// MaxFileBytes bounds the file content one call returns.
const MaxFileBytes = 256 << 10

type getFileContentsIn struct {
	RepoRef
	Path string `json:"path" jsonschema:"file path from the repository root, e.g. docs/setup.md"`
	Ref  string `json:"ref,omitempty" jsonschema:"branch, tag or commit SHA (default: the default branch)"`
}

type fileOut struct {
	Path      string `json:"path"`
	SHA       string `json:"sha"`
	Size      int64  `json:"size"`
	Binary    bool   `json:"binary,omitempty"`
	Content   string `json:"content,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"`
}

var getFileContents = Def[getFileContentsIn, fileOut]{
	Name:  "get_file_contents",
	Title: "Get a file",
	Desc: "The text of one file at a branch, tag or commit. Binary files are described, not returned; " +
		"content over 256 KiB is cut and marked truncated.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Run: func(ctx context.Context, c *gitea.Client, in getFileContentsIn) (fileOut, error) {
		f, err := c.FileContents(ctx, in.Owner, in.Repo, in.Path, in.Ref)
		if err != nil {
			return fileOut{}, err
		}
		out := fileOut{Path: f.Path, SHA: f.SHA, Size: f.Size}
		if f.Type != "file" {
			out.Note = "this is a " + f.Type + ", not a regular file"
			return out, nil
		}
		data, err := f.Decode()
		if err != nil {
			return fileOut{}, err
		}
		if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
			out.Binary, out.Note = true, "binary file: content not shown"
			return out, nil
		}
		if len(data) > MaxFileBytes {
			data = data[:MaxFileBytes]
			for !utf8.Valid(data) { // do not split a character
				data = data[:len(data)-1]
			}
			out.Truncated, out.Note = true, "content cut at 256 KiB"
		}
		out.Content = string(data)
		return out, nil
	},
}

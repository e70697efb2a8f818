package tools

import (
	"bytes"
	"context"
	"strings"
	"unicode/utf8"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func fileTools() []*Tool { return []*Tool{getFileContents.Tool()} }

type getFileContentsIn struct {
	RepoRef
	Path string `json:"path" jsonschema:"file path from the repository root, e.g. docs/setup.md"`
	Ref  string `json:"ref,omitempty" jsonschema:"branch, tag or commit SHA (default: the default branch)"`
}

type fileOut struct {
	Path      string   `json:"path"`
	SHA       string   `json:"sha"`
	Size      int64    `json:"size"`
	Binary    bool     `json:"binary,omitempty"`
	Content   UserText `json:"content,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
	Note      string   `json:"note,omitempty"`
}

var getFileContents = Def[getFileContentsIn, fileOut]{
	Name:  "get_file_contents",
	Title: "Get a file",
	Desc: "The text of one file at a branch, tag or commit. Binary files are described, not returned; " +
		"long content is cut and marked truncated; committed secrets are masked.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Run: func(ctx context.Context, e *Env, in getFileContentsIn) (fileOut, error) {
		f, err := e.FileContents(ctx, in.Owner, in.Repo, in.Path, in.Ref)
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
		if out.Content, out.Truncated, out.Note, err = e.Content(string(data)); err != nil {
			return fileOut{}, err
		}
		if out.Truncated {
			out.Note = strings.TrimPrefix(out.Note+"; content cut to fit the output budget", "; ")
		}
		return out, nil
	},
}

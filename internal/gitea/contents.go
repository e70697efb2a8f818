package gitea

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// MaxFilesPerBatch is the most paths [Client.FilesContents] takes at once;
// Gitea answers at most 30 ([api] DEFAULT_PAGING_NUM) per call.
const MaxFilesPerBatch = 25

// maxBatchQuery bounds the encoded path list of one batch, keeping the URL short.
const maxBatchQuery = 6 << 10

// contents fetches the contents API's answer for path in owner/repo at ref
// (the default branch when empty; an empty path is the repository root): a
// JSON object for a file, an array for a directory.
func (c *Client) contents(ctx context.Context, owner, repo, path, ref string) (json.RawMessage, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	target, op := p+"/contents", "GET /api/v1/repos/{owner}/{repo}/contents"
	if path != "" {
		escaped, err := escapeRepoPath(path)
		if err != nil {
			return nil, err
		}
		target, op = target+"/"+escaped, op+"/{path}"
	}
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	var q url.Values
	if ref != "" {
		q = url.Values{"ref": {ref}}
	}
	var raw json.RawMessage
	if _, err := c.get(ctx, op, target, q, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// FileContents returns the file at path in owner/repo at ref (the default
// branch when ref is empty). A directory is reported as ErrInvalidArgument.
func (c *Client) FileContents(ctx context.Context, owner, repo, path, ref string) (*Contents, error) {
	if path == "" {
		return nil, invalid("path must name a file")
	}
	raw, err := c.contents(ctx, owner, repo, path, ref)
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 && raw[0] == '[' {
		return nil, invalid("path is a directory, not a file")
	}
	var f Contents
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%w: contents are not the expected JSON", ErrBadResponse)
	}
	return &f, nil
}

// Directory lists the entries of directory path in owner/repo at ref (the
// default branch when empty); an empty path is the repository root. Entries
// carry no content. A file is reported as ErrInvalidArgument.
func (c *Client) Directory(ctx context.Context, owner, repo, path, ref string) ([]Contents, error) {
	raw, err := c.contents(ctx, owner, repo, path, ref)
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 && raw[0] != '[' {
		return nil, invalid("path is a file, not a directory")
	}
	var entries []Contents
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w: directory listing is not the expected JSON", ErrBadResponse)
	}
	return entries, nil
}

// FilesContents returns the files at paths in owner/repo at ref (the
// default branch when empty), with their content, in one call. The answer
// lists the files in order; a file Gitea could not read is nil, and Gitea
// may stop early (its page and response-size limits), so the answer can be
// shorter than paths. A file over Gitea's blob size limit has no content.
func (c *Client) FilesContents(ctx context.Context, owner, repo, ref string, paths []string) ([]*Contents, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 || len(paths) > MaxFilesPerBatch {
		return nil, invalid("paths must hold 1-%d files", MaxFilesPerBatch)
	}
	for _, path := range paths {
		if _, err := escapeRepoPath(path); err != nil {
			return nil, err
		}
	}
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	body, err := json.Marshal(struct {
		Files []string `json:"files"`
	}{paths})
	if err != nil {
		return nil, invalid("paths cannot be encoded")
	}
	if len(body) > maxBatchQuery {
		return nil, invalid("the paths of one batch must total at most %d bytes", maxBatchQuery)
	}
	q := url.Values{"body": {string(body)}}
	if ref != "" {
		q.Set("ref", ref)
	}
	var files []*Contents
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/file-contents", p+"/file-contents", q, &files); err != nil {
		return nil, err
	}
	return files, nil
}

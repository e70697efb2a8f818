package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GitBranch is a branch with its head commit and the protection facts Gitea
// shows to any reader (fields we use only).
type GitBranch struct {
	Name                string        `json:"name"`
	Commit              *BranchCommit `json:"commit"`
	Protected           bool          `json:"protected"`
	RequiredApprovals   int64         `json:"required_approvals"`
	EnableStatusCheck   bool          `json:"enable_status_check"`
	StatusCheckContexts []string      `json:"status_check_contexts"`
	UserCanPush         bool          `json:"user_can_push"`
	UserCanMerge        bool          `json:"user_can_merge"`
	// ProtectionRule names the branch protection rule that applies, if any.
	ProtectionRule string `json:"effective_branch_protection_name"`
}

// BranchCommit is a branch's head commit.
type BranchCommit struct {
	ID        string          `json:"id"`
	Message   string          `json:"message"`
	Author    *CommitIdentity `json:"author"`
	Timestamp time.Time       `json:"timestamp"`
}

// CommitIdentity is a commit author or committer as a branch reports it.
type CommitIdentity struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	UserName string `json:"username"`
}

// GitTag is a tag. For an annotated tag ID is the tag object's SHA and
// Message the tag message; for a lightweight tag ID is the commit's SHA.
type GitTag struct {
	Name    string     `json:"name"`
	Message string     `json:"message"`
	ID      string     `json:"id"`
	Commit  *GitObject `json:"commit"`
}

// Annotated reports whether t is an annotated tag (a tag object of its own).
func (t *GitTag) Annotated() bool { return t.Commit != nil && t.ID != "" && t.ID != t.Commit.SHA }

// GitObject names a commit (or tree) by SHA.
type GitObject struct {
	SHA     string    `json:"sha"`
	Created time.Time `json:"created"`
}

// GitTree is one page of a tree listing.
type GitTree struct {
	SHA        string         `json:"sha"`
	Entries    []GitTreeEntry `json:"tree"`
	Truncated  bool           `json:"truncated"`
	Page       int            `json:"page"`
	TotalCount int            `json:"total_count"`
}

// GitTreeEntry is one entry of a tree: Type is "blob", "tree" or "commit" (a submodule).
type GitTreeEntry struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	SHA  string `json:"sha"`
}

// GitBlob is a blob. Content is absent when the blob is over Gitea's blob size limit.
type GitBlob struct {
	SHA      string  `json:"sha"`
	Size     int64   `json:"size"`
	Encoding *string `json:"encoding"`
	Content  *string `json:"content"`
	LFSOid   *string `json:"lfs_oid"`
	LFSSize  *int64  `json:"lfs_size"`
}

// Decode returns the blob's bytes; ok is false when Gitea sent no content.
func (b *GitBlob) Decode() (data []byte, ok bool, err error) {
	if b.Content == nil || b.Encoding == nil {
		return nil, false, nil
	}
	c := Contents{Encoding: *b.Encoding, Content: *b.Content}
	data, err = c.Decode()
	return data, err == nil, err
}

// MaxTreePageSize is the largest tree page Gitea serves by default ([api] DEFAULT_GIT_TREES_PER_PAGE).
const MaxTreePageSize = 1000

// ListBranches lists the branches of owner/repo.
func (c *Client) ListBranches(ctx context.Context, owner, repo string, opts ListOptions) ([]GitBranch, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var branches []GitBranch
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/branches", p+"/branches", opts.query(), &branches)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return branches, pageInfo(h, opts, len(branches)), nil
}

// Branch returns branch name of owner/repo.
func (c *Client) Branch(ctx context.Context, owner, repo, name string) (*GitBranch, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	escaped, err := escapeGitRef("branch", name, false)
	if err != nil {
		return nil, err
	}
	var b GitBranch
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/branches/{branch}", p+"/branches/"+escaped, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// ListTags lists the tags of owner/repo, newest first.
func (c *Client) ListTags(ctx context.Context, owner, repo string, opts ListOptions) ([]GitTag, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var tags []GitTag
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/tags", p+"/tags", opts.query(), &tags)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return tags, pageInfo(h, opts, len(tags)), nil
}

// Tag returns tag name of owner/repo.
func (c *Client) Tag(ctx context.Context, owner, repo, name string) (*GitTag, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	escaped, err := escapeGitRef("tag", name, false)
	if err != nil {
		return nil, err
	}
	var t GitTag
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/tags/{tag}", p+"/tags/"+escaped, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Tree returns one page of the tree of ref (a branch, tag, commit or tree
// SHA), listing subtrees' contents too when recursive. perPage is capped at
// [MaxTreePageSize]. An unknown ref is ErrNotFound.
func (c *Client) Tree(ctx context.Context, owner, repo, ref string, recursive bool, page, perPage int) (*GitTree, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	escaped, err := escapeGitRef("ref", ref, true)
	if err != nil {
		return nil, err
	}
	if page < 1 {
		page = 1
	}
	if perPage < 1 || perPage > MaxTreePageSize {
		perPage = MaxTreePageSize
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}
	if recursive {
		q.Set("recursive", "true")
	}
	var t GitTree
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/git/trees/{sha}", p+"/git/trees/"+escaped, q, &t); err != nil {
		return nil, badRequestIsNotFound(err)
	}
	return &t, nil
}

// Blob returns the blob sha of owner/repo. An unknown blob is ErrNotFound.
func (c *Client) Blob(ctx context.Context, owner, repo, sha string) (*GitBlob, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if !isFullObjectID(sha) {
		return nil, invalid("sha must be a full object id: 40 or 64 hexadecimal digits")
	}
	var b GitBlob
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/git/blobs/{sha}", p+"/git/blobs/"+strings.ToLower(sha), nil, &b); err != nil {
		return nil, badRequestIsNotFound(err)
	}
	return &b, nil
}

// badRequestIsNotFound maps Gitea's 400 for an unknown object (trees and
// blobs answer so) to ErrNotFound.
func badRequestIsNotFound(err error) error {
	if errors.Is(err, ErrInvalidRequest) {
		return fmt.Errorf("%w: no such object or ref", ErrNotFound)
	}
	return err
}

// isFullObjectID reports whether s is a full SHA-1 or SHA-256 object id.
func isFullObjectID(s string) bool {
	return (len(s) == 40 || len(s) == 64) && isHex(s)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// escapeGitRef validates a branch, tag or commit name and escapes it for a
// URL path: as one segment (slashes escaped) when oneSegment, else segment
// by segment. It follows git's ref-name rules closely enough that a name can
// never change the shape of the path: no empty, "." or ".."-led segments,
// no "..", no control characters, spaces or any of \ ? * [ : and no leading "-".
func escapeGitRef(what, ref string, oneSegment bool) (string, error) {
	if err := checkGitRef(what, ref); err != nil {
		return "", err
	}
	if oneSegment {
		return url.PathEscape(ref), nil
	}
	segs := strings.Split(ref, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), nil
}

func checkGitRef(what, ref string) error {
	bad := ref == "" || len(ref) > maxRefLen || hasControl(ref) || strings.ContainsAny(ref, " \\?*[:") ||
		strings.Contains(ref, "..") || strings.HasPrefix(ref, "-") || strings.HasSuffix(ref, ".lock")
	if !bad {
		for _, s := range strings.Split(ref, "/") {
			if s == "" || strings.HasPrefix(s, ".") {
				bad = true
				break
			}
		}
	}
	if bad {
		return invalid("%s must be a branch, tag or commit name of 1-%d bytes, as git allows (no spaces, '..', empty segments or control characters)", what, maxRefLen)
	}
	return nil
}

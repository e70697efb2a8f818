package gitea

import (
	"context"
	"io"
	"net/url"
	"strings"
	"time"
)

// GitCommit is a commit (fields we use only). Files and Stats are set only
// when asked for.
type GitCommit struct {
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
	Commit  struct {
		Author    *CommitSignature `json:"author"`
		Committer *CommitSignature `json:"committer"`
		Message   string           `json:"message"`
	} `json:"commit"`
	// Author and Committer are the Gitea accounts linked to the commit's
	// e-mail addresses, if any.
	Author    *User         `json:"author"`
	Committer *User         `json:"committer"`
	Parents   []GitObject   `json:"parents"`
	Files     []CommitFile  `json:"files"`
	Stats     *CommitCounts `json:"stats"`
}

// CommitSignature is a commit's author or committer as git records it.
type CommitSignature struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

// CommitFile is a file a commit touched; Status is added, modified, deleted...
type CommitFile struct {
	Filename string `json:"filename"`
	Status   string `json:"status"`
}

// CommitCounts are a commit's changed-line counts.
type CommitCounts struct {
	Total     int `json:"total"`
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
}

// GitCompare is what lies between two refs: the commits of head not in base.
type GitCompare struct {
	TotalCommits int         `json:"total_commits"`
	Commits      []GitCommit `json:"commits"`
}

// GitCommitStatus is one status (a CI result) reported on a commit.
type GitCommitStatus struct {
	State       string    `json:"status"`
	Context     string    `json:"context"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url"`
	Creator     *User     `json:"creator"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// GitCombinedStatus is the latest status of each context on a commit, with
// the state they combine to (computed by Gitea over the page it returned).
type GitCombinedStatus struct {
	State    string            `json:"state"`
	SHA      string            `json:"sha"`
	Statuses []GitCommitStatus `json:"statuses"`
}

// CommitFilter narrows a commit list. Zero values mean no filter.
type CommitFilter struct {
	Ref   string // branch, tag or SHA to list back from; empty means the default branch
	Path  string // only commits touching this file or directory
	Since time.Time
	Until time.Time
}

// CommitsPerPathPage is how many commits Gitea puts in one page of a
// path-filtered list, whatever limit is asked for ([git] COMMITS_RANGE_SIZE).
const CommitsPerPathPage = 50

// ListCommits lists commits newest first, without files, stats or
// signature checks. With f.Path set, Gitea ignores the limit and serves
// [CommitsPerPathPage] commits per page, so the limit is set to that.
func (c *Client) ListCommits(ctx context.Context, owner, repo string, f CommitFilter, opts ListOptions) ([]GitCommit, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := url.Values{"stat": {"false"}, "files": {"false"}, "verification": {"false"}}
	if f.Ref != "" {
		if err := checkGitRef("ref", f.Ref); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("sha", f.Ref)
	}
	if f.Path != "" {
		if _, err := escapeRepoPath(f.Path); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("path", f.Path)
		opts.Limit = CommitsPerPathPage
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339))
	}
	for k, v := range opts.query() {
		q[k] = v
	}
	var commits []GitCommit
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/commits", p+"/commits", q, &commits)
	if err != nil {
		return nil, PageInfo{}, err
	}
	if len(commits) > opts.Limit {
		commits = commits[:opts.Limit] // a path-filtered page carries one commit of look-ahead
	}
	return commits, pageInfo(h, opts, len(commits)), nil
}

// Commit returns the commit ref names (a SHA, or a branch or tag for its
// head), with its stats and changed files.
func (c *Client) Commit(ctx context.Context, owner, repo, ref string) (*GitCommit, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	escaped, err := escapeGitRef("ref", ref, true)
	if err != nil {
		return nil, err
	}
	q := url.Values{"stat": {"true"}, "files": {"true"}, "verification": {"false"}}
	var cm GitCommit
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/git/commits/{sha}", p+"/git/commits/"+escaped, q, &cm); err != nil {
		return nil, err
	}
	return &cm, nil
}

// CommitDiff returns at most limit bytes of the unified diff of commit sha
// against its first parent; truncated says whether more was left out.
func (c *Client) CommitDiff(ctx context.Context, owner, repo, sha string, limit int) (string, bool, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", false, err
	}
	if !isFullObjectID(sha) {
		return "", false, invalid("sha must be a full commit id: 40 or 64 hexadecimal digits")
	}
	if limit < 1 {
		return "", false, invalid("limit must be positive")
	}
	return c.getText(ctx, "GET /api/v1/repos/{owner}/{repo}/git/commits/{sha}.diff", p+"/git/commits/"+strings.ToLower(sha)+".diff", nil, limit)
}

// ReadCommitDiff hands read the unified diff of commit sha against its
// first parent as a stream of at most limit bytes; truncated says whether
// the diff went on past limit, when read read that far (see [Endpoint.sendStream]).
func (c *Client) ReadCommitDiff(ctx context.Context, owner, repo, sha string, limit int, read func(io.Reader) error) (truncated bool, err error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return false, err
	}
	if !isFullObjectID(sha) {
		return false, invalid("sha must be a full commit id: 40 or 64 hexadecimal digits")
	}
	if limit < 1 {
		return false, invalid("limit must be positive")
	}
	return c.getStream(ctx, "GET /api/v1/repos/{owner}/{repo}/git/commits/{sha}.diff", p+"/git/commits/"+strings.ToLower(sha)+".diff", nil, limit, read)
}

// comparePath validates base and head and returns the compare path for base...head.
func comparePath(owner, repo, base, head string) (string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", err
	}
	b, err := escapeGitRef("base", base, false)
	if err != nil {
		return "", err
	}
	h, err := escapeGitRef("head", head, false)
	if err != nil {
		return "", err
	}
	return p + "/compare/" + b + "..." + h, nil
}

// Compare returns the commits of head that base lacks (base...head), newest
// first, without files or signature checks.
func (c *Client) Compare(ctx context.Context, owner, repo, base, head string) (*GitCompare, error) {
	path, err := comparePath(owner, repo, base, head)
	if err != nil {
		return nil, err
	}
	q := url.Values{"files": {"false"}, "verification": {"false"}}
	var cmp GitCompare
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/compare/{basehead}", path, q, &cmp); err != nil {
		return nil, err
	}
	return &cmp, nil
}

// CompareDiff returns at most limit bytes of the unified diff of base...head.
func (c *Client) CompareDiff(ctx context.Context, owner, repo, base, head string, limit int) (string, bool, error) {
	path, err := comparePath(owner, repo, base, head)
	if err != nil {
		return "", false, err
	}
	if limit < 1 {
		return "", false, invalid("limit must be positive")
	}
	return c.getText(ctx, "GET /api/v1/repos/{owner}/{repo}/compare/{basehead}?output=diff", path, url.Values{"output": {"diff"}}, limit)
}

// ReadCompareDiff hands read the unified diff of base...head as a stream
// of at most limit bytes; truncated says whether the diff went on past
// limit, when read read that far (see [Endpoint.sendStream]).
func (c *Client) ReadCompareDiff(ctx context.Context, owner, repo, base, head string, limit int, read func(io.Reader) error) (truncated bool, err error) {
	path, err := comparePath(owner, repo, base, head)
	if err != nil {
		return false, err
	}
	if limit < 1 {
		return false, invalid("limit must be positive")
	}
	return c.getStream(ctx, "GET /api/v1/repos/{owner}/{repo}/compare/{basehead}?output=diff", path, url.Values{"output": {"diff"}}, limit, read)
}

// CombinedStatus returns the latest status of each context on the commit
// ref names, one page of them.
func (c *Client) CombinedStatus(ctx context.Context, owner, repo, ref string, opts ListOptions) (*GitCombinedStatus, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	escaped, err := escapeGitRef("ref", ref, true)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var s GitCombinedStatus
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/commits/{ref}/status", p+"/commits/"+escaped+"/status", opts.query(), &s)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return &s, pageInfo(h, opts, len(s.Statuses)), nil
}

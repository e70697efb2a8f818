package gitea

import (
	"context"
	"strconv"
	"time"
)

// Issue is a Gitea issue or pull request (fields we use only).
type Issue struct {
	Number    int64      `json:"number"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	State     string     `json:"state"`
	User      User       `json:"user"`
	Labels    []Label    `json:"labels"`
	Assignees []User     `json:"assignees"`
	Milestone *Milestone `json:"milestone"`
	Comments  int        `json:"comments"`
	HTMLURL   string     `json:"html_url"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ClosedAt  *time.Time `json:"closed_at"`
	// PullRequest is set when the issue is a pull request.
	PullRequest *struct {
		Merged bool `json:"merged"`
	} `json:"pull_request"`
}

// Label is an issue label.
type Label struct {
	Name string `json:"name"`
}

// Milestone is an issue milestone.
type Milestone struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// IssueFilter narrows a list of issues. Zero values mean no filter, except
// State, which Gitea defaults to "open".
type IssueFilter struct {
	State string // "open", "closed" or "all"
	// PullRequests lists pull requests instead of issues.
	PullRequests bool
}

// ListIssues lists the issues (or pull requests) of owner/repo.
func (c *Client) ListIssues(ctx context.Context, owner, repo string, f IssueFilter, opts ListOptions) ([]Issue, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	switch f.State {
	case "", "open", "closed", "all":
	default:
		return nil, PageInfo{}, invalid("state must be open, closed or all")
	}
	opts = opts.normalized()
	q := opts.query()
	q.Set("type", "issues")
	if f.PullRequests {
		q.Set("type", "pulls")
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	var issues []Issue
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues", p+"/issues", q, &issues)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return issues, pageInfo(h, opts, len(issues)), nil
}

// Issue returns issue (or pull request) number of owner/repo.
func (c *Client) Issue(ctx context.Context, owner, repo string, number int64) (*Issue, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if number < 1 {
		return nil, invalid("number must be a positive issue number")
	}
	var is Issue
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues/{number}", p+"/issues/"+strconv.FormatInt(number, 10), nil, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

package gitea

import (
	"context"
	"time"
)

// Label is an issue label of a repository or an organization.
type Label struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
	// Exclusive labels are scoped ("kind/bug"): an issue carries one per scope.
	Exclusive  bool `json:"exclusive"`
	IsArchived bool `json:"is_archived"`
}

// Milestone is an issue milestone.
type Milestone struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	State        string     `json:"state"`
	OpenIssues   int        `json:"open_issues"`
	ClosedIssues int        `json:"closed_issues"`
	DueOn        *time.Time `json:"due_on"`
	ClosedAt     *time.Time `json:"closed_at"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

// RepoLabels lists the labels defined in owner/repo (not its organization's).
func (c *Client) RepoLabels(ctx context.Context, owner, repo string, opts ListOptions) ([]Label, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var labels []Label
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/labels", p+"/labels", opts.query(), &labels)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return labels, pageInfo(h, opts, len(labels)), nil
}

// OrgLabels lists the labels an organization shares with its repositories.
func (c *Client) OrgLabels(ctx context.Context, org string, opts ListOptions) ([]Label, PageInfo, error) {
	if err := checkName("org", org); err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var labels []Label
	h, err := c.get(ctx, "GET /api/v1/orgs/{org}/labels", "/api/v1/orgs/"+org+"/labels", opts.query(), &labels)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return labels, pageInfo(h, opts, len(labels)), nil
}

// MilestoneFilter narrows a list of milestones.
type MilestoneFilter struct {
	State string // "open" (default), "closed" or "all"
	// Name keeps the milestones whose title contains it, ignoring case.
	Name string
}

// Milestones lists the milestones of owner/repo.
func (c *Client) Milestones(ctx context.Context, owner, repo string, f MilestoneFilter, opts ListOptions) ([]Milestone, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := opts.query()
	if err := setState(q, f.State); err != nil {
		return nil, PageInfo{}, err
	}
	if f.Name != "" {
		if err := checkText("name", f.Name, maxTitleLen); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("name", f.Name)
	}
	var milestones []Milestone
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/milestones", p+"/milestones", q, &milestones)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return milestones, pageInfo(h, opts, len(milestones)), nil
}

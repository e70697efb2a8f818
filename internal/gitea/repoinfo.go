package gitea

import (
	"context"
	"net/url"
	"strconv"
)

// RepositoryLanguages returns the bytes of code per language in owner/repo's
// default branch, as Gitea last computed them (in the background, after a
// push). An empty map means none were computed yet, or none were found.
func (c *Client) RepositoryLanguages(ctx context.Context, owner, repo string) (map[string]int64, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	langs := map[string]int64{}
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/languages", p+"/languages", nil, &langs); err != nil {
		return nil, err
	}
	return langs, nil
}

// RepositoryTopics returns the topics of owner/repo. Gitea allows at most
// 25 per repository, so one page of [MaxPageSize] holds them all.
func (c *Client) RepositoryTopics(ctx context.Context, owner, repo string) ([]string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	q := url.Values{"page": {"1"}, "limit": {strconv.Itoa(MaxPageSize)}}
	var body struct {
		Topics []string `json:"topics"`
	}
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/topics", p+"/topics", q, &body); err != nil {
		return nil, err
	}
	if body.Topics == nil {
		body.Topics = []string{}
	}
	return body.Topics, nil
}

// Collaborators lists the users given direct access to owner/repo (team
// access through an organization is not included).
func (c *Client) Collaborators(ctx context.Context, owner, repo string, opts ListOptions) ([]User, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var users []User
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/collaborators", p+"/collaborators", opts.query(), &users)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return users, pageInfo(h, opts, len(users)), nil
}

// Forks lists the forks of owner/repo the caller can see.
func (c *Client) Forks(ctx context.Context, owner, repo string, opts ListOptions) ([]Repository, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var repos []Repository
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/forks", p+"/forks", opts.query(), &repos)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return repos, pageInfo(h, opts, len(repos)), nil
}

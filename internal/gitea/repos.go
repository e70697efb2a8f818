package gitea

import (
	"context"
	"net/http"
	"net/url"
)

// CurrentUser returns the user the token belongs to.
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var u User
	if _, err := c.get(ctx, "GET /api/v1/user", "/api/v1/user", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// MyRepositories lists the repositories the user owns or has been given access to.
func (c *Client) MyRepositories(ctx context.Context, opts ListOptions) ([]Repository, PageInfo, error) {
	opts = opts.normalized()
	var repos []Repository
	h, err := c.get(ctx, "GET /api/v1/user/repos", "/api/v1/user/repos", opts.query(), &repos)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return repos, pageInfo(h, opts, len(repos)), nil
}

// SearchRepositories finds repositories visible to the user whose name (and
// description, unless Gitea is told otherwise) matches query.
func (c *Client) SearchRepositories(ctx context.Context, query string, opts ListOptions) ([]Repository, PageInfo, error) {
	if len(query) > maxNameLen || hasControl(query) {
		return nil, PageInfo{}, invalid("query must be at most %d bytes without control characters", maxNameLen)
	}
	opts = opts.normalized()
	q := opts.query()
	q.Set("q", query)
	var body struct {
		OK   bool         `json:"ok"`
		Data []Repository `json:"data"`
	}
	h, err := c.get(ctx, "GET /api/v1/repos/search", "/api/v1/repos/search", q, &body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return body.Data, pageInfo(h, opts, len(body.Data)), nil
}

// Repository returns owner/repo.
func (c *Client) Repository(ctx context.Context, owner, repo string) (*Repository, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	var r Repository
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}", p, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func repoPath(owner, repo string) (string, error) {
	if err := checkName("owner", owner); err != nil {
		return "", err
	}
	if err := checkName("repo", repo); err != nil {
		return "", err
	}
	return "/api/v1/repos/" + owner + "/" + repo, nil
}

// request is a call as c's user. A Client without a token refuses to call
// at all rather than fall back to anonymous access, and a read-only Client
// refuses every method but GET and HEAD: nothing is sent.
func (c *Client) request(method, op, path string, q url.Values, body any) (call, error) {
	if c.token == "" {
		return call{}, &APIError{Op: op, kind: ErrUnauthorized}
	}
	if method != http.MethodGet && method != http.MethodHead && !c.writes {
		return call{}, &APIError{Op: op, kind: ErrReadOnly}
	}
	return call{method: method, op: op, path: path, query: q, json: body, token: c.token}, nil
}

// get sends an authenticated GET and decodes its answer into out.
func (c *Client) get(ctx context.Context, op, path string, q url.Values, out any) (http.Header, error) {
	return c.send(ctx, http.MethodGet, op, path, q, nil, out)
}

// send sends an authenticated request with an optional JSON body and
// decodes the answer into out (nil: the answer is not read).
func (c *Client) send(ctx context.Context, method, op, path string, q url.Values, body, out any) (http.Header, error) {
	cl, err := c.request(method, op, path, q, body)
	if err != nil {
		return nil, err
	}
	return c.endpoint.send(ctx, cl, out)
}

// getText is get for the beginning of a text answer (a diff); see Endpoint.sendText.
func (c *Client) getText(ctx context.Context, op, path string, q url.Values, limit int) (string, bool, error) {
	cl, err := c.request(http.MethodGet, op, path, q, nil)
	if err != nil {
		return "", false, err
	}
	return c.endpoint.sendText(ctx, cl, limit)
}

// getTail is get for the end of a text answer (a log); see Endpoint.sendTail.
func (c *Client) getTail(ctx context.Context, op, path string, q url.Values, limit int) (string, int64, error) {
	cl, err := c.request(http.MethodGet, op, path, q, nil)
	if err != nil {
		return "", 0, err
	}
	return c.endpoint.sendTail(ctx, cl, limit)
}
